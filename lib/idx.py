"""Write the idx file format, the format of the MNIST files.

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

import gzip
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
    lib.softmax.read_idx : Read an idx file.
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
