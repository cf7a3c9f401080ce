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
from pathlib import Path

import numpy as np
import zmq

from kit import kernelside

MAX_REPLY_BYTES = 256 * 2**20


class KernelGone(Exception):
    """The kernel died, or stopped answering; nothing more can be asked of it."""


class RemoteObject:
    """A value of a type the grader does not read (a class of the student's, say)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object from the submission>"


class RngState(RemoteObject):
    """The state a random generator passed to the student's code was left in."""

    def __init__(self, state):
        super().__init__("Generator")
        self.state = state


class RemoteError(Exception):
    """Raised by the student's code with no builtin exception type to stand for it."""


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
        arr = arrays[str(tree.get("k"))]
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
    if kind == "rng":
        return RngState(value)
    return RemoteObject(str(tree.get("type", "unknown"))[:100])


def read_regular(path):
    """The bytes of a regular file the kernel wrote, never following a link or
    blocking on a pipe the student's code put in its place."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise KernelGone(f"the kernel did not write {Path(path).name}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise KernelGone(f"{Path(path).name} is not a regular file")
        if info.st_size > MAX_REPLY_BYTES:
            raise KernelGone(f"the kernel wrote more than {MAX_REPLY_BYTES >> 20} MB")
        return f.read(MAX_REPLY_BYTES + 1)


def load(base):
    """Decode ``base``.json and ``base``.npz written by the kernel."""
    tree = json.loads(read_regular(f"{base}.json"))
    with np.load(io.BytesIO(read_regular(f"{base}.npz")), allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    return tree, arrays


def _exception(raw, function):
    """The exception to raise in the grader for one raised by the student's code."""
    mro = raw.get("mro") if isinstance(raw.get("mro"), list) else []
    kind = RemoteError
    for name in mro:
        found = getattr(builtins, str(name), None)
        if isinstance(found, type) and issubclass(found, Exception):
            kind = found
            break
    name = str(raw.get("raised", "an exception"))[:100]
    try:
        exc = kind(str(raw.get("message", "")))
    except Exception:  # noqa: BLE001 - an exception type with other arguments
        exc = RemoteError(str(raw.get("message", "")))
    # The feedback shows only this: the message could carry the hidden inputs.
    exc.kit_summary = f"{function}() raised {name}."
    return exc


class Session:
    """Remote calls into one kernel, for the hidden tests of one notebook."""

    def __init__(self, client, inbox, outbox, is_alive, timeout=60):
        self.client = client
        # The grader writes to the inbox, which the kernel sees read-only, so no
        # file there can be a link the student's code planted; it reads the outbox.
        self.inbox, self.outbox = Path(inbox), Path(outbox)
        self.is_alive = is_alive
        self.timeout = timeout
        self.callbacks = {}
        self.count = self.keys = 0
        self._replies, self._pending = {}, []
        self._deadline, self._what = float("inf"), ""
        self.broken = None
        self._install()

    # -- requests ---------------------------------------------------------
    def _install(self):
        source = Path(kernelside.__file__).read_text()
        code = ("import sys as _s, types as _t\n"
                "_m = _t.ModuleType('kit_agent')\n"
                f"exec({source!r}, _m.__dict__)\n"
                "_s.modules['kit_agent'] = _m\n"
                "del _s, _t, _m\n")
        self._execute(code, "set up the grader's agent")

    def _request(self, order, what):
        self.count += 1
        name = f"r{self.count}"
        (self.inbox / f"{name}.pkl").write_bytes(pickle.dumps(order))
        self._execute(f"__import__('kit_agent').serve(globals(), {str(self.inbox)!r}, "
                      f"{str(self.outbox)!r}, {name!r})", what)
        return self.outbox / f"{name}.out"

    def _execute(self, code, what):
        """Run ``code`` in the kernel, answering callbacks, until it replies."""
        if self.broken:
            raise KernelGone(self.broken)
        msg_id = self.client.execute(code, silent=True, store_history=False,
                                     allow_stdin=True)
        self._deadline = time.monotonic() + self.timeout
        self._what = what
        while True:
            channel, msg = self._next(shell=True)
            if channel == "stdin":
                self._answer(msg)
            elif msg["parent_header"].get("msg_id") == msg_id:
                content = msg["content"]
                if content.get("status") != "ok":
                    raise KernelGone(f"the kernel could not {what}: "
                                     f"{content.get('ename', 'error')}")
                return

    def _next(self, shell):
        """The next input request (or, with ``shell``, reply) from the kernel."""
        kc = self.client
        poller = zmq.Poller()
        poller.register(kc.stdin_channel.socket, zmq.POLLIN)
        if shell:
            poller.register(kc.shell_channel.socket, zmq.POLLIN)
        while True:
            if time.monotonic() > self._deadline:
                self.broken = (f"the kernel did not finish a call within "
                               f"{self.timeout} s ({self._what})")
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
            tree, arrays = load(self.outbox / name)
            args, kwargs = decode(tree, arrays, self._resolve)
            reply = {"value": self._marker(self.callbacks[key](*args, **kwargs))}
        except KernelGone:
            raise
        except Exception as exc:  # noqa: BLE001 - handed back to the kernel
            reply = {"raised": type(exc).__name__, "message": str(exc)}
        finally:
            self._pending.pop()
        self._reply(name, reply)

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
                tree, arrays = load(self.outbox / parts[1])
                out = decode(tree, arrays, self._resolve)
                if not isinstance(out, dict):
                    raise KernelGone("the kernel's reply was unreadable")
                self._write_back(args, out.get("after"))
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
        with self._scope():
            order = {"op": "call", "name": name,
                     "args": [self._marker(a) for a in args],
                     "kwargs": {k: self._marker(v) for k, v in kwargs.items()}}
            out = self._request(order, f"call {name}()")
        tree, arrays = load(out)
        reply = decode(tree, arrays, self._resolve)
        if not isinstance(reply, dict):
            raise KernelGone(f"the kernel's reply to {name}() was unreadable")
        self._write_back(args, reply.get("after"))
        for category, message in reply.get("warnings") or []:
            kind = getattr(builtins, str(category), None)
            if not (isinstance(kind, type) and issubclass(kind, Warning)):
                kind = UserWarning
            warnings.warn(str(message), kind, stacklevel=3)
        if "raised" in reply:
            raise _exception(reply, name)
        return reply.get("value")

    @staticmethod
    def _write_back(args, after):
        """Arrays the student's function changed in place change here too."""
        if not isinstance(after, list) or len(after) != len(args):
            return
        for arg, new in zip(args, after, strict=True):
            if (isinstance(arg, np.ndarray) and isinstance(new, np.ndarray)
                    and arg.flags.writeable and new.shape == arg.shape):
                with contextlib.suppress(TypeError, ValueError):
                    arg[...] = new
            elif isinstance(arg, np.random.Generator) and isinstance(new, RngState):
                with contextlib.suppress(Exception):
                    arg.bit_generator.state = json.loads(new.state)

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
