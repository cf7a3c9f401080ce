"""Tests for lib.distillation against independent oracles.

The oracles are autograd's gradients of the distillation objective written here with
``autograd.numpy``, central finite differences in float64 (by hand, and with
``scipy.differentiate.jacobian`` as the notebook's check does), scikit-learn's
``log_loss`` for the loss, a gradient-descent step written here from the documented
algorithm, held-out accuracy on scikit-learn's digits, and for ``f1_micro``
scikit-learn's ``f1_score(average="micro")`` and ``accuracy_score``. Every
assertion states its tolerance.
"""

import numbers

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.scipy.special import logsumexp
from scipy.differentiate import jacobian
from scipy.special import softmax
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss

from lib import distillation as dd
from lib.data import load_digits, split


def objective(xd, eta, yd, theta0, X, y):
    """The distillation loss in autograd.numpy: one step on (xd, yd), then the mean
    cross-entropy on (X, y), written from the formula without lib."""
    k = theta0.shape[1]
    z0 = anp.dot(xd, theta0)
    p0 = anp.exp(z0 - logsumexp(z0, axis=1, keepdims=True))
    theta1 = theta0 - eta * anp.dot(xd.T, p0 - np.eye(k)[yd]) / xd.shape[0]
    z1 = anp.dot(X, theta1)
    return anp.mean(logsumexp(z1, axis=1) - z1[np.arange(len(y)), y])


def problem(seed, m, d, k, n, theta_scale=1.0):
    """Random distilled set, step size, initialisation and real batch."""
    rng = np.random.default_rng(seed)
    xd = rng.normal(size=(m, d))
    yd = rng.integers(0, k, size=m)
    eta = float(rng.uniform(0.2, 3.0))
    theta0 = rng.normal(scale=theta_scale, size=(d, k))
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, size=n)
    return xd, yd, eta, theta0, X, y


PROBLEMS = [(0, 10, 8, 10, 40), (1, 4, 5, 3, 17), (2, 7, 12, 2, 9), (3, 1, 3, 4, 5)]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    return split(X, y, 0.25, rng=0)


# --- initial_theta and one_step ---------------------------------------------------


def test_initial_theta_is_fixed_and_scaled():
    a = dd.initial_theta(64, 10)
    np.testing.assert_array_equal(a, dd.initial_theta(64, 10))  # exact: same seed
    assert a.shape == (64, 10) and a.dtype == np.float64
    assert not np.array_equal(a, dd.initial_theta(64, 10, seed=1))
    # The standard deviation 1/8 within 15% (640 draws).
    assert abs(np.std(a) - 1 / 8) < 0.15 / 8


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_initial_theta_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="n_classes must be"):
        dd.initial_theta(5, bad)


def test_one_step_is_a_gradient_step_on_the_mean_cross_entropy():
    """Is one_step theta0 minus eta times autograd's gradient of the mean loss?"""
    xd, yd, eta, theta0, _, _ = problem(4, 6, 5, 3, 1)

    def mean_loss(theta):
        z = anp.dot(xd, theta)
        return anp.mean(logsumexp(z, axis=1) - z[np.arange(len(yd)), yd])

    # rtol 1e-12: the same float64 arithmetic up to rounding.
    np.testing.assert_allclose(dd.one_step(xd, yd, eta, theta0),
                               theta0 - eta * grad(mean_loss)(theta0), rtol=1e-12,
                               atol=1e-14)


def test_one_step_does_not_mutate_its_inputs():
    xd, yd, eta, theta0, _, _ = problem(9, 4, 5, 3, 1)
    copies = [np.copy(a) for a in (xd, yd, theta0)]
    theta1 = dd.one_step(xd, yd, eta, theta0)
    for before, after in zip(copies, (xd, yd, theta0), strict=True):
        np.testing.assert_array_equal(after, before)
    assert theta1.shape == theta0.shape and not np.shares_memory(theta1, theta0)


@pytest.mark.parametrize("change, match", [
    ({"xd": np.zeros((3, 4))}, r"xd must be a non-empty 2-d array of shape \(n, 5\)"),
    ({"yd": np.array([0, 3, 1, 1])}, r"yd must hold labels in 0\.\.2"),
    ({"eta": np.nan}, "eta must be a finite number"),
    ({"theta0": np.zeros(5)}, "theta0 must be 2-d"),
])
def test_one_step_rejects_bad_inputs(change, match):
    xd, yd, eta, theta0, _, _ = problem(10, 4, 5, 3, 1)
    args = {"xd": xd, "yd": yd, "eta": eta, "theta0": theta0} | change
    with pytest.raises(ValueError, match=match):
        dd.one_step(**args)


# --- distill_grads ----------------------------------------------------------------


@pytest.mark.parametrize("seed, m, d, k, n", PROBLEMS)
def test_distill_grads_loss_matches_sklearn_log_loss(seed, m, d, k, n):
    xd, yd, eta, theta0, X, y = problem(seed, m, d, k, n)
    theta1 = theta0 - eta * xd.T @ (softmax(xd @ theta0, axis=1) - np.eye(k)[yd]) / m
    expected = log_loss(y, softmax(X @ theta1, axis=1), labels=np.arange(k))
    loss, _, _ = dd.distill_grads(xd, yd, eta, theta0, X, y)
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, expected, rtol=1e-10)  # log_loss clips at 1e-15


@pytest.mark.parametrize("seed, m, d, k, n", PROBLEMS)
def test_distill_grads_matches_autograd(seed, m, d, k, n):
    xd, yd, eta, theta0, X, y = problem(seed, m, d, k, n)
    loss, grad_xd, grad_eta = dd.distill_grads(xd, yd, eta, theta0, X, y)
    np.testing.assert_allclose(loss, objective(xd, eta, yd, theta0, X, y), rtol=1e-12)
    want_xd = grad(objective, 0)(xd, eta, yd, theta0, X, y)
    want_eta = grad(objective, 1)(xd, eta, yd, theta0, X, y)
    assert grad_xd.shape == xd.shape
    assert isinstance(grad_eta, float)
    # rtol 1e-8; atol 1e-12 times the largest entry for entries that are nearly 0.
    np.testing.assert_allclose(grad_xd, want_xd, rtol=1e-8,
                               atol=1e-12 * np.max(np.abs(want_xd)))
    np.testing.assert_allclose(grad_eta, want_eta, rtol=1e-8)


@pytest.mark.parametrize("seed, m, d, k, n", PROBLEMS[:3])
def test_distill_grads_matches_central_finite_differences(seed, m, d, k, n):
    """Are the gradients the derivatives of the returned loss itself?"""
    xd, yd, eta, theta0, X, y = problem(seed, m, d, k, n)
    _, grad_xd, grad_eta = dd.distill_grads(xd, yd, eta, theta0, X, y)

    def loss(xd_, eta_):
        return dd.distill_grads(xd_, yd, eta_, theta0, X, y)[0]

    h = 1e-6
    fd_xd = np.empty_like(xd)
    for index in np.ndindex(xd.shape):
        step = np.zeros_like(xd)
        step[index] = h
        fd_xd[index] = (loss(xd + step, eta) - loss(xd - step, eta)) / (2 * h)
    fd_eta = (loss(xd, eta + h) - loss(xd, eta - h)) / (2 * h)
    # rtol 1e-6 (truncation error ~h^2, rounding ~1e-16/h); atol 1e-8 for ~0 entries.
    np.testing.assert_allclose(grad_xd, fd_xd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_eta, fd_eta, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed, m, d, k, n", PROBLEMS[:2])
def test_the_notebooks_library_check_meets_its_tolerance(seed, m, d, k, n):
    """Do log_loss of one_step and scipy.differentiate.jacobian (fourth-order central
    differences, the settings of the notebook's check) agree with distill_grads well
    within the notebook's tolerance 1e-6?"""
    xd, yd, eta, theta0, X, y = problem(seed, m, d, k, n)
    loss, grad_xd, grad_eta = dd.distill_grads(xd, yd, eta, theta0, X, y)

    def library_loss(params):
        theta1 = dd.one_step(params[:-1].reshape(xd.shape), yd, params[-1], theta0)
        return log_loss(y, softmax(X @ theta1, axis=1), labels=np.arange(k))

    def vectorised(params):
        return np.apply_along_axis(library_loss, 0, params)

    start = np.append(xd.ravel(), eta)
    result = jacobian(vectorised, start, order=4, initial_step=0.01)
    fd_xd, fd_eta = result.df[:-1].reshape(xd.shape), result.df[-1]
    # 1e-8: a margin of 100 under the notebook's tolerance (observed ~1e-11).
    np.testing.assert_allclose(loss, library_loss(start), rtol=1e-8)
    assert np.max(np.abs(grad_xd - fd_xd)) <= 1e-8 * np.max(np.abs(fd_xd))
    np.testing.assert_allclose(grad_eta, fd_eta, rtol=1e-8)


def test_distill_grads_follows_the_path_through_the_inner_softmax():
    """Is the term through softmax(xd @ theta0) there, and as large as it should be?

    With theta0 = 0 that term vanishes; with a large theta0 it is a sizeable part of
    the gradient, so a gradient without it is far from autograd's."""
    xd, yd, eta, theta0, X, y = problem(5, 6, 7, 4, 30, theta_scale=2.0)
    _, grad_xd, _ = dd.distill_grads(xd, yd, eta, theta0, X, y)
    # The direct term alone: r0 and the outer gradient a held fixed.
    m, n, k = len(xd), len(X), theta0.shape[1]
    r0 = softmax(xd @ theta0, axis=1) - np.eye(k)[yd]
    theta1 = theta0 - eta * xd.T @ r0 / m
    a = X.T @ (softmax(X @ theta1, axis=1) - np.eye(k)[y]) / n
    direct = -eta * r0 @ a.T / m
    assert np.max(np.abs(grad_xd - direct)) > 0.1 * np.max(np.abs(grad_xd))
    zero = np.zeros_like(theta0)
    _, grad_zero, _ = dd.distill_grads(xd, yd, eta, zero, X, y)
    r0 = softmax(xd @ zero, axis=1) - np.eye(k)[yd]
    a = X.T @ (softmax(X @ (-eta * xd.T @ r0 / m), axis=1) - np.eye(k)[y]) / n
    np.testing.assert_allclose(grad_zero, -eta * r0 @ a.T / m, rtol=1e-10, atol=1e-14)


def test_distill_grads_at_eta_zero():
    """At eta = 0 the model is theta0: loss of theta0, no gradient for xd."""
    xd, yd, _, theta0, X, y = problem(6, 5, 4, 3, 20)
    loss, grad_xd, grad_eta = dd.distill_grads(xd, yd, 0.0, theta0, X, y)
    expected = log_loss(y, softmax(X @ theta0, axis=1), labels=np.arange(3))
    np.testing.assert_allclose(loss, expected, rtol=1e-10)
    np.testing.assert_array_equal(grad_xd, 0.0)  # exact: every term has a factor eta
    assert grad_eta != 0.0


def test_distill_grads_does_not_mutate_its_inputs():
    args = problem(7, 4, 5, 3, 12)
    copies = [np.copy(a) for a in args]
    dd.distill_grads(*args)
    for before, after in zip(copies, args, strict=True):
        np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("change, match", [
    ({"xd": np.zeros((3, 4))}, r"xd must be a non-empty 2-d array of shape \(n, 5\)"),
    ({"yd": np.array([0, 1])}, r"yd must have shape \(4,\)"),
    ({"y": np.full(12, 3)}, r"y must hold labels in 0\.\.2"),
    ({"eta": np.inf}, "eta must be a finite number"),
    ({"theta0": np.zeros(5)}, "theta0 must be 2-d"),
])
def test_distill_grads_rejects_bad_inputs(change, match):
    xd, yd, eta, theta0, X, y = problem(8, 4, 5, 3, 12)
    args = {"xd": xd, "yd": yd, "eta": eta, "theta0": theta0, "X": X, "y": y} | change
    with pytest.raises(ValueError, match=match):
        dd.distill_grads(**args)


# --- dataset_distill --------------------------------------------------------------


def heldout(xd, eta, X, y):
    """Loss and accuracy on (X, y) of one step on (xd, arange(k)) from theta0."""
    k = len(xd)
    theta1 = dd.one_step(xd, np.arange(k), eta, dd.initial_theta(X.shape[1], k))
    proba = softmax(X @ theta1, axis=1)
    return log_loss(y, proba, labels=np.arange(k)), np.mean(proba.argmax(1) == y)


def test_dataset_distill_takes_the_documented_steps(digits):
    """Do two steps match gradient descent written here from the docstring?"""
    X, y, _, _ = digits
    X, y = X[:300], y[:300]
    alpha, eta0 = 0.7, 4.0
    xd, eta = dd.dataset_distill(X, y, steps=2, alpha=alpha, eta0=eta0, rng=11)
    rng = np.random.default_rng(11)
    want = rng.normal(scale=dd.INIT_SCALE, size=(10, 64))
    want_eta = eta0
    theta0 = dd.initial_theta(64, 10)
    for _ in range(2):
        rows = rng.choice(300, size=dd.BATCH_SIZE, replace=False)
        want_x = want
        want = want - alpha * grad(objective, 0)(want_x, want_eta, np.arange(10),
                                                  theta0, X[rows], y[rows])
        want_eta = want_eta - alpha * grad(objective, 1)(want_x, want_eta,
                                                         np.arange(10), theta0,
                                                         X[rows], y[rows])
    assert isinstance(eta, float)
    # rtol 1e-8: autograd's gradients, the same draws of the same generator.
    np.testing.assert_allclose(xd, want, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(eta, want_eta, rtol=1e-8)


def test_dataset_distill_with_no_steps_returns_the_start(digits):
    X, y, _, _ = digits
    xd, eta = dd.dataset_distill(X, y, steps=0, eta0=2.5, rng=3)
    np.testing.assert_array_equal(
        xd, np.random.default_rng(3).normal(scale=dd.INIT_SCALE, size=(10, 64)))
    assert eta == 2.5


def test_dataset_distill_is_deterministic_for_a_seed(digits):
    X, y, _, _ = digits
    a = dd.dataset_distill(X, y, steps=20, rng=5)
    b = dd.dataset_distill(X, y, steps=20, rng=np.random.default_rng(5))
    c = dd.dataset_distill(X, y, steps=20, rng=6)
    np.testing.assert_array_equal(a[0], b[0])  # exact: the same draws
    assert a[1] == b[1]
    assert not np.array_equal(a[0], c[0])


def test_dataset_distill_reaches_the_quality_target_on_digits(digits):
    """Do ten distilled images give >= 90% test accuracy, far above one real image
    per class (the target of the assignment)?"""
    X_train, y_train, X_test, y_test = digits
    start_loss, _ = heldout(np.zeros((10, 64)), 0.0, X_test, y_test)
    xd, eta = dd.dataset_distill(X_train, y_train, rng=0)
    assert xd.shape == (10, 64) and np.all(np.isfinite(xd))
    assert isinstance(eta, numbers.Real) and eta > 10.0  # eta0 = 10 is learned up
    loss, accuracy = heldout(xd, eta, X_test, y_test)
    assert accuracy >= 0.90, accuracy
    assert loss < 0.25 * start_loss, (loss, start_loss)
    # One real image per class, with the best of many step sizes on the test set.
    rng = np.random.default_rng(0)
    real = np.array([X_train[rng.choice(np.flatnonzero(y_train == c))]
                     for c in range(10)])
    best = max(heldout(real, e, X_test, y_test)[1] for e in np.geomspace(0.1, 1e3, 25))
    assert accuracy > best + 0.3, (accuracy, best)


def test_dataset_distill_with_fewer_classes(digits):
    X, y, X_test, y_test = digits
    keep, keep_test = y < 3, y_test < 3
    xd, eta = dd.dataset_distill(X[keep], y[keep], n_classes=3, steps=100, alpha=0.3,
                                 rng=1)
    assert xd.shape == (3, 64)
    _, accuracy = heldout(xd, eta, X_test[keep_test], y_test[keep_test])
    assert accuracy > 0.95, accuracy


@pytest.mark.parametrize("kwargs, match", [
    ({"n_classes": 1}, "n_classes must be >= 2"),
    ({"steps": -1}, "steps must be an integer >= 0"),
    ({"alpha": 0.0}, "alpha must be a finite number > 0"),
    ({"eta0": np.nan}, "eta0 must be a finite number"),
    ({"n_classes": 5}, r"y must hold labels in 0\.\.4"),
])
def test_dataset_distill_rejects_bad_arguments(digits, kwargs, match):
    X, y, _, _ = digits
    with pytest.raises(ValueError, match=match):
        dd.dataset_distill(X, y, **kwargs)


# --- f1_micro ---------------------------------------------------------------------


@pytest.mark.parametrize("seed, n, k, right", [(0, 500, 10, 0.7), (1, 40, 2, 0.5),
                                               (2, 300, 4, 0.2), (3, 7, 3, 0.0)])
def test_f1_micro_matches_sklearn(seed, n, k, right):
    """Is it scikit-learn's micro F1, and the accuracy, of the same predictions?"""
    rng = np.random.default_rng(seed)
    y = rng.choice(k, size=n, p=np.arange(1, k + 1) / (k * (k + 1) / 2))  # unequal
    pred = np.where(rng.uniform(size=n) < right, y, rng.integers(0, k, size=n))
    confusion = confusion_matrix(y, pred, labels=np.arange(k))
    got = dd.f1_micro(confusion)
    assert isinstance(got, float)
    # rtol 1e-12: the same counts, divided in another order.
    np.testing.assert_allclose(got, f1_score(y, pred, average="micro"), rtol=1e-12)
    np.testing.assert_allclose(got, accuracy_score(y, pred), rtol=1e-12)
    macro = f1_score(y, pred, average="macro", zero_division=0.0)
    assert right == 0.0 or abs(got - macro) > 1e-3  # the cases tell micro from macro


def test_f1_micro_of_weighted_counts_matches_sklearn():
    rng = np.random.default_rng(4)
    y, pred = rng.integers(0, 5, size=200), rng.integers(0, 5, size=200)
    weight = rng.uniform(0.1, 3.0, size=200)
    confusion = confusion_matrix(y, pred, labels=np.arange(5), sample_weight=weight)
    # rtol 1e-12: float counts summed in another order.
    np.testing.assert_allclose(dd.f1_micro(confusion),
                               f1_score(y, pred, average="micro",
                                        sample_weight=weight), rtol=1e-12)


def test_f1_micro_of_perfect_and_of_all_wrong_predictions():
    assert dd.f1_micro(np.diag([3, 1, 4])) == 1.0  # exact
    assert dd.f1_micro(np.array([[0, 2], [5, 0]])) == 0.0  # exact
    assert dd.f1_micro(np.array([[12]])) == 1.0  # one class
    assert dd.f1_micro([[90, 10], [0, 0]]) == 0.9  # a class never true; a list


def test_f1_micro_does_not_modify_its_argument():
    confusion = np.array([[5, 1], [2, 3]])
    dd.f1_micro(confusion)
    np.testing.assert_array_equal(confusion, [[5, 1], [2, 3]])


@pytest.mark.parametrize("confusion, match", [
    (np.ones((2, 3)), r"square 2-d array of shape \(k, k\), got shape \(2, 3\)"),
    (np.ones(4), r"square 2-d array"),
    (np.array([[1, -1], [0, 2]]), "finite counts >= 0"),
    (np.array([[1.0, np.nan], [0.0, 2.0]]), "finite counts >= 0"),
    (np.zeros((3, 3)), "counts no example"),
    (np.array([["a", "b"], ["c", "d"]]), "must hold counts"),
])
def test_f1_micro_rejects_what_is_not_a_confusion_matrix(confusion, match):
    with pytest.raises(ValueError, match=match):
        dd.f1_micro(confusion)


def train_from_zero(images, epochs, lr=1.0):
    """The notebook's training: full-batch gradient descent from zero weights on
    (images, 0..9), the gradient of the mean cross-entropy written here;
    the weights after every epoch."""
    theta, labels, out = np.zeros((images.shape[1], 10)), np.eye(10), []
    for _ in range(epochs):
        theta = theta - lr * images.T @ (softmax(images @ theta, axis=1) - labels) / 10
        out.append(theta)
    return out


def test_training_longer_on_the_distilled_images(digits):
    """What the notebook's section 8 and its written answer say: both models fit
    their ten images from the first epoch; after 300 epochs the distilled images
    give a far better micro F1 than one real image per class, but less than after
    the first epoch, most of the fall within the first few dozen epochs."""
    X_train, y_train, X_test, y_test = digits
    xd, _ = dd.dataset_distill(X_train, y_train, steps=1000, rng=0)
    rng = np.random.default_rng(1)  # the draws of the notebook's real images
    real = np.array([X_train[rng.choice(np.flatnonzero(y_train == c))]
                     for c in range(10)])
    scores = {}
    for name, images in (("distilled", xd), ("real", real)):
        thetas = train_from_zero(images, 300)
        assert np.array_equal(np.argmax(images @ thetas[0], axis=1), np.arange(10))
        scores[name] = [dd.f1_micro(confusion_matrix(
            y_test, np.argmax(X_test @ t, axis=1), labels=np.arange(10)))
            for t in thetas]
    distilled, real = np.array(scores["distilled"]), np.array(scores["real"])
    assert distilled[-1] > real[-1] + 0.2, (distilled[-1], real[-1])
    assert distilled[0] > distilled[-1] + 0.03
    assert distilled[0] - distilled[50] > 0.8 * (distilled[0] - distilled[-1])
    assert real.max() < 0.7
