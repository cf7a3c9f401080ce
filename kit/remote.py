"""The grader's side of remote calls into a student's sandboxed kernel.

Hidden tests run in the grader's process, never in the student's kernel. In their
namespace each graded function is a :class:`RemoteFunction`: calling it sends the
arguments to the kernel (pickled: the kernel may read anything the grader sends), runs
the student's function there through :mod:`kit.kernelside`, and decodes what comes
back as plain data only (JSON and ``.npz`` loaded without pickles), so whatever the
student's code does, the grader receives numbers, strings and containers of them and
compares them with the reference itself.
"""

import builtins
import contextlib
import io
import json
import os
import pickle
import stat
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import zmq

from kit import kernelside

# Limits of what the grader reads of one reply of the kernel: the arrays' file (and
# the bytes its arrays hold once read: members must be stored, not compressed), the
# JSON tree, and the number of arrays. A reply over them is refused.
MAX_REPLY_BYTES = 256 * 2**20
MAX_JSON_BYTES = 16 * 2**20
MAX_ARRAYS = 10_000
# Limit of what the grader writes back into the kernel for one callback.
MAX_CALLBACK_BYTES = 256 * 2**20


class KernelGone(Exception):
    """The kernel died, or stopped answering; nothing more can be asked of it."""


class ReplyRefused(Exception):
    """A reply of the kernel broke the grader's limits or was not plain data."""


class RemoteObject:
    """A value of a type the grader does not read (a class of the student's, say)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object from the submission>"


class RemoteError(Exception):
    """Raised by the student's code with no builtin exception type to stand for it,
    or an error of the kernel's of no builtin type."""


def decode(tree, arrays, resolve=None, depth=0):
    """A value from the JSON tree written by :func:`kit.kernelside.save`;
    ``resolve(kind, key)`` stands for functions ("cb": the grader's own, handed out
    earlier; "kfn": a function in the kernel)."""
    if depth > kernelside.MAX_DEPTH + 1 or not isinstance(tree, dict):
        return RemoteObject("unreadable value")
    kind, value = tree.get("t"), tree.get("v")
    if kind in ("cb", "kfn"):
        if resolve is None:
            return RemoteObject("function")
        return resolve(kind, str(tree.get("k")))
    if kind == "none":
        return None
    if kind in ("nd", "np"):
        arr = arrays.get(str(tree.get("k")))
        if arr is None:
            return RemoteObject("missing array")
        return arr[()] if kind == "np" else arr
    if kind == "bool":
        return bool(value)
    if kind == "int" and isinstance(value, str) and len(value) < 5000:
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "complex":
        return complex(float(value[0]), float(value[1]))
    if kind == "str":
        return str(value)
    if kind in ("tuple", "list") and isinstance(value, list):
        items = [decode(v, arrays, resolve, depth + 1) for v in value]
        return tuple(items) if kind == "tuple" else items
    if kind == "set" and isinstance(value, list):
        items = [decode(v, arrays, None, depth + 1) for v in value]
        return {v for v in items if isinstance(v, (str, int, float, bool, tuple))}
    if kind == "dict" and isinstance(value, list):
        out = {}
        for pair in value:
            key = decode(pair[0], arrays, None, depth + 1)
            if isinstance(key, (str, int, float, bool, tuple, type(None))):
                out[key] = decode(pair[1], arrays, resolve, depth + 1)
        return out
    return RemoteObject("value the grader does not read")


def read_regular(path, limit=MAX_REPLY_BYTES):
    """The bytes of a regular file the kernel wrote, never following a link or
    blocking on a pipe the student's code put in its place."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise KernelGone(f"the kernel did not write {Path(path).name}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ReplyRefused(f"{Path(path).name} is not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ReplyRefused(f"{Path(path).name} is larger than {limit >> 20} MB")
    return data


def read_npy(raw, name):
    """An array from the bytes of one ``.npy`` member: numbers or strings only,
    its size checked against its header before anything is allocated."""
    f = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    except (ValueError, SyntaxError, TypeError) as exc:
        raise ReplyRefused(f"array {name} has no valid header") from exc
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in "biufcUS":
        raise ReplyRefused(f"array {name} is of type {dtype}, not numbers or text")
    count = 1
    for n in shape:
        count *= n
    data = raw[f.tell():]
    if len(shape) > 32 or count * dtype.itemsize != len(data):
        raise ReplyRefused(f"array {name} does not hold what its header says")
    arr = np.frombuffer(data, dtype=dtype, count=count)
    return arr.reshape(shape, order="F" if fortran else "C").copy()


def read_npz(data):
    """``{name: array}`` of an ``.npz`` file the kernel wrote (as ``np.savez``
    does: members stored, never compressed, so nothing inflates in the grader)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
            if len(members) > MAX_ARRAYS:
                raise ReplyRefused(f"the reply has more than {MAX_ARRAYS} arrays")
            arrays = {}
            for info in members:
                if info.compress_type != zipfile.ZIP_STORED:
                    raise ReplyRefused("the reply's arrays are compressed")
                raw = zf.open(info).read(len(data) + 1)
                name = info.filename.removesuffix(".npy")
                arrays[name] = read_npy(raw, name)
            return arrays
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise ReplyRefused(f"the reply's arrays are unreadable ({type(exc).__name__})"
                           ) from exc


def load(base):
    """Decode ``base``.json and ``base``.npz written by the kernel, within the
    limits above; :class:`ReplyRefused` when they are broken."""
    text = read_regular(f"{base}.json", MAX_JSON_BYTES)
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ReplyRefused(f"the reply is not valid JSON ({type(exc).__name__})"
                           ) from exc
    return tree, read_npz(read_regular(f"{base}.npz"))


def builtin_exception(names):
    """The first builtin exception type among the type names ``names`` (an
    exception's MRO as the kernel wrote it), else :class:`RemoteError`."""
    for name in names if isinstance(names, list) else []:
        found = getattr(builtins, str(name), None)
        if isinstance(found, type) and issubclass(found, Exception):
            return found
    return RemoteError


def _exception(raw, function):
    """The exception to raise in the grader for one raised by the student's code.

    Its message is kept for checks that read it (``check_raises``), but the
    feedback shows only ``kit_summary``, with the builtin type at most: the
    student's own type names and messages could carry the hidden inputs."""
    kind = builtin_exception(raw.get("mro"))
    try:
        exc = kind(str(raw.get("message", "")))
    except Exception:  # noqa: BLE001 - an exception type with other arguments
        kind, exc = RemoteError, RemoteError(str(raw.get("message", "")))
    name = kind.__name__ if kind is not RemoteError else "an exception"
    exc.kit_summary = f"{function}() raised {name}."
    return exc


class Session:
    """Remote calls into one kernel, for the hidden tests of one notebook."""

    def __init__(self, client, inbox, outbox, is_alive, timeout=60, deadline=None):
        self.client = client
        # The grader writes to the inbox, which the kernel sees read-only, so no
        # file there can be a link the student's code planted; it reads the outbox.
        self.inbox, self.outbox = Path(inbox), Path(outbox)
        self.is_alive = is_alive
        self.timeout = timeout
        # The whole submission's time budget ends here (time.monotonic()).
        self.deadline = float("inf") if deadline is None else deadline
        self.callbacks = {}
        self.count = self.keys = 0
        self._replies, self._pending = {}, []
        self._deadline, self._what = float("inf"), ""
        self.broken = None
        self._ping()

    # -- requests ---------------------------------------------------------
    def _ping(self):
        """Check that the agent the kernel loaded at start-up answers."""
        try:
            reply = decode(*load(self._request({"op": "ping"}, "reach the agent")))
        except ReplyRefused as exc:
            self.broken = f"the grader refused the agent's first reply ({exc})"
            raise KernelGone(self.broken) from None
        if not (isinstance(reply, dict) and reply.get("value") == "ready"):
            self.broken = "the grader's agent did not answer in the kernel"
            raise KernelGone(self.broken)

    def _request(self, order, what):
        self.count += 1
        name = f"r{self.count}"
        (self.inbox / f"{name}.pkl").write_bytes(pickle.dumps(order))
        self._execute(kernelside.REQUEST.format(
            inbox=str(self.inbox), outbox=str(self.outbox), request=name), what)
        return self.outbox / f"{name}.out"

    def _execute(self, code, what):
        """Run ``code`` in the kernel, answering callbacks, until it replies."""
        if self.broken:
            raise KernelGone(self.broken)
        msg_id = self.client.execute(code, silent=True, store_history=False,
                                     allow_stdin=True)
        self._deadline = min(time.monotonic() + self.timeout, self.deadline)
        self._what = what
        while True:
            channel, msg = self._next(shell=True)
            if channel == "stdin":
                self._answer(msg)
            elif msg["parent_header"].get("msg_id") == msg_id:
                content = msg["content"]
                if content.get("status") != "ok":
                    kind = builtin_exception([content.get("ename")]).__name__
                    raise KernelGone(f"the kernel could not {what} ({kind})")
                return

    def _next(self, shell):
        """The next input request (or, with ``shell``, reply) from the kernel."""
        kc = self.client
        poller = zmq.Poller()
        poller.register(kc.stdin_channel.socket, zmq.POLLIN)
        if shell:
            poller.register(kc.shell_channel.socket, zmq.POLLIN)
        while True:
            now = time.monotonic()
            if now > self._deadline:
                self.broken = (
                    f"the submission ran out of its time budget ({self._what})"
                    if now > self.deadline else
                    f"the kernel did not finish a call within {self.timeout} s "
                    f"({self._what})")
                raise KernelGone(self.broken)
            ready = dict(poller.poll(100))
            if kc.stdin_channel.socket in ready:
                msg = kc.get_stdin_msg(timeout=0)
                if msg["msg_type"] == "input_request":
                    return "stdin", msg
            elif shell and kc.shell_channel.socket in ready:
                return "shell", kc.get_shell_msg(timeout=0)
            elif not ready and not self.is_alive():
                self.broken = f"the kernel died ({self._what})"
                raise KernelGone(self.broken)

    def _answer(self, msg):
        """Serve a callback the kernel asks for; ignore any other input request."""
        parts = str(msg["content"].get("prompt", "")).split()
        if len(parts) == 3 and parts[0] == "kit-callback" and "/" not in parts[2]:
            self._callback(parts[1], parts[2])
        else:
            self.client.input("")

    def _reply(self, name, reply):
        """Hand the kernel, blocked in callback ``name``, its next instruction."""
        index = self._replies.get(name, 0)
        self._replies[name] = index + 1
        (self.inbox / f"{name}.reply{index}").write_bytes(pickle.dumps(reply))
        self.client.input("")

    def _callback(self, key, name):
        self._pending.append(name)
        try:
            args, kwargs = self._decode(self.outbox / name, "a callback's arguments")
            reply = {"value": self._marker(self.callbacks[key](*args, **kwargs))}
            if len(pickle.dumps(reply)) > MAX_CALLBACK_BYTES:
                reply = {"raised": "MemoryError",
                         "message": "the grader's result was too large to send"}
        except KernelGone:
            raise
        except Exception as exc:  # noqa: BLE001 - handed back to the kernel
            reply = {"raised": type(exc).__name__, "message": str(exc)}
        finally:
            self._pending.pop()
        self._reply(name, reply)

    def _decode(self, base, what):
        """The value the kernel wrote at ``base``, as plain data; a reply that is
        not within the limits raises :class:`ReplyRefused`."""
        tree, arrays = load(base)
        try:
            return decode(tree, arrays, self._resolve)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                RecursionError) as exc:
            raise ReplyRefused(f"{what} could not be read as plain data "
                               f"({type(exc).__name__})") from exc

    def _resolve(self, kind, key):
        if kind == "cb":
            return self.callbacks.get(key, RemoteObject("function"))
        return KernelFunction(self, key)

    def call_kernel_function(self, key, args, kwargs):
        """Call a function of the kernel's that it passed to one of ours: the
        kernel is waiting in that callback, so ask it there."""
        if not self._pending:
            raise RuntimeError("a function from the submission was kept after the "
                               "call that passed it")
        self._reply(self._pending[-1], {
            "call": key, "args": [self._marker(a) for a in args],
            "kwargs": {k: self._marker(v) for k, v in kwargs.items()}})
        while True:
            _, msg = self._next(shell=False)
            parts = str(msg["content"].get("prompt", "")).split()
            if len(parts) == 2 and parts[0] == "kit-result" and "/" not in parts[1]:
                out = self._decode(self.outbox / parts[1], "a submission's result")
                if not isinstance(out, dict):
                    raise ReplyRefused("the kernel's reply was unreadable")
                if "raised" in out:
                    raise _exception(out, "a function of the submission")
                return out.get("value")
            self._answer(msg)

    # -- what hidden tests use -------------------------------------------
    def _marker(self, value):
        if isinstance(value, RemoteFunction):
            return (kernelside.OWN, value.__name__)
        if callable(value) and not isinstance(value, (type, np.random.Generator)):
            self.keys += 1
            key = f"f{self.keys}"
            self.callbacks[key] = value
            return (kernelside.CALLBACK, key)
        if isinstance(value, (list, tuple)) and any(callable(v) for v in value):
            return type(value)(self._marker(v) for v in value)
        return value

    @contextlib.contextmanager
    def _scope(self):
        """Callbacks registered inside live only as long as the block: a stub the
        student's code keeps for later then reaches nothing."""
        before = set(self.callbacks)
        try:
            yield
        finally:
            for key in set(self.callbacks) - before:
                del self.callbacks[key]

    def call(self, name, args, kwargs):
        """Call the student's function ``name``; return ``(value, after,
        after_kwargs)``: what it returned, and its array arguments as it left them
        (None where an argument is not an array). Nothing of the grader's own is
        changed: the kernel works on copies of what it is sent."""
        with self._scope():
            order = {"op": "call", "name": name,
                     "args": [self._marker(a) for a in args],
                     "kwargs": {k: self._marker(v) for k, v in kwargs.items()}}
            out = self._request(order, f"call {name}()")
        reply = self._decode(out, f"the reply of {name}()")
        if not isinstance(reply, dict):
            raise ReplyRefused(f"the kernel's reply to {name}() was unreadable")
        for category in reply.get("warnings") or []:
            kind = getattr(builtins, str(category), None)
            if not (isinstance(kind, type) and issubclass(kind, Warning)):
                kind = UserWarning
            # Only the category: the message is text the student's code chose.
            warnings.warn(f"in {name}()", kind, stacklevel=3)
        if "raised" in reply:
            raise _exception(reply, name)
        after = reply.get("after")
        after = list(after) if isinstance(after, list) else []
        after += [None] * (len(args) - len(after))
        kwafter = reply.get("after_kwargs")
        kwafter = kwafter if isinstance(kwafter, dict) else {}
        return reply.get("value"), after[:len(args)], kwafter

    @contextlib.contextmanager
    def substitute(self, replacements):
        """Bind names in the kernel to the grader's functions for a while."""
        with self._scope():
            order = {"op": "bind",
                     "names": {k: self._marker(v) for k, v in replacements.items()}}
            self._request(order, "replace functions for a test")
            try:
                yield
            finally:
                if not self.broken:
                    self._request({"op": "unbind"}, "restore functions after a test")


class RemoteFunction:
    """Stands for a student's function in the grader's namespace."""

    def __init__(self, session, name):
        self.session = session
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        return self.session.call(self.__name__, args, kwargs)[0]

    def kit_call(self, args, kwargs):
        """``(value, after, after_kwargs)`` of a call (see :meth:`Session.call`):
        ``lib.checks.call`` judges in-place updates from them."""
        return self.session.call(self.__name__, args, kwargs)

    def __repr__(self):
        return f"<student function {self.__name__}>"


class KernelFunction:
    """A function of the student's code, passed to a function of the grader's."""

    def __init__(self, session, key):
        self.session, self.key = session, key
        self.__name__ = self.__qualname__ = "function from the submission"

    def __call__(self, *args, **kwargs):
        return self.session.call_kernel_function(self.key, args, kwargs)
