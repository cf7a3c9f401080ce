# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Assignment 3: softmax regression and a two-layer network
#
# You will read the MNIST digits from their original file format, write the softmax
# and its cross-entropy loss, and train two classifiers with minibatch stochastic
# gradient descent: softmax regression and a network with one hidden ReLU layer. Then
# you will check your gradients against automatic differentiation, watch the models
# train, stop early, regularize, try learning-rate schedules, look at the minibatch
# gradients for what suggests one, and compare with scikit-learn.
#
# **How this notebook is graded.** Write your code between the `def` line and the end
# of each answer cell, replacing `raise NotImplementedError()`. The cell after each
# answer runs *public checks* and prints one line: that they passed, or a hint saying
# what was expected. The last cell lists which functions pass. Passing is a good sign
# but not a grade: hidden tests with other inputs decide the points. Written answers
# are graded by hand. Do not add, delete or reorder cells; run *Kernel → Restart and
# Run All* before you submit.
#
# **Conventions.** `X` has one example per row: for MNIST a `float32` array of shape
# `(n, 784)` with pixels in $[0, 1]$. `y` holds integer labels $0, \dots, k-1$
# (`uint8` for MNIST). Softmax regression has weights `theta` of shape `(784, k)` and
# logits `X @ theta`; the network has weights `W1` of shape `(784, h)` and `W2` of
# shape `(h, k)` and logits `relu(X @ W1) @ W2`. There are no biases. Your functions
# must work for `float32` and `float64` arrays, and training must keep `float32`
# weights `float32`.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import os
import sys
import tempfile
import warnings

import autograd.numpy as anp
import numpy as np
import pandas as pd
from autograd import grad
from IPython.display import display
from lets_plot import (
    aes,
    geom_abline,
    geom_point,
    geom_vline,
    gggrid,
    ggplot,
    ggsize,
    labs,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from tqdm.auto import tqdm

from lib import checks, plots
from lib.data import grading_run, load_mnist_sample, split
from lib.idx import write_idx
from lib.softmax import error_rate

plots.setup()

# %% [markdown]
# ## 1. Reading MNIST files (3 points)
#
# MNIST is distributed as four gzip-compressed files in the *idx* format: a header of
# big-endian 32-bit unsigned integers, then the data as unsigned bytes.
#
# | file | header | data |
# | --- | --- | --- |
# | images (`*-images-idx3-ubyte.gz`) | magic number 2051 (`0x00000803`), number of images $n$, rows, columns | $n \times$ rows $\times$ columns pixels in 0..255, image after image, row after row |
# | labels (`*-labels-idx1-ubyte.gz`) | magic number 2049 (`0x00000801`), number of labels $n$ | $n$ labels in 0..9 |
#
# Write `parse_mnist(image_filename, label_filename)`. It returns `X`, a `float32`
# array of shape `(n, rows * cols)` with one image per row and the pixels divided by
# 255, and `y`, a `uint8` array of shape `(n,)`. Read the files with the `gzip`
# module; `np.frombuffer` turns bytes into an array without a loop, and
# `int.from_bytes(b, "big")` or `struct.unpack(">I", b)` reads one header number.
#
# Files can be damaged, so check them. Raise a `ValueError` whose message contains
# the name of the offending file (as it was given) when
#
# - a file's magic number is not the one above (for example, the two files were
#   swapped);
# - a file is truncated: it has fewer bytes of data than its header promises;
# - the number of images and the number of labels differ (name both files).

# %% nbgrader={"grade": false, "grade_id": "parse_mnist", "locked": false, "schema_version": 3, "solution": true, "task": false}
def parse_mnist(image_filename, label_filename):
    """Images as float32 rows in [0, 1] and uint8 labels, read from gzip idx files."""
    ### BEGIN SOLUTION
    import gzip

    def read(filename, magic, ndim):
        with gzip.open(filename, "rb") as f:
            data = f.read()
        size = 4 + 4 * ndim  # bytes of the header
        found = int.from_bytes(data[:4], "big")
        if len(data) < 4 or found != magic:
            raise ValueError(f"{filename}: bad magic number {found}, expected {magic}")
        if len(data) < size:
            raise ValueError(f"{filename}: truncated header")
        dims = [int.from_bytes(data[i:i + 4], "big") for i in range(4, size, 4)]
        if len(data) - size != np.prod(dims):
            raise ValueError(f"{filename}: the header promises {np.prod(dims)} bytes "
                             f"of data, the file has {len(data) - size} (truncated?)")
        return dims, np.frombuffer(data, dtype=np.uint8, offset=size)

    (n, rows, cols), pixels = read(image_filename, 2051, 3)
    (n_labels,), labels = read(label_filename, 2049, 1)
    if n != n_labels:
        raise ValueError(f"{image_filename} holds {n} images but {label_filename} "
                         f"holds {n_labels} labels")
    X = pixels.reshape(n, rows * cols).astype(np.float32) / np.float32(255)
    return X, labels.copy()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_parse_mnist", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does parse_mnist read idx files written from MNIST images, and refuse a bad one?"""
with checks.public("parse_mnist"):
    _Xs, _ys = load_mnist_sample()
    _images = np.rint(_Xs[:12] * 255).astype(np.uint8).reshape(12, 28, 28)
    with tempfile.TemporaryDirectory() as _dir:
        _img = os.path.join(_dir, "check-images-idx3-ubyte.gz")
        _lab = os.path.join(_dir, "check-labels-idx1-ubyte.gz")
        write_idx(_img, _images)
        write_idx(_lab, _ys[:12])
        _X, _y = checks.call(parse_mnist, _img, _lab)
        checks.check_dtype(_X, np.float32, what="X",
                           hint="Convert the pixels with .astype(np.float32).")
        checks.check_close(_X, _images.reshape(12, 784) / 255, rtol=1e-6,
                           what="X for 12 images of 28 x 28 pixels",
                           hint="Skip the 16-byte header, put one image per row and "
                                "divide the pixels by 255.")
        checks.check_dtype(_y, np.uint8, what="y")
        checks.check_equal(_y, _ys[:12], what="y", hint="Skip the 8-byte header.")
        _bad = os.path.join(_dir, "flat-images-idx2-ubyte.gz")
        write_idx(_bad, _images.reshape(12, 784))  # magic number 2050: not images
        checks.check_raises(parse_mnist, _bad, _lab, match=os.path.basename(_bad),
                            what="parse_mnist of a file with magic number 2050",
                            hint="Compare each magic number with 2051 or 2049 and put "
                                 "the file name in the message.")

# %% nbgrader={"grade": true, "grade_id": "test_parse_mnist", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of parse_mnist (3 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
import gzip as _gzip

from lib import softmax as _ref

_rng = np.random.default_rng(301)
_Xs, _ys = load_mnist_sample()
_pick = _rng.choice(len(_ys), size=40, replace=False)
_images = np.rint(_Xs[_pick] * 255).astype(np.uint8).reshape(40, 28, 28)
_labels = _ys[_pick]
with tempfile.TemporaryDirectory() as _dir:
    _f = {name: os.path.join(_dir, f"{name}-ubyte.gz") for name in (
        "all-images", "all-labels", "crop", "crop-labels", "short-labels",
        "bad-images", "bad-labels", "cut-images", "cut-labels", "empty-images",
        "empty-labels")}
    write_idx(_f["all-images"], _images)
    write_idx(_f["all-labels"], _labels)
    write_idx(_f["crop"], _images[:7, 8:20, 4:24])  # 7 images of 12 x 20 pixels
    write_idx(_f["crop-labels"], _labels[:7])
    write_idx(_f["short-labels"], _labels[:39])
    write_idx(_f["empty-images"], _images[:0])  # a valid file of no images
    write_idx(_f["empty-labels"], _labels[:0])
    with open(_f["all-images"], "rb") as _file:
        _raw_images = _gzip.decompress(_file.read())
    with open(_f["all-labels"], "rb") as _file:
        _raw_labels = _gzip.decompress(_file.read())
    for _name, _raw in (("bad-images", b"\x00\x00\x0d\x03" + _raw_images[4:]),
                        ("bad-labels", b"\x00\x00\x08\x03" + _raw_labels[4:]),
                        ("cut-images", _raw_images[:-100]),
                        ("cut-labels", _raw_labels[:-3])):
        with open(_f[_name], "wb") as _file:
            _file.write(_gzip.compress(_raw, mtime=0))

    for _img, _lab, _shape in (("all-images", "all-labels", (40, 784)),
                               ("crop", "crop-labels", (7, 240)),
                               ("empty-images", "empty-labels", (0, 784))):
        _want_X, _want_y = _ref.parse_mnist(_f[_img], _f[_lab])
        _X, _y = checks.call(parse_mnist, _f[_img], _f[_lab])
        checks.check_dtype(_X, np.float32, what="X",
                           hint="Convert the pixels with .astype(np.float32).")
        checks.check_close(_X, _want_X, rtol=1e-6, what=f"X of shape {_shape}",
                           hint="Read the number of images, rows and columns from "
                                "the header; put one image per row, divided by 255.")
        checks.check_dtype(_y, np.uint8, what="y",
                           hint="Keep the labels as unsigned bytes.")
        checks.check_equal(_y, _want_y, what="y",
                           hint="The labels follow an 8-byte header.")
    for _img, _lab, _named, _what in (
            ("bad-images", "all-labels", ["bad-images"],
             "an image file whose magic number is not 2051"),
            ("all-images", "bad-labels", ["bad-labels"],
             "a label file whose magic number is not 2049"),
            ("cut-images", "all-labels", ["cut-images"], "a truncated image file"),
            ("all-images", "cut-labels", ["cut-labels"], "a truncated label file"),
            ("all-images", "short-labels", ["all-images", "short-labels"],
             "40 images with 39 labels")):
        for _name in _named:
            checks.check_raises(parse_mnist, _f[_img], _f[_lab],
                                match=os.path.basename(_f[_name]),
                                what=f"parse_mnist of {_what}",
                                hint="Raise a ValueError whose message contains the "
                                     "name of each file concerned, as given.")
### END HIDDEN TESTS

# %% [markdown]
# ## The data
#
# By default the notebook uses a sample of 5,000 real MNIST digits that ships with
# the course library (500 of each digit): 3,200 for training, 800 for validation and
# 1,000 for testing. If you have the full MNIST files (or Fashion-MNIST, which has the
# same format), set the environment variable `MNIST_DIR` to their folder before
# starting Jupyter: your `parse_mnist` then reads them. When the notebook is graded,
# it trains on a small subset instead, so that grading is fast.

# %% nbgrader={"grade": false, "grade_id": "data", "locked": true, "schema_version": 3, "solution": false, "task": false}
DATA_DIR = os.environ.get("MNIST_DIR")  # a folder of MNIST-format .gz idx files
if DATA_DIR and not grading_run():
    X_rest, y_rest = parse_mnist(os.path.join(DATA_DIR, "train-images-idx3-ubyte.gz"),
                                 os.path.join(DATA_DIR, "train-labels-idx1-ubyte.gz"))
    X_test, y_test = parse_mnist(os.path.join(DATA_DIR, "t10k-images-idx3-ubyte.gz"),
                                 os.path.join(DATA_DIR, "t10k-labels-idx1-ubyte.gz"))
else:
    X_rest, y_rest, X_test, y_test = split(*load_mnist_sample(), 0.2, rng=0)
    if grading_run():  # a small seeded subset: 2,000 training, 500 validation
        X_rest, y_rest = X_rest[:2500], y_rest[:2500]
X_train, y_train, X_val, y_val = split(X_rest, y_rest, 0.2, rng=1)
print(f"{len(y_rest) + len(y_test)} images: training {X_train.shape} {X_train.dtype}, "
      f"validation {X_val.shape}, test {X_test.shape}; labels {y_train.dtype}")
plots.digit_grid(X_train[:30], labels=y_train[:30],
                 title="The first 30 training images and their labels")

# %% [markdown]
# ## 2. One-hot encoding (1 point)
#
# `one_hot(y, k)` returns an array `Y` of shape `(n, k)` with `Y[i, j] = 1` where
# `j == y[i]` and 0 elsewhere. `k` is given: a batch need not contain every class.

# %% nbgrader={"grade": false, "grade_id": "one_hot", "locked": false, "schema_version": 3, "solution": true, "task": false}
def one_hot(y, k):
    """(n, k) array with a 1 in column y[i] of row i, zeros elsewhere."""
    ### BEGIN SOLUTION
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), y] = 1.0
    return Y
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_one_hot", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does one_hot put a single 1 per row, in the column of the label?"""
with checks.public("one_hot"):
    checks.check_close(checks.call(one_hot, np.array([2, 0, 1], dtype=np.uint8), 4),
                       [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]],
                       what="one_hot([2, 0, 1], 4)",
                       hint="Row i has k entries and a 1 in column y[i].")
    checks.check_close(checks.call(one_hot, np.array([0, 0]), 3), [[1, 0, 0], [1, 0, 0]],
                       what="one_hot([0, 0], 3)",
                       hint="Use k columns even when some classes are absent from y.")

# %% nbgrader={"grade": true, "grade_id": "test_one_hot", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of one_hot (1 point): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
from lib import softmax as _ref

_rng = np.random.default_rng(302)
for _n, _k, _top, _dtype in ((25, 10, 10, np.uint8), (9, 7, 5, np.int64),
                             (1, 3, 3, np.int64)):
    _y = _rng.integers(0, _top, size=_n).astype(_dtype)
    _before = _y.copy()
    checks.check_close(checks.call(one_hot, _y, _k), _ref.one_hot(_y, _k),
                       what=f"one_hot of {_n} labels with k={_k}",
                       hint="Return shape (len(y), k) with Y[i, y[i]] = 1, using "
                            "the k given even when y lacks some classes.")
    checks.check_equal(_y, _before, what="y after calling one_hot",
                       hint="Do not modify y.")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The softmax (2 points)
#
# For a row of logits $z \in \mathbb{R}^k$,
# $\mathrm{softmax}(z)_j = \dfrac{e^{z_j}}{\sum_{l} e^{z_l}}$. `softmax(Z)` applies it
# to every row of `Z`, of shape `(n, k)`. It must be stable: `np.exp(1000)` is `inf`,
# so compute it in a way that gives the right probabilities, without any warning, for
# logits as large as $\pm 1000$ (hint: what does adding a constant to every entry of
# a row change?). Return a new array: do not modify `Z`.

# %% nbgrader={"grade": false, "grade_id": "softmax", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softmax(Z):
    """Row-wise softmax of logits Z of shape (n, k), stable for large logits."""
    ### BEGIN SOLUTION
    E = np.exp(Z - np.max(Z, axis=1, keepdims=True))
    return E / np.sum(E, axis=1, keepdims=True)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_softmax", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does softmax normalize each row, and stay finite for large logits?"""
with checks.public("softmax"):
    _P = checks.call(softmax, np.array([[0.0, 0.0], [0.0, np.log(3.0)], [1.0, 1.0]]))
    checks.check_close(_P, [[0.5, 0.5], [0.25, 0.75], [0.5, 0.5]], rtol=1e-12,
                       what="softmax of three rows of two logits",
                       hint="Normalize each row separately (axis=1).")
    _P = checks.call(softmax, np.array([[1000.0, 1000.0, 0.0], [-1000.0, 0.0, -1000.0]]),
                     forbid_warnings=True, what="softmax of logits of size 1000")
    checks.check_close(_P, [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]], atol=1e-12,
                       what="softmax of logits of size 1000",
                       hint="Subtract each row's maximum before the exponential: the "
                            "result is the same and nothing overflows.")

# %% nbgrader={"grade": true, "grade_id": "test_softmax", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of softmax (2 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
from lib import softmax as _ref

_rng = np.random.default_rng(303)
_cases = {
    "random logits of shape (7, 5)": _rng.normal(scale=4.0, size=(7, 5)),
    "one row": _rng.normal(size=(1, 6)),
    "rows at very different scales": np.array(
        [[1000.0, 999.0, 990.0], [-1000.0, -1001.0, -1010.0], [0.5, -0.5, 0.0],
         [800.0, -800.0, 0.0]]),
    "float32 logits": _rng.normal(scale=3.0, size=(6, 10)).astype(np.float32),
}
for _what, _Z in _cases.items():
    _before = _Z.copy()
    _rtol = 1e-5 if _Z.dtype == np.float32 else 1e-9
    _P = checks.call(softmax, _Z, forbid_warnings=True, what=f"softmax of {_what}")
    checks.check_close(_P, _ref.softmax(_Z), rtol=_rtol, atol=1e-15,
                       what=f"softmax of {_what}",
                       hint="Normalize each row (axis=1) after subtracting that "
                            "row's own maximum; keep the shape (n, k).")
    checks.check_close(_Z, _before, what="Z after calling softmax",
                       hint="Do not modify Z in place.")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. The cross-entropy loss (2 points)
#
# With logits $z_i$ (row $i$ of `Z`) and labels $y_i$, the loss is the mean
# cross-entropy
# $$\ell(Z, y) = \frac{1}{n}\sum_{i=1}^n \Big(\log \sum_{j} e^{z_{ij}} - z_{i y_i}\Big)
#   = -\frac{1}{n}\sum_{i=1}^n \log \mathrm{softmax}(z_i)_{y_i}.$$
# `softmax_loss(Z, y)` returns it as a number. Write it with `np.` functions and
# without updating arrays in place: section 8 differentiates it with autograd.

# %% nbgrader={"grade": false, "grade_id": "softmax_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softmax_loss(Z, y):
    """Mean cross-entropy of logits Z (n, k) against integer labels y (n,)."""
    ### BEGIN SOLUTION
    shifted = Z - np.max(Z, axis=1, keepdims=True)
    log_norm = np.log(np.sum(np.exp(shifted), axis=1))
    return np.mean(log_norm - shifted[np.arange(len(y)), y])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_softmax_loss", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Is softmax_loss ln 10 for zero logits over 10 classes, and the mean over examples?"""
with checks.public("softmax_loss"):
    checks.check_close(checks.call(softmax_loss, np.zeros((5, 10)), np.arange(5)),
                       np.log(10.0), rtol=1e-9,
                       what="the loss of all-zero logits over 10 classes",
                       hint="Every probability is then 1/10, so the loss is ln 10.")
    _Z = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    checks.check_close(checks.call(softmax_loss, _Z, np.array([0, 2])),
                       (np.log(np.exp(2.0) + 2) - 2.0 + np.log(np.e + 2)) / 2,
                       rtol=1e-9, what="the loss of two examples",
                       hint="Average log(sum_j exp(z_ij)) - z_(i, y_i) over the rows.")

# %% nbgrader={"grade": true, "grade_id": "test_softmax_loss", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of softmax_loss (2 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
from lib import softmax as _ref

_rng = np.random.default_rng(304)
with checks.substituted(globals(), softmax=_ref.softmax, one_hot=_ref.one_hot):
    for _n, _k, _scale, _dtype, _rtol in ((30, 10, 3.0, np.float64, 1e-9),
                                          (1, 4, 1.0, np.float64, 1e-9),
                                          (64, 7, 8.0, np.float64, 1e-9),
                                          (50, 10, 2.0, np.float32, 1e-5)):
        _Z = _rng.normal(scale=_scale, size=(_n, _k)).astype(_dtype)
        _y = _rng.integers(0, _k, size=_n).astype(np.uint8 if _n == 50 else np.int64)
        _before = _Z.copy()
        checks.check_close(checks.call(softmax_loss, _Z, _y), _ref.softmax_loss(_Z, _y),
                           rtol=_rtol, what=f"the loss of {_n} rows of {_k} logits",
                           hint="Return one number: the mean over the rows of "
                                "log(sum_j exp(z_ij)) - z_(i, y_i).")
        checks.check_close(_Z, _before, what="Z after calling softmax_loss",
                           hint="Do not modify Z in place.")
    # Rows far apart, each spread over more than exp can take: only a shift by each
    # row's own largest logit keeps every term finite. The labels are the largest
    # logits, so that no probability of a label underflows.
    _Z = (_rng.normal(scale=300.0, size=(20, 6))
          + _rng.uniform(-800.0, 800.0, size=(20, 1)))
    _y = np.argmax(_Z, axis=1)
    checks.check_close(checks.call(softmax_loss, _Z, _y), _ref.softmax_loss(_Z, _y),
                       rtol=1e-9, what="the loss of logits of up to 2,000 in size",
                       hint="Subtract each row's largest logit before exponentiating: "
                            "exp overflows above 709 and underflows to 0 below -745.")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_softmax_gradient", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** (a) Show that subtracting the same constant from every
# logit of a row does not change its softmax, and say why subtracting the row maximum
# prevents overflow. (b) For one example with logits $z$ and label $y$, show that the
# gradient of $\log\sum_j e^{z_j} - z_y$ with respect to $z$ is
# $\mathrm{softmax}(z) - e_y$ ($e_y$ the one-hot vector of $y$), and deduce the
# gradient of the mean loss of softmax regression with respect to $\theta$.
#
# ### BEGIN SOLUTION
# (a) $\dfrac{e^{z_j - c}}{\sum_l e^{z_l - c}} = \dfrac{e^{-c} e^{z_j}}{e^{-c}\sum_l
# e^{z_l}} = \dfrac{e^{z_j}}{\sum_l e^{z_l}}$. With $c = \max_l z_l$ every exponent
# is $\le 0$, so each exponential is in $(0, 1]$ (no overflow) and the largest is
# exactly 1, so the sum is at least 1 (no division by zero; underflow of the
# others to 0 is harmless).
#
# (b) $\dfrac{\partial}{\partial z_j}\log\sum_l e^{z_l} = \dfrac{e^{z_j}}{\sum_l
# e^{z_l}} = \mathrm{softmax}(z)_j$ and $\partial z_y / \partial z_j = [j = y]$, so
# the gradient is $\mathrm{softmax}(z) - e_y$. With $Z = X\theta$, $z_{ij} =
# \sum_a x_{ia}\theta_{aj}$, the chain rule gives $\partial \ell / \partial
# \theta_{aj} = \frac1n \sum_i x_{ia}(\mathrm{softmax}(z_i)_j - [j = y_i])$, that is
# $\nabla_\theta \ell = \frac1n X^\top(\mathrm{softmax}(X\theta) - Y)$ with $Y$ the
# one-hot matrix of the labels.
# ### END SOLUTION

# %% [markdown]
# ## 5. The gradient with respect to the probabilities (1 point)
#
# Backpropagation goes through the loss one operation at a time. Its first factor is
# the derivative of the loss with respect to the probabilities $P =
# \mathrm{softmax}(Z)$. Write `softmax_output_grad(probs, onehot)`: the gradient of the
# **summed** cross-entropy $L(P) = -\sum_{i,j} Y_{ij} \log P_{ij}$ with respect to
# `probs` ($P$, all entries positive), where `onehot` ($Y$) holds the one-hot labels;
# both have shape `(n, k)`, and so does the result.

# %% nbgrader={"grade": false, "grade_id": "softmax_output_grad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softmax_output_grad(probs, onehot):
    """Gradient (n, k) of the summed cross-entropy with respect to the probabilities."""
    ### BEGIN SOLUTION
    return -onehot / probs
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_softmax_output_grad", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Is softmax_output_grad -1/p at each label's probability and 0 elsewhere?"""
with checks.public("softmax_output_grad"):
    _P = np.array([[0.25, 0.75], [0.5, 0.5], [0.1, 0.9]])
    _Y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    checks.check_close(checks.call(softmax_output_grad, _P, _Y),
                       [[0.0, -4 / 3], [-2.0, 0.0], [-10.0, 0.0]], rtol=1e-9,
                       what="softmax_output_grad of three rows",
                       hint="Only the probability of each row's label appears in the "
                            "loss; the loss is summed over the rows, not averaged.")

# %% nbgrader={"grade": true, "grade_id": "test_softmax_output_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of softmax_output_grad (1 point): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
from lib import softmax as _ref

_rng = np.random.default_rng(307)
for _n, _k, _scale in ((30, 10, 2.0), (1, 4, 1.0), (8, 3, 10.0)):
    _P = _ref.softmax(_rng.normal(scale=_scale, size=(_n, _k)))
    _Y = _ref.one_hot(_rng.integers(0, _k, size=_n), _k)
    checks.check_close(checks.call(softmax_output_grad, _P, _Y),
                       _ref.softmax_output_grad(_P, _Y), rtol=1e-9,
                       what=f"softmax_output_grad of {_n} rows of {_k} probabilities",
                       hint="Differentiate the summed (not averaged) cross-entropy "
                            "with respect to every probability, and keep the shape "
                            "(n, k).")
### END HIDDEN TESTS

# %% [markdown]
# The next factor of the chain rule is the Jacobian of the softmax of each row,
# $\partial P_{ij} / \partial Z_{il} = P_{ij}([j = l] - P_{il})$. Applied to your
# gradient it should give $P - Y$, the gradient with respect to the logits that the
# epochs below use.

# %% nbgrader={"grade": false, "grade_id": "chain_rule", "locked": true, "schema_version": 3, "solution": false, "task": false}
Z_chain = np.random.default_rng(7).normal(scale=2.0, size=(6, 10))
with checks.given():
    P_chain, Y_chain = softmax(Z_chain), one_hot(np.arange(6), 10)
    dP = softmax_output_grad(P_chain, Y_chain)
    dZ = P_chain * (dP - np.sum(P_chain * dP, axis=1, keepdims=True))
    print(f"largest |dZ - (P - Y)|: {np.max(np.abs(dZ - (P_chain - Y_chain))):.1e}")

# %% [markdown]
# ## 6. Softmax regression by minibatch SGD (3 points)
#
# `softmax_regression_epoch(X, y, theta, lr, batch)` runs one epoch of stochastic
# gradient descent on the mean cross-entropy of the logits `X @ theta`. It takes the
# minibatches `X[0:batch]`, `X[batch:2*batch]`, ... **in order** (no shuffling; the
# last one may be shorter), and for each it takes one step
# $\theta \leftarrow \theta - \mathrm{lr}\, g$, where $g$ is the gradient of the mean
# loss over the rows of that minibatch. It updates `theta` **in place** (`theta -=
# ...`, so that the caller's array changes), leaves `X` and `y` alone, and returns
# nothing. You may use your `softmax` and `one_hot`.

# %% nbgrader={"grade": false, "grade_id": "softmax_regression_epoch", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    """One epoch of minibatch SGD on the mean cross-entropy; updates theta in place."""
    ### BEGIN SOLUTION
    k = theta.shape[1]
    for start in range(0, len(y), batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        G = softmax(Xb @ theta)  # (m, k) probabilities
        G -= one_hot(yb, k)  # gradient of the summed loss wrt the logits
        theta -= (lr / len(yb)) * (Xb.T @ G)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_softmax_regression_epoch", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does one full-batch epoch from zero take one step against the mean gradient, in place?"""
with checks.public("softmax_regression_epoch"):
    _X = np.array([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])
    _y = np.array([0, 2, 1])
    _theta = np.zeros((2, 3))
    checks.call(softmax_regression_epoch, _X, _y, _theta, lr=0.5, batch=3,
                updates=(2,))
    _Y = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]])  # the labels [0, 2, 1], one-hot
    checks.check(np.any(_theta != 0), "theta is still zero after an epoch.",
                 hint="Update theta in place (theta -= ...); assigning theta = ... "
                      "inside the function does not change the caller's array.")
    checks.check_close(_theta, -0.5 * _X.T @ (1 / 3 - _Y) / 3, rtol=1e-9,
                       what="theta after one step from zero",
                       hint="At theta = 0 every probability is 1/3; step against the "
                            "gradient of the mean loss, scaled by lr.")
    _theta = np.zeros((784, 10), dtype=np.float32)
    _loss = softmax_loss(X_train[:500] @ _theta, y_train[:500])
    checks.call(softmax_regression_epoch, X_train[:500], y_train[:500], _theta,
                updates=(2,))
    checks.check_dtype(_theta, np.float32, what="theta")
    checks.check(softmax_loss(X_train[:500] @ _theta, y_train[:500]) < _loss - 0.1,
                 "One epoch on 500 training images should lower their loss.")

# %% nbgrader={"grade": true, "grade_id": "test_softmax_regression_epoch", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of softmax_regression_epoch (3 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# Theta is compared through its change over the epoch, in units of the largest
# change, at a tolerance of 2e-3 for float32 data (correct answers differ by ~1e-6,
# mistakes by more than 0.1) and 1e-7 for float64 data; the reference runs in
# float64.
from lib import softmax as _ref

_rng = np.random.default_rng(305)
_Xs, _ys = load_mnist_sample()
_pick = _rng.choice(len(_ys), size=250, replace=False)
_cases = [  # (what, X, y, theta, kwargs, rtol)
    ("float32 MNIST images (batches of 100, 100, 50)", _Xs[_pick], _ys[_pick],
     _rng.normal(scale=0.01, size=(784, 10)).astype(np.float32),
     {"lr": 0.3, "batch": 100}, 2e-3),
    ("float64 data (batches of 10, ..., 10, 3)", _rng.normal(size=(53, 6)),
     _rng.integers(0, 4, size=53), _rng.normal(size=(6, 4)),
     {"lr": 0.5, "batch": 10}, 1e-7),
    ("the default lr and batch", _rng.normal(size=(130, 5)),
     _rng.integers(0, 3, size=130), _rng.normal(size=(5, 3)), {}, 1e-7),
]
with checks.substituted(globals(), softmax=_ref.softmax, one_hot=_ref.one_hot,
                        softmax_loss=_ref.softmax_loss):
    for _what, _X, _y, _theta0, _kwargs, _rtol in _cases:
        _want = _theta0.astype(np.float64)
        _ref.softmax_regression_epoch(_X.astype(np.float64), _y, _want, **_kwargs)
        _theta = _theta0.copy()
        _X_before, _y_before = _X.copy(), _y.copy()
        # The contract updates theta in place; the lent functions may see about
        # three times the logits: the gradient comes from its formula.
        checks.call(softmax_regression_epoch, _X, _y, _theta, updates=(2,),
                    lent_budget=3 * _y.size * (_theta.shape[1] + 1) + 8, **_kwargs)
        checks.check(not np.array_equal(_theta, _theta0),
                     f"theta did not change in an epoch on {_what}.",
                     hint="Update theta in place (theta -= ...); assigning theta = "
                          "... inside the function does not change the caller's "
                          "array.")
        checks.check_dtype(_theta, _theta0.dtype.type, what="theta")
        _scale = np.max(np.abs(_want - _theta0))  # changes in units of the largest
        checks.check_close((_theta - _theta0) / _scale, (_want - _theta0) / _scale,
                           rtol=_rtol, atol=_rtol,
                           what=f"the change of theta in one epoch on {_what}",
                           hint="Take the minibatches in order, the last one "
                                "possibly shorter, and step by lr times the mean "
                                "gradient over the rows of each minibatch.")
        checks.check_close(_X, _X_before, what="X after an epoch",
                           hint="Do not modify X.")
        checks.check_equal(_y, _y_before, what="y after an epoch",
                           hint="Do not modify y.")
### END HIDDEN TESTS

# %% [markdown]
# ## 7. A two-layer network (4 points)
#
# The network computes the logits $\mathrm{relu}(X W_1) W_2$ with
# $\mathrm{relu}(a) = \max(a, 0)$ elementwise. `nn_epoch(X, y, W1, W2, lr, batch)`
# runs one epoch of minibatch SGD on its mean cross-entropy, with the minibatches in
# order as before. At each step, compute the gradients of the minibatch's mean loss
# with respect to **both** `W1` and `W2` at the current weights, then update both in
# place. Use the derivative of the ReLU: 1 where its input is positive, 0 elsewhere.

# %% nbgrader={"grade": false, "grade_id": "nn_epoch", "locked": false, "schema_version": 3, "solution": true, "task": false}
def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    """One epoch of minibatch SGD for logits relu(X @ W1) @ W2; updates W1, W2 in place."""
    ### BEGIN SOLUTION
    k = W2.shape[1]
    for start in range(0, len(y), batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        A = Xb @ W1  # (m, h) hidden pre-activations
        H = np.maximum(A, 0)  # (m, h) hidden activations
        G2 = softmax(H @ W2)
        G2 -= one_hot(yb, k)  # (m, k) gradient of the summed loss wrt the logits
        G1 = (G2 @ W2.T) * (A > 0)  # (m, h) back through W2 and the ReLU
        step = lr / len(yb)
        W1 -= step * (Xb.T @ G1)
        W2 -= step * (H.T @ G2)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_nn_epoch", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does nn_epoch update both matrices in place, and lower the loss?"""
with checks.public("nn_epoch"):
    _rng = np.random.default_rng(0)
    _X = _rng.normal(size=(6, 4))
    _y = np.array([0, 1, 2, 0, 1, 2])
    _W1 = _rng.normal(size=(4, 5))
    _W2 = np.zeros((5, 3))
    _W1_before = _W1.copy()
    checks.call(nn_epoch, _X, _y, _W1, _W2, lr=0.5, batch=6, updates=(2, 3))
    checks.check_close(_W1, _W1_before, rtol=1e-12,
                       what="W1 after one step from W2 = 0",
                       hint="With W2 = 0 no gradient reaches W1; if W1 changed, the "
                            "gradient of W1 was computed with an updated W2.")
    _H = np.maximum(_X @ _W1_before, 0)
    _Y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]] * 2)  # the labels, one-hot
    checks.check_close(_W2, -0.5 * _H.T @ (1 / 3 - _Y) / 6, rtol=1e-9,
                       what="W2 after one step from W2 = 0",
                       hint="Update W2 in place, against the mean gradient over the "
                            "minibatch; all logits are 0 at the start.")
    _W1 = (_rng.normal(size=(784, 32)) / np.sqrt(32)).astype(np.float32)
    _W2 = (_rng.normal(size=(32, 10)) / np.sqrt(10)).astype(np.float32)
    _loss = softmax_loss(np.maximum(X_train[:500] @ _W1, 0) @ _W2, y_train[:500])
    checks.call(nn_epoch, X_train[:500], y_train[:500], _W1, _W2, updates=(2, 3))
    checks.check_dtype(_W1, np.float32, what="W1")
    checks.check_dtype(_W2, np.float32, what="W2")
    checks.check(softmax_loss(np.maximum(X_train[:500] @ _W1, 0) @ _W2, y_train[:500])
                 < _loss - 0.1, "One epoch on 500 training images should lower their "
                 "loss.", hint="Update W1 and W2 in place, against their gradients.")

# %% nbgrader={"grade": true, "grade_id": "test_nn_epoch", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of nn_epoch (4 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# Each matrix is compared through its change over the epoch, in units of its largest
# change, at a tolerance of 2e-3 for float32 data (correct answers differ by ~1e-6,
# mistakes by more than 0.1) and 1e-7 for float64 data; the reference runs in
# float64.
from lib import softmax as _ref

_rng = np.random.default_rng(306)
_Xs, _ys = load_mnist_sample()
_pick = _rng.choice(len(_ys), size=230, replace=False)
_cases = [  # (what, X, y, W1, W2, kwargs, rtol)
    ("float32 MNIST images (batches of 50, ..., 50, 30)", _Xs[_pick], _ys[_pick],
     (_rng.normal(size=(784, 24)) / np.sqrt(24)).astype(np.float32),
     (_rng.normal(size=(24, 10)) / np.sqrt(10)).astype(np.float32),
     {"lr": 0.2, "batch": 50}, 2e-3),
    ("float64 data (batches of 8, ..., 8, 5)", _rng.normal(size=(37, 6)),
     _rng.integers(0, 3, size=37), _rng.normal(size=(6, 5)), _rng.normal(size=(5, 3)),
     {"lr": 0.3, "batch": 8}, 1e-7),
    ("the default lr and batch", _rng.normal(size=(120, 4)),
     _rng.integers(0, 3, size=120), _rng.normal(size=(4, 6)),
     _rng.normal(size=(6, 3)), {}, 1e-7),
    ("a hidden unit whose input is always 0 (a zero column of W1)",
     _rng.normal(size=(30, 5)), _rng.integers(0, 3, size=30),
     _rng.normal(size=(5, 4)) * np.array([0.0, 1.0, 1.0, 1.0]), _rng.normal(size=(4, 3)),
     {"lr": 0.3, "batch": 10}, 1e-7),
]
with checks.substituted(globals(), softmax=_ref.softmax, one_hot=_ref.one_hot,
                        softmax_loss=_ref.softmax_loss):
    for _what, _X, _y, _W10, _W20, _kwargs, _rtol in _cases:
        _want1, _want2 = _W10.astype(np.float64), _W20.astype(np.float64)
        _ref.nn_epoch(_X.astype(np.float64), _y, _want1, _want2, **_kwargs)
        _W1, _W2 = _W10.copy(), _W20.copy()
        _X_before, _y_before = _X.copy(), _y.copy()
        checks.call(nn_epoch, _X, _y, _W1, _W2, updates=(2, 3),
                    lent_budget=3 * _y.size * (_W2.shape[1] + 1) + 8, **_kwargs)
        for _name, _W, _W0, _want in (("W2", _W2, _W20, _want2),
                                      ("W1", _W1, _W10, _want1)):
            checks.check(not np.array_equal(_W, _W0),
                         f"{_name} did not change in an epoch on {_what}.",
                         hint=f"Update {_name} in place ({_name} -= ...).")
            checks.check_dtype(_W, _W0.dtype.type, what=_name)
            _scale = np.max(np.abs(_want - _W0))  # changes in units of the largest
            checks.check_close((_W - _W0) / _scale, (_want - _W0) / _scale,
                               rtol=_rtol, atol=_rtol,
                               what=f"the change of {_name} in one epoch on {_what}",
                               hint="Take the minibatches in order; at each step "
                                    "compute both mean gradients at the current "
                                    "weights (through the ReLU's derivative), then "
                                    "update both matrices.")
        checks.check_close(_X, _X_before, what="X after an epoch",
                           hint="Do not modify X.")
        checks.check_equal(_y, _y_before, what="y after an epoch",
                           hint="Do not modify y.")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_backprop", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** For a minibatch $X_b$ of $m$ rows with one-hot labels
# $Y_b$, write $A = X_b W_1$, $H = \mathrm{relu}(A)$ and $Z = H W_2$. Derive the
# gradients of the mean loss with respect to $W_2$ and $W_1$ in matrix form. Why must
# both be computed before either matrix is updated?
#
# ### BEGIN SOLUTION
# As in the previous question, $G_2 = \partial \ell/\partial Z = (\mathrm{softmax}(Z)
# - Y_b)/m$. Since $Z = H W_2$, $\nabla_{W_2}\ell = H^\top G_2$ and $\partial
# \ell/\partial H = G_2 W_2^\top$. The ReLU acts elementwise with derivative
# $[a > 0]$, so $G_1 = \partial\ell/\partial A = (G_2 W_2^\top) \odot [A > 0]$, and
# since $A = X_b W_1$, $\nabla_{W_1}\ell = X_b^\top G_1$.
#
# A gradient step moves the weights against the gradient of the loss *at the
# current weights*, $(W_1, W_2)$. $G_1$ uses $W_2$: if $W_2$ were updated first,
# $G_1$ would be computed at a mixed point $(W_1, W_2')$ and would no longer be the
# gradient of the loss we evaluate, so the step would not be gradient descent (and a
# gradient check against the loss would fail).
# ### END SOLUTION

# %% [markdown]
# ## 8. Checking the gradients with autograd
#
# [autograd](https://github.com/HIPS/autograd) differentiates Python code written
# with `autograd.numpy`, a thin wrapper of NumPy. The cell below runs your
# `softmax_loss` with `np` standing for `autograd.numpy`, so that autograd can follow
# it, and compares the gradients it finds with the steps your epochs take: one epoch
# with a single minibatch (all the rows) and `lr = 1` moves the weights by exactly
# minus the gradient. The two should agree to about 1e-12.

# %% nbgrader={"grade": false, "grade_id": "autograd_check", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    rng = np.random.default_rng(1)
    Xg, yg = X_train[:40].astype(np.float64), y_train[:40]
    theta0 = rng.normal(scale=0.05, size=(784, 10))
    W1_0, W2_0 = rng.normal(scale=0.1, size=(784, 16)), rng.normal(scale=0.3, size=(16, 10))


    def regression_loss(theta):
        return softmax_loss(Xg @ theta, yg)


    def network_loss(weights):
        W1, W2 = weights
        return softmax_loss(anp.maximum(Xg @ W1, 0) @ W2, yg)


    def full_batch_step(epoch, *weights):
        """Minus the change of the weights in one full-batch epoch with lr = 1."""
        after = [w.copy() for w in weights]
        epoch(Xg, yg, *after, lr=1.0, batch=len(yg))
        return [w - a for w, a in zip(weights, after, strict=True)]


    try:
        with checks.substituted(globals(), np=anp):  # autograd follows the np. calls
            auto = [grad(regression_loss)(theta0), *grad(network_loss)((W1_0, W2_0))]
    except NotImplementedError:  # softmax_loss not written yet: checks.given says so
        raise
    except Exception as exc:
        raise RuntimeError(
            "autograd could not differentiate your softmax_loss: write it with np. "
            "functions, without in-place updates (Z -= ...) or float()."
        ) from exc
    steps = [*full_batch_step(softmax_regression_epoch, theta0),
             *full_batch_step(nn_epoch, W1_0, W2_0)]
    print(pd.DataFrame(
        {"largest |gradient|": [np.max(np.abs(a)) for a in auto],
         "largest |difference|": [np.max(np.abs(a - s)) for a, s in zip(auto, steps,
                                                                        strict=True)]},
        index=["theta (softmax regression)", "W1 (network)", "W2 (network)"],
    ).to_string(float_format="{:.2e}".format))

# %% [markdown]
# ## 9. Training softmax regression
#
# The helper below runs epochs and records the loss and the error rate on the
# training and validation sets before training and after every epoch.

# %% nbgrader={"grade": false, "grade_id": "train_helpers", "locked": true, "schema_version": 3, "solution": false, "task": false}
EPOCHS = 5 if grading_run() else 20
LOSS_LABEL = "loss (mean cross-entropy, nats)"


def network_logits(X, W1, W2):
    return np.maximum(X @ W1, 0) @ W2


def train(run_epoch, logits, epochs, desc):
    """Call run_epoch() up to `epochs` times, or until it returns True; return the
    loss and error rate of logits(X) on the training and validation sets before
    training and after each epoch."""
    history = {f"{what} {part}": [] for what in ("loss", "error")
               for part in ("training", "validation")}

    def record():
        for part, X_part, y_part in (("training", X_train, y_train),
                                     ("validation", X_val, y_val)):
            Z = logits(X_part)
            history[f"loss {part}"].append(float(softmax_loss(Z, y_part)))
            history[f"error {part}"].append(error_rate(Z, y_part))

    record()
    for _ in tqdm(range(epochs), desc=desc, file=sys.stdout, disable=grading_run()):
        stop = run_epoch()
        record()
        if stop:
            break
    return pd.DataFrame(history)


def curves(history, title, best=None):
    """Loss and error rate on the training and validation sets, side by side."""
    panels = []
    for what, ylab in (("loss", LOSS_LABEL), ("error", "error rate (fraction)")):
        panel = plots.loss_curve(
            {part: history[f"{what} {part}"] for part in ("training", "validation")},
            title=f"{title}: {'loss' if what == 'loss' else 'error rate'}",
            xlab="epoch", ylab=ylab)
        if best is not None:
            panel += geom_vline(xintercept=best, linetype="dashed", color="grey")
        panels.append(panel)
    return gggrid(panels, ncol=2) + ggsize(1000, 380)


# %% nbgrader={"grade": false, "grade_id": "train_regression", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    theta = np.zeros((784, 10), dtype=np.float32)
    history = train(lambda: softmax_regression_epoch(X_train, y_train, theta, lr=0.5),
                    lambda X: X @ theta, EPOCHS, "softmax regression")
    print(history.tail(3).round(4).to_string())
    print(f"test error: {error_rate(X_test @ theta, y_test):.2%}")
    display(curves(history, "Softmax regression, lr = 0.5"))

# %% [markdown]
# ## 10. The network, with early stopping
#
# The network has 100 hidden units. Its training loss keeps falling, but after a
# while its validation loss rises: it starts to fit the noise of the training set.
# *Early stopping* keeps the weights of the epoch with the lowest validation loss and
# stops when that loss has not improved for `PATIENCE` epochs.

# %% nbgrader={"grade": false, "grade_id": "early_stopping", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    HIDDEN = 100
    MAX_EPOCHS, PATIENCE = (8, 3) if grading_run() else (60, 5)
    rng = np.random.default_rng(0)
    W1 = (rng.normal(size=(784, HIDDEN)) / np.sqrt(HIDDEN)).astype(np.float32)
    W2 = (rng.normal(size=(HIDDEN, 10)) / np.sqrt(HIDDEN)).astype(np.float32)
    state = {"epoch": 0, "best_epoch": 0, "best_loss": np.inf,
             "best_weights": (W1.copy(), W2.copy())}


    def network_epoch():
        """One epoch; True when the validation loss has not improved for PATIENCE."""
        nn_epoch(X_train, y_train, W1, W2, lr=0.2)
        state["epoch"] += 1
        loss = float(softmax_loss(network_logits(X_val, W1, W2), y_val))
        if loss < state["best_loss"]:
            state.update(best_epoch=state["epoch"], best_loss=loss,
                         best_weights=(W1.copy(), W2.copy()))
        return state["epoch"] - state["best_epoch"] >= PATIENCE


    history = train(network_epoch, lambda X: network_logits(X, W1, W2), MAX_EPOCHS,
                    "network")
    print(f"best validation loss {state['best_loss']:.4f} after {state['best_epoch']} "
          f"epochs; stopped after {state['epoch']}")
    W1, W2 = state["best_weights"]
    Z_test = network_logits(X_test, W1, W2)
    print(f"test error of the early-stopped network: {error_rate(Z_test, y_test):.2%}")
    display(curves(history, f"Network with {HIDDEN} hidden units, lr = 0.2",
                   best=state["best_epoch"]))

# %% [markdown]
# Where does the early-stopped network go wrong on the test set?

# %% nbgrader={"grade": false, "grade_id": "confusion", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    predicted = np.argmax(Z_test, axis=1)
    wrong = np.flatnonzero(predicted != y_test)[:20]
    display(plots.confusion_matrix_plot(y_test, predicted,
                                        title="Network: test-set confusion matrix"))
    display(plots.digit_grid(X_test[wrong], labels=[f"{y_test[i]} → {predicted[i]}" for i in wrong],
                             title="Misclassified test images (true → predicted)"))

# %% [markdown]
# ## 11. L2 regularization
#
# Adding $\frac{\lambda}{2}\|\theta\|^2$ to the loss adds $\lambda\theta$ to its
# gradient. The cell below trains softmax regression on the penalized loss by calling
# your `softmax_regression_epoch` on one minibatch at a time and adding the step of
# the penalty, $-\mathrm{lr}\,\lambda\theta$ (at the same $\theta$), after each. Each
# column of $\theta$ has one weight per pixel: drawn as a 28 x 28 image, it shows
# what the model looks for in each digit (light: evidence for, dark: against; each
# row of images is scaled to its own largest weight).

# %% nbgrader={"grade": false, "grade_id": "regularization", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    def penalized_epoch(theta, lam, lr=0.5, batch=100):
        """One epoch of SGD on the mean cross-entropy plus lam/2 * ||theta||^2."""
        for start in range(0, len(y_train), batch):
            before = theta.copy()
            softmax_regression_epoch(X_train[start:start + batch],
                                     y_train[start:start + batch], theta, lr=lr,
                                     batch=batch)
            theta -= lr * lam * before


    lams = [0.0, 0.01, 0.1]
    thetas, val_errors = {}, {}
    for lam in tqdm(lams, desc="penalties", file=sys.stdout, disable=grading_run()):
        thetas[lam] = np.zeros((784, 10), dtype=np.float32)
        for _ in range(EPOCHS):
            penalized_epoch(thetas[lam], lam)
        val_errors[f"λ = {lam:g}"] = error_rate(X_val @ thetas[lam], y_val)
    display(plots.bar_chart(val_errors, title=f"Validation error after {EPOCHS} epochs",
                            xlab="L2 penalty λ", ylab="validation error rate (fraction)"))
    display(gggrid([plots.digit_grid(thetas[lam].T / np.max(np.abs(thetas[lam])),
                                     labels=list(range(10)),
                                     title=f"Weights of each digit, λ = {lam:g}")
                    for lam in lams], ncol=1) + ggsize(700, 440))


# %% [markdown] nbgrader={"grade": true, "grade_id": "written_regularization", "locked": false, "points": 1, "schema_version": 3, "solution": true, "task": false}
# **Question (1 point).** How do the weight images change as $\lambda$ grows, and
# why? What happens to the validation error, and what would a much larger $\lambda$
# do?
#
# ### BEGIN SOLUTION
# Without the penalty the images are speckled: a weight grows whenever it helps on
# some training images, and pixels that are rarely lit get a few large, noisy
# updates that nothing pulls back. The penalty shrinks every weight towards 0 at each
# step, so only weights supported by many images stay large: as $\lambda$ grows the
# images become smooth templates of the digits (light where the digit has ink, dark
# where competing digits do). A small $\lambda$ keeps or slightly lowers the
# validation error (less variance for little bias); here $\lambda = 0.1$ already
# costs accuracy, and a much larger one shrinks all weights towards 0, the
# probabilities flatten towards 1/10 and the model underfits (both training and
# validation errors rise).
# ### END SOLUTION

# %% [markdown]
# ## 12. Learning-rate schedules
#
# A large learning rate makes fast progress at first, then the noise of the
# minibatch gradients keeps the weights bouncing around the minimum. A schedule
# lowers the rate as training goes on. Here softmax regression starts at
# `lr = 2.0` with four schedules: constant; a step schedule that halves it every
# three epochs; an exponential decay by a factor 0.8 per epoch; and a 1/t decay.

# %% nbgrader={"grade": false, "grade_id": "schedules", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    LR0 = 2.0
    schedules = {
        "constant": lambda t: LR0,
        "step": lambda t: LR0 * 0.5 ** (t // 3),
        "exponential": lambda t: LR0 * 0.8**t,
        "1/t": lambda t: LR0 / (1 + t / 2),
    }
    rates, train_losses, val_losses = {}, {}, {}
    for name, schedule in tqdm(schedules.items(), desc="schedules", file=sys.stdout,
                               disable=grading_run()):
        theta_s = np.zeros((784, 10), dtype=np.float32)
        rates[name] = [schedule(t) for t in range(EPOCHS)]  # the rate of epoch t + 1
        train_losses[name], val_losses[name] = [np.log(10.0)], [np.log(10.0)]
        for lr in rates[name]:
            softmax_regression_epoch(X_train, y_train, theta_s, lr=lr)
            train_losses[name].append(float(softmax_loss(X_train @ theta_s, y_train)))
            val_losses[name].append(float(softmax_loss(X_val @ theta_s, y_val)))
    display(gggrid([
                plots.loss_curve(rates, title="Learning rate", xlab="epochs before this one",
                                 ylab="learning rate", log_y=True),
                plots.loss_curve(train_losses, title="Training loss", xlab="epoch",
                                 ylab=LOSS_LABEL),
                plots.loss_curve(val_losses, title="Validation loss", xlab="epoch",
                                 ylab=LOSS_LABEL),
            ], ncol=3) + ggsize(1200, 380))

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_schedules", "locked": false, "points": 1, "schema_version": 3, "solution": true, "task": false}
# **Question (1 point).** Which schedule gives the lowest validation loss here, and
# why does the constant rate do worse on validation than on training data? Why does
# early stopping choose its epoch on a validation set rather than on the test set?
#
# ### BEGIN SOLUTION
# The three decaying schedules end close together (within about 0.01 nats here),
# below the constant rate, whose validation loss stops improving after a few epochs
# and then rises while its training loss keeps falling. With a large constant rate
# each step follows the gradient of a single minibatch, so the weights keep jumping
# around the minimum and keep fitting individual training images; a smaller rate
# averages the gradient over many minibatches and settles. The test set must stay
# unseen by every choice we make: choosing the stopping epoch (or $\lambda$, or the
# schedule) on it would make the test error an optimistic, biased estimate of the
# error on new data. The validation set is spent on those choices instead.
# ### END SOLUTION

# %% [markdown]
# ## 13. Where a schedule comes from: the top direction of the batch gradients (2 points)
#
# Near a minimum, the loss along one direction of the weights is close to a
# parabola, so its gradient along that direction is close to a line,
# $g(\theta) \approx h\,(\theta - \theta^*)$, of slope $h$ (the curvature) and zero
# at the minimum $\theta^*$. A minibatch sees that line plus noise. (This picture is
# the starting point of Schaul, Zhang and LeCun, *No more pesky learning rates*,
# 2013.) To look at it, take the column of `theta` of one digit, evaluate the
# gradients of many minibatches, each at a slightly perturbed `theta`, and stack
# them as the columns of a matrix $G$. The direction along which they are largest is
# the first left singular vector $q$ of $G$; projecting the weights and the
# gradients on $q$ gives one point per minibatch.
#
# Write `top_direction(G)`: for `G` of shape `(d, m)`, the unit vector of shape
# `(d,)` that is the left singular vector of the largest singular value of `G`. A
# singular vector is defined up to its sign: return the one whose entry of largest
# magnitude is positive. `np.linalg.svd` returns `U, S, Vt`; any exact method is
# fine (the tests allow 1e-6 on each entry).

# %% nbgrader={"grade": false, "grade_id": "top_direction", "locked": false, "schema_version": 3, "solution": true, "task": false}
def top_direction(G):
    """Unit first left singular vector (d,) of G (d, m), largest-magnitude entry > 0."""
    ### BEGIN SOLUTION
    q = np.linalg.svd(G)[0][:, 0]  # (d,): the column of U of the largest value
    return q * np.sign(q[np.argmax(np.abs(q))])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_top_direction", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Is top_direction the unit top left singular vector, with its sign fixed?"""
with checks.public("top_direction"):
    _q = checks.call(top_direction, np.diag([1.0, 3.0, 2.0]))
    checks.check_close(_q, [0.0, 1.0, 0.0], atol=1e-6,
                       what="top_direction of diag(1, 3, 2)",
                       hint="Return the column of U of the largest singular value, "
                            "one entry per row of G.")
    _q = checks.call(top_direction, np.outer([1.0, -3.0, 2.0], [1.0, 2.0]))
    checks.check_close(_q, np.array([-1.0, 3.0, -2.0]) / np.sqrt(14.0), atol=1e-6,
                       what="top_direction of a matrix of rank one",
                       hint="Normalize q to length 1 and flip its sign when its entry "
                            "of largest magnitude is negative.")

# %% nbgrader={"grade": true, "grade_id": "test_top_direction", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of top_direction (2 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# q is a unit vector: an absolute tolerance of 1e-6 on each entry is relative to its
# length. Every matrix here has a gap of at least 5% between its two largest
# singular values, so that iterative methods converge.
from lib import softmax as _ref

_rng = np.random.default_rng(313)
_u = np.array([-0.3, 0.2, 0.9, -0.1, 0.25, -0.05])  # first entry < 0, largest > 0
_cases = {
    "a tall matrix": _rng.normal(size=(30, 8)),
    "a wide matrix": _rng.normal(size=(5, 40)),
    "a square matrix": _rng.normal(size=(12, 12)),
    "a single column": _rng.normal(size=(9, 1)),
    "gradients sharing a direction": (np.outer(_u, _rng.normal(size=20))
                                      + 0.05 * _rng.normal(size=(6, 20))),
    "784 x 60 gradients": (np.outer(_rng.normal(size=784), _rng.normal(size=60))
                           + 3.0 * _rng.normal(size=(784, 60))) * 1e-3,
}
for _what, _G in _cases.items():
    _s = np.linalg.svd(_G, compute_uv=False)
    assert len(_s) == 1 or _s[1] < 0.95 * _s[0], _what  # the gap stated above
    checks.check_close(checks.call(top_direction, _G), _ref.top_direction(_G),
                       atol=1e-6, what=f"top_direction of {_what}",
                       hint="Return the unit left singular vector of the largest "
                            "singular value, shape (d,), with its entry of largest "
                            "magnitude positive.")
### END HIDDEN TESTS

# %% [markdown]
# The study: the column of one digit in the `theta` of section 9, 200 minibatches
# of 100 training images, each at `theta` with that column moved by Gaussian noise of
# standard deviation 0.1 per weight. One step of your `softmax_regression_epoch`
# with `lr = 1` on one minibatch moves `theta` by minus its gradient.

# %% nbgrader={"grade": false, "grade_id": "lr_study", "locked": true, "schema_version": 3, "solution": false, "task": false}
DIGIT, N_BATCHES, BATCH, SPREAD = 3, 200, 100, 0.1
rng = np.random.default_rng(3)
columns, gradients = [], []
with checks.given():
    for _ in range(N_BATCHES):
        theta_b = theta.astype(np.float64)
        theta_b[:, DIGIT] += SPREAD * rng.normal(size=theta_b.shape[0])
        rows = rng.choice(len(y_train), size=BATCH, replace=False)
        after = theta_b.copy()
        softmax_regression_epoch(X_train[rows], y_train[rows], after, lr=1.0,
                                 batch=BATCH)
        columns.append(theta_b[:, DIGIT])
        gradients.append((theta_b - after)[:, DIGIT])
    G = np.column_stack(gradients)  # (784, N_BATCHES)
    q = top_direction(G)
    along = pd.DataFrame({"weights": q @ np.column_stack(columns), "gradient": q @ G})
    h, intercept = np.polyfit(along["weights"], along["gradient"], 1)
    noise = np.std(along["gradient"] - (h * along["weights"] + intercept))
    print(f"slope (curvature along q) h = {h:.3f}: 1/h = {1 / h:.2f}, 2/h = {2 / h:.2f}")
    print(f"scatter of the batch gradients around the line: sigma = {noise:.3f}; "
          f"spread the line explains: {h * np.std(along['weights']):.3f}")
    print(f"theta of section 9 is {abs(q @ theta[:, DIGIT] + intercept / h):.3f} from "
          f"the minimum along q; the noise radius sigma/h is {noise / h:.3f}")
    display(ggplot(along, aes("weights", "gradient"))
            + geom_point(color="#1f77b4", alpha=0.6)
            + geom_abline(slope=h, intercept=intercept, color="#d62728", size=1)
            + labs(title=f"Batch gradients of digit {DIGIT}'s weights along q",
                   x="projection of the weights on q (weight units)",
                   y="projection of the batch gradient on q (nats per weight unit)")
            + ggsize(640, 420))

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_lr_study", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** What do the slope of the line and the scatter of the
# points around it say about the learning rate? Which of the schedules of section
# 12 does the plot suggest, and why?
#
# ### BEGIN SOLUTION
# Along $q$ the loss is a parabola of curvature $h$ (the slope): a step with rate
# $\eta$ multiplies the distance to the minimum along $q$ by $1 - \eta h$. So the rate
# is bounded by the curvature: $\eta \approx 1/h$ gets there fastest, and above
# $2/h$ the steps overshoot more each time and diverge (compare `LR0` with the
# printed $2/h$). The scatter $\sigma$ is the noise of the minibatches: at the same
# weights, batch gradients differ by about as much as the line explains over these
# small perturbations, and the trained weights sit closer to the minimum along $q$
# than the noise radius $\sigma/h$, so there a batch gradient is mostly noise. With
# a constant rate each step adds noise of size $\eta\sigma$, so the weights never
# settle: they keep fluctuating around $\theta^*$ with a variance of about
# $\eta\sigma^2/(2h)$. The plot therefore suggests a decaying rate: start near
# $1/h$, while the distance to the minimum dominates the gradient, and lower it once
# the noise dominates. The best rate of this noisy parabola (Schaul et al.)
# is $\frac1h \cdot \frac{h^2(\theta-\theta^*)^2}{h^2(\theta-\theta^*)^2 + \sigma^2}$,
# which falls like $1/t$ once the weights are within $\sigma/h$ of the minimum:
# the $1/t$ decay, whose rates still sum to infinity (it can reach the minimum
# from anywhere) while their squares sum to a finite amount (the noise averages
# out). A step schedule approximates it; an exponential decay shrinks the rate so
# fast that the sum of all its steps is finite and it may stop short.
# ### END SOLUTION

# %% [markdown]
# ## 14. Comparison with scikit-learn
#
# scikit-learn's `LogisticRegression` fits multinomial (softmax) regression to
# convergence with L-BFGS and a small L2 penalty; `MLPClassifier` trains the same kind
# of network as ours (with biases) by SGD. Our models should be about as accurate.

# %% nbgrader={"grade": false, "grade_id": "sklearn", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    with warnings.catch_warnings():
        # L-BFGS may stop at max_iter before its tolerance: the fit is still close.
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk_logistic = LogisticRegression(max_iter=100).fit(X_train, y_train)
    sk_network = MLPClassifier(hidden_layer_sizes=(HIDDEN,), solver="sgd",
                               learning_rate_init=0.2, momentum=0.0, alpha=0.0,
                               batch_size=100, shuffle=False, random_state=0)
    for _ in range(max(state["best_epoch"], 1)):  # as many epochs as the early-stopped network
        sk_network.partial_fit(X_train, y_train, classes=np.arange(10))
    test_errors = {
        "ours: softmax": error_rate(X_test @ theta, y_test),
        "sklearn: logistic": np.mean(sk_logistic.predict(X_test) != y_test),
        "ours: network": error_rate(Z_test, y_test),
        "sklearn: MLP": np.mean(sk_network.predict(X_test) != y_test),
    }
    agree = np.mean(np.argmax(X_test @ theta, axis=1) == sk_logistic.predict(X_test))
    print(f"the two linear models agree on {agree:.1%} of the test images")
    display(plots.bar_chart(test_errors, title="Test error rates", xlab="model",
                            ylab="test error rate (fraction)"))

# %% [markdown]
# ## Public checks
#
# This cell lists the functions whose public checks pass in this kernel. Run it after
# *Kernel → Restart and Run All*, before you submit. Passing is a good sign,
# not a grade: hidden tests with other inputs decide the points.

# %% nbgrader={"grade": false, "grade_id": "public_summary", "locked": true, "schema_version": 3, "solution": false, "task": false}
checks.summary(["parse_mnist", "one_hot", "softmax", "softmax_loss",
                "softmax_output_grad", "softmax_regression_epoch", "nn_epoch",
                "top_direction"])
