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
# # Assignment 2: gradient checking
#
# A wrong gradient rarely crashes anything: training just goes slower, or somewhere
# else. The cure is to compare every analytic gradient you write with finite
# differences of the function itself. You will write a gradient checker, use it on
# the sigmoid, the logistic loss and the softmax cross-entropy, find a bug in a given
# gradient, and see why central differences beat forward differences and why a check
# in `float32` cannot be trusted.
#
# **How this notebook is graded.** Write your code between the `def` line and the end
# of each answer cell, replacing `raise NotImplementedError()`. The cell after each
# answer runs *public checks* and prints one line: that they passed, or a hint saying
# what was expected. The last cell lists which functions pass. Passing is a good sign
# but not a grade: hidden tests with other inputs decide the points. Written answers
# are graded by hand. Do not add, delete or reorder cells; run *Kernel → Restart and
# Run All* before you submit.
#
# **Conventions.** A parameter `theta` is a float or an array of any shape, and a
# function `J(theta)` returns a float. A gradient has the shape of `theta`. An index
# into `theta` is a tuple, such as `(1, 0)` for a matrix and `()` for a scalar.
# Arrays are `float64` unless stated.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
from functools import partial

import numpy as np
import pandas as pd
from IPython.display import display
from lets_plot import (
    aes,
    geom_line,
    geom_point,
    ggplot,
    ggsize,
    labs,
    scale_x_log10,
    scale_y_log10,
)
from scipy.special import expit, softmax
from sklearn.metrics import log_loss

from lib import checks, plots
from lib.data import add_intercept, load_digits, two_gaussians

plots.setup()

# %% [markdown]
# ## 1. Finite differences (3 points)
#
# Let $e_i$ be the array of the shape of $\theta$ with a 1 at index $i$ and zeros
# elsewhere. Three finite differences approximate the partial derivative
# $\partial f / \partial \theta_i$ with a step $\varepsilon > 0$:
#
# - `"forward"`: $\big(f(\theta + \varepsilon e_i) - f(\theta)\big) / \varepsilon$;
# - `"backward"`: $\big(f(\theta) - f(\theta - \varepsilon e_i)\big) / \varepsilon$;
# - `"central"`:
#   $\big(f(\theta + \varepsilon e_i) - f(\theta - \varepsilon e_i)\big)
#   / (2\varepsilon)$.
#
# Write `numerical_gradient(f, theta, eps=1e-5, method="central")`:
#
# - `theta` is a float or an array of any shape; visit every index (`np.ndindex`
#   gives the tuple indices of a shape, `np.nditer` with `flags=["multi_index"]`
#   too), and call `f` with an array of the shape of `theta` (with a float when
#   `theta` is a float);
# - return a float when `theta` is a float, else a float array of its shape;
# - **never modify `theta`**: the caller still needs it. Work on a copy, or put back
#   the saved value after each change (`x + eps - eps` is not always `x` in floating
#   point);
# - any other `method` raises a `ValueError` whose message names the value received.

# %% nbgrader={"grade": false, "grade_id": "numerical_gradient", "locked": false, "schema_version": 3, "solution": true, "task": false}
def numerical_gradient(f, theta, eps=1e-5, method="central"):
    """Finite-difference gradient of the scalar function f at theta, same shape."""
    ### BEGIN SOLUTION
    if method not in ("forward", "backward", "central"):
        raise ValueError(
            f"method must be 'forward', 'backward' or 'central', got {method!r}."
        )
    x = np.array(theta, dtype=float)  # a copy: theta itself is never changed

    def f_at(point):
        return float(f(point if point.ndim else point[()]))

    f_x = None if method == "central" else f_at(x)
    grad = np.empty(x.shape)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        if method == "central":
            grad[i] = (f_at(up) - f_at(down)) / (2 * eps)
        elif method == "forward":
            grad[i] = (f_at(up) - f_x) / eps
        else:
            grad[i] = (f_x - f_at(down)) / eps
    return float(grad[()]) if grad.ndim == 0 else grad
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_numerical_gradient", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does numerical_gradient give known differences, keep shapes and leave theta alone?"""
with checks.public("numerical_gradient"):


    def _cube_sum(t):
        return float(np.sum(t**3))


    _h = 1e-3
    for _method, _want in (("central", 12.0 + _h**2), ("forward", ((2 + _h) ** 3 - 8) / _h),
                           ("backward", (8 - (2 - _h) ** 3) / _h)):
        _g = checks.call(numerical_gradient, _cube_sum, 2.0, eps=_h, method=_method)
        checks.check(isinstance(_g, (float, np.floating)),
                     f"numerical_gradient of a float theta should return a float, got "
                     f"{type(_g).__name__}.",
                     hint="Return float(...) when theta is a float.")
        checks.check_close(_g, _want, rtol=1e-8,
                           what=f"numerical_gradient(t**3, 2.0, eps=1e-3, "
                                f"method={_method!r})",
                           hint="Use the formula of the method in the table, with the step "
                                "eps given.")
    _theta = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    _before = _theta.copy()
    checks.check_close(checks.call(numerical_gradient, _cube_sum, _theta), 3 * _before**2,
                       rtol=1e-6, atol=1e-8, what="numerical_gradient of sum(t**3)",
                       hint="Return an array of the shape of theta with one difference "
                            "per entry.")
    checks.check_equal(_theta, _before, what="theta after calling numerical_gradient",
                       hint="Change a copy of theta, or restore each entry by assigning "
                            "its saved value.")
    try:
        checks.call(numerical_gradient, _cube_sum, _theta, method="centered")
    except ValueError as _err:
        checks.check("centered" in str(_err),
                     "The ValueError for method='centered' should name the value received.")
    else:
        checks.check(False, "numerical_gradient(..., method='centered') should raise a "
                            "ValueError.")

# %% nbgrader={"grade": true, "grade_id": "test_numerical_gradient", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of numerical_gradient (3 points), run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# rtol 1e-7 against the reference with the same step: different correct loops
# evaluate f at the same points, and rounding then differs by less than 1e-9.
from lib import gradcheck as _ref

_rng = np.random.default_rng(701)
_a = _rng.uniform(0.5, 2.0, size=(2, 3, 2))
_c = _rng.uniform(0.5, 1.5, size=(2, 3, 2)) * _rng.choice([-1.0, 1.0], size=(2, 3, 2))


def _f(t):
    return float(np.sum(_c * np.exp(_a * t)))


def _g(t):
    return float(np.exp(np.sin(3.0 * t)))


_theta = _rng.normal(scale=0.5, size=(2, 3, 2))
_before = _theta.copy()
for _method in ("central", "forward", "backward"):
    for _eps in (1e-2, 1e-4):
        checks.check_close(
            checks.call(numerical_gradient, _f, _theta, eps=_eps, method=_method),
            _ref.numerical_gradient(_f, _theta, eps=_eps, method=_method),
            rtol=1e-7, atol=1e-10,
            what=f"numerical_gradient with method={_method!r} and eps={_eps:g}",
            hint="Use the formula of the method with the step eps given (central "
                 "differences divide by 2 * eps), for every entry of theta.")
        checks.check_equal(_theta, _before, what="theta after numerical_gradient",
                           hint="Never modify theta: change a copy, or restore each "
                                "entry by assigning its saved value.")
checks.check_close(checks.call(numerical_gradient, _f, _theta),
                   _ref.numerical_gradient(_f, _theta), rtol=1e-6, atol=1e-10,
                   what="numerical_gradient with its default eps and method",
                   hint="The defaults are eps=1e-5 and central differences.")
# A forward difference shows its step: its error is of the order of eps.
checks.check_close(checks.call(numerical_gradient, _f, _theta, method="forward"),
                   _ref.numerical_gradient(_f, _theta, method="forward"), rtol=1e-7,
                   atol=1e-10, what="numerical_gradient with its default eps, forward",
                   hint="The default step is eps=1e-5.")
_arguments = []


def _g_seen(t):
    _arguments.append(isinstance(t, (float, np.floating)) and not isinstance(t, np.ndarray))
    return _g(t)


for _t in (0.7, np.float64(-1.3)):
    for _method in ("central", "forward", "backward"):
        _out = checks.call(numerical_gradient, _g_seen, _t, eps=1e-3, method=_method)
        checks.check(isinstance(_out, (float, np.floating)),
                     "numerical_gradient of a float theta should return a float.")
        checks.check_close(_out, _ref.numerical_gradient(_g, _t, 1e-3, _method),
                           rtol=1e-8, what=f"numerical_gradient of a function of a "
                                           f"float, method={_method!r}",
                           hint="Call f with a float when theta is a float.")
checks.check(all(_arguments), "When theta is a float, f should be called with floats, "
                               "not with 0-d arrays.",
             hint="point[()] turns a 0-d array into a NumPy scalar.")
for _bad in ("centred", "two-sided"):
    try:
        checks.call(numerical_gradient, _f, _theta, method=_bad)
    except ValueError as _err:
        checks.check(_bad in str(_err), "The ValueError for an unknown method should "
                                        "name the value received.")
    else:
        checks.check(False, "numerical_gradient should raise a ValueError for an "
                            "unknown method.")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Relative error (1 point)
#
# How far apart are an analytic gradient $a$ and a numerical one $b$? An absolute
# difference means nothing without a scale, and a ratio of norms lets a small
# component be completely wrong unnoticed. We compare **each entry on its own scale**
# and report the worst:
#
# $$\mathrm{relative\_error}(a, b) = \max_i
# \frac{|a_i - b_i|}{\max(10^{-8}, |a_i| + |b_i|)}.$$
#
# The maximum is over the entries *after* dividing, entry by entry. The floor
# $10^{-8}$ replaces $|a_i| + |b_i|$ when that sum is smaller (it is not added to it):
# an entry where both values are 0 counts as an error of 0 instead of $0/0$. `a` and
# `b` are floats or arrays of the same shape; return a float.

# %% nbgrader={"grade": false, "grade_id": "relative_error", "locked": false, "schema_version": 3, "solution": true, "task": false}
def relative_error(a, b):
    """max over entries of |a - b| / max(1e-8, |a| + |b|), as a float."""
    ### BEGIN SOLUTION
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_relative_error", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Is relative_error the largest entrywise ratio, with the 1e-8 floor?"""
with checks.public("relative_error"):
    _r = checks.call(relative_error, 1.0, 3.0)
    checks.check(isinstance(_r, (float, np.floating)),
                 f"relative_error should return a float, got {type(_r).__name__}.")
    checks.check_close(_r, 0.5, rtol=1e-12, what="relative_error(1.0, 3.0)",
                       hint="|1 - 3| / (|1| + |3|) = 0.5.")
    checks.check_close(checks.call(relative_error, np.array([100.0, 1.0]),
                                   np.array([101.0, 2.0])), 1.0 / 3.0, rtol=1e-12,
                       what="relative_error([100, 1], [101, 2])",
                       hint="Divide entry by entry, then take the largest ratio: the "
                            "second entry is off by a third.")
    checks.check_close(checks.call(relative_error, np.zeros(3), np.zeros(3)), 0.0,
                       what="relative_error of two zero arrays",
                       hint="Divide by max(1e-8, |a| + |b|) so that 0 / 0 never happens.")

# %% nbgrader={"grade": true, "grade_id": "test_relative_error", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of relative_error (1 point), run when the notebook is graded."""
### BEGIN HIDDEN TESTS
from lib import gradcheck as _ref

_rng = np.random.default_rng(801)
for _shape in ((6,), (3, 4)):
    _a = _rng.normal(size=_shape) * 10.0 ** _rng.integers(-6, 3, size=_shape)
    _b = _a * (1.0 + _rng.normal(scale=1e-3, size=_shape))
    _b += _rng.normal(scale=1e-9, size=_shape)
    checks.check_close(checks.call(relative_error, _a, _b), _ref.relative_error(_a, _b),
                       rtol=1e-12, what="relative_error of arrays of mixed magnitudes",
                       hint="Divide |a - b| by max(1e-8, |a| + |b|) entry by entry, "
                            "then return the largest ratio.")
_a = np.array([0.0, 3e-10, 250.0, -4.0])
_b = np.array([0.0, 0.0, 250.1, -4.0])
checks.check_close(checks.call(relative_error, _a, _b), _ref.relative_error(_a, _b),
                   rtol=1e-12, what="relative_error with entries near zero",
                   hint="The denominator of each entry is max(1e-8, |a| + |b|): the "
                        "floor replaces sums below 1e-8, it is not added.")
_a, _b = np.array([1.0, 2.0, -3.0]), np.array([1.5, 2.0, -2.9])
checks.check_close(checks.call(relative_error, _a, _b), _ref.relative_error(_a, _b),
                   rtol=1e-12, what="relative_error where a is below b",
                   hint="The distance |a - b| counts whichever of the two is larger.")
_r = checks.call(relative_error, 2.0, -0.5)
checks.check(isinstance(_r, (float, np.floating)),
             "relative_error should return a float.")
checks.check_close(_r, _ref.relative_error(2.0, -0.5), rtol=1e-12,
                   what="relative_error of two floats")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The gradient checker (3 points)
#
# `gradient_checker(J, grad_J, theta, eps=1e-5, rtol=1e-6)` compares the analytic
# gradient `grad_J(theta)` with `numerical_gradient(J, theta, eps)` (central
# differences) entry by entry, with the relative error of section 2, and returns
# `(ok, worst_index, worst_error)`:
#
# - `worst_error`: the largest entrywise relative error, a float;
# - `worst_index`: where it occurs, as a **tuple** index into `theta` (`()` when
#   `theta` is a float; the first one in C order on ties). `np.argmax` gives a flat
#   position and `np.unravel_index` turns it into a tuple;
# - `ok`: the bool `worst_error <= rtol`.

# %% nbgrader={"grade": false, "grade_id": "gradient_checker", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradient_checker(J, grad_J, theta, eps=1e-5, rtol=1e-6):
    """(ok, worst_index, worst_error) of grad_J against central differences of J."""
    ### BEGIN SOLUTION
    analytic = np.asarray(grad_J(theta), dtype=float)
    numeric = np.asarray(numerical_gradient(J, theta, eps))
    errors = np.abs(analytic - numeric) / np.maximum(
        1e-8, np.abs(analytic) + np.abs(numeric)
    )
    worst_index = np.unravel_index(np.argmax(errors), errors.shape)
    worst_error = float(errors[worst_index])
    return worst_error <= rtol, tuple(int(i) for i in worst_index), worst_error
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_gradient_checker", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does gradient_checker accept a right gradient and find the wrong entry of another?"""
with checks.public("gradient_checker"):


    def _cube_sum(t):
        return float(np.sum(t**3))


    def _cube_grad(t):
        return 3 * t**2


    def _cube_grad_wrong(t):
        grad = 3 * t**2
        grad[1, 0] += 0.1
        return grad


    _theta = np.array([[1.0, -2.0], [0.5, 3.0]])
    _result = checks.call(gradient_checker, _cube_sum, _cube_grad, _theta)
    checks.check(isinstance(_result, tuple) and len(_result) == 3,
                 "gradient_checker should return a tuple (ok, worst_index, worst_error).")
    checks.check(_result[0] is True or _result[0] is np.True_,
                 f"A right gradient should give ok = True, got {_result[0]!r} "
                 f"(worst_error {_result[2]!r}).",
                 hint="Use central differences and the relative error of section 2.")
    _ok, _index, _error = checks.call(gradient_checker, _cube_sum, _cube_grad_wrong, _theta)
    checks.check(_ok is False or _ok is np.False_,
                 f"A wrong gradient should give ok = False, got {_ok!r}.")
    checks.check(isinstance(_index, tuple) and _index == (1, 0),
                 f"worst_index should be the tuple (1, 0) here, got {_index!r}.",
                 hint="np.unravel_index(np.argmax(errors), errors.shape) gives the tuple.")
    checks.check_close(_error, 0.1 / (0.75 + 0.85), rtol=1e-6, what="worst_error",
                       hint="The entry (1, 0) is 0.85 instead of 0.75: its relative error "
                            "is 0.1 / (0.75 + 0.85).")
    _ok, _index, _error = checks.call(gradient_checker, _cube_sum, _cube_grad, 0.5)
    checks.check(_index == (),
                 f"For a float theta, worst_index should be (), got {_index!r}.")

# %% nbgrader={"grade": true, "grade_id": "test_gradient_checker", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of gradient_checker (3 points), run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# worst_error is compared with the reference at rtol 1e-6 where it is set by a
# planted error or by the truncation error of a large step, never by rounding.
from lib import gradcheck as _ref


def _check_result(result, want, what, compare_index=True):
    checks.check(isinstance(result, tuple) and len(result) == 3,
                 f"{what}: gradient_checker should return a tuple (ok, worst_index, "
                 "worst_error).")
    ok, index, error = result
    checks.check(isinstance(ok, (bool, np.bool_)) and bool(ok) == want[0],
                 f"{what}: ok should be the bool {want[0]}, got {ok!r}.",
                 hint="ok is worst_error <= rtol, with the rtol given.")
    checks.check(isinstance(index, tuple) and len(index) == len(want[1]),
                 f"{what}: worst_index should be a tuple of {len(want[1])} integers, "
                 f"got {index!r}.", hint="np.unravel_index gives a tuple.")
    if compare_index:
        checks.check(index == want[1], f"{what}: worst_index does not point at the "
                                       "entry with the largest relative error.",
                     hint="Keep the order of the axes of theta.")
    checks.check_close(error, want[2], rtol=1e-6, atol=1e-12,
                       what=f"{what}: worst_error",
                       hint="worst_error is the largest |g - n| / max(1e-8, |g| + |n|) "
                            "over the entries, with n from central differences with "
                            "the eps given.")


_rng = np.random.default_rng(901)
_M = _rng.normal(size=(4, 3))
_T = _rng.normal(size=(3, 5))
_B = (_rng.uniform(0.5, 2.0, size=(3, 5)) * _rng.choice([-1.0, 1.0], size=(3, 5))
      - _M.T @ _M @ _T)  # the gradient at _T is bounded away from zero
_planted = np.zeros((3, 5))
_planted[2, 1], _planted[0, 4] = 3e-3, -1e-3
_a = _rng.permutation(np.linspace(0.5, 2.0, 6)).reshape(2, 3)
_S = _rng.normal(scale=0.5, size=(2, 3))


def _J(t):
    return float(0.5 * np.sum((_M @ t) ** 2) + np.sum(_B * t))


def _grad(t):
    return _M.T @ (_M @ t) + _B


def _grad_planted(t):
    return _grad(t) * (1.0 + _planted)


def _E(t):
    return float(np.sum(np.exp(_a * t)))


def _grad_E(t):
    return _a * np.exp(_a * t)


def _s(t):
    return float(np.exp(np.sin(t)))


def _ds_wrong(t):
    return float(np.cos(t) * np.exp(np.sin(t)) * (1.0 + 1e-4))


def _h(t):
    return float(np.exp(20.0 * t))


def _dh(t):
    return float(20.0 * np.exp(20.0 * t))


_Z3 = np.array([0.3, -1.2, 0.8])


def _z(t):  # does not depend on t[0]: both gradients are exactly 0 there
    return float(np.sum(t[1:] ** 2))


def _dz(t):
    return np.concatenate([[0.0], 2.0 * t[1:]])


def _dz_off(t):
    return np.concatenate([[1.2e-8], 2.0 * t[1:]])


with checks.substituted(globals(), numerical_gradient=_ref.numerical_gradient,
                        relative_error=_ref.relative_error):
    _before = _T.copy()
    _check_result(checks.call(gradient_checker, _J, _grad_planted, _T),
                  _ref.gradient_checker(_J, _grad_planted, _T),
                  "a gradient with two wrong entries")
    checks.check_equal(_T, _before, what="theta after gradient_checker",
                       hint="Never modify theta.")
    for _eps, _rtol in ((1e-2, 1e-6), (1e-2, 1e-3), (3e-3, 1e-6)):
        _check_result(checks.call(gradient_checker, _E, _grad_E, _S, eps=_eps,
                                  rtol=_rtol),
                      _ref.gradient_checker(_E, _grad_E, _S, eps=_eps, rtol=_rtol),
                      f"a right gradient checked with eps={_eps:g} and rtol={_rtol:g}")
    _ok, _index, _error = checks.call(gradient_checker, _J, _grad, _T)
    checks.check(bool(_ok) and _error <= 1e-6 and isinstance(_index, tuple),
                 "A right gradient checked with the default eps and rtol should give "
                 "ok = True and a worst_error below 1e-6.")
    # Every entry 1.5e-6 off: wrong under the default rtol=1e-6.
    _check_result(checks.call(gradient_checker, _J, lambda t: _grad(t) * (1.0 + 3e-6),
                              _T),
                  _ref.gradient_checker(_J, lambda t: _grad(t) * (1.0 + 3e-6), _T),
                  "a gradient 1.5e-6 off everywhere, with the default rtol",
                  compare_index=False)
    # exp(20 t): the truncation error of the default step (relative 7e-9) sets
    # worst_error, a thousand times the rounding error.
    _ok, _index, _error = checks.call(gradient_checker, _h, _dh, 0.1)
    checks.check_close(_error, _ref.gradient_checker(_h, _dh, 0.1)[2], rtol=1e-2,
                       what="worst_error of a right derivative with the default eps",
                       hint="The default step is eps=1e-5.")
    _, _, _error = checks.call(gradient_checker, _J, _grad_planted, _T)
    checks.check(bool(checks.call(gradient_checker, _J, _grad_planted, _T,
                                  rtol=_error)[0]),
                 "ok should be True when worst_error equals rtol.",
                 hint="ok is worst_error <= rtol.")
    for _grad_z, _what in ((_dz, "a right gradient with an entry that is exactly 0"),
                           (_dz_off, "a gradient 1.2e-8 off where it should be 0")):
        _check_result(checks.call(gradient_checker, _z, _grad_z, _Z3),
                      _ref.gradient_checker(_z, _grad_z, _Z3), _what)
    _check_result(checks.call(gradient_checker, _s, _ds_wrong, 0.4),
                  _ref.gradient_checker(_s, _ds_wrong, 0.4),
                  "a wrong derivative of a function of a float")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Checking a few coordinates (2 points)
#
# A full check costs two evaluations of `J` per parameter: 1.3 million for a small
# MNIST network. `check_sparse(J, grad_J, theta, num_checks=10, rng=None)` checks
# `num_checks` coordinates drawn at random instead:
#
# - `rng = np.random.default_rng(rng)`, then draw each coordinate uniformly and
#   independently (repeats allowed, so `num_checks` may exceed `theta.size`): one
#   `rng.integers` per axis, or a flat position turned into a tuple with
#   `np.unravel_index`. The same seed must give the same result;
# - at each drawn coordinate, compare `grad_J(theta)` with a central difference,
#   `eps = 1e-5`, with the relative error of section 2;
# - evaluate `J` only `2 * num_checks` times (and at most once more at `theta`):
#   do not call `numerical_gradient`, which visits every coordinate;
# - return `(ok, worst_index, worst_error)` as `gradient_checker` does, over the
#   checked coordinates, with `ok` the bool `worst_error <= 1e-6`.

# %% nbgrader={"grade": false, "grade_id": "check_sparse", "locked": false, "schema_version": 3, "solution": true, "task": false}
def check_sparse(J, grad_J, theta, num_checks=10, rng=None):
    """gradient_checker at num_checks random coordinates (eps=1e-5, rtol=1e-6)."""
    ### BEGIN SOLUTION
    generator = np.random.default_rng(rng)
    x = np.array(theta, dtype=float)
    analytic = np.asarray(grad_J(theta), dtype=float)

    def J_at(point):
        return float(J(point if point.ndim else point[()]))

    worst_index, worst_error = (), -1.0
    for _ in range(num_checks):
        i = tuple(int(generator.integers(n)) for n in x.shape)
        up, down = x.copy(), x.copy()
        up[i] += 1e-5
        down[i] -= 1e-5
        numeric = (J_at(up) - J_at(down)) / 2e-5
        error = relative_error(analytic[i], numeric)
        if error > worst_error:
            worst_index, worst_error = i, error
    return worst_error <= 1e-6, worst_index, worst_error
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_check_sparse", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does check_sparse check random coordinates, reproducibly, with few evaluations?"""
with checks.public("check_sparse"):
    _calls = []


    def _cube_sum(t):
        _calls.append(1)
        return float(np.sum(t**3))


    def _cube_grad_wrong(t):
        grad = 3 * t**2
        grad[0, 1] *= 1.01
        return grad


    _theta = np.linspace(-1.5, 2.0, 12).reshape(3, 4)
    _first = checks.call(check_sparse, _cube_sum, _cube_grad_wrong, _theta, num_checks=4,
                         rng=0)
    checks.check(isinstance(_first, tuple) and len(_first) == 3,
                 "check_sparse should return a tuple (ok, worst_index, worst_error).")
    checks.check(len(_calls) <= 9, f"check_sparse with num_checks=4 evaluated J "
                                   f"{len(_calls)} times; 8 are enough.",
                 hint="Compute one central difference per drawn coordinate; do not call "
                      "numerical_gradient.")
    checks.check(checks.call(check_sparse, _cube_sum, _cube_grad_wrong, _theta,
                             num_checks=4, rng=0) == _first,
                 "Two calls with rng=0 should give the same result.",
                 hint="Draw the coordinates from np.random.default_rng(rng).")
    _found = [checks.call(check_sparse, _cube_sum, _cube_grad_wrong, _theta, num_checks=2,
                          rng=_seed)[0] for _seed in range(60)]
    checks.check(True in _found and False in _found,
                 "With num_checks=2 out of 12 coordinates, some seeds should find the one "
                 "wrong entry (ok False) and others miss it (ok True).",
                 hint="Draw the coordinates at random from the rng, uniformly over theta.")
    _ok, _index, _error = checks.call(check_sparse, _cube_sum, _cube_grad_wrong, _theta,
                                      num_checks=200, rng=1)
    checks.check(_index == (0, 1) and not _ok,
                 f"With 200 checks the wrong entry (0, 1) should be found, got worst_index "
                 f"{_index!r} and ok {_ok!r}.", hint="worst_index is a tuple index.")

# %% nbgrader={"grade": true, "grade_id": "test_check_sparse", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of check_sparse (2 points), run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# Any uniform draw of the coordinates is accepted: the tests check that the result
# is the error at the coordinate it names, reproducible for a seed, different across
# seeds, complete with many checks, and cheap.
from lib import gradcheck as _ref

_rng = np.random.default_rng(1001)
_M = _rng.normal(size=(5, 4))
_T = _rng.normal(size=(4, 6))
_B = (_rng.uniform(0.5, 2.0, size=(4, 6)) * _rng.choice([-1.0, 1.0], size=(4, 6))
      - _M.T @ _M @ _T)
_planted = 1e-4 * (1.0 + _rng.permutation(24).reshape(4, 6))  # all distinct
_calls = []


def _J(t):
    _calls.append(1)
    return float(0.5 * np.sum((_M @ t) ** 2) + np.sum(_B * t))


def _grad_planted(t):
    return (_M.T @ (_M @ t) + _B) * (1.0 + _planted)


def _e(t):
    return float(np.exp(3.0 * t))


def _de(t):
    return float(3.0 * np.exp(3.0 * t))


def _de_wrong(t):
    return float(3.0 * np.exp(3.0 * t) * (1.0 + 1e-3))


_analytic = _grad_planted(_T)
_numeric = _ref.numerical_gradient(_J, _T)
_errors = np.abs(_analytic - _numeric) / np.maximum(1e-8, np.abs(_analytic)
                                                    + np.abs(_numeric))


def _check_valid(result, what):
    checks.check(isinstance(result, tuple) and len(result) == 3,
                 f"{what}: check_sparse should return a tuple (ok, worst_index, "
                 "worst_error).")
    ok, index, error = result
    checks.check(isinstance(index, tuple) and len(index) == 2
                 and all(0 <= int(i) < n for i, n in zip(index, (4, 6), strict=True)),
                 f"{what}: worst_index should be a tuple index into theta, got "
                 f"{index!r}.")
    checks.check_close(error, _errors[index], rtol=1e-6, what=f"{what}: worst_error",
                       hint="worst_error is the relative error of a central difference "
                            "with eps=1e-5 at the coordinate worst_index.")
    checks.check(isinstance(ok, (bool, np.bool_)) and ok == (error <= 1e-6),
                 f"{what}: ok should be the bool worst_error <= 1e-6.")


with checks.substituted(globals(), numerical_gradient=_ref.numerical_gradient,
                        relative_error=_ref.relative_error,
                        gradient_checker=_ref.gradient_checker):
    _before = _T.copy()
    _seen = set()
    for _seed in range(10):
        _calls.clear()
        _first = checks.call(check_sparse, _J, _grad_planted, _T, num_checks=3,
                             rng=_seed)
        checks.check(len(_calls) <= 7, "check_sparse with num_checks=3 should evaluate "
                                       "J at most 7 times.",
                     hint="One central difference per drawn coordinate; do not call "
                          "numerical_gradient.")
        _check_valid(_first, "check_sparse with a seed")
        checks.check(checks.call(check_sparse, _J, _grad_planted, _T, num_checks=3,
                                 rng=_seed) == _first,
                     "Two calls with the same seed should give the same result.",
                     hint="Draw from np.random.default_rng(rng) only.")
        _seen.add(_first[1])
    checks.check(len(_seen) > 1, "Different seeds should check different coordinates.",
                 hint="Draw the coordinates from np.random.default_rng(rng).")
    _result = checks.call(check_sparse, _J, _grad_planted, _T, num_checks=400, rng=11)
    _check_valid(_result, "check_sparse with many checks")
    checks.check(_result[1] == np.unravel_index(np.argmax(_errors), _errors.shape),
                 "With num_checks much larger than theta.size, every coordinate should "
                 "be checked and worst_index should be the worst of them all.",
                 hint="Draw each coordinate anew, uniformly over all of theta.")
    checks.check(checks.call(check_sparse, _J, _grad_planted, _T, num_checks=5,
                             rng=np.random.default_rng(5))
                 == checks.call(check_sparse, _J, _grad_planted, _T, num_checks=5,
                                rng=np.random.default_rng(5)),
                 "Two equal Generators passed as rng should give the same result.")
    _check_valid(checks.call(check_sparse, _J, _grad_planted, _T, num_checks=2),
                 "check_sparse with rng=None")
    _runs = []
    for _kwargs in ({}, {"num_checks": 10}):
        _calls.clear()
        _runs.append((checks.call(check_sparse, _J, _grad_planted, _T, rng=3, **_kwargs),
                      len(_calls)))
    checks.check(_runs[0] == _runs[1], "check_sparse with its default num_checks should "
                                       "do what num_checks=10 does.",
                 hint="The default is num_checks=10.")
    _ok = checks.call(check_sparse, _J, lambda t: (_M.T @ (_M @ t) + _B) * (1.0 + 3e-6),
                      _T, num_checks=4, rng=4)[0]
    checks.check(not _ok, "A gradient 1.5e-6 off everywhere should give ok = False.",
                 hint="ok is worst_error <= 1e-6.")

    checks.check_equal(_T, _before, what="theta after check_sparse",
                       hint="Never modify theta.")
    for _grad_s, _want_ok in ((_de, True), (_de_wrong, False)):
        _ok, _index, _error = checks.call(check_sparse, _e, _grad_s, 0.2, num_checks=3,
                                          rng=0)
        checks.check(_index == (), "For a float theta, worst_index should be ().")
        _want = _ref.gradient_checker(_e, _grad_s, 0.2)
        checks.check(bool(_ok) == _want_ok, f"For a float theta and a "
                                            f"{'right' if _want_ok else 'wrong'} "
                                            f"derivative, ok should be {_want_ok}.",
                     hint="Use central differences with eps=1e-5.")
        checks.check_close(_error, _want[2], rtol=1e-6, atol=1e-9,
                           what="worst_error for a float theta")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Checking gradients you derive
#
# ### 5a. The sigmoid (1 point)
#
# The sigmoid $g(z) = 1/(1 + e^{-z})$ is `expit` in SciPy (imported above). Show
# yourself that $g'(z) = g(z)\,(1 - g(z))$, and write `sigmoid_grad(z)`, elementwise
# for a float or an array of any shape (a float gives a float), with `expit`. The
# cell after the checks runs your checker on it.

# %% nbgrader={"grade": false, "grade_id": "sigmoid_grad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sigmoid_grad(z):
    """Derivative of the sigmoid, elementwise: g(z) * (1 - g(z))."""
    ### BEGIN SOLUTION
    return expit(z) * expit(-z)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_sigmoid_grad", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does sigmoid_grad give known values of the sigmoid's derivative?"""
with checks.public("sigmoid_grad"):
    checks.check_close(checks.call(sigmoid_grad, 0.0), 0.25, rtol=1e-12,
                       what="sigmoid_grad(0)", hint="g(0) = 1/2, so g'(0) = 1/4.")
    checks.check(np.ndim(checks.call(sigmoid_grad, 1.5)) == 0,
                 "sigmoid_grad of a float should be a float.")
    _z = np.array([[-3.0, -1.0], [1.0, 3.0]])
    _d = checks.call(sigmoid_grad, _z)
    checks.check_close(_d, [[0.045176659730912, 0.196611933241482],
                            [0.196611933241482, 0.045176659730912]], rtol=1e-9,
                       what="sigmoid_grad([[-3, -1], [1, 3]])",
                       hint="g'(z) = g(z) (1 - g(z)) is even in z and at most 1/4.")

# %% nbgrader={"grade": true, "grade_id": "test_sigmoid_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of sigmoid_grad (1 point), run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# rtol 1e-6, atol 1e-12: 1 - expit(z) loses digits for z > 15 (about 1e-9 relative
# at z = 20), and that form is correct.
_rng = np.random.default_rng(1101)
for _z in (np.clip(_rng.normal(scale=6.0, size=(4, 5)), -20.0, 20.0),
           np.linspace(-20.0, 20.0, 41)):
    checks.check_close(checks.call(sigmoid_grad, _z), expit(_z) * expit(-_z),
                       rtol=1e-6, atol=1e-12, what="sigmoid_grad of an array",
                       hint="The derivative of the sigmoid is g(z) (1 - g(z)), "
                            "elementwise.")
_out = checks.call(sigmoid_grad, -2.5)
checks.check(np.ndim(_out) == 0, "sigmoid_grad of a float should be a float.")
checks.check_close(_out, expit(-2.5) * expit(2.5), rtol=1e-9,
                   what="sigmoid_grad of a float")
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "run_sigmoid_grad", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    z_values = np.linspace(-6.0, 6.0, 25)
    print("sigmoid_grad:", gradient_checker(lambda z: float(np.sum(expit(z))), sigmoid_grad,
                                            z_values))
    print("the sigmoid itself, as a wrong derivative:",
          gradient_checker(lambda z: float(np.sum(expit(z))), expit, z_values))

# %% [markdown]
# ### 5b. The logistic loss (2 points)
#
# With logits $t = X\theta$ and labels $y_i \in \{0, 1\}$, the mean cross-entropy of
# logistic regression is
# $J(\theta) = \frac{1}{n}\sum_i \big[\log(1 + e^{t_i}) - y_i t_i\big]$
# (assignment 1 showed that this is the cross-entropy of $g(t_i)$; the next cell
# computes it with `np.logaddexp`, which does not overflow). Write its gradient
# `logistic_grad(theta, X, y)`, an array of shape `(d,)`, vectorised, without
# changing `theta`.

# %% nbgrader={"grade": false, "grade_id": "logistic_loss", "locked": true, "schema_version": 3, "solution": false, "task": false}
def logistic_loss(theta, X, y):
    """Mean cross-entropy of the logits X @ theta against 0/1 labels y."""
    t = X @ theta
    return float(np.mean(np.logaddexp(0.0, t) - y * t))


# %% nbgrader={"grade": false, "grade_id": "logistic_grad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def logistic_grad(theta, X, y):
    """Gradient of logistic_loss with respect to theta, shape (d,)."""
    ### BEGIN SOLUTION
    return X.T @ (expit(X @ theta) - y) / len(y)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_logistic_grad", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Is logistic_grad the gradient of the mean logistic loss?"""
with checks.public("logistic_grad"):
    _X = np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 0.5], [1.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    _y = np.array([1, 0, 0, 1])
    checks.check_close(checks.call(logistic_grad, np.zeros(3), _X, _y),
                       _X.T @ (0.5 - _y) / 4, rtol=1e-9, atol=1e-15,
                       what="logistic_grad at theta = 0",
                       hint="At theta = 0 every probability is 1/2: the gradient is "
                            "X.T @ (1/2 - y) / n. Check the sign and the mean.")
    _theta = np.array([0.5, -1.0, 2.0])
    _ok, _index, _error = gradient_checker(lambda t: logistic_loss(t, _X, _y),
                                           lambda t: checks.call(logistic_grad, t, _X, _y),
                                           _theta)
    checks.check(_ok, f"logistic_grad disagrees with central differences of logistic_loss: "
                      f"relative error {_error:.1e} at index {_index}.",
                 hint="If your gradient_checker passes its own checks, the gradient is "
                      "off.")
    checks.check_close(_theta, [0.5, -1.0, 2.0], what="theta after logistic_grad",
                       hint="Do not modify theta.")

# %% nbgrader={"grade": true, "grade_id": "test_logistic_grad", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of logistic_grad (2 points), run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# The oracle is autograd's gradient of the same loss.
import autograd.numpy as _anp
from autograd import grad as _autograd


def _loss(theta, X, y):
    t = _anp.dot(X, theta)
    return _anp.mean(_anp.logaddexp(0.0, t) - y * t)


_rng = np.random.default_rng(1201)
for _n, _d in ((30, 3), (7, 5), (1, 4)):
    _X = _rng.normal(scale=2.0, size=(_n, _d))
    _y = _rng.integers(0, 2, size=_n)
    _theta = _rng.normal(size=_d)
    _before = _theta.copy()
    checks.check_close(checks.call(logistic_grad, _theta, _X, _y),
                       _autograd(_loss)(_theta, _X, _y.astype(float)), rtol=1e-9,
                       atol=1e-12, what=f"logistic_grad with n={_n} and d={_d}",
                       hint="The gradient is X.T @ (sigmoid(X @ theta) - y) / n.")
    checks.check_equal(_theta, _before, what="theta after logistic_grad",
                       hint="Do not modify theta.")
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "run_logistic_grad", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    points, labels = two_gaussians(200, distance=2.0, rng=3)
    X_log = add_intercept(points)
    theta_log = np.array([0.3, -0.8, 0.5])
    print("logistic_grad:", gradient_checker(lambda t: logistic_loss(t, X_log, labels),
                                             lambda t: logistic_grad(t, X_log, labels),
                                             theta_log))

# %% [markdown]
# ### 5c. The softmax cross-entropy (2 points)
#
# Softmax regression without bias has logits $Z = XW$ with $W$ of shape
# `(n_features, k)`; row $i$ of $P = \mathrm{softmax}(Z)$ (row-wise) is the
# predicted distribution of example $i$, and the loss is the mean cross-entropy
# $J(W) = -\frac{1}{n}\sum_i \log P_{i, y_i}$ for integer labels $y_i \in
# \{0, \dots, k-1\}$ (the next cell computes it with scikit-learn's `log_loss`).
# Derive its gradient: you should find $\frac{1}{n} X^\top (P - Y)$, where $Y$ holds
# the labels one-hot, $Y_{ij} = [y_i = j]$. Write `softmax_grad(W, X, y)`, of the
# shape of `W`, with SciPy's `softmax(Z, axis=1)` (imported above). Not every label
# needs to occur in `y`: the number of classes is `W.shape[1]`.

# %% nbgrader={"grade": false, "grade_id": "mean_cross_entropy", "locked": true, "schema_version": 3, "solution": false, "task": false}
def mean_cross_entropy(W, X, y):
    """Mean cross-entropy of softmax(X @ W) against integer labels y (scikit-learn)."""
    return log_loss(y, softmax(X @ W, axis=1), labels=np.arange(W.shape[1]))


# %% nbgrader={"grade": false, "grade_id": "softmax_grad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softmax_grad(W, X, y):
    """Gradient of mean_cross_entropy with respect to W, shape (n_features, k)."""
    ### BEGIN SOLUTION
    P = softmax(X @ W, axis=1)  # (n, k)
    P[np.arange(len(y)), y] -= 1.0  # P - Y
    return X.T @ P / len(y)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_softmax_grad", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Is softmax_grad the gradient of the mean softmax cross-entropy?"""
with checks.public("softmax_grad"):
    _X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    _y = np.array([0, 2, 2])
    _g = checks.call(softmax_grad, np.zeros((2, 3)), _X, _y)
    checks.check_close(_g, [[-1 / 9, 2 / 9, -1 / 9], [1 / 3, 1 / 3, -2 / 3]],
                       rtol=1e-9, atol=1e-15, what="softmax_grad at W = 0",
                       hint="At W = 0 every class has probability 1/k. Subtract 1 at "
                            "P[i, y[i]] only, and average over the n examples.")
    _W = np.array([[0.5, -1.0, 0.2], [1.5, 0.3, -0.7]])
    _ok, _index, _error = gradient_checker(lambda w: mean_cross_entropy(w, _X, _y),
                                           lambda w: checks.call(softmax_grad, w, _X, _y),
                                           _W)
    checks.check(_ok, f"softmax_grad disagrees with central differences of "
                      f"mean_cross_entropy: relative error {_error:.1e} at index {_index}.",
                 hint="The softmax is taken over each row (axis=1).")

# %% nbgrader={"grade": true, "grade_id": "test_softmax_grad", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of softmax_grad (2 points), run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# The oracle is autograd's gradient of the cross-entropy in log-sum-exp form.
import autograd.numpy as _agnp
from autograd import grad as _autograd
from autograd.scipy.special import logsumexp as _logsumexp


def _loss(W, X, y):
    Z = _agnp.dot(X, W)
    return _agnp.mean(_logsumexp(Z, axis=1) - Z[_agnp.arange(len(y)), y])


_rng = np.random.default_rng(1301)
for _n, _d, _k, _labels in ((13, 5, 4, 3), (6, 3, 7, 7), (1, 2, 3, 3)):
    _X = _rng.normal(size=(_n, _d))
    _y = _rng.integers(0, _labels, size=_n)  # labels 0.._labels-1 of k classes
    _W = _rng.normal(scale=2.0, size=(_d, _k))
    _before = _W.copy()
    checks.check_close(checks.call(softmax_grad, _W, _X, _y),
                       _autograd(_loss)(_W, _X, _y), rtol=1e-8, atol=1e-12,
                       what=f"softmax_grad with n={_n}, {_d} features, {_k} classes",
                       hint="The gradient is X.T @ (P - Y) / n, with P the row-wise "
                            "softmax and Y one-hot with W.shape[1] columns.")
    checks.check_equal(_W, _before, what="W after softmax_grad",
                       hint="Do not modify W.")
### END HIDDEN TESTS

# %% [markdown]
# The digits have 64 pixels and 10 classes: `W` has 640 entries, and a sparse check
# of 20 of them costs 40 evaluations of the loss instead of 2 × 640. Pixels that are 0
# in every image have a gradient of exactly 0, analytic and numerical: the floor of
# the relative error counts them as right.

# %% nbgrader={"grade": false, "grade_id": "run_softmax_grad", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    X_digits, y_digits = load_digits()
    X_digits, y_digits = X_digits[:200], y_digits[:200]
    W_digits = np.random.default_rng(0).normal(scale=0.1, size=(64, 10))
    print("softmax_grad on the digits, 20 coordinates:",
          check_sparse(lambda w: mean_cross_entropy(w, X_digits, y_digits),
                       lambda w: softmax_grad(w, X_digits, y_digits), W_digits,
                       num_checks=20, rng=0))

# %% [markdown]
# ## 6. Find the bug (1 point, and 1 point written)
#
# A tiny network with one hidden layer of 3 `tanh` units fits 2 outputs by least
# squares. Its parameters are four blocks, `W1`, `b1`, `W2` and `b2`, stored one
# after the other in one flat vector `theta_net` (`unpack` gives a view of each
# block). `net_grad` has a bug. Use your checker to find **which blocks** of its
# gradient are wrong, and write `buggy_blocks()` to return their names as a set,
# such as `{"b2"}`. Checking the whole vector tells you the worst coordinate; to see
# every wrong block, compare each block on its own.

# %% nbgrader={"grade": false, "grade_id": "network", "locked": true, "schema_version": 3, "solution": false, "task": false}
BLOCKS = {"W1": (2, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}  # name: shape


def unpack(theta):
    """Views of the blocks of the flat vector theta, by name."""
    blocks, start = {}, 0
    for name, shape in BLOCKS.items():
        size = int(np.prod(shape))
        blocks[name] = theta[start:start + size].reshape(shape)
        start += size
    return blocks


net_rng = np.random.default_rng(7)
X_net = net_rng.normal(size=(8, 2))  # 8 examples, 2 inputs
T_net = net_rng.normal(size=(8, 2))  # their 2 targets
theta_net = net_rng.normal(scale=0.5, size=17)


def net_loss(theta):
    """Half the mean squared error of the network on (X_net, T_net)."""
    p = unpack(theta)
    H = np.tanh(X_net @ p["W1"] + p["b1"])  # (8, 3)
    out = H @ p["W2"] + p["b2"]  # (8, 2)
    return 0.5 * np.mean(np.sum((out - T_net) ** 2, axis=1))


def net_grad(theta):
    """Gradient of net_loss by backpropagation, as a flat vector like theta."""
    p = unpack(theta)
    H = np.tanh(X_net @ p["W1"] + p["b1"])
    out = H @ p["W2"] + p["b2"]
    d_out = (out - T_net) / len(X_net)  # (8, 2)
    d_H = d_out @ p["W2"].T  # (8, 3)
    d_Z = d_H * (1 - H) ** 2  # through tanh
    grads = {"W1": X_net.T @ d_Z, "b1": d_Z.sum(axis=0),
             "W2": H.T @ d_out, "b2": d_out.sum(axis=0)}
    return np.concatenate([grads[name].ravel() for name in BLOCKS])


# %%
with checks.given():
    # Explore here (this cell is not graded).
    display(gradient_checker(net_loss, net_grad, theta_net))

# %% nbgrader={"grade": false, "grade_id": "buggy_blocks", "locked": false, "schema_version": 3, "solution": true, "task": false}
def buggy_blocks():
    """The names of the blocks of net_grad(theta_net) that are wrong, as a set."""
    ### BEGIN SOLUTION
    analytic = unpack(net_grad(theta_net))
    numeric = unpack(numerical_gradient(net_loss, theta_net))
    return {name for name in BLOCKS
            if relative_error(analytic[name], numeric[name]) > 1e-6}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_buggy_blocks", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does buggy_blocks return a set of block names?"""
with checks.public("buggy_blocks"):
    _blocks = checks.call(buggy_blocks)
    checks.check(isinstance(_blocks, (set, frozenset, list, tuple)),
                 f"buggy_blocks() should return a set of block names, got "
                 f"{type(_blocks).__name__}.", hint='For example return {"b2"}.')
    checks.check(len(_blocks) > 0 and set(_blocks) <= set(BLOCKS),
                 f"buggy_blocks() should name blocks among {sorted(BLOCKS)}, got "
                 f"{_blocks!r}.")

# %% nbgrader={"grade": true, "grade_id": "test_buggy_blocks", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of buggy_blocks (1 point), run when the notebook is graded."""
### BEGIN HIDDEN TESTS
from lib import gradcheck as _ref

with checks.substituted(globals(), numerical_gradient=_ref.numerical_gradient,
                        relative_error=_ref.relative_error,
                        gradient_checker=_ref.gradient_checker,
                        check_sparse=_ref.check_sparse):
    _blocks = checks.call(buggy_blocks)
_named = set(_blocks) if isinstance(_blocks, (set, frozenset, list, tuple)) else None
checks.check(_named == {"W1", "b1"},
             "buggy_blocks() does not name exactly the wrong blocks of net_grad.",
             hint="Compare each block of net_grad(theta_net) with the same block of "
                  "numerical_gradient(net_loss, theta_net) using relative_error: a "
                  "block can be wrong without holding the worst coordinate.")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_bug", "locked": false, "points": 1, "schema_version": 3, "solution": true, "task": false}
# **Question (1 point).** Which line of `net_grad` is wrong, and what is the fix? Why
# does this one mistake show up in exactly the blocks you found, and not in the others?
#
# ### BEGIN SOLUTION
# The derivative of tanh is $1 - \tanh^2$: the line `d_Z = d_H * (1 - H) ** 2` should
# be `d_Z = d_H * (1 - H ** 2)`. Backpropagation goes from the output to the input:
# the gradients of `W2` and `b2` use `d_out` and `H` only, computed before the wrong
# line, so they are right; `d_Z` feeds both first-layer gradients, `X_net.T @ d_Z`
# and `d_Z.sum(axis=0)`, so `W1` and `b1` are both wrong. The checker's worst
# coordinate alone (in `b1`) would have hidden that `W1` is wrong too.
# ### END SOLUTION

# %% [markdown]
# ## 7. Why central differences (guided)
#
# Take $f(x) = e^{\sin x}$ at $x = 1$, whose derivative $\cos x\, e^{\sin x}$ we know,
# and measure the relative error of your `numerical_gradient` for steps from
# $10^{-14}$ to $10^{-1}$. Taylor's formula gives the *truncation* error of each
# method:
#
# $$\frac{f(x+\varepsilon) - f(x)}{\varepsilon} = f'(x) + \frac{\varepsilon}{2} f''(x)
# + O(\varepsilon^2), \qquad
# \frac{f(x+\varepsilon) - f(x-\varepsilon)}{2\varepsilon} = f'(x) +
# \frac{\varepsilon^2}{6} f'''(x) + O(\varepsilon^4):$$
#
# the even terms cancel in the central difference. But $f$ is computed with a
# relative *rounding* error of about $u \approx 10^{-16}$, and the difference of two
# nearly equal values divided by $\varepsilon$ turns it into an error of about
# $u\,|f|/\varepsilon$, which grows as the step shrinks.

# %% nbgrader={"grade": false, "grade_id": "step_sizes", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    def error_plot(errors, steps, title):
        """Log-log plot of relative errors (dict of name -> array) against the steps."""
        data = {"step": [], "error": [], "curve": []}
        for name, values in errors.items():
            data["step"] += list(steps)
            data["error"] += list(np.maximum(values, 1e-17))  # 0 cannot go on a log axis
            data["curve"] += [name] * len(steps)
        return (ggplot(data, aes("step", "error", color="curve"))
                + geom_line(size=1) + geom_point(size=1.5)
                + scale_x_log10(format=".0e") + scale_y_log10(format=".0e")
                + labs(title=title, x="step eps (log scale, units of x)",
                       y="relative error of f'(1) (log scale, no unit)", color="")
                + ggsize(640, 400))


    def f_smooth(x):
        return float(np.exp(np.sin(x)))


    exact = np.cos(1.0) * np.exp(np.sin(1.0))
    steps = np.logspace(-14, -1, 53)
    errors = {
        method: np.array([abs(numerical_gradient(f_smooth, 1.0, eps, method) - exact)
                          for eps in steps]) / abs(exact)
        for method in ("forward", "central")
    }
    display(error_plot(errors, steps, "Finite differences of exp(sin x) at x = 1, in float64"))

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_step_size", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** Read the plot. What are the slopes of the two curves on the
# right and on the left, and why? Which step minimises the error of each method, and
# how small is that error? Why is `eps = 1e-5` a good default for central
# differences, and why would a checker with forward differences need a much looser
# `rtol` than `1e-6`?
#
# ### BEGIN SOLUTION
# On the right, truncation dominates: the forward error $\frac{\varepsilon}{2}|f''|$
# has slope 1 (a decade of step per decade of error), the central error
# $\frac{\varepsilon^2}{6}|f'''|$ has slope 2. On the left, rounding dominates for
# both: about $u|f|/\varepsilon$, slope $-1$, noisy. The total error is smallest
# where the two balance: $\varepsilon \approx \sqrt{u} \approx 10^{-8}$ for forward
# differences, with an error of about $10^{-8}$, and
# $\varepsilon \approx u^{1/3} \approx 10^{-5}$ for central differences, with an
# error of about $10^{-10}$ to $10^{-11}$. So `eps = 1e-5` sits at the bottom of the
# central curve, a thousand times below `rtol = 1e-6`: a right gradient passes with
# a wide margin and an error of `1e-6` is visible. Forward differences cannot do
# better than about `1e-8` even at their best step, and at `eps = 1e-5` their error
# is about `5e-6`, above `1e-6`: a checker built on them would reject right
# gradients unless `rtol` were about `1e-4`, and would then miss smaller bugs.
# ### END SOLUTION

# %% [markdown]
# ## 8. Why `float32` misleads a checker (guided)
#
# Networks are often trained in `float32`, whose unit roundoff is
# $u \approx 6 \times 10^{-8}$ instead of $10^{-16}$. Here is the same experiment with
# $f$ computed in `float32`, then a check of your `logistic_grad` against the loss
# computed in `float64` and in `float32`, once as it is and once with a small bug
# planted: its second component multiplied by $1 + 10^{-4}$.

# %% nbgrader={"grade": false, "grade_id": "float32", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    def f_smooth32(x):
        return float(np.exp(np.sin(np.float32(x))))


    errors32 = {
        "central, float32": np.array([abs(numerical_gradient(f_smooth32, 1.0, eps) - exact)
                                      for eps in steps]) / abs(exact),
        "central, float64": errors["central"],
    }
    display(error_plot(errors32, steps, "Central differences of exp(sin x) at x = 1"))

# %% nbgrader={"grade": false, "grade_id": "float32_check", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    def logistic_loss32(theta, X, y):
        """logistic_loss computed in float32, as on most accelerators."""
        t = X.astype(np.float32) @ np.asarray(theta, dtype=np.float32)
        return float(np.mean(np.logaddexp(np.float32(0.0), t) - y.astype(np.float32) * t))


    def planted_bug(t):
        return logistic_grad(t, X_log, labels) * np.array([1.0, 1.0 + 1e-4, 1.0])


    rows = []
    for precision, loss_fn in (("float64", logistic_loss), ("float32", logistic_loss32)):
        for gradient, grad_fn in (("right", partial(logistic_grad, X=X_log, y=labels)),
                                  ("planted bug", planted_bug)):
            ok, index, error = gradient_checker(partial(loss_fn, X=X_log, y=labels),
                                                grad_fn, theta_log)
            rows.append({"loss computed in": precision, "gradient": gradient, "ok": ok,
                         "worst index": index, "worst error": f"{error:.1e}"})
    print(pd.DataFrame(rows).to_string(index=False))

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_float32", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** Why does the check in `float32` reject the right gradient,
# and why can it not tell the planted bug from it? Use the plot to say which step
# would be best in `float32` and how small the error could then get. How should you
# check the gradient of a model that trains in `float32`?
#
# ### BEGIN SOLUTION
# In `float32` the loss is rounded to about $6 \times 10^{-8}$ relative, and so is
# `theta + eps` itself (a step of `1e-5` on a value near 1 is only about 80 units in
# the last place). The rounding error of a central difference, about
# $u|f|/\varepsilon$, is then near $10^{-2}$ at `eps = 1e-5`: far above `rtol = 1e-6`,
# so a right gradient fails, and far above the $5 \times 10^{-5}$ error of the planted
# bug, so the bug changes nothing visible: both give the same worst error. Balancing
# $\varepsilon^2$ against $u/\varepsilon$ gives the best step
# $\varepsilon \approx u^{1/3} \approx 4 \times 10^{-3}$ (the bottom of the float32
# curve is near $10^{-3}$ to $10^{-2}$), with an error of about $u^{2/3} \approx
# 10^{-5}$ at best: any bug smaller than that is invisible. So check gradients in
# `float64`: cast the data and the parameters to `float64` for the check (the
# formula of the gradient does not depend on the precision), use central differences
# with `eps` near `1e-5`, and only then train in `float32`. If a check must run in
# `float32`, use a step near `1e-3` and a tolerance near `1e-3`, knowing that small
# bugs will pass.
# ### END SOLUTION

# %% [markdown]
# ## Public checks
#
# This cell lists the functions whose public checks pass in this kernel. Run it after
# *Kernel → Restart and Run All*, before you submit. Passing is a good sign,
# not a grade: hidden tests with other inputs decide the points.

# %% nbgrader={"grade": false, "grade_id": "public_summary", "locked": true, "schema_version": 3, "solution": false, "task": false}
checks.summary(["numerical_gradient", "relative_error", "gradient_checker",
                "check_sparse", "sigmoid_grad", "logistic_grad", "softmax_grad",
                "buggy_blocks"])
