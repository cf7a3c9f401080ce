"""The protocol between the grader and the agent in a student's kernel.

Hidden tests run in the grader; the student's functions run in a sandboxed kernel.
The grader asks the kernel's agent (:mod:`kit.sandbox.kernel.agent`) to call them,
and the agent may call the grader back (a reference function or a function of the
test handed to the student's code). This module is the whole of what the two sides
share: the names of the files and the line, the value tags, the limits, the codec.
Both sides import it: the grader as ``kit.sandbox.kernel.protocol``, the kernel as
``kit_agent.protocol`` (the sandbox mounts this folder, alone, as the package
:data:`PACKAGE`). It imports nothing of the kit's.

Two folders in the kernel's scratch space carry the data of requests, each written
by one side only: the *inbox* (the grader writes, the kernel sees it read-only, so
nothing in it can be a link the student's code planted) and the *outbox* (the kernel
writes, the grader reads as untrusted). Control travels on the kernel's own
channels: the grader sends an ``execute_request`` of one line. Callbacks, the
kernel's calls into the grader while a request runs, travel on the *line*: a Unix
stream socket the grader listens on in the inbox (:data:`LINE`), which the agent
connects to when it answers the first request, a :data:`PING`. On the line each
side sends frames: the kernel a length header and an encoded value
(:func:`pack`, :data:`FRAME`), the grader a length and a pickle
(:data:`REPLY_FRAME`).

====  =======================  ===============================  =====================
step  who                      sends                            where
====  =======================  ===============================  =====================
1     grader                   an order, pickled: ``op`` one    ``inbox/rN.pkl``
                               of :data:`PING`, :data:`CALL`,   (:func:`order_file`)
                               :data:`BIND`, :data:`UNBIND`,
                               :data:`LOOKUP`, :data:`SET`
2     grader                   :data:`REQUEST` for ``rN``       execute_request
3     kernel, during step 2    a callback: its key and          line, frame of kind
      (any number of times)    arguments, encoded               :data:`CALLBACK`
3a    grader                   its outcome, pickled:            line, reply frame
                               ``value``, ``raised``, or a
                               ``call`` of a kernel function
3b    kernel, after ``call``   that call's outcome, encoded     line, frame of kind
                                                                :data:`RESULT`
4     kernel                   the outcome of a :data:`PING`,   ``outbox/rN.out``
                               :data:`CALL` or :data:`LOOKUP`,  (:func:`reply_base`)
                               encoded
5     kernel                   the end of the request           execute_reply
====  =======================  ===============================  =====================

*Encoded* means a JSON tree of tagged values (:class:`Tag`) and the arrays it
refers to as an ``.npz`` (stored, never compressed): in the files ``<base>.json`` and
``<base>.npz`` (:func:`save`), or one after the other in a frame (:func:`pack`).
The grader reads them with :func:`load` or :func:`unpack`, and :func:`decode`: plain
data only, never a pickle, within :data:`MAX_JSON_BYTES`, :data:`MAX_REPLY_BYTES` and
:data:`MAX_ARRAYS`, or it raises :class:`ReplyRefused`. The grader pickles what it
sends (the kernel may read anything the grader sends); functions in it are marker
tuples (:data:`CALLBACK_MARK`, :data:`OWN_MARK`), so that the kernel unpickles them
without importing anything of the grader's.
"""

import io
import json
import os
import stat
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np

#: The package this folder is in the kernel, and the agent's module there.
PACKAGE = "kit_agent"
AGENT_MODULE = f"{PACKAGE}.agent"

#: Orders of the grader (the ``op`` of an order).
PING, CALL, BIND, UNBIND = "ping", "call", "bind", "unbind"
#: Orders that read and change the student's globals for a hidden test: what some
#: names are (:data:`LOOKUP`), and a name deleted or bound again (:data:`SET`).
LOOKUP, SET = "lookup", "set"
#: What the agent answers a ping with.
READY = "ready"

#: The grader's request, one line: the agent reached through ``object``'s
#: subclasses, with no global name the student's code could shadow or read.
REQUEST = ("[c for c in ().__class__.__base__.__subclasses__() "
           f"if c.__module__ == {AGENT_MODULE!r} and c.__name__ == 'Agent'][0]"
           ".serve({inbox!r}, {outbox!r}, {request!r})")

#: The grader's end of the line for callbacks, in the inbox.
LINE = "line.sock"
#: Kinds of the kernel's frames on the line.
CALLBACK, RESULT = "callback", "result"
#: The header of the kernel's frames: the bytes of the JSON tree, then of the .npz.
FRAME = struct.Struct("<QQ")
#: The header of the grader's frames: the bytes of the pickle.
REPLY_FRAME = struct.Struct("<Q")

#: Markers of functions in what the grader sends: a function of the grader's
#: (served by a callback) or one of the student's own, by reference
#: (:func:`held`).
CALLBACK_MARK, OWN_MARK = "\0kit-callback", "\0kit-own"
#: What a reference to a student's function starts with when it names an object
#: the agent holds (the name it had was deleted or bound again) rather than a global.
HELD = "#"

# Limits of what the grader reads of one reply of the kernel: the arrays' file (and
# the bytes its arrays hold once read), the JSON tree, and the number of arrays.
MAX_REPLY_BYTES = 256 * 2**20
MAX_JSON_BYTES = 16 * 2**20
MAX_ARRAYS = 10_000
#: Limit of what the grader writes back into the kernel for one callback.
MAX_CALLBACK_BYTES = 256 * 2**20
#: Depth of nesting and length of strings the kernel encodes.
MAX_DEPTH = 20
MAX_STR = 10_000


class Tag:
    """The ``t`` of an encoded value; ``v`` holds its value, ``k`` a key."""

    NONE, BOOL, INT, FLOAT, COMPLEX = "none", "bool", "int", "float", "complex"
    STR = "str"
    TUPLE, LIST, SET, DICT = "tuple", "list", "set", "dict"
    ARRAY = "nd"            # an ndarray: ``k`` names it in the .npz
    SCALAR = "np"           # a numpy scalar, saved as a 0-d array
    CALLBACK = "cb"         # a function of the grader's, handed out earlier
    KERNEL_FUNCTION = "kfn"  # a function in the kernel, callable during a callback
    FRAME = "df"            # a DataFrame: ``c`` names, ``v`` columns, ``i`` index
    OPAQUE = "opaque"       # anything else: only its type name, never its content


# -- names of files ----------------------------------------------------------

def order_file(request):
    """The inbox file of an order."""
    return f"{request}.pkl"


def reply_base(request):
    """The outbox base name of an order's outcome."""
    return f"{request}.out"


def held(key):
    """The reference to the object the agent holds under ``key``; any other
    reference is the name of a global of the student's."""
    return f"{HELD}{key}"


def marker(value):
    """``(kind, key)`` of a marker tuple, else None."""
    if type(value) is tuple and len(value) == 2 and value[0] in (CALLBACK_MARK,
                                                                  OWN_MARK):
        return value
    return None


# -- the kernel's half: encoding -------------------------------------------

def encode(value, arrays, export=None, depth=0):
    """``value`` as a JSON-able tree; arrays go into ``arrays`` (saved as .npz).
    ``export(function)`` gives ``(Tag.CALLBACK or Tag.KERNEL_FUNCTION, key)`` for a
    function; without it a function is opaque."""
    if depth > MAX_DEPTH:
        return {"t": Tag.OPAQUE, "type": "deeply nested value"}
    if value is None:
        return {"t": Tag.NONE}
    if isinstance(value, np.ndarray) and not isinstance(value, np.matrix):
        if value.dtype.kind not in "biufcUS":
            return {"t": Tag.OPAQUE, "type": f"array of {value.dtype}"}
        key = f"a{len(arrays)}"
        arrays[key] = np.array(value)
        return {"t": Tag.ARRAY, "k": key}
    if isinstance(value, np.generic):
        if value.dtype.kind not in "biufc":
            return {"t": Tag.OPAQUE, "type": type(value).__name__}
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"t": Tag.SCALAR, "k": key}
    if isinstance(value, bool):
        return {"t": Tag.BOOL, "v": bool(value)}
    if isinstance(value, int):
        return {"t": Tag.INT, "v": str(int(value))}
    if isinstance(value, float):
        return {"t": Tag.FLOAT, "v": repr(float(value))}
    if isinstance(value, complex):
        return {"t": Tag.COMPLEX, "v": [repr(value.real), repr(value.imag)]}
    if isinstance(value, str):
        return {"t": Tag.STR, "v": str(value)[:MAX_STR]}
    if isinstance(value, (tuple, list)):
        tag = Tag.TUPLE if isinstance(value, tuple) else Tag.LIST
        return {"t": tag, "v": [encode(v, arrays, export, depth + 1) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"t": Tag.SET, "v": [encode(v, arrays, export, depth + 1)
                                    for v in value]}
    if isinstance(value, dict):
        return {"t": Tag.DICT, "v": [[encode(k, arrays, export, depth + 1),
                                      encode(v, arrays, export, depth + 1)]
                                     for k, v in value.items()]}
    pandas = sys.modules.get("pandas")  # loaded by whoever made a DataFrame
    if pandas is not None and isinstance(value, pandas.DataFrame):
        return {"t": Tag.FRAME,
                "c": [encode(c, arrays, None, depth + 1) for c in value.columns],
                "v": [encode(_column(value.iloc[:, j]), arrays, None, depth + 1)
                      for j in range(value.shape[1])],
                "i": encode(value.index.to_numpy(), arrays, None, depth + 1)}
    if callable(value) and not isinstance(value, type) and export is not None:
        tag, key = export(value)
        return {"t": tag, "k": str(key)}
    return {"t": Tag.OPAQUE, "type": type(value).__name__[:100]}


def _column(series):
    """A column as an array: text columns (pandas keeps strings as objects) as an
    array of str, any other object column as it is (it stays opaque)."""
    values = series.to_numpy()
    if values.dtype == object and all(isinstance(v, str) for v in values):
        return values.astype(str)
    return values


def save(base, data, export=None):
    """Write ``data`` encoded, as ``base``.json plus ``base``.npz."""
    arrays = {}
    tree = encode(data, arrays, export)
    np.savez(f"{base}.npz", **arrays)
    Path(f"{base}.json").write_text(json.dumps(tree))


def pack(kind, key, data, export=None):
    """A frame of ``kind`` for the line: ``data`` encoded, under ``key``."""
    arrays, npz = {}, io.BytesIO()
    tree = json.dumps({"kind": kind, "key": key,
                       "value": encode(data, arrays, export)}).encode()
    np.savez(npz, **arrays)
    return FRAME.pack(len(tree), npz.tell()) + tree + npz.getvalue()


# -- the grader's half: reading and decoding --------------------------------

class ReplyRefused(Exception):
    """A reply of the kernel broke the grader's limits or was not plain data."""


class ReplyMissing(Exception):
    """The kernel did not write the file the grader expected."""


class RemoteObject:
    """A value of a type the grader does not read (a class of the student's, say)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object from the submission>"


KEYS = (str, int, float, bool, tuple, type(None))


def decode(tree, arrays, resolve=None, depth=0):
    """A value from a tree written by :func:`save`, as plain data;
    ``resolve(tag, key)`` stands for functions (:attr:`Tag.CALLBACK`,
    :attr:`Tag.KERNEL_FUNCTION`)."""
    if depth > MAX_DEPTH + 1 or not isinstance(tree, dict):
        return RemoteObject("unreadable value")
    tag, value = tree.get("t"), tree.get("v")
    if tag in (Tag.CALLBACK, Tag.KERNEL_FUNCTION):
        if resolve is None:
            return RemoteObject("function")
        return resolve(tag, str(tree.get("k")))
    if tag == Tag.NONE:
        return None
    if tag in (Tag.ARRAY, Tag.SCALAR):
        arr = arrays.get(str(tree.get("k")))
        if arr is None:
            return RemoteObject("missing array")
        return arr[()] if tag == Tag.SCALAR else arr
    if tag == Tag.BOOL:
        return bool(value)
    if tag == Tag.INT and isinstance(value, str) and len(value) < 5000:
        return int(value)
    if tag == Tag.FLOAT:
        return float(value)
    if tag == Tag.COMPLEX:
        return complex(float(value[0]), float(value[1]))
    if tag == Tag.STR:
        return str(value)
    if tag in (Tag.TUPLE, Tag.LIST) and isinstance(value, list):
        items = [decode(v, arrays, resolve, depth + 1) for v in value]
        return tuple(items) if tag == Tag.TUPLE else items
    if tag == Tag.SET and isinstance(value, list):
        items = [decode(v, arrays, None, depth + 1) for v in value]
        return {v for v in items if isinstance(v, KEYS[:-1])}
    if tag == Tag.DICT and isinstance(value, list):
        out = {}
        for pair in value:
            key = decode(pair[0], arrays, None, depth + 1)
            if isinstance(key, KEYS):
                out[key] = decode(pair[1], arrays, resolve, depth + 1)
        return out
    if tag == Tag.FRAME and isinstance(value, list) and isinstance(tree.get("c"), list):
        return decode_frame(tree["c"], value, tree.get("i"), arrays, depth)
    return RemoteObject("value the grader does not read")


def decode_frame(names, columns, index, arrays, depth):
    """A DataFrame of plain columns: 1-d arrays of one length, with plain names and a
    plain index; anything else stays unread."""
    import pandas as pd

    names = [decode(c, arrays, None, depth + 1) for c in names]
    data = [decode(v, arrays, None, depth + 1) for v in columns]
    index = decode(index, arrays, None, depth + 1)
    rows = index.shape if isinstance(index, np.ndarray) and index.ndim == 1 else None
    if (rows is None or len(names) != len(data)
            or not all(isinstance(k, KEYS[:-1]) for k in names)
            or not all(isinstance(d, np.ndarray) and d.shape == rows for d in data)):
        return RemoteObject("DataFrame the grader does not read")
    data = [d.astype(object) if d.dtype.kind == "U" else d for d in data]
    frame = pd.DataFrame(dict(enumerate(data)), index=index)
    frame.columns = names
    return frame


def read_regular(path, limit=MAX_REPLY_BYTES):
    """The bytes of a regular file the kernel wrote, never following a link or
    blocking on a pipe the student's code put in its place."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise ReplyMissing(f"the kernel did not write {Path(path).name}") from None
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


def read_json(text):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ReplyRefused(f"the reply is not valid JSON ({type(exc).__name__})"
                           ) from exc


def load(base):
    """``(tree, arrays)`` of ``base``.json and ``base``.npz written by the kernel,
    within the limits above; :class:`ReplyRefused` when they are broken,
    :class:`ReplyMissing` when they are not there."""
    tree = read_json(read_regular(f"{base}.json", MAX_JSON_BYTES))
    return tree, read_npz(read_regular(f"{base}.npz"))


def frame_sizes(header):
    """The sizes a frame's header announces, within the limits above, else
    :class:`ReplyRefused`."""
    tree, npz = FRAME.unpack(header)
    if tree > MAX_JSON_BYTES or npz > MAX_REPLY_BYTES:
        raise ReplyRefused("a frame on the line is larger than the grader reads")
    return tree, npz


def unpack(head):
    """``(kind, key, tree)`` of the JSON part of a frame, read as :func:`load`
    reads a file; its arrays are the next part, read with :func:`read_npz`."""
    head = read_json(head)
    if not isinstance(head, dict):
        raise ReplyRefused("a frame on the line is not an object")
    return head.get("kind"), str(head.get("key")), head.get("value")
