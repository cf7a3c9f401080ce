"""Tests for lib.logistic against independent oracles.

The oracles are SciPy's ``expit``, scikit-learn's ``log_loss`` and
``LogisticRegression``, autograd's gradients of a numerically stable loss and of
the summed BCE, central finite differences, manual gradient-descent steps and a
pixel-by-pixel loop written here. Every assertion states its tolerance.
"""

import re
import warnings

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from lib import logistic
from lib.data import add_intercept, two_gaussians

N_POINTS = 200
GD_ETA = 1.0
GD_ITERS = 5000
# lbfgs at tol=1e-12 and 5000 steps of gradient descent both land within ~5e-8 of
# the minimizer on this data; 1e-6 leaves a margin of 20.
COEF_ATOL = 1e-6


@pytest.fixture(scope="module")
def gaussians():
    """Two overlapping Gaussian blobs: features (n, 2), the same with intercept, y."""
    X, y = two_gaussians(N_POINTS, distance=3.0, rng=0)
    return X, add_intercept(X), y


@pytest.fixture(scope="module", params=[0.01, 0.1], ids=lambda a: f"alpha={a}")
def fitted(request, gaussians):
    """Gradient descent and scikit-learn fitted on the same penalized objective."""
    alpha = request.param
    X, X1, y = gaussians
    theta, losses = logistic.logistic_regression(
        X1, y, eta=GD_ETA, iters=GD_ITERS, alpha=alpha
    )
    # sklearn minimizes C * sum(log-loss) + ||w||^2 / 2 with an unpenalized
    # intercept; divided by C * n this is mean BCE + alpha/2 ||w||^2 when
    # C = 1 / (alpha * n).
    model = LogisticRegression(C=1.0 / (alpha * len(y)), tol=1e-12, max_iter=10000)
    model.fit(X, y)
    sk_theta = np.concatenate([model.intercept_, model.coef_[0]])
    return {"alpha": alpha, "theta": theta, "losses": losses, "model": model,
            "sk_theta": sk_theta}


def random_problem(seed, n, d):
    """Design matrix with an intercept column, theta and 0/1 labels."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), 2.0 * rng.standard_normal((n, d - 1))])
    theta = rng.standard_normal(d)
    y = rng.integers(0, 2, size=n)
    return X, theta, y


def stable_loss_np(theta, X, y, alpha):
    """Mean BCE of sigmoid(X @ theta) in log-sigmoid form, plus the L2 penalty."""
    t = X @ theta
    return np.mean(np.logaddexp(0.0, t) - y * t) + 0.5 * alpha * theta[1:] @ theta[1:]


def stable_loss_ag(theta, X, y, alpha):
    """The same loss written with autograd.numpy, for automatic differentiation."""
    t = anp.dot(X, theta)
    penalty = 0.5 * alpha * anp.sum(theta[1:] ** 2)
    return anp.mean(anp.logaddexp(0.0, t) - y * t) + penalty


PROBLEMS = [  # (seed, n, d, alpha)
    (0, 20, 2, 0.0),
    (1, 50, 4, 0.3),
    (2, 7, 6, 2.0),
    (3, 100, 3, 0.01),
    (4, 33, 5, 0.0),
]


# --- sigmoid ---------------------------------------------------------------------


def test_sigmoid_matches_expit_over_a_wide_range_without_warnings():
    """Is sigmoid right up to |z| = 1e4, with no overflow warning and no NaN?"""
    z = np.concatenate([
        [-1e4, -1000.0, -800.0, -745.0, -740.0, -709.0, -40.0],
        np.linspace(-50.0, 50.0, 1001),
        [40.0, 709.0, 740.0, 745.0, 800.0, 1000.0, 1e4],
    ])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise",
                                                divide="raise"):
        warnings.simplefilter("error")
        out = logistic.sigmoid(z)
    assert out.shape == z.shape
    assert np.all(np.isfinite(out))
    assert np.all((out >= 0.0) & (out <= 1.0))
    # rtol 1e-12; atol 1e-300 covers the subnormal results near z = -740.
    np.testing.assert_allclose(out, expit(z), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("z, expected", [(-1000.0, 0.0), (1000.0, 1.0),
                                         (-1e4, 0.0), (1e4, 1.0)])
def test_sigmoid_saturates_at_extreme_scalars_without_warnings(z, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = logistic.sigmoid(z)
    assert out == expected  # exact: the float64 results round to 0 and 1


@pytest.mark.parametrize("z", [0.0, 2.5, -3, np.float64(1.0), np.array(-0.5)])
def test_sigmoid_of_a_scalar_is_a_scalar(z):
    out = logistic.sigmoid(z)
    assert np.ndim(out) == 0
    assert isinstance(out, float)
    np.testing.assert_allclose(out, expit(float(z)), rtol=1e-15)


@pytest.mark.parametrize("shape", [(3, 4), (2, 1, 5), (0,), (1,)])
def test_sigmoid_preserves_the_shape_of_arrays(shape):
    z = np.random.default_rng(5).normal(scale=10.0, size=shape)
    out = logistic.sigmoid(z)
    assert isinstance(out, np.ndarray) and out.shape == shape
    np.testing.assert_allclose(out, expit(z), rtol=1e-12, atol=1e-300)


def test_sigmoid_does_not_modify_its_input():
    z = np.array([-1000.0, 0.0, 3.0])
    before = z.copy()
    logistic.sigmoid(z)
    np.testing.assert_array_equal(z, before)


# --- binary_cross_entropy ----------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_cross_entropy_matches_sklearn_log_loss(seed):
    rng = np.random.default_rng(seed)
    output = rng.uniform(0.01, 0.99, size=64)
    target = rng.integers(0, 2, size=64)
    got = logistic.binary_cross_entropy(output, target)
    assert isinstance(got, float)
    expected = log_loss(target, output, labels=[0, 1])
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_binary_cross_entropy_of_certain_wrong_predictions_is_minus_log_eps():
    """Is the loss finite, about -log(eps), when the output is exactly 0 or 1?"""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = logistic.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1, 0]))
    assert np.isfinite(got)
    # rtol 1e-4: 1 - 1e-15 rounds to 1 - 9.992e-16 in float64.
    np.testing.assert_allclose(got, -np.log(1e-15), rtol=1e-4)


def test_binary_cross_entropy_of_certain_right_predictions_is_about_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = logistic.binary_cross_entropy(np.array([1.0, 0.0]), np.array([1, 0]))
    assert 0.0 <= got <= 1e-12  # atol 1e-12: the clipped loss is ~1e-15


@pytest.mark.parametrize("eps", [1e-3, 1e-6, 1e-10])
def test_binary_cross_entropy_clips_probabilities_at_eps(eps):
    """Is eps honoured: outputs beyond [eps, 1 - eps] cost exactly -log(eps)?"""
    low = logistic.binary_cross_entropy(np.array([0.0, eps / 10]), np.array([1, 1]),
                                        eps=eps)
    np.testing.assert_allclose(low, -np.log(eps), rtol=1e-12)
    high = logistic.binary_cross_entropy(np.array([1.0, 1.0 - eps / 10]),
                                         np.array([0, 0]), eps=eps)
    # 1 - eps is rounded to float64 before log1p(-p): a relative error up to
    # 1.1e-16 / eps in the argument, hence rtol 1e-15 / eps.
    np.testing.assert_allclose(high, -np.log(eps), rtol=1e-15 / eps)


def test_binary_cross_entropy_ignores_eps_inside_the_clip_range():
    output = np.array([0.2, 0.7, 0.4])
    target = np.array([1, 1, 0])
    expected = -np.mean(np.log([0.2, 0.7, 0.6]))
    for eps in (1e-15, 1e-3, 0.1):
        got = logistic.binary_cross_entropy(output, target, eps=eps)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


# --- loss and loss_grad ------------------------------------------------------------


@pytest.mark.parametrize("seed, n, d, alpha", PROBLEMS)
def test_loss_matches_the_stable_log_sigmoid_form(seed, n, d, alpha):
    X, theta, y = random_problem(seed, n, d)
    got = logistic.loss(theta, X, y, alpha)
    np.testing.assert_allclose(got, stable_loss_np(theta, X, y, alpha), rtol=1e-10)


@pytest.mark.parametrize("seed, n, d, alpha", PROBLEMS)
def test_loss_grad_matches_autograd(seed, n, d, alpha):
    X, theta, y = random_problem(seed, n, d)
    expected = grad(stable_loss_ag)(theta, X, y.astype(float), alpha)
    got = logistic.loss_grad(theta, X, y, alpha)
    assert got.shape == (d,)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed, n, d, alpha", PROBLEMS)
def test_loss_grad_matches_central_finite_differences_of_loss(seed, n, d, alpha):
    """Is loss_grad the derivative of the reference loss itself?"""
    X, theta, y = random_problem(seed, n, d)
    h = 1e-6
    fd = np.empty(d)
    for j in range(d):
        step = np.zeros(d)
        step[j] = h
        fd[j] = (logistic.loss(theta + step, X, y, alpha)
                 - logistic.loss(theta - step, X, y, alpha)) / (2 * h)
    got = logistic.loss_grad(theta, X, y, alpha)
    # rtol 1e-6; atol 1e-8 only matters for a component that happens to be ~0.
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("alpha", [0.5, 3.0])
def test_loss_grad_does_not_regularize_the_bias(alpha):
    X, theta, y = random_problem(7, 40, 4)
    plain = logistic.loss_grad(theta, X, y, 0.0)
    penalized = logistic.loss_grad(theta, X, y, alpha)
    assert penalized[0] == plain[0]  # exact: no alpha term on the bias
    np.testing.assert_allclose(penalized[1:] - plain[1:], alpha * theta[1:],
                               rtol=1e-12, atol=1e-15)


def test_loss_grad_does_not_mutate_theta_or_the_data():
    X, theta, y = random_problem(8, 30, 4)
    copies = theta.copy(), X.copy(), y.copy()
    out = logistic.loss_grad(theta, X, y, alpha=1.0)
    assert out is not theta and not np.shares_memory(out, theta)
    for before, after in zip(copies, (theta, X, y), strict=True):
        np.testing.assert_array_equal(after, before)


# --- logistic_regression ------------------------------------------------------------


def test_logistic_regression_matches_sklearn_coefficients(fitted):
    """Does gradient descent reach sklearn's minimizer of the same objective?"""
    assert fitted["theta"].shape == (3,)
    assert fitted["losses"].shape == (GD_ITERS,)
    diff = np.max(np.abs(fitted["theta"] - fitted["sk_theta"]))
    assert diff < COEF_ATOL, f"max abs coefficient difference {diff:.2e}"


def test_logistic_regression_final_loss_matches_sklearn_objective(fitted, gaussians):
    """Is the last recorded loss sklearn's objective divided by C * n?"""
    X, X1, y = gaussians
    model, alpha = fitted["model"], fitted["alpha"]
    C, n = model.C, len(y)
    w = model.coef_[0]
    p = model.predict_proba(X)[:, 1]
    objective = C * np.sum(-(y * np.log(p) + (1 - y) * np.log1p(-p))) + 0.5 * w @ w
    np.testing.assert_allclose(fitted["losses"][-1], objective / (C * n), rtol=1e-9)
    np.testing.assert_allclose(
        fitted["losses"][-1], logistic.loss(fitted["theta"], X1, y, alpha), rtol=1e-15
    )


@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_logistic_regression_losses_are_the_losses_after_each_manual_step(
    gaussians, alpha
):
    """Is losses[i] the loss of theta after step i, re-derived step by step?"""
    _, X1, y = gaussians
    eta, iters = 0.5, 60
    theta, losses = logistic.logistic_regression(X1, y, eta=eta, iters=iters,
                                                 alpha=alpha)
    manual = np.zeros(X1.shape[1])
    for i in range(iters):
        g = X1.T @ (expit(X1 @ manual) - y) / len(y)
        g[1:] += alpha * manual[1:]
        manual = manual - eta * g
        # rtol 1e-10: oracle loss in log-sigmoid form, oracle steps with expit.
        np.testing.assert_allclose(losses[i], stable_loss_np(manual, X1, y, alpha),
                                   rtol=1e-10, err_msg=f"step {i}")
        np.testing.assert_allclose(losses[i], logistic.loss(manual, X1, y, alpha),
                                   rtol=1e-10, err_msg=f"step {i}")
    np.testing.assert_allclose(theta, manual, rtol=1e-10)


@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.1])
def test_logistic_regression_losses_strictly_decrease_with_a_small_step(
    gaussians, alpha
):
    _, X1, y = gaussians
    _, losses = logistic.logistic_regression(X1, y, eta=0.1, iters=1000, alpha=alpha)
    assert np.all(np.diff(losses) < 0)
    assert losses[0] < np.log(2)  # below the loss at the starting point theta = 0


@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_logistic_regression_starts_from_zero(gaussians, alpha):
    """Does one step give -eta * loss_grad(0), whatever alpha is?"""
    _, X1, y = gaussians
    eta = 0.3
    theta, losses = logistic.logistic_regression(X1, y, eta=eta, iters=1, alpha=alpha)
    # At theta = 0 every probability is 1/2 and the penalty gradient vanishes.
    expected = -eta * X1.T @ (0.5 - y) / len(y)
    # rtol 1e-12; atol 1e-15 because the bias step is 0 up to rounding (balanced y).
    np.testing.assert_allclose(theta, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(
        theta, -eta * logistic.loss_grad(np.zeros(3), X1, y, alpha)
    )  # exact: the same arithmetic
    assert losses.shape == (1,)
    np.testing.assert_allclose(losses[0], stable_loss_np(theta, X1, y, alpha),
                               rtol=1e-10)


def test_logistic_regression_with_no_steps_returns_zeros(gaussians):
    _, X1, y = gaussians
    theta, losses = logistic.logistic_regression(X1, y, iters=0)
    np.testing.assert_array_equal(theta, np.zeros(3))
    assert losses.shape == (0,)


# --- predict ---------------------------------------------------------------------


def test_predict_gives_integer_labels_where_the_probability_is_at_least_half():
    X, theta, _ = random_problem(9, 500, 4)
    labels = logistic.predict(X, theta)
    assert np.issubdtype(labels.dtype, np.integer)
    assert labels.shape == (500,)
    # Exact; the data keep |X @ theta| far from 0, where rounding could matter.
    assert np.min(np.abs(X @ theta)) > 1e-6
    np.testing.assert_array_equal(labels, (expit(X @ theta) >= 0.5).astype(int))
    np.testing.assert_array_equal(
        labels, (logistic.sigmoid(X @ theta) >= 0.5).astype(int)
    )


def test_predict_is_one_on_the_decision_boundary():
    """Is a point with logit exactly 0 (probability exactly 1/2) labelled 1?"""
    theta = np.array([1.0, -2.0, 0.5])
    X = np.array([
        [1.0, 0.5, 0.0],     # logit 0 exactly
        [1.0, 1.0, 2.0],     # logit 0 exactly
        [1.0, 0.75, 0.0],    # logit -0.5
        [1.0, 0.25, 0.0],    # logit +0.5
    ])
    assert np.all((X @ theta)[:2] == 0.0)
    labels = logistic.predict(X, theta)
    assert np.issubdtype(labels.dtype, np.integer)
    np.testing.assert_array_equal(labels, [1, 1, 0, 1])


def test_predict_agrees_with_sklearn_on_the_fitted_model(fitted, gaussians):
    X, X1, _ = gaussians
    expected = fitted["model"].predict(X)
    np.testing.assert_array_equal(logistic.predict(X1, fitted["sk_theta"]), expected)
    np.testing.assert_array_equal(logistic.predict(X1, fitted["theta"]), expected)


# --- decision_boundary -------------------------------------------------------------


@pytest.mark.parametrize("theta", [
    np.array([-3.2, 1.6, 1.5]),
    np.array([0.4, -2.0, 0.25]),
    np.array([1.0, 0.0, -4.0]),
])
def test_decision_boundary_points_have_zero_logit(theta):
    intercept, slope = logistic.decision_boundary(theta)
    assert isinstance(intercept, float) and isinstance(slope, float)
    x1 = np.linspace(-5.0, 5.0, 41)
    X = np.column_stack([np.ones_like(x1), x1, intercept + slope * x1])
    np.testing.assert_allclose(X @ theta, 0.0, atol=1e-12)


def test_decision_boundary_matches_sklearn_fitted_line(fitted):
    model = fitted["model"]
    (w1, w2), b = model.coef_[0], model.intercept_[0]
    intercept, slope = logistic.decision_boundary(fitted["theta"])
    # atol 1e-5: coefficients agree to COEF_ATOL, and |w2| > 0.8 here.
    np.testing.assert_allclose([intercept, slope], [-b / w2, -w1 / w2], atol=1e-5)


# --- bce_output_grad ---------------------------------------------------------------


def summed_bce_ag(p, t):
    """The summed BCE of probabilities p, with autograd.numpy."""
    return -anp.sum(t * anp.log(p) + (1.0 - t) * anp.log(1.0 - p))


@pytest.mark.parametrize("seed, shape", [(0, (50,)), (1, (4, 6)), (2, (1,))])
def test_bce_output_grad_matches_autograd(seed, shape):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.99, size=shape)
    t = rng.integers(0, 2, size=shape).astype(float)
    got = logistic.bce_output_grad(p, t)
    assert got.shape == shape
    np.testing.assert_allclose(got, grad(summed_bce_ag)(p, t), rtol=1e-12)


def test_bce_output_grad_matches_central_finite_differences_of_the_summed_bce():
    """Is it the derivative of n times the reference's mean BCE?"""
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, size=12)
    t = rng.integers(0, 2, size=12)
    h = 1e-6
    fd = np.empty_like(p)
    for i in range(p.size):
        step = np.zeros_like(p)
        step[i] = h
        fd[i] = len(p) * (logistic.binary_cross_entropy(p + step, t)
                          - logistic.binary_cross_entropy(p - step, t)) / (2 * h)
    # rtol 1e-6: central differences of step 1e-6 on values of size <= 20.
    np.testing.assert_allclose(logistic.bce_output_grad(p, t), fd, rtol=1e-6)


def test_bce_output_grad_times_the_sigmoid_derivative_is_the_residual():
    """Does the chain rule through the sigmoid give p - t, the logit gradient?"""
    z = np.linspace(-30.0, 30.0, 61)
    p, t = expit(z), (z > 0).astype(float)
    chained = logistic.bce_output_grad(p, t) * p * (1 - p)
    # atol 1e-12: near |z| = 30, p(1 - p) ~ 1e-13 and the division loses digits.
    np.testing.assert_allclose(chained, p - t, rtol=1e-8, atol=1e-12)


def test_bce_output_grad_of_scalars_is_a_scalar():
    out = logistic.bce_output_grad(0.25, 1)
    assert np.ndim(out) == 0
    np.testing.assert_allclose(out, -4.0, rtol=1e-15)  # -1 / 0.25


# --- preprocess_images -------------------------------------------------------------


def preprocess_loop(X):
    """The bias trick, pixel by pixel."""
    out = []
    for row in X:
        out.append([1.0] + [float(v) / 255.0 for v in row])
    return np.array(out, dtype=float).reshape(len(X), 785)


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.float32, np.float64])
def test_preprocess_images_matches_a_loop(dtype):
    rng = np.random.default_rng(10)
    X = rng.integers(0, 256, size=(6, 784)).astype(dtype)
    before = X.copy()
    got = logistic.preprocess_images(X)
    assert got.dtype == np.float64 and got.shape == (6, 785)
    np.testing.assert_allclose(got, preprocess_loop(X), rtol=1e-15)
    np.testing.assert_array_equal(X, before)


def test_preprocess_images_of_mnist_images_is_in_the_unit_interval():
    from lib.data import load_mnist_sample

    X, _ = load_mnist_sample()
    pixels = np.rint(X[:20] * 255).astype(np.uint8)
    got = logistic.preprocess_images(pixels)
    np.testing.assert_array_equal(got[:, 0], 1.0)
    assert got[:, 1:].min() == 0.0 and got[:, 1:].max() == 1.0
    # atol 1e-7: the sample is float32 pixels / 255, rounded back here.
    np.testing.assert_allclose(got[:, 1:], X[:20], atol=1e-7)


def test_preprocess_images_of_no_images_has_785_columns():
    assert logistic.preprocess_images(np.zeros((0, 784))).shape == (0, 785)


@pytest.mark.parametrize("shape", [(3, 783), (2, 785), (784,), (4, 28, 28),
                                   (1, 784, 1)])
def test_preprocess_images_names_a_wrong_shape(shape):
    with pytest.raises(ValueError, match=re.escape(str(shape))):
        logistic.preprocess_images(np.zeros(shape))


def early_stopping_data(seed, n, d):
    rng = np.random.default_rng(seed)
    X = add_intercept(rng.normal(size=(n, d - 1)))
    y = ((X[:, 1] - X[:, 2] > 0) ^ (rng.random(n) < 0.2)).astype(int)
    return X, y


def test_train_early_stopping_without_a_stop_is_minibatch_descent_in_order():
    """Oracle: the same steps taken by hand with log_loss for the losses; with a
    patience it never reaches, every check is recorded (tolerance 1e-12)."""
    X, y = early_stopping_data(0, 43, 4)  # 4 minibatches of 10; 3 rows unused
    X_val, y_val = early_stopping_data(1, 20, 4)
    theta, history = logistic.train_early_stopping(
        X, y, X_val, y_val, eta=0.3, batch=10, epochs=3, alpha=0.2, patience=99,
        checks_per_epoch=2)
    assert list(history.columns) == ["step", "train_loss", "val_loss", "val_accuracy"]
    assert list(history["step"]) == [2, 4, 6, 8, 10, 12]
    manual, thetas = np.zeros(4), []
    for step in range(1, 13):
        rows = slice((step - 1) % 4 * 10, (step - 1) % 4 * 10 + 10)
        manual = manual - 0.3 * logistic.loss_grad(manual, X[rows], y[rows], 0.2)
        if step % 2 == 0:
            thetas.append(manual)
    for row, th in zip(history.itertuples(), thetas, strict=True):
        assert row.val_loss == pytest.approx(log_loss(y_val, expit(X_val @ th),
                                                      labels=[0, 1]), rel=1e-12)
        assert row.train_loss == pytest.approx(log_loss(y, expit(X @ th)), rel=1e-12)
        assert row.val_accuracy == np.mean((X_val @ th > 0) == y_val)
    best = int(np.argmin(history["val_loss"]))
    np.testing.assert_allclose(theta, thetas[best], rtol=1e-12, atol=1e-15)


def test_train_early_stopping_stops_patience_checks_after_the_best():
    """A training set that overfits: the run stops right after `patience` checks
    without a new lowest validation loss, and returns the best check's theta."""
    X, y = early_stopping_data(2, 30, 20)
    X_val, y_val = early_stopping_data(3, 200, 20)
    for patience in (1, 3, 6):
        theta, history = logistic.train_early_stopping(
            X, y, X_val, y_val, eta=2.0, batch=5, epochs=200, patience=patience)
        losses = list(history["val_loss"])
        best = int(np.argmin(losses))
        assert len(losses) == best + 1 + patience < 200 * 6  # stopped early
        assert all(v >= losses[best] for v in losses[best + 1:])
        assert logistic.loss(theta, X_val, y_val) == pytest.approx(losses[best],
                                                                   rel=1e-12)
