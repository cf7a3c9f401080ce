"""The grader's side of remote calls into a student's sandboxed kernel.

Hidden tests run in the grader's process, never in the student's kernel. In their
namespace each graded function is a :class:`RemoteFunction`: calling it sends the
arguments to the kernel (pickled: the kernel may read anything the grader sends), runs
the student's function there through its agent (:mod:`kit.sandbox.kernel.agent`),
and decodes what comes back as plain data only (JSON and ``.npz`` loaded without
pickles), so whatever the student's code does, the grader receives numbers, strings
and containers of them and compares them with the reference itself. The messages
and files are those of :mod:`kit.sandbox.kernel.protocol`.

Callbacks, the calls of the student's code into the grader's functions, come on the
line, a Unix socket the grader listens on in the inbox: with no file and no message
of the kernel's own channels per call, a lent reference costs the round trip of a
socket, not of a Jupyter input request.
"""

import builtins
import contextlib
import pickle
import socket
import time
import warnings
from pathlib import Path

import numpy as np
import zmq

from kit.sandbox.kernel import protocol
from kit.sandbox.kernel.protocol import (
    FRAME,
    MAX_CALLBACK_BYTES,
    REPLY_FRAME,
    RemoteObject,
    ReplyRefused,
    Tag,
    decode,
)


class KernelGone(Exception):
    """The kernel died, or stopped answering; nothing more can be asked of it."""


class RemoteError(Exception):
    """Raised by the student's code with no builtin exception type to stand for it,
    or an error of the kernel's of no builtin type."""


def load(base):
    """:func:`protocol.load`, a missing reply meaning the kernel is gone."""
    try:
        return protocol.load(base)
    except protocol.ReplyMissing as exc:
        raise KernelGone(str(exc)) from None


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
        self.count = self.keys = self.holds = 0
        # The student's functions standing in the tests' namespace, by name, and
        # the names the tests' namespace holds of the student's globals.
        self.functions = {}
        self.student_globals = set()
        self._pending = 0
        self._deadline, self._what = float("inf"), ""
        self.broken = None
        self.line = None
        self._ping()

    def close(self):
        if self.line is not None:
            self.line.close()

    # -- requests ---------------------------------------------------------
    def _ping(self):
        """Check that the agent the kernel loaded at start-up answers, and take
        the line it opens while it does."""
        path = self.inbox / protocol.LINE
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(str(path))
            listener.listen(1)
            try:
                reply = decode(*load(self._request({"op": protocol.PING},
                                                     "reach the agent")))
                listener.setblocking(False)
                self.line, _ = listener.accept()
            except ReplyRefused as exc:
                self.broken = f"the grader refused the agent's first reply ({exc})"
                raise KernelGone(self.broken) from None
            except BlockingIOError:
                reply = None
            finally:
                path.unlink()
        if not (isinstance(reply, dict) and reply.get("value") == protocol.READY):
            self.close()
            self.broken = "the grader's agent did not answer in the kernel"
            raise KernelGone(self.broken)

    def _request(self, order, what):
        self.count += 1
        name = f"r{self.count}"
        (self.inbox / protocol.order_file(name)).write_bytes(pickle.dumps(order))
        self._execute(protocol.REQUEST.format(
            inbox=str(self.inbox), outbox=str(self.outbox), request=name), what)
        return self.outbox / protocol.reply_base(name)

    def _execute(self, code, what):
        """Run ``code`` in the kernel, answering callbacks, until it replies."""
        if self.broken:
            raise KernelGone(self.broken)
        msg_id = self.client.execute(code, silent=True, store_history=False,
                                     allow_stdin=True)
        self._deadline = min(time.monotonic() + self.timeout, self.deadline)
        self._what = what
        while True:
            channel = self._next(shell=True)
            if channel == "line":
                kind, key, tree, npz = self._frame()
                if kind == protocol.CALLBACK:
                    self._callback(key, tree, npz)
                continue  # a result no call of the grader's waits for
            if channel == "stdin":
                self._answer_input()
                continue
            msg = self.client.shell_channel.get_msg(timeout=0)
            if msg["parent_header"].get("msg_id") == msg_id:
                content = msg["content"]
                if content.get("status") != "ok":
                    kind = builtin_exception([content.get("ename")]).__name__
                    raise KernelGone(f"the kernel could not {what} ({kind})")
                return

    def _lost(self, why):
        self.broken = f"{why} ({self._what})"
        raise KernelGone(self.broken)

    def _left(self):
        """Seconds left to wait for the kernel; past the deadline, it is lost."""
        now = time.monotonic()
        if now > self._deadline:
            self._lost("the submission ran out of its time budget"
                       if now > self.deadline else
                       f"the kernel did not finish a call within {self.timeout} s")
        return self._deadline - now

    def _next(self, shell):
        """Where the kernel sent something next: "line" (a frame), "stdin" (an
        input request) or, with ``shell``, "shell" (a reply)."""
        kc = self.client
        poller = zmq.Poller()
        line = self.line.fileno() if self.line is not None else None
        if line is not None:  # from the first request's end on
            poller.register(line, zmq.POLLIN)
        poller.register(kc.stdin_channel.socket, zmq.POLLIN)
        if shell:
            poller.register(kc.shell_channel.socket, zmq.POLLIN)
        while True:
            ready = dict(poller.poll(min(100, int(self._left() * 1000) + 1)))
            if line is not None and line in ready:
                return "line"
            if kc.stdin_channel.socket in ready:
                return "stdin"
            if shell and kc.shell_channel.socket in ready:
                return "shell"
            if not ready and not self.is_alive():
                self._lost("the kernel died")

    def _answer_input(self):
        """Answer the input request waiting on stdin (the student's code asks for
        input) with nothing."""
        msg = self.client.stdin_channel.get_msg(timeout=0)
        if msg["msg_type"] == "input_request":
            self.client.input("")

    def _receive(self, size):
        """``size`` bytes from the line, within the deadline."""
        data = bytearray()
        while len(data) < size:
            self.line.settimeout(self._left())
            try:
                chunk = self.line.recv(min(size - len(data), 2**20))
            except TimeoutError:
                chunk = None
                self._left()
            except OSError:
                chunk = b""
            if chunk == b"":
                self._closed()
            data += chunk or b""
        return bytes(data)

    def _frame(self):
        """``(kind, key, tree, npz)`` of the frame the kernel sent on the line
        (:func:`protocol.unpack`; the bytes of its arrays are read where they are
        used). A frame with a header over the limits, or with no readable kind and
        key, leaves the line unreadable, so the kernel is lost."""
        try:
            sizes = protocol.frame_sizes(self._receive(FRAME.size))
            head, npz = (self._receive(n) for n in sizes)
            return (*protocol.unpack(head), npz)
        except ReplyRefused as exc:
            self._lost(f"the grader refused what the kernel sent on its line ({exc})")

    def _reply(self, reply):
        """Hand the kernel, waiting on the line, its next instruction."""
        try:
            data = pickle.dumps(reply)
        except Exception as exc:  # noqa: BLE001 - a result the kernel cannot get
            data = pickle.dumps({"raised": type(exc).__name__, "message": str(exc)})
        if len(data) > MAX_CALLBACK_BYTES:
            data = pickle.dumps({"raised": "MemoryError", "message":
                                 "the grader's result was too large to send"})
        self.line.settimeout(self._left())
        try:
            self.line.sendall(REPLY_FRAME.pack(len(data)) + data)
        except TimeoutError:
            self._lost("the kernel did not read the grader's reply in time")
        except OSError:
            self._closed()

    def _closed(self):
        """The line closed: the kernel died (it takes a moment to be seen gone),
        or its code closed the line."""
        for _ in range(20):
            if not self.is_alive():
                self._lost("the kernel died")
            time.sleep(0.05)
        self._lost("the kernel closed its line to the grader")

    def _callback(self, key, tree, npz):
        self._pending += 1
        try:
            args, kwargs = self._plain(tree, npz, "a callback's arguments")
            reply = {"value": self._marker(self.callbacks[key](*args, **kwargs))}
        except KernelGone:
            raise
        except Exception as exc:  # noqa: BLE001 - handed back to the kernel
            reply = {"raised": type(exc).__name__, "message": str(exc)}
        finally:
            self._pending -= 1
        self._reply(reply)

    def _decode(self, base, what):
        """The value the kernel wrote at ``base``, as plain data; a reply that is
        not within the limits raises :class:`ReplyRefused`."""
        return self._plain(*load(base), what)

    def _plain(self, tree, arrays, what):
        """The value of an encoded ``tree`` and its ``arrays`` (or the bytes of
        the ``.npz`` holding them), as plain data."""
        if isinstance(arrays, bytes):
            arrays = protocol.read_npz(arrays)
        try:
            return decode(tree, arrays, self._resolve)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                RecursionError) as exc:
            raise ReplyRefused(f"{what} could not be read as plain data "
                               f"({type(exc).__name__})") from exc

    def _resolve(self, kind, key):
        if kind == Tag.CALLBACK:
            return self.callbacks.get(key, RemoteObject("function"))
        return KernelFunction(self, key)

    def call_kernel_function(self, key, args, kwargs):
        """Call a function of the kernel's that it passed to one of ours: the
        kernel is waiting in that callback, so ask it there."""
        if not self._pending:
            raise RuntimeError("a function from the submission was kept after the "
                               "call that passed it")
        self._reply({"call": key, "args": [self._marker(a) for a in args],
                     "kwargs": {k: self._marker(v) for k, v in kwargs.items()}})
        while True:
            if self._next(shell=False) == "stdin":
                self._answer_input()
                continue
            kind, frame_key, tree, npz = self._frame()
            if kind == protocol.CALLBACK:
                self._callback(frame_key, tree, npz)
            elif kind == protocol.RESULT:
                out = self._plain(tree, npz, "a submission's result")
                if not isinstance(out, dict):
                    raise ReplyRefused("the kernel's reply was unreadable")
                if "raised" in out:
                    raise _exception(out, "a function of the submission")
                return out.get("value")

    # -- what hidden tests use -------------------------------------------
    def _marker(self, value):
        if isinstance(value, RemoteFunction):
            return (protocol.OWN_MARK, value.ref)
        if callable(value) and not isinstance(value, (type, np.random.Generator)):
            self.keys += 1
            key = f"f{self.keys}"
            self.callbacks[key] = value
            return (protocol.CALLBACK_MARK, key)
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

    def call(self, name, args, kwargs, ref=None):
        """Call the student's function ``name`` (the object ``ref`` refers to, when
        given: :func:`protocol.held`); return ``(value, after, after_kwargs)``:
        what it returned, and its array arguments as it left them (None where an
        argument is not an array). Nothing of the grader's own is changed: the
        kernel works on copies of what it is sent."""
        with self._scope():
            order = {"op": protocol.CALL, "name": ref or name,
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
            order = {"op": protocol.BIND,
                     "names": {k: self._marker(v) for k, v in replacements.items()}}
            self._request(order, "replace functions for a test")
            try:
                yield
            finally:
                if not self.broken:
                    self._request({"op": protocol.UNBIND},
                                  "restore functions after a test")


    def function(self, name):
        """The :class:`RemoteFunction` standing for the student's global ``name``."""
        if name not in self.functions:
            self.functions[name] = RemoteFunction(self, name)
        return self.functions[name]

    def lookup(self, names):
        """``{name: value}`` of the student's globals among ``names`` (those not
        defined are left out): a function of the student's as a
        :class:`RemoteFunction`, a module as its name in a :class:`StudentModule`,
        anything else as a copy in plain data."""
        out = self._decode(self._request({"op": protocol.LOOKUP, "names": list(names)},
                                         "look up the submission's globals"),
                           "the submission's globals")
        found = out.get("names") if isinstance(out, dict) else None
        if not isinstance(found, dict):
            raise ReplyRefused("the kernel's globals were unreadable")
        values = {}
        for name, what in found.items():
            kind = what[0] if isinstance(what, list) and what else None
            if name not in names:
                continue
            if kind == "function":
                values[name] = self.function(name)
            elif kind == "module" and len(what) == 2 and isinstance(what[1], str):
                values[name] = StudentModule(what[1])
            elif kind == "value" and len(what) == 2:
                values[name] = what[1]
        return values

    def rebind(self, name, value=None, delete=False):
        """Delete the student's global ``name`` (``delete``) or bind it again to
        ``value``, one of the student's own functions. The functions that stood
        for it keep standing for the object it named, as Python names do."""
        order = {"op": protocol.SET, "name": name}
        if name in self.functions:
            self.holds += 1
            key = f"h{self.holds}"
            order["hold"] = key
            self.functions.pop(name).ref = protocol.held(key)
        if not delete:
            order["value"] = self._marker(value)
        self._request(order, f"change {name} for a test")


class StudentModule:
    """A module the student's code imported, known to the grader by its name."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<module {self.name} of the submission>"


class RemoteFunction:
    """Stands for a student's function in the grader's namespace."""

    def __init__(self, session, name):
        self.session = session
        self.__name__ = self.__qualname__ = name
        # What the kernel calls: the global of this name, or the object it named
        # once a test deleted or rebound it (Session.rebind).
        self.ref = name

    def __call__(self, *args, **kwargs):
        return self.session.call(self.__name__, args, kwargs, self.ref)[0]

    def kit_call(self, args, kwargs):
        """``(value, after, after_kwargs)`` of a call (see :meth:`Session.call`):
        ``lib.checks.call`` judges in-place updates from them."""
        return self.session.call(self.__name__, args, kwargs, self.ref)

    def __repr__(self):
        return f"<student function {self.__name__}>"


class KernelFunction:
    """A function of the student's code, passed to a function of the grader's."""

    def __init__(self, session, key):
        self.session, self.key = session, key
        self.__name__ = self.__qualname__ = "function from the submission"

    def __call__(self, *args, **kwargs):
        return self.session.call_kernel_function(self.key, args, kwargs)
