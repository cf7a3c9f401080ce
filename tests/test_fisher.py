"""Tests for lib.fisher against independent oracles.

The oracles are autograd's first and second derivatives (Hessians) of log-likelihoods
written here in float64, exact expectations over the two values of a Bernoulli
variable, explicit loops, and scikit-learn's fitted coefficients on data simulated
from a known logistic model. Every assertion states its tolerance.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import elementwise_grad, grad, hessian
from sklearn.linear_model import LogisticRegression

from lib import fisher
from lib.data import add_intercept

THETAS = [0.01, 0.2, 0.5, 0.73, 0.999]


def bernoulli_loglik(theta, x):
    """log P(x | theta) of Bernoulli observations, for autograd."""
    return x * anp.log(theta) + (1.0 - x) * anp.log(1.0 - theta)


def logistic_loglik(theta, X, y):
    """Log-likelihood of logistic regression summed over rows, in a stable form."""
    t = anp.dot(X, theta)
    return anp.sum(y * t - anp.logaddexp(0.0, t))


def logistic_problem(seed, n, d, scale=1.0):
    """Correlated design with an intercept, theta, and labels from the model."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d - 1, d - 1)) + 0.8  # correlated columns
    X = add_intercept(rng.normal(size=(n, d - 1)) @ mix)
    theta = scale * rng.normal(size=d) / np.sqrt(d)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ theta)))).astype(float)
    return X, theta, y


# --- bernoulli_score and bernoulli_fisher ------------------------------------------


@pytest.mark.parametrize("theta", THETAS)
def test_bernoulli_score_is_the_autograd_derivative_of_the_log_likelihood(theta):
    x = np.array([0.0, 1.0, 1.0, 0.0, 0.3])  # 0.3: the formula holds for any x
    thetas = np.full(x.shape, theta)
    expected = elementwise_grad(bernoulli_loglik)(thetas, x)
    got = fisher.bernoulli_score(theta, x)
    assert got.shape == x.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12)  # same formula, rounding


def test_bernoulli_score_keeps_shapes_and_gives_a_float_for_a_scalar():
    x = np.random.default_rng(0).integers(0, 2, size=(3, 4))
    assert fisher.bernoulli_score(0.4, x).shape == (3, 4)
    assert isinstance(fisher.bernoulli_score(0.4, 1), float)
    np.testing.assert_allclose(fisher.bernoulli_score(0.25, [0, 1]), [-4 / 3, 4.0],
                               rtol=1e-15)


@pytest.mark.parametrize("theta", THETAS)
def test_bernoulli_score_has_mean_zero(theta):
    """Is E[score] = theta * score(1) + (1 - theta) * score(0) zero?"""
    mean = theta * fisher.bernoulli_score(theta, 1) + (1 - theta) * (
        fisher.bernoulli_score(theta, 0))
    assert abs(mean) < 1e-12  # the two terms are +-1 up to rounding


@pytest.mark.parametrize("theta", THETAS)
def test_bernoulli_fisher_is_minus_the_expected_autograd_second_derivative(theta):
    second = grad(grad(bernoulli_loglik))
    expected = -(theta * second(theta, 1.0) + (1 - theta) * second(theta, 0.0))
    np.testing.assert_allclose(fisher.bernoulli_fisher(theta), expected, rtol=1e-12)


@pytest.mark.parametrize("theta", THETAS)
def test_bernoulli_fisher_is_the_expected_squared_score(theta):
    score = grad(bernoulli_loglik)
    expected = theta * score(theta, 1.0) ** 2 + (1 - theta) * score(theta, 0.0) ** 2
    np.testing.assert_allclose(fisher.bernoulli_fisher(theta), expected, rtol=1e-12)


def test_bernoulli_fisher_is_elementwise_and_a_float_for_a_scalar():
    thetas = np.array(THETAS)
    np.testing.assert_allclose(fisher.bernoulli_fisher(thetas),
                               [fisher.bernoulli_fisher(t) for t in THETAS],
                               rtol=0)  # exact: the same arithmetic
    assert isinstance(fisher.bernoulli_fisher(0.5), float)
    assert fisher.bernoulli_fisher(0.5) == 4.0  # exact in binary


@pytest.mark.parametrize("theta", [0.0, 1.0, -0.1, 1.5, np.nan])
def test_bernoulli_functions_reject_theta_outside_the_open_unit_interval(theta):
    with pytest.raises(ValueError, match=r"theta must be in \(0, 1\)"):
        fisher.bernoulli_score(theta, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"theta must be in \(0, 1\)"):
        fisher.bernoulli_fisher(np.array([0.5, theta]))


# --- empirical_fisher --------------------------------------------------------------


@pytest.mark.parametrize("theta", [0.3, 0.5, 0.9])
def test_empirical_fisher_of_bernoulli_samples_matches_the_exact_average(theta):
    """With k ones among n samples, is it (k s1^2 + (n - k) s0^2) / n, in (1, 1)?"""
    samples = np.array([1, 0, 0, 1, 1, 0, 0, 0, 1, 0], dtype=float)
    k, n = samples.sum(), len(samples)
    s1, s0 = 1 / theta, -1 / (1 - theta)
    got = fisher.empirical_fisher(fisher.bernoulli_score, samples, theta)
    assert got.shape == (1, 1)
    np.testing.assert_allclose(got, [[(k * s1**2 + (n - k) * s0**2) / n]],
                               rtol=1e-13)


def test_empirical_fisher_is_not_the_variance_of_the_score():
    """Away from the MLE the mean score is not 0: is it not subtracted?"""
    samples = np.ones(4)
    got = fisher.empirical_fisher(fisher.bernoulli_score, samples, 0.5)
    np.testing.assert_allclose(got, [[4.0]], rtol=1e-15)  # score 2, variance 0


@pytest.mark.parametrize("seed, n, d", [(0, 50, 3), (1, 7, 5), (2, 1, 2)])
def test_empirical_fisher_of_autograd_logistic_scores_matches_a_loop(seed, n, d):
    """Vector parameter: is it the (p, p) mean of outer products, symmetric, PSD?"""
    X, theta, y = logistic_problem(seed, n, d)
    samples = np.column_stack([X, y])  # a row is (x, y)

    def score(th, row):
        return grad(logistic_loglik)(th, row[None, :-1], row[-1:])

    got = fisher.empirical_fisher(score, samples, theta)
    expected = sum(np.outer(score(theta, r), score(theta, r)) for r in samples) / n
    assert got.shape == (d, d)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(got, got.T)  # exact: S.T @ S is symmetric
    assert np.min(np.linalg.eigvalsh(got)) > -1e-12 * np.max(np.abs(got))


def test_empirical_fisher_accepts_scores_that_are_0d_or_1d_arrays():
    samples = np.array([0.0, 1.0, 1.0])
    scalar = fisher.empirical_fisher(fisher.bernoulli_score, samples, 0.25)
    wrapped = fisher.empirical_fisher(
        lambda t, x: np.array([fisher.bernoulli_score(t, x)]), samples, 0.25)
    np.testing.assert_array_equal(scalar, wrapped)  # exact: the same numbers


def test_empirical_fisher_rejects_empty_samples_and_matrix_scores():
    with pytest.raises(ValueError, match="at least one sample"):
        fisher.empirical_fisher(fisher.bernoulli_score, np.array([]), 0.5)
    with pytest.raises(ValueError, match="float or a 1-d array"):
        fisher.empirical_fisher(lambda t, x: np.eye(2), np.zeros(3), 0.5)


def test_empirical_fisher_averages_to_the_fisher_information():
    """Monte Carlo: 200,000 Bernoulli draws give 1 / (theta (1 - theta))."""
    theta = 0.3
    x = (np.random.default_rng(3).random(200_000) < theta).astype(float)
    got = fisher.empirical_fisher(fisher.bernoulli_score, x, theta)[0, 0]
    # The squared score is 1/theta^2 or 1/(1-theta)^2, with sd
    # sqrt(theta (1-theta)) |1/theta^2 - 1/(1-theta)^2| = 4.2, so the mean of 200,000
    # has sd 0.0093, 0.2% of I = 4.76; rtol 1e-2 is about 5 sd.
    np.testing.assert_allclose(got, fisher.bernoulli_fisher(theta), rtol=1e-2)


# --- logistic_fisher ---------------------------------------------------------------

PROBLEMS = [(0, 40, 3), (1, 200, 5), (2, 1, 4), (3, 12, 2), (4, 500, 3)]


@pytest.mark.parametrize("seed, n, d", PROBLEMS)
def test_logistic_fisher_is_minus_the_autograd_hessian(seed, n, d):
    X, theta, y = logistic_problem(seed, n, d, scale=2.0)
    expected = -hessian(logistic_loglik)(theta, X, y)
    got = fisher.logistic_fisher(X, theta)
    assert got.shape == (d, d)
    # rtol 1e-10; atol relative to the largest entry for entries that nearly cancel.
    np.testing.assert_allclose(got, expected, rtol=1e-10,
                               atol=1e-13 * np.max(np.abs(expected)))


def test_observed_and_expected_information_coincide():
    """Is the Hessian the same for any labels, so observed = expected information?"""
    X, theta, y = logistic_problem(5, 60, 4)
    h1 = hessian(logistic_loglik)(theta, X, y)
    h2 = hessian(logistic_loglik)(theta, X, 1.0 - y)
    np.testing.assert_allclose(h1, h2, rtol=1e-12)
    np.testing.assert_allclose(fisher.logistic_fisher(X, theta), -h1, rtol=1e-10)


def test_logistic_fisher_is_summed_over_rows_not_averaged():
    X, theta, _ = logistic_problem(6, 30, 3)
    once = fisher.logistic_fisher(X, theta)
    twice = fisher.logistic_fisher(np.vstack([X, X]), theta)
    np.testing.assert_allclose(twice, 2.0 * once, rtol=1e-13)


def test_logistic_fisher_at_zero_is_a_quarter_of_the_gram_matrix():
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    got = fisher.logistic_fisher(X, np.zeros(2))
    np.testing.assert_array_equal(got, [[0.5, 0.25], [0.25, 0.25]])  # exact


def test_logistic_fisher_is_the_expected_outer_score():
    """Is E over y | x of the summed outer scores (y - p)^2 x x^T equal to it?"""
    X, theta, _ = logistic_problem(7, 25, 3)
    p = 1.0 / (1.0 + np.exp(-(X @ theta)))
    score = grad(logistic_loglik)
    expected = np.zeros((3, 3))
    for i in range(len(X)):
        for label, prob in ((1.0, p[i]), (0.0, 1 - p[i])):
            s = score(theta, X[i : i + 1], np.array([label]))
            expected += prob * np.outer(s, s)
    np.testing.assert_allclose(fisher.logistic_fisher(X, theta), expected,
                               rtol=1e-10, atol=1e-13 * np.max(np.abs(expected)))


def test_logistic_fisher_is_finite_for_huge_logits():
    X = np.array([[1.0, 800.0], [1.0, -800.0], [1.0, 0.0]])
    got = fisher.logistic_fisher(X, np.array([0.0, 1.0]))
    np.testing.assert_allclose(got, [[0.25, 0.0], [0.0, 0.0]], atol=1e-300)


def test_logistic_fisher_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="X must be 2-d"):
        fisher.logistic_fisher(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"theta must have shape \(3,\)"):
        fisher.logistic_fisher(np.ones((4, 3)), np.ones(2))


# --- standard_errors ---------------------------------------------------------------


@pytest.mark.parametrize("seed, n, d", [p for p in PROBLEMS if p[1] >= p[2]])
def test_standard_errors_come_from_the_inverse_of_the_autograd_hessian(seed, n, d):
    X, theta, y = logistic_problem(seed, n, d, scale=2.0)
    covariance = np.linalg.inv(-hessian(logistic_loglik)(theta, X, y))
    got = fisher.standard_errors(X, theta)
    assert got.shape == (d,)
    # rtol 1e-8: the Hessians agree to 1e-10 and the condition numbers are < 1e2.
    np.testing.assert_allclose(got, np.sqrt(np.diag(covariance)), rtol=1e-8)


def test_standard_errors_are_not_one_over_the_root_of_the_diagonal():
    """With correlated columns, is diag(F^-1) larger than 1 / diag(F)?"""
    rng = np.random.default_rng(8)
    z = rng.normal(size=(300, 2))
    X = add_intercept(np.column_stack([z[:, 0], 0.9 * z[:, 0] + 0.45 * z[:, 1]]))
    theta = np.array([0.3, -1.0, 0.5])  # correlation 0.9 between the features
    F = fisher.logistic_fisher(X, theta)
    got = fisher.standard_errors(X, theta)
    naive = 1.0 / np.sqrt(np.diag(F))
    assert np.all(got >= naive * (1 - 1e-12))  # [F^-1]_jj >= 1 / F_jj always
    assert np.max(got / naive) > 2.0  # and twice as large here


def test_standard_errors_shrink_as_one_over_root_n():
    X, theta, _ = logistic_problem(9, 80, 3)
    once = fisher.standard_errors(X, theta)
    four = fisher.standard_errors(np.vstack([X] * 4), theta)
    np.testing.assert_allclose(four, once / 2.0, rtol=1e-12)


def test_standard_errors_reject_a_singular_fisher_matrix():
    X = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])  # rank 1 < d = 3
    with pytest.raises(ValueError, match="singular"):
        fisher.standard_errors(X, np.zeros(3))


def test_standard_errors_match_the_spread_of_sklearn_fits_on_simulated_data():
    """Are they the sd of the MLE over data sets drawn from the model (n = 2000)?

    400 data sets from a logistic model with fixed design; scikit-learn's
    unpenalized fit (C = inf) on each. The sd of 400 fits has a relative Monte Carlo
    error of about 1 / sqrt(2 * 399) = 3.5%, so the tolerance is 12% (3.4 sd).
    """
    rng = np.random.default_rng(10)
    n = 2000
    features = rng.normal(size=(n, 2)) @ np.array([[1.0, 0.6], [0.0, 0.8]])
    X = add_intercept(features)
    theta = np.array([-0.5, 1.0, -0.75])
    p = 1.0 / (1.0 + np.exp(-(X @ theta)))
    model = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-8)
    fits = []
    for _ in range(400):
        y = (rng.random(n) < p).astype(int)
        model.fit(features, y)
        fits.append(np.concatenate([model.intercept_, model.coef_[0]]))
    spread = np.std(fits, axis=0, ddof=1)
    np.testing.assert_allclose(fisher.standard_errors(X, theta), spread, rtol=0.12)
