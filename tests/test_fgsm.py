"""Tests for lib.fgsm against independent oracles.

The oracles are autograd's gradient of the per-example cross-entropy (written with
``logsumexp``) with respect to the inputs, central finite differences, scikit-learn's
``LogisticRegression`` (its ``predict`` and ``predict_log_proba``), attack loops
re-derived here with the autograd gradient and, for ``blend``, a plain loop over
the pixels, all in float64. Every assertion states
its tolerance.
"""

from pathlib import Path

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from lib import fgsm
from lib.data import load_mnist
from lib.softmax import read_idx

MNIST_TEST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"

# The model of the notebook: scikit-learn's multinomial softmax regression (lbfgs),
# C = 1, on the offline MNIST sample (2,000 training images in grading runs).
MODEL_C = 1.0
EPS_PAPER = 0.25  # Goodfellow et al. (2015): 99.9% error on MNIST at this eps
TARGET_ERROR = 0.99


def cross_entropies(X, y, W, b):
    """Per-example cross-entropies, in autograd.numpy: logsumexp(z) - z[y]."""
    Z = anp.dot(X, W) + b
    return logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]


def oracle_gradient(X, y, W, b):
    """Row i: d cross_entropy_i / d X[i], by autograd of the sum over examples.

    Example i's loss depends on X[i] only, so the gradient of the sum has the
    per-example gradients as its rows.
    """
    return grad(lambda X_: anp.sum(cross_entropies(X_, y, W, b)))(X)


def random_problem(seed, n, d, k, scale=1.0):
    """Inputs in [0, 1], labels, weights and biases."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, size=(n, d))
    y = rng.integers(0, k, size=n)
    W = scale * rng.standard_normal((d, k))
    b = rng.standard_normal(k)
    return X, y, W, b


MODERATE = [  # (seed, n, d, k, scale)
    (0, 1, 3, 2, 1.0),
    (1, 20, 5, 3, 1.0),
    (2, 50, 30, 10, 0.3),
    (3, 7, 2, 4, 5.0),
]
# Saturated probabilities: p - onehot cancels, and a gradient entry can be so small
# (1e-27) that its sign is decided by rounding. Gradients are compared with an
# absolute tolerance there, signs not at all.
PROBLEMS = [*MODERATE, (4, 33, 12, 2, 10.0)]


@pytest.fixture(scope="module")
def mnist():
    """The offline MNIST sample: 4,000 training and 1,000 test images."""
    return load_mnist()


def train(X, y):
    """The notebook's model fitted to float32 images, and its (W, b) in float64."""
    # One BLAS thread: faster for this small problem than competing threads.
    with threadpool_limits(1):
        clf = LogisticRegression(C=MODEL_C, max_iter=1000).fit(X, y)
    return clf, clf.coef_.T.astype(np.float64), clf.intercept_.astype(np.float64)


@pytest.fixture(scope="module")
def model(mnist):
    """The notebook's model trained on the whole sample, and its (W, b)."""
    X_train, y_train, _, _ = mnist
    return train(X_train, y_train)


# --- input_gradient -----------------------------------------------------------------


@pytest.mark.parametrize("seed, n, d, k, scale", PROBLEMS)
def test_input_gradient_matches_autograd(seed, n, d, k, scale):
    X, y, W, b = random_problem(seed, n, d, k, scale)
    got = fgsm.input_gradient(X, y, W, b)
    assert got.shape == (n, d)
    # rtol 1e-10; atol 1e-13 * max|W| for entries where p - onehot nearly cancels.
    np.testing.assert_allclose(got, oracle_gradient(X, y, W, b), rtol=1e-10,
                               atol=1e-13 * np.abs(W).max())


def test_input_gradient_matches_central_finite_differences():
    X, y, W, b = random_problem(5, 4, 6, 3)
    h = 1e-6
    fd = np.empty_like(X)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            step = np.zeros_like(X)
            step[i, j] = h
            fd[i, j] = (cross_entropies(X + step, y, W, b)[i]
                        - cross_entropies(X - step, y, W, b)[i]) / (2 * h)
    # rtol 1e-6: central differences are accurate to O(h^2) plus rounding ~1e-10.
    np.testing.assert_allclose(fgsm.input_gradient(X, y, W, b), fd, rtol=1e-6,
                               atol=1e-8)


def test_input_gradient_of_the_mnist_model_matches_autograd(model, mnist):
    """Does it accept float32 images and uint8 labels, as load_mnist returns them?"""
    _, W, b = model
    X, y = mnist[2][:100], mnist[3][:100]
    assert X.dtype == np.float32 and y.dtype == np.uint8
    got = fgsm.input_gradient(X, y, W, b)
    expected = oracle_gradient(X.astype(float), y.astype(int), W, b)
    # rtol 1e-9, atol 1e-13 * max|W|: both in float64 from the same float32 pixels.
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-13 * np.abs(W).max())


def test_input_gradient_is_zero_for_features_without_weight():
    """Are the columns of features whose row of W is zero exactly 0?"""
    X, y, W, b = random_problem(6, 10, 5, 3)
    W[[1, 3]] = 0.0
    got = fgsm.input_gradient(X, y, W, b)
    assert np.all(got[:, [1, 3]] == 0.0)  # exact: sums of products with 0


def test_input_gradient_does_not_modify_its_arguments():
    X, y, W, b = random_problem(7, 10, 4, 3)
    copies = [a.copy() for a in (X, y, W, b)]
    fgsm.input_gradient(X, y, W, b)
    for before, after in zip(copies, (X, y, W, b), strict=True):
        np.testing.assert_array_equal(after, before)


# --- fgsm --------------------------------------------------------------------------


@pytest.mark.parametrize("seed, n, d, k, scale", MODERATE)
@pytest.mark.parametrize("eps", [0.01, 0.1, 0.3])
def test_fgsm_is_a_clipped_signed_step_of_the_autograd_gradient(seed, n, d, k, scale,
                                                                eps):
    X, y, W, b = random_problem(seed, n, d, k, scale)
    g = oracle_gradient(X, y, W, b)
    assert np.min(np.abs(g)) > 1e-9  # no sign decided by rounding in these problems
    expected = np.clip(X + eps * np.sign(g), 0.0, 1.0)
    # atol 1e-15: the same two float operations on every pixel.
    np.testing.assert_allclose(fgsm.fgsm(X, y, W, b, eps), expected, rtol=0,
                               atol=1e-15)


def test_fgsm_clips_to_the_unit_interval():
    """Do pixels at 0 and 1 stay in [0, 1] whichever way the gradient points?"""
    X, y, W, b = random_problem(8, 40, 10, 4)
    X[:, :5] = np.where(X[:, :5] < 0.5, 0.0, 1.0)
    g = oracle_gradient(X, y, W, b)
    out = fgsm.fgsm(X, y, W, b, 0.3)
    assert out.min() == 0.0 and out.max() == 1.0
    pushed_out = ((X == 0.0) & (g < 0)) | ((X == 1.0) & (g > 0))
    assert pushed_out.any()
    np.testing.assert_array_equal(out[pushed_out], X[pushed_out])  # exact


def test_fgsm_leaves_pixels_with_zero_gradient_alone():
    """np.sign(0) is 0: a feature without weight is not perturbed."""
    X, y, W, b = random_problem(9, 10, 6, 3)
    W[2] = 0.0
    out = fgsm.fgsm(X, y, W, b, 0.2)
    np.testing.assert_array_equal(out[:, 2], X[:, 2])  # exact
    assert np.all(np.abs(np.delete(out - X, 2, axis=1)) > 0)


def test_fgsm_with_eps_zero_returns_the_inputs():
    X, y, W, b = random_problem(10, 10, 6, 3)
    np.testing.assert_array_equal(fgsm.fgsm(X, y, W, b, 0.0), X)  # exact


def test_fgsm_raises_the_loss_of_every_example_at_small_eps():
    """First order: the loss grows by eps * ||g_i||_1 for a small step."""
    X, y, W, b = random_problem(11, 30, 8, 4)
    X = 0.2 + 0.6 * X  # away from the clipping bounds
    eps = 1e-4
    before = cross_entropies(X, y, W, b)
    after = cross_entropies(fgsm.fgsm(X, y, W, b, eps), y, W, b)
    g = oracle_gradient(X, y, W, b)
    # rtol 1e-3: the second-order term is O(eps^2 * ||W||^2) relative to O(eps).
    np.testing.assert_allclose(after - before, eps * np.abs(g).sum(axis=1), rtol=1e-3)


def test_fgsm_at_the_papers_eps_fools_the_model_on_the_test_split(model, mnist):
    """Is the error of the notebook's model at eps = 0.25 at least 99%?"""
    clf, W, b = model
    _, _, X_test, y_test = mnist
    clean_error = np.mean(clf.predict(X_test) != y_test)
    adversarial_error = np.mean(
        clf.predict(fgsm.fgsm(X_test, y_test, W, b, EPS_PAPER)) != y_test
    )
    assert clean_error < 0.15
    assert adversarial_error >= TARGET_ERROR, adversarial_error


def test_fgsm_fools_the_grading_run_model():
    """Does the model trained on the grading subset (2,000 images) reach 99% too?"""
    X_train, y_train, X_test, y_test = load_mnist(n_train=2000, n_test=1000)
    clf, W, b = train(X_train, y_train)
    adversarial = fgsm.fgsm(X_test, y_test, W, b, EPS_PAPER)
    assert np.mean(clf.predict(adversarial) != y_test) >= TARGET_ERROR


@pytest.mark.skipif(not (MNIST_TEST_DIR / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason=f"the MNIST test set is not in {MNIST_TEST_DIR}")
def test_fgsm_fools_the_model_on_the_full_mnist_test_set(model):
    """The sample comes from MNIST's training set: the 10,000 test images are new."""
    clf, W, b = model
    X = read_idx(MNIST_TEST_DIR / "t10k-images-idx3-ubyte.gz").reshape(10000, -1)
    X = X.astype(np.float32) / np.float32(255)
    y = read_idx(MNIST_TEST_DIR / "t10k-labels-idx1-ubyte.gz")
    assert np.mean(clf.predict(X) == y) > 0.85
    adversarial = fgsm.fgsm(X, y, W, b, EPS_PAPER)
    assert np.mean(clf.predict(adversarial) != y) >= TARGET_ERROR


def test_fgsm_matches_sklearn_losses(model, mnist):
    """Does the attack raise scikit-learn's own log-loss of every test image?"""
    clf, W, b = model
    X, y = mnist[2][:200], mnist[3][:200]
    rows = np.arange(len(y))
    before = -clf.predict_log_proba(X)[rows, y]
    after = -clf.predict_log_proba(fgsm.fgsm(X, y, W, b, 0.05))[rows, y]
    assert np.all(after > before)


# --- targeted_example --------------------------------------------------------------


def test_targeted_example_reaches_every_digit(model):
    clf, W, b = model
    for seed in range(3):
        xs = np.array([fgsm.targeted_example(t, W, b, rng=seed) for t in range(10)])
        assert xs.shape == (10, 784)
        assert xs.min() >= 0.0 and xs.max() <= 1.0
        np.testing.assert_array_equal(clf.predict(xs), np.arange(10))


def test_targeted_example_follows_the_autograd_gradient_steps(model):
    """Is each step x <- clip(x - eta sign(grad), 0, 1) from the documented noise?

    Compared while the probability of the target stays below 1 - 1e-6: once it
    rounds to 1, p - onehot cancels and the sign of a gradient entry depends on
    rounding (both computations are then right, and disagree).
    """
    _, W, b = model
    for target, eta, iters, seed in ((3, 0.02, 6, 0), (8, 0.05, 3, 1), (0, 0.3, 1, 2)):
        x = np.random.default_rng(seed).uniform(0.0, 0.1, size=784)
        for _ in range(iters):
            loss = cross_entropies(x[None], np.array([target]), W, b)[0]
            assert loss > 1e-6  # p_target < 1 - 1e-6: signs are well determined
            g = oracle_gradient(x[None], np.array([target]), W, b)[0]
            x = np.clip(x - eta * np.sign(g), 0.0, 1.0)
        got = fgsm.targeted_example(target, W, b, eta=eta, iters=iters, rng=seed)
        # atol 1e-15: the same steps (pixels without weight have exactly 0).
        np.testing.assert_allclose(got, x, rtol=0, atol=1e-15)


def test_targeted_example_clips_after_every_step():
    """A pixel pushed down, then up twice, ends at 1 only if clipped in between.

    In this model of two pixels and three classes, class 1 wins near 0 and pushes
    pixel 0 down; then class 2 wins and both pixels go up. With eta = 0.5 and three
    steps the result is (1, 1) for any starting noise in [0, 0.3].
    """
    W = np.array([[4.0, 8.0, 0.0], [10.0, -10.0, 5.0]])
    b = np.array([-10.0, 3.0, -3.0])
    for seed in range(5):
        x = fgsm.targeted_example(0, W, b, eta=0.5, iters=3, rng=seed)
        np.testing.assert_array_equal(x, [1.0, 1.0])  # exact: saturated pixels
    assert np.argmax(np.array([1.0, 1.0]) @ W + b) == 0


def test_targeted_example_is_deterministic_for_a_seed_or_generator(model):
    _, W, b = model
    a = fgsm.targeted_example(5, W, b, iters=1, eta=0.01, rng=7)
    np.testing.assert_array_equal(a, fgsm.targeted_example(5, W, b, iters=1, eta=0.01,
                                                           rng=7))
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    np.testing.assert_array_equal(fgsm.targeted_example(5, W, b, rng=g1),
                                  fgsm.targeted_example(5, W, b, rng=g2))
    assert not np.array_equal(a, fgsm.targeted_example(5, W, b, iters=1, eta=0.01,
                                                       rng=8))


def test_targeted_example_with_no_steps_is_the_starting_noise():
    W, b = np.ones((6, 2)), np.zeros(2)
    x = fgsm.targeted_example(1, W, b, iters=0, rng=3)
    np.testing.assert_array_equal(x, np.random.default_rng(3).uniform(0, 0.1, 6))


def test_targeted_example_lowers_the_loss_of_the_target(model):
    _, W, b = model
    start = np.random.default_rng(4).uniform(0.0, 0.1, size=(1, 784))
    x = fgsm.targeted_example(2, W, b, rng=4)
    t = np.array([2])
    assert cross_entropies(x[None], t, W, b)[0] < 1e-3 < cross_entropies(start, t, W,
                                                                          b)[0]


# --- blend -------------------------------------------------------------------------


def blend_loop(X, example, alpha):
    """The oracle: pixel by pixel, the larger of the two weighted values."""
    out = []
    for row in X:
        out.append([max((1.0 - alpha) * float(x), alpha * float(e))
                     for x, e in zip(row, example, strict=True)])
    return np.array(out)


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 0.8, 1.0])
def test_blend_matches_a_plain_loop(alpha):
    rng = np.random.default_rng(20)
    X, example = rng.uniform(size=(15, 9)), rng.uniform(size=9)
    X[:, :3] = np.round(X[:, :3])  # pixels at exactly 0 and 1
    got = fgsm.blend(X, example, alpha)
    assert got.shape == X.shape and got.dtype == np.float64
    # atol 1e-15: one product and one comparison per pixel.
    np.testing.assert_allclose(got, blend_loop(X, example, alpha), rtol=0,
                               atol=1e-15)


def test_blend_of_float32_mnist_images_stays_float32(mnist):
    X, example = mnist[2][:20], mnist[0][0]
    got = fgsm.blend(X, example, 0.4)
    assert got.dtype == np.float32
    # rtol 1e-7: float32 products (rounding 6e-8) against float64 ones.
    np.testing.assert_allclose(got, blend_loop(X, example, 0.4), rtol=1e-7)
    assert fgsm.blend(X.astype(float), example, 0.4).dtype == np.float64


def test_blend_keeps_the_images_at_alpha_zero_and_gives_the_example_at_one():
    rng = np.random.default_rng(21)
    X, example = rng.uniform(size=(6, 5)), rng.uniform(size=5)
    np.testing.assert_array_equal(fgsm.blend(X, example, 0.0), X)  # exact
    np.testing.assert_array_equal(fgsm.blend(X, example, 1.0),
                                  np.tile(example, (6, 1)))  # exact


def test_blend_does_not_modify_its_arguments():
    rng = np.random.default_rng(22)
    X, example = rng.uniform(size=(4, 3)), rng.uniform(size=3)
    copies = X.copy(), example.copy()
    fgsm.blend(X, example, 0.6)
    np.testing.assert_array_equal(X, copies[0])
    np.testing.assert_array_equal(example, copies[1])


@pytest.fixture(scope="module")
def spoiled(mnist):
    """The notebook's spoiled test sets: (clf, y_test, alpha -> predictions), for
    the full sample and for the grading subset."""
    out = {}
    for name, data in (("full", mnist), ("grading", load_mnist(n_train=2000,
                                                                 n_test=1000))):
        X_train, y_train, X_test, y_test = data
        clf = train(X_train, y_train)[0]
        threes = X_train[y_train == 3].astype(np.float64)
        example = threes[np.argmin(((threes - threes.mean(axis=0)) ** 2).sum(axis=1))]
        out[name] = y_test, {a: clf.predict(fgsm.blend(X_test.astype(float), example,
                                                       a))
                             for a in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)}
    return out


@pytest.mark.parametrize("run", ["full", "grading"])
def test_the_spoiled_test_set_goes_to_the_class_of_the_example(spoiled, run):
    """What the notebook's written answer says of the test set blended with a 3."""
    y, predictions = spoiled[run]
    accuracy = [np.mean(p == y) for p in predictions.values()]
    assert np.all(np.diff(accuracy) < 0), accuracy  # falls steadily with alpha
    p = predictions[0.5]
    assert np.mean(p == 3) > 0.5  # more than half of the images called 3
    assert np.mean(p[y == 3] == 3) > 0.9  # the 3s stay right
    assert np.all(p[y == 1] == 3)  # every 1 becomes a 3
    errors = p[p != y]
    assert np.argsort(np.bincount(errors, minlength=10))[-2:].tolist() == [5, 3]
    right = [np.mean(p[y == d] == d) for d in range(10)]
    assert set(np.argsort(right)[-3:]) == {0, 3, 5}  # besides 3: 5 and 0
    for d in (2, 8):
        assert np.mean(p[y == d] == 3) > 0.5  # most 2s and 8s
    for d in (6, 7, 9):
        assert 0.3 < np.mean(p[y == d] == 3) < 0.7  # about half
    assert np.mean(predictions[0.7] == 3) > 0.95  # nearly every image at 0.7


# --- errors ------------------------------------------------------------------------


def test_shapes_that_do_not_match_raise_value_errors():
    X, y, W, b = random_problem(12, 5, 4, 3)
    with pytest.raises(ValueError, match=r"X must be 2-d of shape \(n, 4\)"):
        fgsm.input_gradient(X[:, :3], y, W, b)
    with pytest.raises(ValueError, match=r"y must have shape \(5,\)"):
        fgsm.input_gradient(X, y[:4], W, b)
    with pytest.raises(ValueError, match=r"b must have shape \(3,\)"):
        fgsm.fgsm(X, y, W, b[:2], 0.1)
    with pytest.raises(ValueError, match="W must be 2-d"):
        fgsm.targeted_example(0, W[:, 0], b)
    with pytest.raises(ValueError, match=r"integer labels in 0..2"):
        fgsm.input_gradient(X, np.array([0, 1, 2, 3, 0]), W, b)
    with pytest.raises(ValueError, match=r"integer labels in 0..2"):
        fgsm.input_gradient(X, y.astype(float), W, b)


@pytest.mark.parametrize("eps", [-0.1, np.nan, "0.1"])
def test_fgsm_rejects_a_bad_eps(eps):
    X, y, W, b = random_problem(13, 5, 4, 3)
    with pytest.raises(ValueError, match="eps must be a finite number >= 0"):
        fgsm.fgsm(X, y, W, b, eps)


@pytest.mark.parametrize("kwargs, match", [
    ({"target": 3}, r"target must be a class in 0..2"),
    ({"target": -1}, r"target must be a class in 0..2"),
    ({"target": 1.0}, r"target must be a class in 0..2"),
    ({"target": 0, "eta": 0.0}, "eta must be a finite number > 0"),
    ({"target": 0, "iters": -1}, "iters must be an integer >= 0"),
    ({"target": 0, "iters": 2.5}, "iters must be an integer >= 0"),
])
def test_targeted_example_rejects_bad_arguments(kwargs, match):
    _, _, W, b = random_problem(14, 1, 4, 3)
    with pytest.raises(ValueError, match=match):
        fgsm.targeted_example(W=W, b=b, **kwargs)


@pytest.mark.parametrize("alpha, match", [
    (-0.1, r"alpha must be a number in \[0, 1\]"),
    (1.5, r"alpha must be a number in \[0, 1\]"),
    (np.nan, r"alpha must be a number in \[0, 1\]"),
    ("0.5", r"alpha must be a number in \[0, 1\]"),
])
def test_blend_rejects_a_bad_alpha(alpha, match):
    with pytest.raises(ValueError, match=match):
        fgsm.blend(np.zeros((2, 3)), np.zeros(3), alpha)


def test_blend_rejects_shapes_that_do_not_match():
    with pytest.raises(ValueError, match=r"example must have shape \(3,\)"):
        fgsm.blend(np.zeros((2, 3)), np.zeros(4), 0.5)
    with pytest.raises(ValueError, match=r"example must have shape \(3,\)"):
        fgsm.blend(np.zeros((2, 3)), np.zeros((1, 3)), 0.5)
    with pytest.raises(ValueError, match="X must be 2-d"):
        fgsm.blend(np.zeros(3), np.zeros(3), 0.5)
