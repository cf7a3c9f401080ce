"""Tests for lib.softmax against independent oracles.

The oracles are SciPy's ``softmax`` and ``logsumexp``, scikit-learn's ``log_loss`` and
``LogisticRegression``, autograd's gradients of losses written here with
``autograd.numpy``, central finite differences in float64, SGD loops written here,
``lib.softmax.read_idx`` for the idx files, the real MNIST and Fashion-MNIST files
where they are installed, and NumPy's ``eigh`` and SciPy's ``svdvals`` for the top
direction. Every assertion states its tolerance.
"""

import gzip
import re
import warnings
from pathlib import Path

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.scipy.special import logsumexp as ag_logsumexp
from scipy.special import logsumexp
from scipy.special import softmax as scipy_softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from lib import softmax as sm
from lib.data import load_mnist, load_mnist_dir, load_mnist_sample
from lib.idx import write_idx
from lib.softmax import read_idx

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared/data/mnist"
# Where Debian's dataset-fashion-mnist package installs the Fashion-MNIST files.
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def in_message(path):
    """A regex matching the path where it appears in an error message."""
    return re.escape(str(path))


def problem(seed, n, d, k, dtype=np.float64):
    """Random inputs, labels and softmax-regression weights."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    y = rng.integers(0, k, size=n)
    theta = rng.normal(scale=0.5, size=(d, k)).astype(dtype)
    return X, y, theta


def network(seed, n, d, h, k, dtype=np.float64, for_differences=False):
    """Random inputs, labels and two-layer weights; for finite differences, no
    pre-activation within 1e-3 of the ReLU's kink."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    y = rng.integers(0, k, size=n)
    W1 = rng.normal(size=(d, h)).astype(dtype)
    W2 = rng.normal(size=(h, k)).astype(dtype)
    assert not for_differences or np.min(np.abs(X @ W1)) > 1e-3
    return X, y, W1, W2


def ag_loss(Z, y):
    """Mean cross-entropy written with autograd.numpy (log-sum-exp form)."""
    return anp.mean(ag_logsumexp(Z, axis=1) - Z[anp.arange(len(y)), y])


def central_difference(f, W, h=1e-6):
    """Central finite-difference gradient of the scalar function f at W (float64)."""
    g = np.empty_like(W)
    for i in np.ndindex(W.shape):
        step = np.zeros_like(W)
        step[i] = h
        g[i] = (f(W + step) - f(W - step)) / (2 * h)
    return g


def regression_grad(X, y, theta):
    return grad(lambda t: ag_loss(anp.dot(X, t), y))(theta)


def network_grads(X, y, W1, W2):
    def loss(weights):
        A, B = weights
        return ag_loss(anp.dot(anp.maximum(anp.dot(X, A), 0.0), B), y)

    return grad(loss)((W1, W2))


# --- softmax ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 2), (7, 5), (50, 10)])
def test_softmax_matches_scipy(shape):
    Z = np.random.default_rng(0).normal(scale=5.0, size=shape)
    P = sm.softmax(Z)
    assert P.shape == shape
    # rtol 1e-12; atol 1e-300 covers probabilities that underflow differently.
    np.testing.assert_allclose(P, scipy_softmax(Z, axis=1), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-14)


def test_softmax_is_stable_for_large_logits():
    """Are logits of size 1000 exact, without an overflow warning or NaN?"""
    Z = np.array([[1000.0, 1000.0, 0.0], [-1000.0, 0.0, -1000.0],
                  [800.0, -800.0, 0.0], [1e4, 1e4 - np.log(3.0), -1e4]])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise",
                                                divide="raise"):
        warnings.simplefilter("error")
        P = sm.softmax(Z)
    expected = [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.75, 0.25, 0.0]]
    # atol 1e-12: e^-1000 and the like round to 0; 1e4 - log 3 is not exact.
    np.testing.assert_allclose(P, expected, rtol=0, atol=1e-12)


def test_softmax_is_invariant_to_shifting_a_row():
    Z = np.random.default_rng(1).normal(size=(6, 4))
    shifts = np.array([[0.0], [-50.0], [300.0], [1e3], [-700.0], [12.5]])
    np.testing.assert_allclose(sm.softmax(Z + shifts), sm.softmax(Z), rtol=1e-9)


def test_softmax_keeps_float32_and_its_input():
    Z = np.random.default_rng(2).normal(size=(8, 10)).astype(np.float32)
    before = Z.copy()
    P = sm.softmax(Z)
    assert P.dtype == np.float32
    np.testing.assert_array_equal(Z, before)
    # rtol 1e-5: float32 rounding against float64 SciPy.
    np.testing.assert_allclose(P, scipy_softmax(Z.astype(float), axis=1), rtol=1e-5)


@pytest.mark.parametrize("Z", [np.zeros(3), np.zeros((2, 3, 4))])
def test_softmax_refuses_arrays_that_are_not_2d(Z):
    with pytest.raises(ValueError, match=r"Z must be 2-d of shape \(n, k\)"):
        sm.softmax(Z)


# --- softmax_loss ------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 5, 100])
def test_softmax_loss_of_zero_logits_over_10_classes_is_ln_10(n):
    y = np.arange(n) % 10
    got = sm.softmax_loss(np.zeros((n, 10)), y)
    assert isinstance(got, float)
    np.testing.assert_allclose(got, np.log(10.0), rtol=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_softmax_loss_matches_sklearn_log_loss_and_logsumexp(seed):
    rng = np.random.default_rng(seed)
    Z = rng.normal(scale=3.0, size=(40, 6))
    y = rng.integers(0, 6, size=40)
    got = sm.softmax_loss(Z, y)
    expected = np.mean(logsumexp(Z, axis=1) - Z[np.arange(40), y])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    probabilities = scipy_softmax(Z, axis=1)
    np.testing.assert_allclose(got, log_loss(y, probabilities, labels=range(6)),
                               rtol=1e-10)


def test_softmax_loss_is_finite_and_exact_for_large_logits():
    Z = np.array([[1000.0, 0.0], [0.0, -1000.0], [500.0, 500.0]])
    y = np.array([1, 1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = sm.softmax_loss(Z, y)
    # Losses 1000, 1000 and ln 2 exactly, up to rounding.
    np.testing.assert_allclose(got, (2000.0 + np.log(2.0)) / 3, rtol=1e-14)


def test_softmax_loss_gradient_is_softmax_minus_one_hot_over_n():
    """Does autograd's gradient of the loss match the formula the epochs use?"""
    rng = np.random.default_rng(3)
    Z = rng.normal(scale=2.0, size=(25, 7))
    y = rng.integers(0, 7, size=25)
    auto = grad(ag_loss)(Z, y)
    np.testing.assert_allclose((sm.softmax(Z) - sm.one_hot(y, 7)) / 25, auto,
                               rtol=1e-10, atol=1e-15)
    fd = central_difference(lambda W: sm.softmax_loss(W, y), Z)
    np.testing.assert_allclose(auto, fd, rtol=1e-6, atol=1e-9)


def test_softmax_loss_accepts_uint8_labels_and_float32_logits():
    Z = np.random.default_rng(4).normal(size=(30, 10)).astype(np.float32)
    y = (np.arange(30) % 10).astype(np.uint8)
    # rtol 1e-6: float32 logits, float64 oracle.
    np.testing.assert_allclose(sm.softmax_loss(Z, y),
                               sm.softmax_loss(Z.astype(float), y.astype(int)),
                               rtol=1e-6)


@pytest.mark.parametrize(("Z", "y", "message"), [
    (np.zeros(3), np.zeros(3, int), r"Z must be 2-d"),
    (np.zeros((3, 2)), np.zeros(4, int), r"y must have shape \(3,\)"),
    (np.zeros((3, 2)), np.array([0, 1, 2]), r"labels in 0\.\.1"),
    (np.zeros((2, 2)), np.array([0.0, 1.0]), r"labels in 0\.\.1"),
])
def test_softmax_loss_refuses_bad_arguments(Z, y, message):
    with pytest.raises(ValueError, match=message):
        sm.softmax_loss(Z, y)


# --- one_hot -----------------------------------------------------------------------


def test_one_hot_is_rows_of_the_identity():
    y = np.array([3, 0, 0, 2], dtype=np.uint8)
    Y = sm.one_hot(y, 5)
    assert Y.shape == (4, 5) and Y.dtype == np.float64
    np.testing.assert_array_equal(Y, np.eye(5)[y])  # exact


def test_one_hot_uses_k_columns_when_classes_are_missing():
    np.testing.assert_array_equal(sm.one_hot(np.array([0, 0]), 3),
                                  [[1, 0, 0], [1, 0, 0]])
    assert sm.one_hot(np.array([], dtype=int), 4).shape == (0, 4)


@pytest.mark.parametrize(("y", "k", "message"), [
    (np.array([0, 3]), 3, r"labels in 0\.\.2"),
    (np.array([-1, 0]), 3, r"labels in 0\.\.2"),
    (np.zeros((2, 2), int), 3, r"y must be 1-d"),
    (np.array([0, 1]), 0, r"k must be a positive integer, got 0"),
    (np.array([0, 1]), 2.0, r"k must be a positive integer, got 2\.0"),
])
def test_one_hot_refuses_bad_arguments(y, k, message):
    with pytest.raises(ValueError, match=message):
        sm.one_hot(y, k)


# --- softmax_regression_epoch -----------------------------------------------------


@pytest.mark.parametrize("lr", [0.1, 1.0])
def test_full_batch_regression_step_is_minus_lr_times_the_numerical_gradient(lr):
    X, y, theta0 = problem(5, 30, 5, 4)
    theta = theta0.copy()
    sm.softmax_regression_epoch(X, y, theta, lr=lr, batch=len(y))
    fd = central_difference(lambda t: sm.softmax_loss(X @ t, y), theta0)
    # rtol 1e-6: central differences with h = 1e-6 in float64 are good to ~1e-9.
    np.testing.assert_allclose(theta - theta0, -lr * fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(theta - theta0, -lr * regression_grad(X, y, theta0),
                               rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("n", "batch"), [(53, 10), (40, 10), (7, 100), (9, 1)])
def test_regression_epoch_takes_the_minibatches_in_order(n, batch):
    """Is the epoch a sequence of steps on X[0:b], X[b:2b], ..., the last shorter?"""
    X, y, theta0 = problem(6, n, 4, 3)
    theta = theta0.copy()
    sm.softmax_regression_epoch(X, y, theta, lr=0.4, batch=batch)
    manual = theta0.copy()
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        manual = manual - 0.4 * regression_grad(X[start:stop], y[start:stop], manual)
    np.testing.assert_allclose(theta, manual, rtol=1e-10, atol=1e-14)


def test_regression_epoch_updates_theta_in_place_only():
    X, y, theta = problem(7, 25, 3, 4)
    inputs, theta_before = (X.copy(), y.copy()), theta.copy()
    assert sm.softmax_regression_epoch(X, y, theta, lr=0.5, batch=10) is None
    assert not np.array_equal(theta, theta_before)
    np.testing.assert_array_equal(X, inputs[0])
    np.testing.assert_array_equal(y, inputs[1])


@pytest.mark.parametrize("lr", [0.3, np.float64(0.3)])
def test_regression_epoch_keeps_float32_in_float32(lr):
    """Are float32 weights trained in float32 (no float64 lr upcasting them)?"""
    X, y, theta0 = problem(8, 230, 20, 10, dtype=np.float32)
    theta = theta0.copy()
    sm.softmax_regression_epoch(X, y, theta, lr=lr, batch=50)
    assert theta.dtype == np.float32
    exact = theta0.astype(np.float64)
    sm.softmax_regression_epoch(X.astype(np.float64), y, exact, lr=0.3, batch=50)
    change = exact - theta0
    # Float32 rounding: 1e-4 of the largest change leaves a margin of about 100.
    np.testing.assert_allclose(theta - theta0, change, rtol=1e-4,
                               atol=1e-4 * np.abs(change).max())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"batch": 0}, r"batch must be a positive integer, got 0"),
    ({"batch": 2.5}, r"batch must be a positive integer, got 2\.5"),
    ({"theta": np.zeros((4, 3))}, r"theta must be an array of shape \(3, k\)"),
    ({"theta": [[0.0] * 3] * 3}, r"theta must be an array of shape \(3, k\)"),
    ({"theta": np.zeros((3, 3), int)}, r"writable floating-point .* int64"),
    ({"y": np.zeros(4, int)}, r"y must have shape \(5,\)"),
])
def test_regression_epoch_refuses_bad_arguments(kwargs, message):
    args = {"X": np.ones((5, 3)), "y": np.zeros(5, int), "theta": np.zeros((3, 3))}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        sm.softmax_regression_epoch(**args)


def test_softmax_regression_is_as_accurate_as_sklearn_on_the_mnist_sample():
    """Do 10 epochs of SGD reach scikit-learn's multinomial test error, +-3 points?"""
    X_train, y_train, X_test, y_test = load_mnist(n_train=2000, rng=0)
    theta = np.zeros((784, 10), dtype=np.float32)
    for _ in range(10):
        sm.softmax_regression_epoch(X_train, y_train, theta, lr=0.5)
    ours = sm.error_rate(X_test @ theta, y_test)
    with warnings.catch_warnings():
        # L-BFGS may stop before its tolerance; its test error has settled by then.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(max_iter=100).fit(X_train, y_train)
    theirs = float(np.mean(model.predict(X_test) != y_test))
    # Both are near 12% on this split; 3 points is several standard errors apart.
    assert ours < 0.16 and abs(ours - theirs) < 0.03, (ours, theirs)


# --- nn_epoch ------------------------------------------------------------------------


@pytest.mark.parametrize("lr", [0.1, 1.0])
def test_full_batch_network_step_is_minus_lr_times_the_numerical_gradients(lr):
    X, y, W10, W20 = network(9, 20, 6, 7, 3, for_differences=True)
    W1, W2 = W10.copy(), W20.copy()
    sm.nn_epoch(X, y, W1, W2, lr=lr, batch=len(y))

    def loss(A, B):
        return sm.softmax_loss(np.maximum(X @ A, 0) @ B, y)

    fd1 = central_difference(lambda A: loss(A, W20), W10)
    fd2 = central_difference(lambda B: loss(W10, B), W20)
    # rtol 1e-6: central differences with h = 1e-6, 1e-3 away from the ReLU kink.
    np.testing.assert_allclose(W1 - W10, -lr * fd1, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(W2 - W20, -lr * fd2, rtol=1e-6, atol=1e-9)
    auto1, auto2 = network_grads(X, y, W10, W20)
    np.testing.assert_allclose(W1 - W10, -lr * auto1, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(W2 - W20, -lr * auto2, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("n", "batch"), [(37, 8), (30, 10), (5, 100)])
def test_network_epoch_takes_the_minibatches_in_order(n, batch):
    """Is each step taken with both gradients at the weights before the step?"""
    X, y, W10, W20 = network(10, n, 5, 6, 4)
    W1, W2 = W10.copy(), W20.copy()
    sm.nn_epoch(X, y, W1, W2, lr=0.3, batch=batch)
    A, B = W10.copy(), W20.copy()
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        gA, gB = network_grads(X[start:stop], y[start:stop], A, B)
        A, B = A - 0.3 * gA, B - 0.3 * gB
    np.testing.assert_allclose(W1, A, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(W2, B, rtol=1e-10, atol=1e-14)


def test_network_step_from_zero_second_layer_leaves_the_first_unchanged():
    """With W2 = 0 no gradient reaches W1 (unless W2 is updated before it is used)."""
    X, y, W1, _ = network(11, 12, 4, 5, 3)
    W2 = np.zeros((5, 3))
    W1_before = W1.copy()
    sm.nn_epoch(X, y, W1, W2, lr=0.5, batch=12)
    np.testing.assert_array_equal(W1, W1_before)  # exact: the gradient is 0
    assert np.any(W2 != 0)


def test_network_epoch_updates_in_place_only():
    X, y, W1, W2 = network(12, 20, 4, 5, 3)
    before = [a.copy() for a in (X, y, W1, W2)]
    assert sm.nn_epoch(X, y, W1, W2) is None
    np.testing.assert_array_equal(X, before[0])
    np.testing.assert_array_equal(y, before[1])
    assert not np.array_equal(W1, before[2])
    assert not np.array_equal(W2, before[3])


@pytest.mark.parametrize("lr", [0.2, np.float64(0.2)])
def test_network_epoch_keeps_float32_in_float32(lr):
    X, y, W10, W20 = network(13, 230, 30, 24, 10, dtype=np.float32)
    W1, W2 = W10.copy(), W20.copy()
    sm.nn_epoch(X, y, W1, W2, lr=lr, batch=50)
    assert W1.dtype == np.float32 and W2.dtype == np.float32
    A, B = W10.astype(np.float64), W20.astype(np.float64)
    sm.nn_epoch(X.astype(np.float64), y, A, B, lr=0.2, batch=50)
    for got, before, exact in ((W1, W10, A), (W2, W20, B)):
        change = exact - before
        # Float32 rounding: 1e-3 of the largest change leaves a margin of about 100.
        np.testing.assert_allclose(got - before, change, rtol=1e-3,
                                   atol=1e-3 * np.abs(change).max())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"batch": -1}, r"batch must be a positive integer, got -1"),
    ({"W1": np.zeros((4, 2))}, r"W1 must have shape \(3, h\) and W2 shape \(h, k\)"),
    ({"W2": np.zeros((3, 2))}, r"W1 must have shape \(3, h\) and W2 shape \(h, k\)"),
    ({"W2": np.zeros(2)}, r"W2 must be a 2-d array"),
    ({"W1": np.zeros((3, 2), np.int32)}, r"W1 must be a writable floating-point"),
    ({"X": np.ones(5)}, r"X must be 2-d"),
])
def test_network_epoch_refuses_bad_arguments(kwargs, message):
    args = {"X": np.ones((5, 3)), "y": np.zeros(5, int), "W1": np.zeros((3, 2)),
            "W2": np.zeros((2, 4))}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        sm.nn_epoch(**args)


# --- error_rate ------------------------------------------------------------------


def test_error_rate_counts_rows_whose_largest_logit_is_not_the_label():
    Z = np.array([[0.1, 0.9], [2.0, -1.0], [0.0, 3.0], [5.0, 4.0]])
    assert sm.error_rate(Z, np.array([1, 1, 1, 0])) == 0.25  # exact


# --- parse_mnist ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory):
    """The offline MNIST sample written as gzip idx files: (images, labels, X, y)."""
    X, y = load_mnist_sample()
    folder = tmp_path_factory.mktemp("sample")
    images = np.rint(X * 255).astype(np.uint8).reshape(-1, 28, 28)
    write_idx(folder / "sample-images-idx3-ubyte.gz", images)
    write_idx(folder / "sample-labels-idx1-ubyte.gz", y)
    return (folder / "sample-images-idx3-ubyte.gz",
            folder / "sample-labels-idx1-ubyte.gz", X, y)


def test_parse_mnist_reads_idx_files_written_from_the_sample(sample_files):
    images, labels, X_sample, y_sample = sample_files
    X, y = sm.parse_mnist(images, labels)
    assert X.shape == (5000, 784) and X.dtype == np.float32
    assert y.shape == (5000,) and y.dtype == np.uint8
    np.testing.assert_array_equal(X, X_sample)  # exact: the same uint8 / 255
    np.testing.assert_array_equal(y, y_sample)
    assert X.flags.writeable and y.flags.writeable


def test_parse_mnist_accepts_str_paths_and_uncompressed_files(tmp_path, sample_files):
    _, _, X_sample, y_sample = sample_files
    images = np.rint(X_sample[:9] * 255).astype(np.uint8).reshape(9, 28, 28)
    write_idx(tmp_path / "images-idx3-ubyte", images[:, 2:20, :])  # 18 x 28 pixels
    write_idx(tmp_path / "labels-idx1-ubyte", y_sample[:9])
    X, y = sm.parse_mnist(str(tmp_path / "images-idx3-ubyte"),
                          str(tmp_path / "labels-idx1-ubyte"))
    assert X.shape == (9, 18 * 28)
    expected = images[:, 2:20, :].reshape(9, -1) / np.float32(255)
    np.testing.assert_array_equal(X, expected)  # exact
    np.testing.assert_array_equal(y, y_sample[:9])


@pytest.fixture(scope="module")
def t10k_paths():
    images = MNIST_DIR / "t10k-images-idx3-ubyte.gz"
    labels = MNIST_DIR / "t10k-labels-idx1-ubyte.gz"
    if not (images.is_file() and labels.is_file()):
        pytest.skip(
            f"MNIST test set not found at {MNIST_DIR}: see shared/data/mnist/README.md"
        )
    return images, labels


def test_parse_mnist_reads_the_real_mnist_test_set(t10k_paths):
    X, y = sm.parse_mnist(*t10k_paths)
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.dtype == np.uint8
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    pixels = read_idx(t10k_paths[0]).reshape(10000, 784)
    np.testing.assert_array_equal(X, pixels.astype(np.float32) / np.float32(255))
    X_lib, y_lib = load_mnist_dir(MNIST_DIR, "t10k")
    np.testing.assert_array_equal(X, X_lib)  # exact
    np.testing.assert_array_equal(y, y_lib)


@pytest.fixture(scope="module")
def fashion_dir():
    names = [f"{kind}-{what}-ubyte.gz" for kind in ("train", "t10k")
             for what in ("images-idx3", "labels-idx1")]
    if not all((FASHION_DIR / name).is_file() for name in names):
        pytest.skip(f"Fashion-MNIST not found at {FASHION_DIR}: install Debian's "
                    "dataset-fashion-mnist package (apt-get install "
                    "dataset-fashion-mnist)")
    return FASHION_DIR


@pytest.mark.parametrize(("kind", "n"), [("train", 60000), ("t10k", 10000)])
def test_parse_mnist_reads_debian_fashion_mnist(fashion_dir, kind, n):
    X, y = sm.parse_mnist(fashion_dir / f"{kind}-images-idx3-ubyte.gz",
                          fashion_dir / f"{kind}-labels-idx1-ubyte.gz")
    assert X.shape == (n, 784) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    # Fashion-MNIST is balanced: n / 10 images of each of the 10 classes.
    np.testing.assert_array_equal(np.bincount(y, minlength=10), [n // 10] * 10)
    if kind == "t10k":  # the training set is checked the same way, more slowly
        X_lib, y_lib = load_mnist_dir(fashion_dir, kind)
        np.testing.assert_array_equal(X, X_lib)  # exact
        np.testing.assert_array_equal(y, y_lib)


def gzip_bytes(path, raw):
    path.write_bytes(gzip.compress(raw, mtime=0))
    return path


@pytest.fixture
def small_files(tmp_path):
    """Valid gzip idx files of 6 images of 4 x 3 pixels and their 6 labels."""
    images = np.arange(72, dtype=np.uint8).reshape(6, 4, 3)
    write_idx(tmp_path / "images.gz", images)
    write_idx(tmp_path / "labels.gz", np.arange(6, dtype=np.uint8))
    return tmp_path / "images.gz", tmp_path / "labels.gz"


def raw(path):
    return gzip.decompress(path.read_bytes())


@pytest.mark.parametrize(("which", "edit", "message"), [
    ("images", lambda b: b"\x00\x00\x0d\x03" + b[4:],
     r"bad magic number 0x00000D03; MNIST images files start with 0x00000803"),
    ("images", lambda b: b"\x00\x00\x08\x01" + b[4:], r"bad magic number 0x00000801"),
    ("labels", lambda b: b"\x00\x00\x08\x03" + b[4:],
     r"bad magic number 0x00000803; MNIST labels files start with 0x00000801"),
    ("labels", lambda b: b"\x00\x00", r"bad magic number none \(file too short\)"),
    ("images", lambda b: b[:-5],
     r"truncated: the header promises 72 bytes of images \(6 x 4 x 3\), the file "
     r"has 67"),
    ("labels", lambda b: b[:-1], r"truncated: the header promises 6 bytes of labels"),
    ("images", lambda b: b[:10], r"truncated header: 16 bytes expected, got 10"),
    ("labels", lambda b: b + b"\x00", r"too long: .* the file has 7"),
])
def test_parse_mnist_names_the_damaged_file(small_files, which, edit, message):
    images, labels = small_files
    damaged = images if which == "images" else labels
    gzip_bytes(damaged, edit(raw(damaged)))
    with pytest.raises(ValueError, match=in_message(damaged) + ": " + message):
        sm.parse_mnist(images, labels)


@pytest.mark.parametrize("which", ["images", "labels"])
def test_parse_mnist_names_a_cut_off_gzip_file(small_files, which):
    """Is a download cut short a ValueError naming the file, not an EOFError?"""
    images, labels = small_files
    damaged = images if which == "images" else labels
    damaged.write_bytes(damaged.read_bytes()[:-12])
    with pytest.raises(ValueError, match=in_message(damaged)
                       + ": corrupt or truncated gzip stream"):
        sm.parse_mnist(images, labels)


def test_parse_mnist_names_both_files_when_the_counts_differ(small_files, tmp_path):
    images, _ = small_files
    write_idx(tmp_path / "five-labels.gz", np.zeros(5, dtype=np.uint8))
    labels = tmp_path / "five-labels.gz"
    with pytest.raises(ValueError, match=in_message(images) + " has 6 images but "
                       + in_message(labels) + " has 5 labels"):
        sm.parse_mnist(images, labels)


def test_parse_mnist_refuses_swapped_files(small_files):
    images, labels = small_files
    with pytest.raises(ValueError, match=in_message(labels) + ": bad magic number"):
        sm.parse_mnist(labels, images)


def test_parse_mnist_missing_file_is_file_not_found(small_files, tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-file"):
        sm.parse_mnist(small_files[0], tmp_path / "no-such-file.gz")


# --- softmax_output_grad -----------------------------------------------------------


def summed_cross_entropy_ag(P, Y):
    """The summed cross-entropy of probabilities P against one-hot Y, autograd."""
    return -anp.sum(Y * anp.log(P))


@pytest.mark.parametrize("seed, n, k", [(0, 20, 10), (1, 1, 3), (2, 7, 2)])
def test_softmax_output_grad_matches_autograd(seed, n, k):
    rng = np.random.default_rng(seed)
    P = scipy_softmax(rng.normal(scale=2.0, size=(n, k)), axis=1)
    Y = np.eye(k)[rng.integers(0, k, size=n)]
    got = sm.softmax_output_grad(P, Y)
    assert got.shape == (n, k)
    np.testing.assert_allclose(got, grad(summed_cross_entropy_ag)(P, Y), rtol=1e-12)


def test_softmax_output_grad_through_the_softmax_jacobian_is_p_minus_y():
    """Does the chain rule through d softmax / d z give softmax(z) - onehot?"""
    rng = np.random.default_rng(3)
    Z = rng.normal(scale=3.0, size=(5, 4))
    P = scipy_softmax(Z, axis=1)
    Y = np.eye(4)[[0, 3, 1, 1, 2]]
    dP = sm.softmax_output_grad(P, Y)
    # J_i = diag(p_i) - p_i p_i^T is symmetric: dZ_i = J_i @ dP_i.
    dZ = np.stack([(np.diag(p) - np.outer(p, p)) @ g for p, g in zip(P, dP,
                                                                      strict=True)])
    np.testing.assert_allclose(dZ, P - Y, rtol=1e-10, atol=1e-14)


def test_softmax_output_grad_refuses_arrays_of_different_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 4\)"):
        sm.softmax_output_grad(np.full((2, 3), 1 / 3), np.zeros((2, 4)))


# --- top_direction -----------------------------------------------------------------


def largest_first(q):
    """``q`` with the sign that makes its entry of largest magnitude positive."""
    return q * np.sign(q[np.argmax(np.abs(q))])


@pytest.mark.parametrize("seed, d, m", [(0, 30, 8), (1, 5, 40), (2, 12, 12),
                                        (3, 9, 1), (4, 784, 50)])
def test_top_direction_is_the_top_eigenvector_of_g_g_transpose(seed, d, m):
    """Is q the eigenvector of G G^T of the largest eigenvalue, as eigh finds it?"""
    G = np.random.default_rng(seed).normal(size=(d, m))
    q = sm.top_direction(G)
    assert q.shape == (d,) and q.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(q), 1.0, rtol=1e-12)
    assert q[np.argmax(np.abs(q))] > 0
    _, vectors = np.linalg.eigh(G @ G.T)  # eigenvalues in ascending order
    # atol 1e-8 on a unit vector; the eigenvalue gaps of these matrices are > 1e-2.
    np.testing.assert_allclose(q, largest_first(vectors[:, -1]), atol=1e-8)


def test_top_direction_maximises_the_norm_of_the_projections():
    """Is ||G.T q|| the largest singular value, as scipy computes it?"""
    from scipy.linalg import svdvals

    G = np.random.default_rng(5).normal(size=(20, 15))
    q = sm.top_direction(G)
    np.testing.assert_allclose(np.linalg.norm(G.T @ q), svdvals(G)[0], rtol=1e-12)


def test_top_direction_of_gradients_sharing_one_direction_is_that_direction():
    rng = np.random.default_rng(6)
    u = rng.normal(size=10)
    u[np.argmax(np.abs(u))] = -5.0  # its largest entry negative: q must be -u/|u|
    G = np.outer(u, rng.normal(size=7))
    np.testing.assert_allclose(sm.top_direction(G), -u / np.linalg.norm(u),
                               atol=1e-12)
    # The sign does not depend on the signs of the gradients.
    np.testing.assert_allclose(sm.top_direction(-G), sm.top_direction(G), atol=1e-12)


@pytest.mark.parametrize("shape", [(5,), (0, 3), (2, 2, 2)])
def test_top_direction_refuses_what_is_not_a_matrix(shape):
    with pytest.raises(ValueError, match=re.escape(str(shape))):
        sm.top_direction(np.ones(shape))
