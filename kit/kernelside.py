"""The grader's agent inside a student's kernel (loaded there as an IPython extension).

The sandbox mounts this file, alone, as the module ``kit_agent`` and the kernel loads
it at start-up (``--IPKernelApp.extensions=kit_agent``), before any cell of the
submission runs. It keeps its own state and looks nothing up in the student's
namespace but the functions the grader asks for: the grader's requests are one line
of code (:data:`REQUEST`) that reaches :class:`Agent` through ``object``'s
subclasses, with no global name, so no global of the student's can shadow it and
none is read, written or deleted.

A request calls one of the student's functions on arguments the grader wrote to a
file and writes back what came out: the result, the array arguments as the call left
them (the grader judges in-place updates) and the categories of the warnings raised.
Nothing here is trusted: the student's code can change any of it, so the grader
decodes what comes back as bounded plain data (JSON and ``.npz`` without pickles) and
judges it itself.

Arguments that are functions arrive as ``(CALLBACK, key)`` markers and become stubs
that ask the grader, over the kernel's stdin channel, to run the function on its side
(a reference function, or a function of the test); ``(OWN, name)`` marks one of the
student's own functions, looked up in the kernel. Markers are plain tuples: the
kernel unpickles them without importing anything of the grader's.

This file is sent into the sandbox as it is: it imports nothing of the kit's.
"""

import builtins
import json
import pickle
import warnings
from pathlib import Path

import numpy as np

MAX_DEPTH = 20
MAX_STR = 10_000
_MISSING = object()
# Functions of the kernel's passed to the grader during the current request.
EXPORTED = {}


CALLBACK, OWN = "\0kit-callback", "\0kit-own"


def marker(value):
    """``(kind, key)`` of a marker tuple, else None."""
    if type(value) is tuple and len(value) == 2 and value[0] in (CALLBACK, OWN):
        return value
    return None


def encode(value, arrays, depth=0):
    """``value`` as JSON-able data; arrays go into ``arrays`` (saved as .npz)."""
    if depth > MAX_DEPTH:
        return {"t": "opaque", "type": "deeply nested value"}
    if value is None:
        return {"t": "none"}
    if isinstance(value, np.ndarray) and not isinstance(value, np.matrix):
        if value.dtype.kind not in "biufcUS":
            return {"t": "opaque", "type": f"array of {value.dtype}"}
        key = f"a{len(arrays)}"
        arrays[key] = np.array(value)
        return {"t": "nd", "k": key}
    if isinstance(value, np.generic):
        if value.dtype.kind not in "biufc":
            return {"t": "opaque", "type": type(value).__name__}
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"t": "np", "k": key}
    if isinstance(value, bool):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, int):
        return {"t": "int", "v": str(int(value))}
    if isinstance(value, float):
        return {"t": "float", "v": repr(float(value))}
    if isinstance(value, complex):
        return {"t": "complex", "v": [repr(value.real), repr(value.imag)]}
    if isinstance(value, str):
        return {"t": "str", "v": str(value)[:MAX_STR]}
    if isinstance(value, (tuple, list)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"t": kind, "v": [encode(v, arrays, depth + 1) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"t": "set", "v": [encode(v, arrays, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode(k, arrays, depth + 1),
                                    encode(v, arrays, depth + 1)]
                                   for k, v in value.items()]}
    if callable(value) and not isinstance(value, type):
        key = getattr(value, "_kit_key", None)
        if key is not None:  # one of the grader's own functions, coming back
            return {"t": "cb", "k": str(key)}
        key = f"k{len(EXPORTED)}"
        EXPORTED[key] = value
        return {"t": "kfn", "k": key}
    return {"t": "opaque", "type": type(value).__name__[:100]}


def save(path, data):
    """Write ``data`` as ``path``.json plus ``path``.npz."""
    arrays = {}
    tree = encode(data, arrays)
    np.savez(f"{path}.npz", **arrays)
    Path(f"{path}.json").write_text(json.dumps(tree))


def _raised(exc):
    return {"raised": True, "mro": [c.__name__[:100] for c in type(exc).__mro__][:50],
            "message": str(exc)[:MAX_STR]}


class _Stubs:
    """Turns markers in the grader's arguments into callables in the kernel."""

    def __init__(self, inbox, outbox, namespace):
        self.inbox, self.outbox = inbox, outbox
        self.namespace, self.count = namespace, 0

    def resolve(self, value):
        found = marker(value)
        if found and found[0] == CALLBACK:
            return self.stub(found[1])
        if found:
            return self.namespace[found[1]]
        if isinstance(value, (list, tuple)):
            return type(value)(self.resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def stub(self, key):
        def call_grader(*args, **kwargs):
            self.count += 1
            name = f"cb-{key}-{self.count}"
            save(self.outbox / name, [list(args), kwargs])
            prompt, index = f"kit-callback {key} {name}", 0
            while True:
                builtins.input(prompt)
                reply = pickle.loads((self.inbox / f"{name}.reply{index}").read_bytes())
                index += 1
                if "call" not in reply:
                    break
                # The grader's function calls back one of ours before it returns.
                try:
                    out = {"value": EXPORTED[reply["call"]](
                        *self.resolve(reply["args"]), **self.resolve(reply["kwargs"]))}
                except BaseException as exc:  # noqa: BLE001 - the grader judges
                    out = _raised(exc)
                save(self.outbox / f"{name}-{index}", out)
                prompt = f"kit-result {name}-{index}"
            if "raised" in reply:
                kind = getattr(builtins, reply["raised"], RuntimeError)
                raise kind(reply["message"])
            return self.resolve(reply["value"])
        call_grader.__name__ = call_grader.__qualname__ = str(key)
        call_grader._kit_key = key
        return call_grader


# The grader's request: the agent reached with no global name (see the docstring).
REQUEST = ("[c for c in ().__class__.__base__.__subclasses__() "
           "if c.__module__ == 'kit_agent' and c.__name__ == 'Agent'][0]"
           ".serve({inbox!r}, {outbox!r}, {request!r})")


class Agent:
    """Serves the grader's requests; its state is its own, never a global."""

    namespace = None  # the student's namespace, set when the extension loads
    saved = []  # names replaced by "bind", to put back on "unbind"

    @classmethod
    def serve(cls, inbox, outbox, request):
        """Run one request of the grader, read from ``inbox/request.pkl``; write
        the outcome to ``outbox/request.out``."""
        inbox, outbox = Path(inbox), Path(outbox)
        order = pickle.loads((inbox / f"{request}.pkl").read_bytes())
        namespace = cls.namespace
        stubs = _Stubs(inbox, outbox, namespace)
        if order["op"] == "ping":
            reply = {"value": "ready"}
        elif order["op"] == "bind":
            cls.saved.append({n: namespace.get(n, _MISSING) for n in order["names"]})
            namespace.update(stubs.resolve(order["names"]))
            return
        elif order["op"] == "unbind":
            for name, value in cls.saved.pop().items():
                if value is _MISSING:
                    namespace.pop(name, None)
                else:
                    namespace[name] = value
            return
        else:
            reply = _call(namespace, order, stubs)
        save(outbox / f"{request}.out", reply)


def _call(namespace, order, stubs):
    """Call the student's function of ``order``; what came out, as a reply."""
    EXPORTED.clear()
    args = stubs.resolve(order["args"])
    kwargs = stubs.resolve(order["kwargs"])
    reply = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            reply["value"] = namespace[order["name"]](*args, **kwargs)
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
