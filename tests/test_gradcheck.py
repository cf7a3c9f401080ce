"""Tests for lib.gradcheck against independent oracles.

The oracles are autograd's gradients (float64), closed-form derivatives, and
quadratic functions, whose central differences are exact up to rounding. Every
assertion states its tolerance.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.scipy.special import logsumexp

from lib import gradcheck

EPS = 1e-5


def smooth(t):
    """A smooth function of an array of any shape, written for autograd."""
    return anp.sum(anp.sin(t) * t**2) + anp.log1p(anp.sum(t**2))


def smooth_float(t):
    return float(smooth(t))


def quadratic_problem(seed, shape):
    """J(T) = 1/2 ||M T||^2 + <B, T> on matrices T of ``shape``, its gradient and a
    point where every gradient entry has a magnitude in [0.5, 2]."""
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(shape[0] + 1, shape[0]))
    T = rng.normal(size=shape)
    target = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    B = target - M.T @ M @ T

    def J(t):
        return float(0.5 * np.sum((M @ t) ** 2) + np.sum(B * t))

    def grad_J(t):
        return M.T @ (M @ t) + B

    return J, grad_J, T


def elementwise_errors(a, b):
    """The per-entry relative errors, written independently of the library."""
    out = np.empty(np.shape(a))
    for i in np.ndindex(out.shape):
        x, y = float(np.asarray(a)[i]), float(np.asarray(b)[i])
        out[i] = abs(x - y) / max(1e-8, abs(x) + abs(y))
    return out


# --- numerical_gradient ------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 2), (1,)])
def test_central_differences_match_autograd(shape):
    theta = np.random.default_rng(1).normal(size=shape)
    got = gradcheck.numerical_gradient(smooth_float, theta)
    assert isinstance(got, np.ndarray) and got.shape == shape
    # rtol 1e-7, atol 1e-9: truncation eps^2/6 |f'''| ~ 1e-10 and rounding
    # 1e-16 |f| / eps ~ 1e-11 at eps = 1e-5.
    np.testing.assert_allclose(got, grad(smooth)(theta), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("method", ["forward", "backward"])
def test_one_sided_differences_have_first_order_error(method):
    """Is the error of a one-sided difference eps/2 |f''| to first order?"""
    a = np.array([0.5, 1.0, 2.0])
    theta = np.array([0.3, -0.2, 0.1])
    eps = 1e-4
    got = gradcheck.numerical_gradient(lambda t: float(np.sum(np.exp(a * t))), theta,
                                       eps=eps, method=method)
    exact = a * np.exp(a * theta)
    sign = 1.0 if method == "forward" else -1.0
    first_order = exact + sign * eps / 2 * a**2 * np.exp(a * theta)
    # The remainder is eps^2/6 |f'''| < 1e-8 relative; rtol 1e-7.
    np.testing.assert_allclose(got, first_order, rtol=1e-7)
    assert np.all(np.abs(got - exact) > 1e-5 * np.abs(exact))  # visibly not central


def test_central_differences_of_a_quadratic_are_exact_up_to_rounding():
    J, grad_J, T = quadratic_problem(2, (3, 4))
    got = gradcheck.numerical_gradient(J, T, eps=1e-3)
    # The third derivative is 0: only rounding, ~1e-16 |J| / eps ~ 1e-12, remains.
    np.testing.assert_allclose(got, grad_J(T), rtol=1e-9)


def test_central_is_the_mean_of_forward_and_backward():
    theta = np.random.default_rng(3).normal(size=(2, 2))
    eps = 1e-3
    fwd, bwd, cen = (gradcheck.numerical_gradient(smooth_float, theta, eps, m)
                     for m in ("forward", "backward", "central"))
    # Exact in real arithmetic; rounding of three quotients, atol 1e-11.
    np.testing.assert_allclose((fwd + bwd) / 2, cen, rtol=0, atol=1e-11)


@pytest.mark.parametrize("theta", [0.7, -1.3, np.float64(2.0), np.array(0.4), 3])
@pytest.mark.parametrize("method", gradcheck.METHODS)
def test_a_scalar_theta_gives_a_float(theta, method):
    got = gradcheck.numerical_gradient(lambda t: float(np.exp(np.sin(t))), theta,
                                       eps=1e-4, method=method)
    assert isinstance(got, float)
    t = float(theta)
    # rtol 1e-3: a one-sided difference at eps = 1e-4 is off by ~eps |f''/f'|.
    np.testing.assert_allclose(got, np.cos(t) * np.exp(np.sin(t)), rtol=1e-3)


def test_f_receives_a_float_for_a_scalar_theta_and_arrays_of_the_right_shape():
    seen = []

    def f(t):
        seen.append(t)
        return float(np.sum(t))

    gradcheck.numerical_gradient(f, 1.5)
    assert all(isinstance(t, float) for t in seen)
    seen.clear()
    gradcheck.numerical_gradient(f, np.zeros((2, 3)), method="forward")
    assert all(isinstance(t, np.ndarray) and t.shape == (2, 3) for t in seen)


@pytest.mark.parametrize("method, calls", [("central", 12), ("forward", 7),
                                           ("backward", 7)])
def test_numerical_gradient_evaluates_f_as_few_times_as_its_method_needs(method,
                                                                         calls):
    count = []
    gradcheck.numerical_gradient(lambda t: count.append(1) or 0.0, np.zeros(6),
                                 method=method)
    assert len(count) == calls


@pytest.mark.parametrize("eps", [1e-2, 1e-5])
def test_numerical_gradient_never_changes_theta(eps):
    """Is theta bit-for-bit the same, though x + eps - eps need not be x?"""
    theta = np.random.default_rng(4).normal(size=(4, 5))
    before = theta.copy()
    for method in gradcheck.METHODS:
        gradcheck.numerical_gradient(smooth_float, theta, eps=eps, method=method)
        np.testing.assert_array_equal(theta, before)


def test_numerical_gradient_rejects_an_unknown_method_naming_it():
    with pytest.raises(ValueError, match="'centred'"):
        gradcheck.numerical_gradient(smooth_float, np.ones(2), method="centred")


@pytest.mark.parametrize("eps", [0.0, -1e-5])
def test_numerical_gradient_rejects_a_step_that_is_not_positive(eps):
    with pytest.raises(ValueError, match="eps must be > 0"):
        gradcheck.numerical_gradient(smooth_float, np.ones(2), eps=eps)


# --- relative_error ----------------------------------------------------------------


def test_relative_error_is_the_largest_entrywise_ratio():
    a = np.array([100.0, 1.0, 0.0])
    b = np.array([101.0, 2.0, 0.0])
    # Entries 1/201, 1/3 and 0 (the floor): the largest is 1/3, exactly computed.
    assert gradcheck.relative_error(a, b) == 1.0 / 3.0


def test_relative_error_floor_replaces_small_sums():
    """Is 1e-8 a floor of the denominator, not a term added to it?"""
    got = gradcheck.relative_error(np.array([3e-10, 0.0]), np.array([0.0, 0.0]))
    np.testing.assert_allclose(got, 3e-10 / 1e-8, rtol=1e-15)


def test_relative_error_of_equal_zero_arrays_is_zero_without_warnings():
    with np.errstate(all="raise"):
        assert gradcheck.relative_error(np.zeros((2, 2)), np.zeros((2, 2))) == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relative_error_matches_a_loop_over_entries(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(3, 4)) * 10.0 ** rng.integers(-9, 3, size=(3, 4))
    b = a * (1 + rng.normal(scale=1e-3, size=(3, 4)))
    got = gradcheck.relative_error(a, b)
    assert isinstance(got, float)
    assert got == np.max(elementwise_errors(a, b))  # exact: the same operations
    assert got == gradcheck.relative_error(b, a)  # symmetric, exactly


def test_relative_error_of_floats_is_a_float():
    got = gradcheck.relative_error(2.0, -0.5)
    assert isinstance(got, float) and got == 1.0


def test_relative_error_rejects_different_shapes_and_empty_arrays():
    with pytest.raises(ValueError, match="same shape"):
        gradcheck.relative_error(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="must not be empty"):
        gradcheck.relative_error(np.ones(0), np.ones(0))


# --- gradient_checker --------------------------------------------------------------


def logistic_problem(seed, n=40, d=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, 2, size=n).astype(float)
    return X, y, rng.normal(size=d)


def logistic_loss(theta, X, y):
    t = anp.dot(X, theta)
    return anp.mean(anp.logaddexp(0.0, t) - y * t)


def softmax_loss(W, X, y):
    Z = anp.dot(X, W)
    return anp.mean(logsumexp(Z, axis=1) - Z[anp.arange(len(y)), y])


def test_gradient_checker_accepts_autograd_gradients():
    X, y, theta = logistic_problem(5)
    ok, index, error = gradcheck.gradient_checker(
        lambda t: float(logistic_loss(t, X, y)), lambda t: grad(logistic_loss)(t, X, y),
        theta)
    assert ok is True and error <= 1e-7  # central differences reach ~1e-10 here
    rng = np.random.default_rng(6)
    X, W = rng.normal(size=(12, 5)), rng.normal(size=(5, 3))
    y = rng.integers(0, 3, size=12)
    ok, index, error = gradcheck.gradient_checker(
        lambda w: float(softmax_loss(w, X, y)), lambda w: grad(softmax_loss)(w, X, y),
        W)
    assert ok is True and error <= 1e-7
    assert isinstance(index, tuple) and len(index) == 2


def test_gradient_checker_finds_a_planted_error():
    J, grad_J, T = quadratic_problem(7, (3, 5))
    planted = np.zeros((3, 5))
    planted[2, 1], planted[0, 4] = 3e-3, -1e-3
    ok, index, error = gradcheck.gradient_checker(
        J, lambda t: grad_J(t) * (1 + planted), T)
    assert ok is False
    assert index == (2, 1) and all(type(i) is int for i in index)
    # |g r| / (|g| + |g (1 + r)|) = r / (2 + r); numerical rounding ~1e-10, rtol 1e-6.
    np.testing.assert_allclose(error, 3e-3 / 2.003, rtol=1e-6)
    assert isinstance(error, float)


def test_gradient_checker_uses_its_step():
    """With a large step the truncation error eps^2 a^2 / 12 decides the result."""
    a = np.array([[0.5, 2.0, 1.0], [1.5, 0.8, 1.2]])
    theta = np.zeros((2, 3))

    def E(t):
        return float(np.sum(np.exp(a * t)))

    ok, index, error = gradcheck.gradient_checker(E, lambda t: a * np.exp(a * t),
                                                  theta, eps=1e-2)
    assert not ok and index == (0, 1)
    # Central difference of exp(a t) at 0: sinh(a eps) / eps; its relative error is
    # (sinh(a eps) - a eps) / (sinh(a eps) + a eps) exactly; rtol 1e-8 for rounding.
    num = np.sinh(2.0 * 1e-2) / 1e-2
    np.testing.assert_allclose(error, (num - 2.0) / (num + 2.0), rtol=1e-8)
    assert gradcheck.gradient_checker(E, lambda t: a * np.exp(a * t), theta,
                                      eps=1e-2, rtol=1e-3)[0] is True


def test_gradient_checker_ok_is_worst_error_at_most_rtol():
    J, grad_J, T = quadratic_problem(8, (2, 2))

    def wrong(t):
        return grad_J(t) * 1.001

    _, _, error = gradcheck.gradient_checker(J, wrong, T)
    assert gradcheck.gradient_checker(J, wrong, T, rtol=error)[0] is True
    assert gradcheck.gradient_checker(J, wrong, T, rtol=error * (1 - 1e-12))[0] is False


def test_gradient_checker_reports_the_first_entry_on_ties():
    ok, index, error = gradcheck.gradient_checker(lambda t: 1.0,
                                                  lambda t: np.zeros((2, 3)),
                                                  np.ones((2, 3)))
    assert (ok, index, error) == (True, (0, 0), 0.0)


def test_gradient_checker_of_a_scalar_theta_has_the_empty_index():
    ok, index, error = gradcheck.gradient_checker(
        lambda t: float(np.exp(np.sin(t))),
        lambda t: float(np.cos(t) * np.exp(np.sin(t)) * (1 + 1e-4)), 0.4)
    assert ok is False and index == ()
    np.testing.assert_allclose(error, 1e-4 / (2 + 1e-4), rtol=1e-5)  # rounding ~1e-11


def test_gradient_checker_never_changes_theta():
    J, grad_J, T = quadratic_problem(9, (3, 3))
    before = T.copy()
    gradcheck.gradient_checker(J, grad_J, T, eps=1e-2)
    np.testing.assert_array_equal(T, before)


def test_gradient_checker_rejects_a_gradient_of_the_wrong_shape():
    J, grad_J, T = quadratic_problem(10, (2, 3))
    with pytest.raises(ValueError, match=r"shape of theta, \(2, 3\), got \(6,\)"):
        gradcheck.gradient_checker(J, lambda t: grad_J(t).ravel(), T)


# --- check_sparse ------------------------------------------------------------------


def planted_problem(seed=11, shape=(4, 6)):
    """A quadratic problem whose gradient has a distinct relative error everywhere."""
    J, grad_J, T = quadratic_problem(seed, shape)
    rng = np.random.default_rng(seed + 1)
    planted = 1e-4 * (1.0 + rng.permutation(T.size).reshape(shape))

    def wrong(t):
        return grad_J(t) * (1.0 + planted)

    errors = elementwise_errors(wrong(T), gradcheck.numerical_gradient(J, T))
    return J, wrong, T, errors


def test_check_sparse_is_reproducible_for_a_seed_or_a_generator():
    J, wrong, T, _ = planted_problem()
    for seed in range(5):
        assert (gradcheck.check_sparse(J, wrong, T, 3, rng=seed)
                == gradcheck.check_sparse(J, wrong, T, 3, rng=seed))
        assert (gradcheck.check_sparse(J, wrong, T, 3, np.random.default_rng(seed))
                == gradcheck.check_sparse(J, wrong, T, 3, rng=seed))


def test_check_sparse_reports_the_error_at_the_coordinate_it_names():
    J, wrong, T, errors = planted_problem()
    indices = set()
    for seed in range(10):
        ok, index, error = gradcheck.check_sparse(J, wrong, T, num_checks=3, rng=seed)
        assert ok is False and isinstance(index, tuple) and isinstance(error, float)
        assert all(type(i) is int for i in index)
        # The same central differences as the full check: rtol 1e-9 for rounding.
        np.testing.assert_allclose(error, errors[index], rtol=1e-9)
        indices.add(index)
    assert len(indices) > 1  # the seed changes the coordinates


def test_check_sparse_with_many_checks_agrees_with_gradient_checker():
    J, wrong, T, _ = planted_problem()
    # 24 coordinates and 400 draws: one is missed with probability 24 (23/24)^400
    # ~ 1e-6, and the result is fixed by the seed.
    sparse = gradcheck.check_sparse(J, wrong, T, num_checks=400, rng=0)
    full = gradcheck.gradient_checker(J, wrong, T)
    assert sparse[:2] == full[:2]
    np.testing.assert_allclose(sparse[2], full[2], rtol=1e-12)


def test_check_sparse_accepts_a_right_gradient():
    rng = np.random.default_rng(12)
    X, W = rng.normal(size=(30, 8)), rng.normal(scale=0.3, size=(8, 5))
    y = rng.integers(0, 5, size=30)
    ok, index, error = gradcheck.check_sparse(
        lambda w: float(softmax_loss(w, X, y)), lambda w: grad(softmax_loss)(w, X, y),
        W, num_checks=15, rng=1)
    assert ok is True and error <= 1e-7


def test_check_sparse_evaluates_J_twice_per_check():
    J, wrong, T, _ = planted_problem()
    calls = []

    def counted(t):
        calls.append(1)
        return J(t)

    gradcheck.check_sparse(counted, wrong, T, num_checks=7, rng=2)
    assert len(calls) == 14


def test_check_sparse_of_a_scalar_theta_has_the_empty_index():
    ok, index, error = gradcheck.check_sparse(lambda t: float(np.exp(3 * t)),
                                              lambda t: float(3 * np.exp(3 * t)), 0.2,
                                              num_checks=3, rng=0)
    assert ok is True and index == () and error <= 1e-9


def test_check_sparse_never_changes_theta():
    J, wrong, T, _ = planted_problem()
    before = T.copy()
    gradcheck.check_sparse(J, wrong, T, num_checks=50, rng=3)
    np.testing.assert_array_equal(T, before)


@pytest.mark.parametrize("num_checks", [0, -2, 2.5, True, "3"])
def test_check_sparse_rejects_a_bad_number_of_checks(num_checks):
    J, wrong, T, _ = planted_problem()
    with pytest.raises(ValueError, match="num_checks must be a positive integer"):
        gradcheck.check_sparse(J, wrong, T, num_checks=num_checks)
