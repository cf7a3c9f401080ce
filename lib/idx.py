"""Read and write the idx file format, the format of the MNIST files.

An idx file is a header followed by the array's items in row-major (C) order::

    byte 0, 1      0x00 0x00
    byte 2         data type code (see below)
    byte 3         number of dimensions d >= 1
    bytes 4..4+4d  the size of each dimension, big-endian uint32
    rest           prod(sizes) items, each big-endian

Data type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64. The first four bytes read as one big-endian number are the
"magic number", e.g. 0x00000803 (2051) for MNIST images (uint8, 3-d) and
0x00000801 (2049) for MNIST labels (uint8, 1-d). The files are commonly
distributed gzip-compressed.
"""

# The student build of the library removes the body of the functions listed in
# ``__withheld__``: students write their own idx parser in an assignment.
__withheld__ = ["read_idx"]

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

# Data type code -> big-endian numpy dtype, as defined by the idx format.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """Read an idx file into a numpy array.

    Parameters
    ----------
    path : str or path-like
        The idx file. It may be gzip-compressed; compression is detected from
        the gzip magic bytes ``1f 8b`` at the start of the file, whatever the
        file name.

    Returns
    -------
    array : ndarray of shape sizes
        The array stored in the file, with the shape given by the header
        (e.g. ``(n_images, rows, cols)`` for MNIST images, ``(n_labels,)`` for
        labels) and the header's data type in native byte order (uint8, int8,
        int16, int32, float32 or float64). The array is a writable copy.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a valid idx file: a corrupt gzip stream, a bad magic
        number (first two bytes not zero, unknown data type code, zero
        dimensions), a header cut short, or a payload with fewer or more bytes
        than the header promises. The message starts with the file path.

    See Also
    --------
    write_idx : Write an array as an idx file.

    Examples
    --------
    >>> images = read_idx("t10k-images-idx3-ubyte.gz")  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((10000, 28, 28), dtype('uint8'))
    """
    path = Path(path)
    with open(path, "rb") as f:  # FileNotFoundError names the path
        data = f.read()

    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise ValueError(
                f"{path}: corrupt gzip stream ({exc}); the file is damaged or "
                "was cut off while downloading"
            ) from None
        where = "decompressed file has"
    else:
        where = "file has"

    if len(data) < 4:
        raise ValueError(
            f"{path}: too short for an idx file: {where} {len(data)} bytes, "
            "the magic number alone needs 4"
        )
    magic = int.from_bytes(data[:4], "big")
    code, ndim = data[2], data[3]
    expected = (
        "expected 0x0000TTDD: two zero bytes, a data type code TT in "
        "08 (uint8), 09 (int8), 0B (int16), 0C (int32), 0D (float32), "
        "0E (float64) and the number of dimensions DD >= 1, "
        "e.g. 0x00000803 for MNIST images, 0x00000801 for labels"
    )
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{path}: bad magic number 0x{magic:08X}: the first two bytes are not "
            f"zero ({expected}); is this an idx file?"
        )
    if code not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: bad magic number 0x{magic:08X}: unknown data type code "
            f"0x{code:02X} ({expected})"
        )
    if ndim == 0:
        raise ValueError(
            f"{path}: bad magic number 0x{magic:08X}: zero dimensions ({expected})"
        )

    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(
            f"{path}: truncated header: {ndim} dimensions need a {header_size}-byte "
            f"header, {where} {len(data)} bytes"
        )
    shape = tuple(int(s) for s in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    n_items = math.prod(shape)
    n_bytes = n_items * dtype.itemsize
    payload = len(data) - header_size
    if payload < n_bytes:
        raise ValueError(
            f"{path}: truncated: header promises {n_bytes} bytes of data "
            f"(shape {shape}, {dtype.name}), {where} {payload}"
        )
    if payload > n_bytes:
        raise ValueError(
            f"{path}: {payload - n_bytes} unexpected trailing bytes: header "
            f"promises {n_bytes} bytes of data (shape {shape}, {dtype.name}), "
            f"{where} {payload}"
        )

    array = np.frombuffer(data, dtype, count=n_items, offset=header_size)
    return array.astype(dtype.newbyteorder("=")).reshape(shape)


def write_idx(path, array):
    """Write an array as an idx file.

    Parameters
    ----------
    path : str or path-like
        The file to write (overwritten if it exists). When the name ends in
        ``.gz`` the file is gzip-compressed (level 6, like the ``gzip`` command),
        with the time stamp in the gzip header set to zero so that the same array
        always gives the same bytes.
    array : array_like of shape sizes
        At least 1-d, with dtype uint8, int8, int16, int32, float32 or float64
        (any byte order). Other dtypes are refused rather than converted: use
        e.g. ``array.astype(np.int32)`` first.

    Raises
    ------
    ValueError
        If the dtype is not one of the above, the array is 0-d, has more than
        255 dimensions or a dimension of 2**32 or more.

    See Also
    --------
    read_idx : Read an idx file.
    """
    array = np.asarray(array)
    code = next(
        (
            c
            for c, dt in _IDX_DTYPES.items()
            if (array.dtype.kind, array.dtype.itemsize) == (dt.kind, dt.itemsize)
        ),
        None,
    )
    if code is None:
        raise ValueError(
            f"array dtype must be one of uint8, int8, int16, int32, float32, "
            f"float64 to be written as idx, got {array.dtype} instead."
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(
            f"array must have 1 to 255 dimensions to be written as idx, "
            f"got {array.ndim} instead."
        )
    if any(s >= 2**32 for s in array.shape):
        raise ValueError(
            f"every dimension must be < 2**32 to be written as idx, got shape "
            f"{array.shape} instead."
        )
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    payload = np.ascontiguousarray(array, dtype=_IDX_DTYPES[code]).tobytes()

    path = Path(path)
    with open(path, "wb") as f:
        if path.name.endswith(".gz"):
            with gzip.GzipFile(
                filename="", mode="wb", compresslevel=6, fileobj=f, mtime=0
            ) as gz:
                gz.write(header)
                gz.write(payload)
        else:
            f.write(header)
            f.write(payload)
