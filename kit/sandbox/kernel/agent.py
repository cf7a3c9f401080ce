"""The grader's agent inside a student's kernel (loaded there as an IPython extension).

The kernel loads it at start-up (``--IPKernelApp.extensions=kit_agent.agent``),
before any cell of the submission runs. It keeps its own state and looks nothing up
in the student's namespace but the functions the grader asks for: the grader's
requests are one line of code (:data:`protocol.REQUEST`) that reaches :class:`Agent`
through ``object``'s subclasses, with no global name, so no global of the student's
can shadow it and none is read, written or deleted.

A request calls one of the student's functions on arguments the grader wrote to a
file and writes back what came out: the result, the array arguments as the call left
them (the grader judges in-place updates) and the categories of the warnings raised.
A function of the grader's handed to the student's code is a stub that sends its
arguments to the grader on the line, a Unix socket, and waits there for the outcome.
Nothing here is trusted: the student's code can change any of it, so the grader
decodes what comes back as bounded plain data and judges it itself. The files,
frames and encoding are those of :mod:`.protocol`.
"""

import builtins
import pickle
import socket
import warnings
from pathlib import Path

import numpy as np

from . import protocol
from .protocol import Tag

_MISSING = object()
# Functions of the kernel's passed to the grader during the current request.
EXPORTED = {}


def export(function):
    """The tag and key under which ``function`` is sent to the grader."""
    key = getattr(function, "_kit_key", None)
    if key is not None:  # one of the grader's own functions, coming back
        return Tag.CALLBACK, key
    key = f"k{len(EXPORTED)}"
    EXPORTED[key] = function
    return Tag.KERNEL_FUNCTION, key


def save(base, data):
    protocol.save(base, data, export)


def _raised(exc):
    return {"raised": True, "mro": [c.__name__[:100] for c in type(exc).__mro__][:50],
            "message": str(exc)[:protocol.MAX_STR]}


def _receive(line, size):
    data = bytearray()
    while len(data) < size:
        chunk = line.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the grader closed the line")
        data += chunk
    return bytes(data)


def ask(frame):
    """Send ``frame`` to the grader on the line; its pickled reply."""
    Agent.line.sendall(frame)
    (size,) = protocol.REPLY_FRAME.unpack(
        _receive(Agent.line, protocol.REPLY_FRAME.size))
    return pickle.loads(_receive(Agent.line, size))


class _Stubs:
    """Turns markers in the grader's arguments into callables in the kernel."""

    def __init__(self, namespace):
        self.namespace = namespace

    def resolve(self, value):
        found = protocol.marker(value)
        if found and found[0] == protocol.CALLBACK_MARK:
            return self.stub(found[1])
        if found:
            return reference(self.namespace, found[1])
        if isinstance(value, (list, tuple)):
            return type(value)(self.resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def stub(self, key):
        def call_grader(*args, **kwargs):
            reply = ask(protocol.pack(protocol.CALLBACK, key, [list(args), kwargs],
                                      export))
            while "call" in reply:
                # The grader's function calls back one of ours before it returns.
                try:
                    out = {"value": EXPORTED[reply["call"]](
                        *self.resolve(reply["args"]), **self.resolve(reply["kwargs"]))}
                except BaseException as exc:  # noqa: BLE001 - the grader judges
                    out = _raised(exc)
                reply = ask(protocol.pack(protocol.RESULT, key, out, export))
            if "raised" in reply:
                kind = getattr(builtins, reply["raised"], RuntimeError)
                raise kind(reply["message"])
            return self.resolve(reply["value"])
        call_grader.__name__ = call_grader.__qualname__ = str(key)
        call_grader._kit_key = key
        return call_grader


def reference(namespace, ref):
    """The student's object a reference of the grader names: a global, or an
    object held since its name was deleted or bound again (:func:`protocol.held`)."""
    if ref.startswith(protocol.HELD):
        return Agent.held[ref.removeprefix(protocol.HELD)]
    return namespace[ref]


def describe(value):
    """What a global is, for the grader: a module (by name), a function (the grader
    calls it here), or a value (sent as plain data)."""
    if isinstance(value, type(builtins)):
        return ["module", str(value.__name__)[:200]]
    if callable(value):
        return ["function"]
    return ["value", value]


class Agent:
    """Serves the grader's requests; its state is its own, never a global."""

    namespace = None  # the student's namespace, set when the extension loads
    saved = []  # names replaced by "bind", to put back on "unbind"
    held = {}  # objects whose name a hidden test deleted or bound again, by key
    line = None  # the socket to the grader, for callbacks

    @classmethod
    def serve(cls, inbox, outbox, request):
        """Run one order of the grader, read from the inbox; write its outcome to
        the outbox."""
        inbox, outbox = Path(inbox), Path(outbox)
        order = pickle.loads((inbox / protocol.order_file(request)).read_bytes())
        namespace = cls.namespace
        stubs = _Stubs(namespace)
        if order["op"] == protocol.PING:
            cls.line = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            cls.line.connect(str(inbox / protocol.LINE))
            reply = {"value": protocol.READY}
        elif order["op"] == protocol.BIND:
            cls.saved.append({n: namespace.get(n, _MISSING) for n in order["names"]})
            namespace.update(stubs.resolve(order["names"]))
            return
        elif order["op"] == protocol.LOOKUP:
            reply = {"names": {name: describe(namespace[name])
                               for name in order["names"] if name in namespace}}
        elif order["op"] == protocol.SET:
            name = order["name"]
            if order.get("hold") and name in namespace:
                cls.held[order["hold"]] = namespace[name]
            if "value" in order:
                namespace[name] = stubs.resolve(order["value"])
            else:
                namespace.pop(name, None)
            return
        elif order["op"] == protocol.UNBIND:
            for name, value in cls.saved.pop().items():
                if value is _MISSING:
                    namespace.pop(name, None)
                else:
                    namespace[name] = value
            return
        else:
            reply = _call(namespace, order, stubs)
        save(outbox / protocol.reply_base(request), reply)


def _call(namespace, order, stubs):
    """Call the student's function of ``order``; what came out, as a reply."""
    EXPORTED.clear()
    args = stubs.resolve(order["args"])
    kwargs = stubs.resolve(order["kwargs"])
    reply = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            reply["value"] = reference(namespace, order["name"])(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - the grader judges every outcome
            reply = _raised(exc)
    reply["after"] = [a if isinstance(a, np.ndarray) else None for a in args]
    reply["after_kwargs"] = {k: v for k, v in kwargs.items()
                             if isinstance(v, np.ndarray)}
    reply["warnings"] = [w.category.__name__[:100] for w in caught[:20]]
    return reply


def load_ipython_extension(ipython):
    """Called by IPython when the kernel starts: serve requests in its namespace."""
    Agent.namespace = ipython.user_ns
