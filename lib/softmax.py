"""Softmax regression and a two-layer network: the reference implementations of
assignment 3 (``softmax_mlp``).

``X`` has one example per row, ``y`` holds integer labels in ``0..k-1``. Softmax
regression has logits ``X @ theta`` with ``theta`` of shape ``(n_features, k)``; the
two-layer network has logits ``relu(X @ W1) @ W2``. There are no biases. Losses are
mean cross-entropies (`softmax_output_grad` differentiates the summed one), and
`top_direction` serves the notebook's study of the learning rate. The training epochs
keep the dtype of their inputs: float32 data and weights are trained in float32.

This is a reference module: the student build of the library withholds its functions
(see the README, "What students receive"), but for `error_rate`, which the notebook
imports. `read_idx`, the general idx reader that `parse_mnist` is a case of, is here
for that reason.
"""

import gzip
import math
import numbers
import zlib
from pathlib import Path

import numpy as np

from lib.idx import _IDX_DTYPES

#: Magic numbers of MNIST idx files: unsigned bytes in 3 (images) or 1 (labels)
#: dimensions.
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def parse_mnist(image_filename, label_filename):
    """Read MNIST images and labels from idx files.

    Parameters
    ----------
    image_filename : str or path-like
        An idx file of images: magic number 2051 (``0x00000803``), then the
        number of images, rows and columns as big-endian uint32, then the
        pixels as unsigned bytes, row-major. Gzip-compressed (detected from
        the gzip magic bytes ``1f 8b``) or not.
    label_filename : str or path-like
        An idx file of labels: magic number 2049 (``0x00000801``), the number
        of labels, then the labels as unsigned bytes.

    Returns
    -------
    X : ndarray of shape (n_images, rows * cols), dtype float32
        One image per row (row-major pixels), scaled from 0..255 to [0, 1].
    y : ndarray of shape (n_images,), dtype uint8
        The labels.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        If a file is not what it should be: a corrupt or cut-off gzip stream, a
        bad magic number, fewer bytes than its header promises (truncated) or
        more; or if the numbers of images and labels differ. The message names
        the file (both files for a count mismatch).
    """

    def read(filename, magic, what):
        """The sizes in the header and the bytes after it, checked."""
        with open(filename, "rb") as f:
            data = f.read()
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                raise ValueError(
                    f"{filename}: corrupt or truncated gzip stream ({exc})"
                ) from None
        ndim = magic & 0xFF
        header = 4 + 4 * ndim
        if len(data) < 4 or int.from_bytes(data[:4], "big") != magic:
            found = "none (file too short)"
            if len(data) >= 4:
                found = f"0x{int.from_bytes(data[:4], 'big'):08X}"
            raise ValueError(
                f"{filename}: bad magic number {found}; MNIST {what} files start "
                f"with 0x{magic:08X} ({magic})"
            )
        if len(data) < header:
            raise ValueError(
                f"{filename}: truncated header: {header} bytes expected, "
                f"got {len(data)}"
            )
        sizes = [int.from_bytes(data[i : i + 4], "big") for i in range(4, header, 4)]
        expected = math.prod(sizes)
        if len(data) - header != expected:
            problem = "truncated" if len(data) - header < expected else "too long"
            raise ValueError(
                f"{filename}: {problem}: the header promises {expected} bytes of "
                f"{what} ({' x '.join(map(str, sizes))}), the file has "
                f"{len(data) - header}"
            )
        return sizes, np.frombuffer(data, np.uint8, offset=header)

    (n_images, rows, cols), pixels = read(image_filename, IMAGES_MAGIC, "images")
    (n_labels,), labels = read(label_filename, LABELS_MAGIC, "labels")
    if n_images != n_labels:
        raise ValueError(
            f"{image_filename} has {n_images} images but {label_filename} has "
            f"{n_labels} labels"
        )
    X = pixels.reshape(n_images, rows * cols).astype(np.float32)  # (n, rows * cols)
    X /= np.float32(255)
    return X, labels.copy()


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


def one_hot(y, k):
    """One-hot encoding of integer labels.

    Parameters
    ----------
    y : array_like of shape (n,)
        Integer labels in ``0..k-1``.
    k : int
        Number of classes.

    Returns
    -------
    Y : ndarray of shape (n, k), dtype float64
        ``Y[i, j]`` is 1 where ``j == y[i]``, else 0.

    Raises
    ------
    ValueError
        If ``y`` is not 1-d, ``k`` is not a positive integer, or a label is
        not in ``0..k-1``.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-d, got shape {y.shape} instead.")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r} instead.")
    if y.size and (y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= k):
        raise ValueError(f"y must hold integer labels in 0..{k - 1}.")
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), y] = 1.0
    return Y


def softmax(Z):
    """Row-wise softmax of logits.

    Parameters
    ----------
    Z : array_like of shape (n, k)
        Logits, one row per example.

    Returns
    -------
    P : ndarray of shape (n, k)
        ``P[i] = exp(Z[i]) / sum(exp(Z[i]))``, computed as
        ``exp(Z[i] - max(Z[i]))`` over its sum, which never overflows. Floating
        inputs keep their dtype.

    Raises
    ------
    ValueError
        If ``Z`` is not 2-d.
    """
    Z = np.asarray(Z)
    if Z.ndim != 2:
        raise ValueError(f"Z must be 2-d of shape (n, k), got shape {Z.shape} instead.")
    P = np.exp(Z - Z.max(axis=1, keepdims=True))  # (n, k), every entry in (0, 1]
    P /= P.sum(axis=1, keepdims=True)
    return P


def softmax_loss(Z, y):
    """Mean cross-entropy of logits against integer labels.

    Parameters
    ----------
    Z : array_like of shape (n, k)
        Logits.
    y : array_like of shape (n,)
        Labels in ``0..k-1``.

    Returns
    -------
    float
        ``mean_i(log(sum_j exp(Z[i, j])) - Z[i, y[i]])``, computed stably (the
        row maximum is factored out of the log-sum-exp).

    Raises
    ------
    ValueError
        If ``Z`` is not 2-d, ``y`` does not have one label per row of ``Z``, or
        a label is not in ``0..k-1``.
    """
    Z = np.asarray(Z)
    y = np.asarray(y)
    if Z.ndim != 2:
        raise ValueError(f"Z must be 2-d of shape (n, k), got shape {Z.shape} instead.")
    if y.shape != (Z.shape[0],):
        raise ValueError(
            f"y must have shape ({Z.shape[0]},), one label per row of Z, got "
            f"{y.shape} instead."
        )
    if y.size and (y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= Z.shape[1]):
        raise ValueError(f"y must hold integer labels in 0..{Z.shape[1] - 1}.")
    m = Z.max(axis=1)  # (n,)
    log_norm = m + np.log(np.exp(Z - m[:, None]).sum(axis=1))  # (n,) log-sum-exp
    return float(np.mean(log_norm - Z[np.arange(len(y)), y]))


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    """One epoch of minibatch SGD for softmax regression, updating ``theta`` in place.

    The minibatches are ``X[0:batch]``, ``X[batch:2*batch]``, ... in order (the
    last one may be shorter). Each step is
    ``theta -= lr * Xb.T @ (softmax(Xb @ theta) - one_hot(yb, k)) / m``, the mean
    gradient of the cross-entropy over the ``m`` rows of its minibatch.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Inputs, one example per row.
    y : ndarray of shape (n,)
        Labels in ``0..k-1``.
    theta : ndarray of shape (d, k)
        Weights, updated in place (float32 weights stay float32).
    lr : float, default=0.1
        Learning rate.
    batch : int, default=100
        Minibatch size.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        If the shapes do not match, ``theta`` is not a writable floating-point
        array, or ``batch`` is not a positive integer.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    _check_epoch_args(X, y, batch)
    if not (isinstance(theta, np.ndarray) and theta.ndim == 2
            and theta.shape[0] == X.shape[1]):
        raise ValueError(
            f"theta must be an array of shape ({X.shape[1]}, k), got "
            f"{getattr(theta, 'shape', type(theta).__name__)} instead."
        )
    if theta.dtype.kind != "f" or not theta.flags.writeable:
        raise ValueError("theta must be a writable floating-point array: it is "
                         f"updated in place (got dtype {theta.dtype}).")
    dtype = np.result_type(X, theta)
    rows = np.arange(batch)
    G = np.empty((batch, theta.shape[1]), dtype)  # logits, then probabilities
    grad = np.empty(theta.shape, dtype)
    for start in range(0, len(y), batch):
        Xb, yb = X[start : start + batch], y[start : start + batch]
        m = len(yb)
        Gb = np.matmul(Xb, theta, out=G[:m])  # (m, k) logits
        Gb -= Gb.max(axis=1, keepdims=True)
        np.exp(Gb, out=Gb)
        Gb /= Gb.sum(axis=1, keepdims=True)  # probabilities
        Gb[rows[:m], yb] -= 1  # d(sum of losses)/d(logits)
        Gb *= dtype.type(lr / m)  # lr times the gradient of the mean loss
        theta -= np.matmul(Xb.T, Gb, out=grad)  # (d, k)


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    """One epoch of minibatch SGD for a two-layer ReLU network, in place.

    The logits are ``relu(X @ W1) @ W2``. The minibatches are taken in order as
    in `softmax_regression_epoch`; each step computes the mean gradients over its
    ``m`` rows of both matrices, then updates both::

        H  = relu(Xb @ W1)                        # (m, h)
        G2 = (softmax(H @ W2) - one_hot(yb)) / m  # (m, k)
        G1 = (H > 0) * (G2 @ W2.T)                # (m, h)
        W1 -= lr * Xb.T @ G1
        W2 -= lr * H.T @ G2

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Inputs, one example per row.
    y : ndarray of shape (n,)
        Labels in ``0..k-1``.
    W1 : ndarray of shape (d, h)
        First-layer weights, updated in place.
    W2 : ndarray of shape (h, k)
        Second-layer weights, updated in place.
    lr : float, default=0.1
        Learning rate.
    batch : int, default=100
        Minibatch size.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        If the shapes do not match, a weight matrix is not a writable
        floating-point array, or ``batch`` is not a positive integer.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    _check_epoch_args(X, y, batch)
    for name, W in (("W1", W1), ("W2", W2)):
        if not (isinstance(W, np.ndarray) and W.ndim == 2):
            raise ValueError(f"{name} must be a 2-d array, got "
                             f"{getattr(W, 'shape', type(W).__name__)} instead.")
        if W.dtype.kind != "f" or not W.flags.writeable:
            raise ValueError(f"{name} must be a writable floating-point array: it is "
                             f"updated in place (got dtype {W.dtype}).")
    if W1.shape[0] != X.shape[1] or W2.shape[0] != W1.shape[1]:
        raise ValueError(
            f"W1 must have shape ({X.shape[1]}, h) and W2 shape (h, k), got "
            f"{W1.shape} and {W2.shape} instead."
        )
    dtype = np.result_type(X, W1, W2)
    h, k = W2.shape
    rows = np.arange(batch)
    # Buffers reused by every step: no allocation in the loop but small ones.
    H = np.empty((batch, h), dtype)  # hidden activations
    active = np.empty((batch, h), bool)  # the ReLU mask
    G2 = np.empty((batch, k), dtype)  # logits, then their gradient
    G1 = np.empty((batch, h), dtype)  # gradient of the hidden pre-activations
    grad1 = np.empty(W1.shape, dtype)
    grad2 = np.empty(W2.shape, dtype)
    for start in range(0, len(y), batch):
        Xb, yb = X[start : start + batch], y[start : start + batch]
        m = len(yb)
        Hb, Mb, G2b, G1b = H[:m], active[:m], G2[:m], G1[:m]
        np.matmul(Xb, W1, out=Hb)  # (m, h) pre-activations
        np.greater(Hb, 0, out=Mb)
        np.maximum(Hb, 0, out=Hb)  # relu
        np.matmul(Hb, W2, out=G2b)  # (m, k) logits
        G2b -= G2b.max(axis=1, keepdims=True)
        np.exp(G2b, out=G2b)
        G2b /= G2b.sum(axis=1, keepdims=True)
        G2b[rows[:m], yb] -= 1
        G2b *= dtype.type(lr / m)  # lr times the gradient of the mean loss
        np.matmul(G2b, W2.T, out=G1b)  # (m, h), with W2 before its update
        G1b *= Mb
        W2 -= np.matmul(Hb.T, G2b, out=grad2)  # (h, k)
        W1 -= np.matmul(Xb.T, G1b, out=grad1)  # (d, h)


def softmax_output_grad(probs, onehot):
    """Gradient of the summed cross-entropy with respect to the probabilities.

    The summed loss is ``-sum_ij onehot[i, j] * log(probs[i, j])``; its derivative
    with respect to ``probs[i, j]`` is ``-onehot[i, j] / probs[i, j]``.

    Parameters
    ----------
    probs : ndarray of shape (n, k)
        Predicted probabilities, all > 0 (a softmax output).
    onehot : ndarray of shape (n, k)
        One-hot labels.

    Returns
    -------
    ndarray of shape (n, k)

    Raises
    ------
    ValueError
        If the two arrays do not have the same shape.
    """
    probs = np.asarray(probs)
    onehot = np.asarray(onehot)
    if probs.shape != onehot.shape:
        raise ValueError(
            f"probs and onehot must have the same shape, got {probs.shape} and "
            f"{onehot.shape} instead."
        )
    return -onehot / probs


def top_direction(G):
    """The unit first left singular vector of ``G``, its largest entry positive.

    With minibatch gradients as the columns of ``G``, this is the direction of
    parameter space along which they are largest, in the least-squares sense: the
    unit ``q`` that maximises ``||G.T @ q||``. Its sign is fixed so that its entry
    of largest magnitude is positive.

    Parameters
    ----------
    G : array_like of shape (d, m)
        One gradient per column.

    Returns
    -------
    q : ndarray of shape (d,), dtype float64
        ``||q|| = 1``.

    Raises
    ------
    ValueError
        If ``G`` is not 2-d with at least one row and one column.
    """
    G = np.asarray(G, dtype=float)
    if G.ndim != 2 or G.size == 0:
        raise ValueError(f"G must be a non-empty 2-d array, got shape {G.shape} "
                         "instead.")
    q = np.linalg.svd(G, full_matrices=False)[0][:, 0]  # (d,)
    return q * np.sign(q[np.argmax(np.abs(q))])


def error_rate(Z, y):
    """Fraction of examples whose largest logit is not at their label.

    Parameters
    ----------
    Z : array_like of shape (n, k)
        Logits (or probabilities).
    y : array_like of shape (n,)
        Labels.

    Returns
    -------
    float
        In [0, 1].
    """
    return float(np.mean(np.argmax(Z, axis=1) != np.asarray(y)))


def _check_epoch_args(X, y, batch):
    """Shapes of the data and the minibatch size of an epoch, checked."""
    if X.ndim != 2:
        raise ValueError(f"X must be 2-d of shape (n, d), got shape {X.shape} instead.")
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape ({X.shape[0]},), one label per row of X, got "
            f"{y.shape} instead."
        )
    if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r} instead.")
