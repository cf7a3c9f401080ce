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
# # Assignment 1: binary logistic regression
#
# You will write logistic regression from its parts: the sigmoid, the binary
# cross-entropy, the gradient of the regularized loss, gradient descent, prediction
# and the decision boundary. Then you will fit it to a toy data set, watch it train,
# and compare it with scikit-learn. Last, you will prepare MNIST images for the same
# model and write the first step of backpropagation through the loss, the gradient
# with respect to the predicted probabilities.
#
# **How this notebook is graded.** Write your code between the `def` line and the end
# of each answer cell, replacing `raise NotImplementedError()`. The cell after each
# answer runs *public checks* and prints one line: that they passed, or a hint saying
# what was expected. The last cell lists which functions pass. Passing is a good sign
# but not a grade: hidden tests with other inputs decide the points. Written answers
# are graded by hand. Do not add, delete or reorder cells; run *Kernel → Restart and
# Run All* before you submit.
#
# **Conventions.** `X` has one example per row and its column 0 is all ones (the
# intercept), so `theta[0]` is the bias. Arrays are `float64`.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import autograd.numpy as anp
import numpy as np
import pandas as pd
from autograd import grad
from IPython.display import display
from lets_plot import aes, geom_line, geom_vline, gggrid, ggplot, ggsize, labs
from sklearn.linear_model import LogisticRegression

from lib import checks, plots
from lib.data import add_intercept, load_mnist_sample, split, two_gaussians

plots.setup()

# %% [markdown]
# ## The data
#
# Two classes of 200 points each, drawn from Gaussians with unit covariance whose
# centres are three units apart.

# %% nbgrader={"grade": false, "grade_id": "data", "locked": true, "schema_version": 3, "solution": false, "task": false}
X_points, y = two_gaussians(400, distance=3.0, rng=0)
X = add_intercept(X_points)  # (400, 3): a column of ones, then x1 and x2
print(f"X: {X.shape}, class sizes: {np.bincount(y)}")
plots.decision_boundary_plot(X_points, y, {}, title="Two Gaussian classes")

# %% [markdown]
# ## 1. The sigmoid (2 points)
#
# $g(z) = \dfrac{1}{1 + e^{-z}}$. Apply it elementwise to a scalar or an array of any
# shape; a scalar input gives a scalar. It must not overflow: `np.exp(1000)` is `inf`
# with a `RuntimeWarning`, and this function must return 0 and 1 at $z = \mp 1000$
# without any warning.

# %% nbgrader={"grade": false, "grade_id": "sigmoid", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sigmoid(z):
    """Logistic function, elementwise; no overflow warning for any finite z."""
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out[()] if out.ndim == 0 else out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_sigmoid", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does sigmoid give known values, keep shapes, and stay finite without warnings?"""
with checks.public("sigmoid"):
    checks.check_close(checks.call(sigmoid, 0.0), 0.5, what="sigmoid(0)",
                       hint="sigmoid(z) is 1 / (1 + exp(-z)).")
    checks.check_close(checks.call(sigmoid, np.array([-1.0, 0.0, 2.0])),
                       [0.2689414213699951, 0.5, 0.8807970779778823], rtol=1e-9,
                       what="sigmoid([-1, 0, 2])", hint="Apply the formula elementwise.")
    checks.check_close(checks.call(sigmoid, np.array([-1000.0, 1000.0]),
                                   forbid_warnings=True, what="sigmoid([-1000, 1000])"),
                       [0.0, 1.0], atol=1e-12, what="sigmoid([-1000, 1000])",
                       hint="For z < 0, exp(z) / (1 + exp(z)) is the same value without "
                            "overflow; np.where evaluates both of its branches.")

# %% nbgrader={"grade": true, "grade_id": "test_sigmoid", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of sigmoid (2 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
from lib import logistic as _ref

_rng = np.random.default_rng(101)
for _z in (_rng.normal(scale=30.0, size=(7, 5)), np.linspace(-800.0, 800.0, 33),
           np.array([-1e4, -745.5, -709.9, 0.0, 36.8, 709.9, 745.5, 1e4]),
           np.array([-0.999, -0.5, -1e-3, 1e-3, 0.25, 0.5, 0.999])):
    checks.check_close(checks.call(sigmoid, _z, forbid_warnings=True), _ref.sigmoid(_z),
                       rtol=1e-9, atol=1e-15, what="sigmoid of an array",
                       hint="Compute 1 / (1 + exp(-z)) elementwise, keep the shape, and "
                            "avoid overflow and loss of precision for large |z|.")
for _s in (-3.5, 0.5):
    _out = checks.call(sigmoid, _s)
    checks.check_scalar(_out, what="sigmoid of a scalar")
    checks.check_close(_out, _ref.sigmoid(_s), rtol=1e-12, what="sigmoid of a scalar")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Binary cross-entropy (2 points)
#
# For predicted probabilities $p_i$ and labels $t_i \in \{0, 1\}$,
# $\mathrm{BCE} = -\frac{1}{n} \sum_i \big[t_i \log p_i + (1 - t_i) \log (1 - p_i)\big]$.
# Clip the probabilities to $[\varepsilon, 1 - \varepsilon]$ so that the loss stays
# finite when a probability is exactly 0 or 1.

# %% nbgrader={"grade": false, "grade_id": "binary_cross_entropy", "locked": false, "schema_version": 3, "solution": true, "task": false}
def binary_cross_entropy(output, target, eps=1e-15):
    """Mean binary cross-entropy of probabilities `output` against 0/1 `target`."""
    ### BEGIN SOLUTION
    p = np.clip(np.asarray(output, dtype=float), eps, 1.0 - eps)
    t = np.asarray(target, dtype=float)
    return float(-np.mean(t * np.log(p) + (1.0 - t) * np.log1p(-p)))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_binary_cross_entropy", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Is binary_cross_entropy the mean loss, and finite for probabilities 0 and 1?"""
with checks.public("binary_cross_entropy"):
    checks.check_close(checks.call(binary_cross_entropy, np.array([0.5, 0.5]),
                                   np.array([0, 1])), np.log(2.0), rtol=1e-9,
                       what="the BCE of probabilities 0.5",
                       hint="Both terms are log(2); take the mean over examples.")
    checks.check_close(checks.call(binary_cross_entropy, np.array([0.9, 0.2]),
                                   np.array([1, 0])),
                       -(np.log(0.9) + np.log(0.8)) / 2, rtol=1e-9,
                       what="the BCE of [0.9, 0.2] against [1, 0]",
                       hint="Use log(p) for label 1 and log(1 - p) for label 0.")
    _edge = checks.call(binary_cross_entropy, np.array([0.0, 1.0]), np.array([1, 0]))
    checks.check(np.isfinite(_edge) and _edge > 30,
                 f"The BCE of certain, wrong predictions should be large and finite "
                 f"(about 34.5 with eps=1e-15), got {_edge}.",
                 hint="Clip the probabilities to [eps, 1 - eps] before the logarithm.")

# %% nbgrader={"grade": true, "grade_id": "test_binary_cross_entropy", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of binary_cross_entropy (2 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# Near 0 and 1 the tolerance is 1e-4: 1 - eps is not exact in floating point, so
# clipping and adding eps differ by about 1e-5 relative, and both are correct.
from lib import logistic as _ref

_rng = np.random.default_rng(202)
_p = _rng.uniform(0.01, 0.99, size=50)
_t = _rng.integers(0, 2, size=50)
checks.check_close(checks.call(binary_cross_entropy, _p, _t),
                   _ref.binary_cross_entropy(_p, _t), rtol=1e-9,
                   what="the BCE of random probabilities",
                   hint="Return the mean over examples of -[t log p + (1-t) log(1-p)].")
_p = np.array([0.0, 1.0, 0.0, 1.0, 0.3])
_t = np.array([0, 1, 1, 0, 1])
checks.check_close(checks.call(binary_cross_entropy, _p, _t),
                   _ref.binary_cross_entropy(_p, _t), rtol=1e-4,
                   what="the BCE with probabilities exactly 0 and 1",
                   hint="Clip the probabilities to [eps, 1 - eps].")
checks.check_close(checks.call(binary_cross_entropy, _p, _t, eps=1e-6),
                   _ref.binary_cross_entropy(_p, _t, eps=1e-6), rtol=1e-4,
                   what="the BCE with eps=1e-6", hint="Use the eps argument.")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_eps", "locked": false, "points": 1, "schema_version": 3, "solution": true, "task": false}
# **Question (1 point).** Why does `binary_cross_entropy` need `eps`? What would
# gradient descent see without it, and why is clipping harmless for the gradient of
# the model we train?
#
# ### BEGIN SOLUTION
# A model can output a probability of exactly 0 or 1 in floating point (the sigmoid
# rounds to 1 for z > 37). Then `log(0) = -inf` and `0 * log(0)` is NaN, and a single
# such example makes the mean loss infinite or NaN, so loss curves and stopping rules
# break. Clipping at 1e-15 changes the loss by at most about 1e-15 for every
# example that is not already saturated. The gradient we use,
# `X.T @ (sigmoid(X @ theta) - y) / n`, is computed from the probabilities directly,
# never through the logarithm, so it is unaffected.
# ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_identity", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** With $g$ the sigmoid, show that
# $y \log g(t) + (1 - y) \log(1 - g(t)) = y t - \log(1 + e^{t})$, and use it to
# explain why the loss is convex in $\theta$ when $t = x^\top \theta$.
#
# ### BEGIN SOLUTION
# $1 - g(t) = \dfrac{e^{-t}}{1 + e^{-t}} = \dfrac{1}{1 + e^{t}}$, so
# $\log(1 - g(t)) = -\log(1 + e^{t})$, and
# $\log g(t) = \log \dfrac{e^{t}}{1 + e^{t}} = t - \log(1 + e^{t})$. Hence
# $y \log g + (1-y)\log(1-g) = y t - y\log(1+e^t) - (1-y)\log(1+e^t)
# = y t - \log(1 + e^{t})$.
#
# The loss of one example is $\log(1 + e^{t}) - y t$: a linear function of $\theta$
# plus $\log(1+e^{x^\top\theta})$, whose Hessian is
# $g(t)(1 - g(t))\, x x^\top \succeq 0$. A sum of convex functions (and the convex
# penalty) is convex, so gradient descent cannot get stuck in a bad local minimum.
# ### END SOLUTION

# %% [markdown]
# ## 3. The gradient of the loss (3 points)
#
# The loss is the mean cross-entropy plus an L2 penalty that leaves the bias alone:
# $J(\theta) = \mathrm{BCE}(g(X\theta), y) + \frac{\alpha}{2}\|\theta_{1:}\|^2$.
# The next cell defines it for you. Write its gradient with respect to $\theta$,
# vectorised, without changing `theta`.

# %% nbgrader={"grade": false, "grade_id": "loss", "locked": true, "schema_version": 3, "solution": false, "task": false}
def loss(theta, X, y, alpha=0.0):
    """Mean BCE of sigmoid(X @ theta) plus alpha/2 * ||theta[1:]||^2."""
    return binary_cross_entropy(sigmoid(X @ theta), y) + 0.5 * alpha * np.sum(
        theta[1:] ** 2
    )


# %% nbgrader={"grade": false, "grade_id": "loss_grad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def loss_grad(theta, X, y, alpha=0.0):
    """Gradient of `loss` with respect to theta, shape (d,)."""
    ### BEGIN SOLUTION
    grad = X.T @ (sigmoid(X @ theta) - y) / len(y)
    grad[1:] += alpha * theta[1:]
    return grad
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_loss_grad", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does loss_grad match the gradient of the regularized loss?"""
with checks.public("loss_grad"):
    _X = np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 0.5], [1.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    _y = np.array([1, 0, 0, 1])
    checks.check_close(checks.call(loss_grad, np.zeros(3), _X, _y),
                       _X.T @ (0.5 - _y) / 4, rtol=1e-9,
                       what="loss_grad at theta = 0",
                       hint="At theta = 0 every probability is 0.5: check the sign of "
                            "the residual and that you average over the n examples.")
    _theta = np.array([0.5, -1.0, 2.0])
    _g0 = checks.call(loss_grad, _theta, _X, _y)
    _g1 = checks.call(loss_grad, _theta, _X, _y, alpha=0.1)
    checks.check_close(_g1 - _g0, [0.0, -0.1, 0.2], atol=1e-12,
                       what="the change of loss_grad when alpha goes from 0 to 0.1",
                       hint="The penalty alpha/2 * ||theta[1:]||^2 adds alpha * theta[1:] "
                            "and nothing to the bias component.")
    checks.check_close(_theta, [0.5, -1.0, 2.0], what="theta after calling loss_grad",
                       hint="Do not modify theta in place.")

# %% nbgrader={"grade": true, "grade_id": "test_loss_grad", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of loss_grad (3 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
from lib import logistic as _ref

_rng = np.random.default_rng(303)
with checks.substituted(globals(), sigmoid=_ref.sigmoid,
                        binary_cross_entropy=_ref.binary_cross_entropy):
    for _n, _d, _alpha in ((50, 4, 0.0), (37, 6, 0.7), (1, 3, 2.0)):
        _X = add_intercept(_rng.normal(size=(_n, _d - 1)))
        _y = _rng.integers(0, 2, size=_n)
        _theta = _rng.normal(size=_d)
        _before = _theta.copy()
        # The lent sigmoid and cross-entropy may see 4n values: the gradient comes
        # from its formula, not from finite differences around them.
        checks.check_close(checks.call(loss_grad, _theta, _X, _y, _alpha,
                                       lent_budget=4 * _n + 4),
                           _ref.loss_grad(_theta, _X, _y, _alpha), rtol=1e-8,
                           atol=1e-12, what=f"loss_grad with alpha={_alpha}",
                           hint="loss_grad should be the gradient of the mean "
                                "cross-entropy plus alpha/2 * ||theta[1:]||^2, whose "
                                "penalty leaves the bias out.")
        checks.check_close(_theta, _before, what="theta after calling loss_grad",
                           hint="Do not modify theta in place.")
    checks.check_close(checks.call(loss_grad, _theta, _X, _y, lent_budget=4 * _n + 4),
                       _ref.loss_grad(_theta, _X, _y), rtol=1e-8, atol=1e-12,
                       what="loss_grad with its default alpha",
                       hint="The default is alpha=0.0: no penalty.")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_bias", "locked": false, "points": 1, "schema_version": 3, "solution": true, "task": false}
# **Question (1 point).** Why do we leave the bias $\theta_0$ out of the penalty?
#
# ### BEGIN SOLUTION
# The penalty expresses a preference for a small slope (a smooth decision function),
# not for any particular position of the boundary. Penalizing the bias pulls the
# predicted probability towards 0.5 and shifts the boundary towards the origin, so
# the model would depend on where the origin of the features happens to be, and on
# unbalanced classes it would be biased towards the wrong base rate. The bias is one
# parameter, so leaving it free costs nothing in variance.
# ### END SOLUTION

# %% [markdown]
# ## 4. Gradient descent (3 points)
#
# Start from $\theta = 0$ and take `iters` steps
# $\theta \leftarrow \theta - \eta \nabla J(\theta)$. Return the final $\theta$ and the
# array of losses, where `losses[i]` is $J$ *after* step `i` (use `loss`).

# %% nbgrader={"grade": false, "grade_id": "logistic_regression", "locked": false, "schema_version": 3, "solution": true, "task": false}
def logistic_regression(X, y, eta=0.1, iters=1000, alpha=0.0):
    """Full-batch gradient descent from zeros; returns (theta, losses)."""
    ### BEGIN SOLUTION
    theta = np.zeros(X.shape[1])
    losses = np.empty(iters)
    for i in range(iters):
        theta = theta - eta * loss_grad(theta, X, y, alpha)
        losses[i] = loss(theta, X, y, alpha)
    return theta, losses
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_logistic_regression", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does logistic_regression take the right steps and record the loss after each?"""
with checks.public("logistic_regression"):
    _theta, _losses = checks.call(logistic_regression, X, y, eta=0.5, iters=1)
    checks.check_close(_theta, -0.5 * (X.T @ (0.5 - y)) / len(y), rtol=1e-9,
                       what="theta after one step from zero",
                       hint="Start from zeros and step against the gradient, scaled by eta.")
    checks.check(np.shape(_losses) == (1,),
                 f"losses should have one entry per step, got shape {np.shape(_losses)}.")
    checks.check(_losses[0] < np.log(2.0),
                 "losses[0] should be the loss after the first step, below log(2).")
    _theta, _losses = checks.call(logistic_regression, X, y, iters=50)
    checks.check(np.all(np.diff(_losses) < 0),
                 "With eta=0.1 the loss should decrease at every step on this data.")

# %% nbgrader={"grade": true, "grade_id": "test_logistic_regression", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of logistic_regression (3 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
from lib import logistic as _ref

_rng = np.random.default_rng(404)
with checks.substituted(globals(), sigmoid=_ref.sigmoid,
                        binary_cross_entropy=_ref.binary_cross_entropy,
                        loss_grad=_ref.loss_grad, loss=_ref.loss):
    for _n, _eta, _iters, _alpha in ((60, 0.3, 25, 0.0), (41, 0.05, 40, 0.5)):
        _X = add_intercept(_rng.normal(size=(_n, 3)))
        _y = (_X @ _rng.normal(size=4) + _rng.normal(size=_n) > 0).astype(int)
        _want_theta, _want_losses = _ref.logistic_regression(_X, _y, _eta, _iters,
                                                             _alpha)
        _theta, _losses = checks.call(logistic_regression, _X, _y, eta=_eta,
                                      iters=_iters, alpha=_alpha)
        checks.check_close(_theta, _want_theta, rtol=1e-8, atol=1e-12,
                           what=f"theta after {_iters} steps with alpha={_alpha}",
                           hint="Start from zeros, use eta, iters and alpha as given.")
        checks.check_close(_losses, _want_losses, rtol=1e-8,
                           what=f"the {_iters} losses with alpha={_alpha}",
                           hint="losses[i] is the regularized loss after step i.")
# The defaults, outside the substitution: the student's own loss_grad and loss then
# run in the kernel, fast for 1000 steps. Whatever they compute, a call with the
# defaults must give what the documented values give; if that call fails, the checks
# above have judged logistic_regression already.
_X = add_intercept(_rng.normal(size=(12, 2)))
_y = np.array([0, 1] * 6)
try:
    _want = checks.call(logistic_regression, _X, _y, eta=0.1, iters=1000, alpha=0.0)
except Exception:
    _want = None
if isinstance(_want, (tuple, list)):
    _got = checks.call(logistic_regression, _X, _y)
    checks.check(isinstance(_got, (tuple, list)) and len(_got) == len(_want)
                 and all(np.array_equal(a, b) for a, b in zip(_got, _want, strict=True)),
                 "logistic_regression with its defaults should give what eta=0.1, "
                 "iters=1000, alpha=0.0 give.",
                 hint="The defaults are eta=0.1, iters=1000 and alpha=0.0.")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Prediction and the decision boundary (2 points)
#
# `predict` returns integer labels: 1 where the predicted probability is at least
# 0.5. With two features, the boundary $\theta_0 + \theta_1 x_1 + \theta_2 x_2 = 0$ is
# the line $x_2 = a + b x_1$: `decision_boundary` returns `(a, b)`.

# %% nbgrader={"grade": false, "grade_id": "predict", "locked": false, "schema_version": 3, "solution": true, "task": false}
def predict(X, theta):
    """Integer 0/1 labels: 1 where sigmoid(X @ theta) >= 0.5."""
    ### BEGIN SOLUTION
    return (X @ theta >= 0).astype(int)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_predict", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does predict return integer labels thresholded at probability 0.5?"""
with checks.public("predict"):
    _X = np.array([[1.0, 2.0], [1.0, -2.0], [1.0, 0.1]])
    _labels = checks.call(predict, _X, np.array([0.0, 1.0]))
    checks.check_dtype(_labels, np.integer, what="predict's labels",
                       hint="Convert the boolean result with .astype(int).")
    checks.check_equal(_labels, [1, 0, 1], what="predict's labels",
                       hint="Predict 1 where sigmoid(X @ theta) >= 0.5.")

# %% nbgrader={"grade": true, "grade_id": "test_predict", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of predict (1 point): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
from lib import logistic as _ref

_rng = np.random.default_rng(505)
with checks.substituted(globals(), sigmoid=_ref.sigmoid):
    _X = add_intercept(_rng.normal(size=(200, 2)))
    _theta = _rng.normal(size=3)
    checks.check_equal(checks.call(predict, _X, _theta), _ref.predict(_X, _theta),
                       what="predict's labels on random data",
                       hint="Predict 1 where sigmoid(X @ theta) >= 0.5, else 0.")
    _X = np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 3.0]])
    _theta = np.array([1.0, -1.0])
    checks.check_equal(checks.call(predict, _X, _theta), _ref.predict(_X, _theta),
                       what="predict's labels on the boundary itself",
                       hint="A probability of exactly 0.5 is labelled 1.")
    checks.check_dtype(checks.call(predict, _X, _theta), np.integer,
                       what="predict's labels")
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "decision_boundary", "locked": false, "schema_version": 3, "solution": true, "task": false}
def decision_boundary(theta):
    """(intercept, slope) of the line x2 = intercept + slope * x1 where X @ theta = 0."""
    ### BEGIN SOLUTION
    return float(-theta[0] / theta[2]), float(-theta[1] / theta[2])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_decision_boundary", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does decision_boundary return the (intercept, slope) of the zero-logit line?"""
with checks.public("decision_boundary"):
    _ab = checks.call(decision_boundary, np.array([1.0, 2.0, 4.0]))
    checks.check(len(_ab) == 2, "decision_boundary should return two numbers.")
    checks.check_close(_ab, [-0.25, -0.5], rtol=1e-12,
                       what="decision_boundary([1, 2, 4])",
                       hint="Solve theta0 + theta1*x1 + theta2*x2 = 0 for x2; return "
                            "(intercept, slope) in that order.")

# %% nbgrader={"grade": true, "grade_id": "test_decision_boundary", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of decision_boundary (1 point): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
from lib import logistic as _ref

_rng = np.random.default_rng(606)
for _theta in _rng.normal(size=(5, 3)):
    checks.check_close(checks.call(decision_boundary, _theta),
                       _ref.decision_boundary(_theta), rtol=1e-10,
                       what="decision_boundary of a random theta",
                       hint="Solve theta0 + theta1*x1 + theta2*x2 = 0 for x2.")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Training on the toy data
#
# Fit the model, draw the boundary over the data, and look at how the loss and the
# parameters move during training.

# %% nbgrader={"grade": false, "grade_id": "train", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    theta, losses = logistic_regression(X, y, eta=0.1, iters=1000)
    accuracy = np.mean(predict(X, theta) == y)
    print(f"theta = {np.round(theta, 3)}, final loss {losses[-1]:.4f}, "
          f"training accuracy {accuracy:.1%}")
    display(plots.decision_boundary_plot(
        X_points, y, {"gradient descent": decision_boundary(theta)},
        title="Decision boundary after 1000 steps",
    ))

# %% nbgrader={"grade": false, "grade_id": "curves", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    path = [np.zeros(3)]
    for _ in range(300):
        path.append(path[-1] - 0.1 * loss_grad(path[-1], X, y))
    display(plots.trajectories(np.array(path), names=["theta0 (bias)", "theta1", "theta2"],
                               title="Parameters during gradient descent (eta = 0.1)",
                               xlab="gradient-descent step"))

# %%
with checks.given():
    display(plots.loss_curve(losses, title="Training loss", xlab="gradient-descent step",
                             ylab="loss (mean cross-entropy, nats)"))

# %% [markdown]
# ## 7. Comparison with scikit-learn
#
# scikit-learn's `LogisticRegression` minimises
# $C \sum_i \ell_i + \frac{1}{2}\|w\|^2$ and leaves the intercept out of the penalty.
# Dividing by $Cn$ gives our loss with $\alpha = 1/(Cn)$. Both should find the same
# minimum; gradient descent needs enough steps to get there.

# %% nbgrader={"grade": false, "grade_id": "sklearn", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    alpha = 0.01
    theta_gd, _ = logistic_regression(X, y, eta=1.0, iters=3000, alpha=alpha)
    sk = LogisticRegression(C=1.0 / (alpha * len(y)), tol=1e-10, max_iter=10_000)
    sk.fit(X_points, y)
    theta_sk = np.concatenate([sk.intercept_, sk.coef_.ravel()])
    print(pd.DataFrame({"gradient descent": theta_gd, "scikit-learn": theta_sk},
                       index=["theta0", "theta1", "theta2"]).round(5))
    print(f"largest difference: {np.max(np.abs(theta_gd - theta_sk)):.2e}")
    display(plots.decision_boundary_plot(
        X_points, y,
        {"gradient descent": decision_boundary(theta_gd),
         "scikit-learn": decision_boundary(theta_sk)},
        title=f"Both boundaries, alpha = {alpha}",
    ))

# %% [markdown]
# ## 8. Separable data
#
# Move the classes far apart, so that a line separates them perfectly, and watch the
# size of $\theta$ as training goes on, with and without the penalty.

# %% nbgrader={"grade": false, "grade_id": "separable", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    Xs_points, ys = two_gaussians(200, distance=8.0, rng=1)
    Xs = add_intercept(Xs_points)
    norms = {}
    for a in (0.0, 0.01):
        th, path = np.zeros(3), []
        for _ in range(2000):
            th = th - 1.0 * loss_grad(th, Xs, ys, a)
            path.append(np.linalg.norm(th))
        norms[f"alpha = {a}"] = np.array(path)
    display(plots.loss_curve(norms, title="Size of theta on separable data",
                             xlab="gradient-descent step", ylab="||theta||"))

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_separable", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** What happens to $\theta$ when the data are linearly
# separable, and why? Give one fix, and say what it changes in the solution.
#
# ### BEGIN SOLUTION
# If a direction $w$ separates the classes, scaling $\theta$ up along it makes every
# probability closer to its label, so the loss keeps decreasing towards 0 as
# $\|\theta\| \to \infty$: there is no minimiser, and gradient descent lets the norm
# grow without bound (slowly, about logarithmically in the number of steps) while the
# boundary direction settles. The predicted probabilities become overconfident (0 or
# 1). Fixes: an L2 penalty $\frac{\alpha}{2}\|\theta_{1:}\|^2$ makes the loss strongly
# convex in the weights, so a finite minimiser exists and the norm levels off (as in
# the plot); early stopping has a similar effect.
# ### END SOLUTION

# %% [markdown]
# ## 9. MNIST images as a design matrix (2 points)
#
# The same model classifies handwritten digits, for example 2 against 3. An MNIST
# image is 28 x 28 pixels in 0..255, stored as one row of 784 numbers. Write
# `preprocess_images(X)`: for `X` of shape `(n, 784)` it returns a `float64` array of
# shape `(n, 785)`, whatever the dtype of `X` (`uint8`, integers or floats): column 0
# all ones (the *bias trick*: `theta[0]` is then the bias, as everywhere in this notebook) and
# columns 1 to 784 the pixels divided by 255, so in $[0, 1]$. Anything that is not of
# shape `(n, 784)` (a single image of shape `(784,)`, a stack of shape `(n, 28, 28)`,
# a wrong number of columns) raises a `ValueError` whose message contains the shape
# received, as `X.shape` prints it (for example `(5, 783)`). Do not change `X`.

# %% nbgrader={"grade": false, "grade_id": "preprocess_images", "locked": false, "schema_version": 3, "solution": true, "task": false}
def preprocess_images(X):
    """(n, 785) float64: a column of ones, then the 784 pixels divided by 255."""
    ### BEGIN SOLUTION
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 784:
        raise ValueError(f"expected images of shape (n, 784), got shape {X.shape}")
    return np.hstack([np.ones((len(X), 1)), X / 255])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_preprocess_images", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does preprocess_images scale the pixels, add the column of ones and refuse other shapes?"""
with checks.public("preprocess_images"):
    _pixels = (np.arange(2 * 784) % 256).astype(np.uint8).reshape(2, 784)
    _X1 = checks.call(preprocess_images, _pixels)
    checks.check(np.shape(_X1) == (2, 785),
                 f"preprocess_images of 2 images should have shape (2, 785), got "
                 f"{np.shape(_X1)}.", hint="Put a column of ones before the pixels.")
    checks.check_close(_X1[:, 0], [1.0, 1.0], what="column 0",
                       hint="Column 0 is all ones: the bias trick.")
    checks.check_close(_X1[:, 1:], _pixels / 255.0, rtol=1e-12, what="columns 1 to 784",
                       hint="Divide the pixels by 255 (in floating point).")
    checks.check_dtype(checks.call(preprocess_images, _pixels.astype(np.float32)),
                       np.float64, what="preprocess_images of float32 pixels",
                       hint="Return float64 whatever the dtype of X.")
    checks.check_raises(preprocess_images, np.zeros((2, 783)), match="(2, 783)",
                        what="preprocess_images of an array of 783 columns",
                        hint="Raise a ValueError whose message contains X.shape.")

# %% nbgrader={"grade": true, "grade_id": "test_preprocess_images", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of preprocess_images (2 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# Pixels given as integers are compared at rtol 1e-12; float32 pixels at 1e-6, so
# that dividing them in float32 or in float64 are both correct.
from lib import logistic as _ref

_rng = np.random.default_rng(707)
for _what, _X, _rtol in (
        ("7 images of uint8 pixels", _rng.integers(0, 256, size=(7, 784)).astype(np.uint8),
         1e-12),
        ("3 images of int64 pixels", np.tile([0, 255, 17, 128], (3, 196)), 1e-12),
        ("4 images of float32 pixels",
         _rng.integers(0, 256, size=(4, 784)).astype(np.float32), 1e-6),
        ("no images", np.zeros((0, 784), dtype=np.uint8), 1e-12)):
    _X1 = checks.call(preprocess_images, _X)
    checks.check_dtype(_X1, np.float64, what=f"preprocess_images of {_what}",
                       hint="Return float64 whatever the dtype of X.")
    checks.check_close(_X1, _ref.preprocess_images(_X), rtol=_rtol,
                       what=f"preprocess_images of {_what}",
                       hint="Return shape (n, 785): a column of ones, then the pixels "
                            "divided by 255.")
for _what, _shape in (("784 values (one image, not a matrix)", (784,)),
                      ("5 rows of 783 columns", (5, 783)),
                      ("2 rows of 785 columns", (2, 785)),
                      ("a stack of 28 x 28 images", (3, 28, 28))):
    checks.check_raises(preprocess_images, np.zeros(_shape, dtype=np.uint8),
                        match=str(_shape), what=f"preprocess_images of {_what}",
                        hint="Raise a ValueError, with X.shape in its message, for "
                             "anything but shape (n, 784).")
### END HIDDEN TESTS

# %% [markdown]
# Here are four 2s and four 3s of the MNIST sample that ships with the course
# library, as pixels in 0..255, turned into a design matrix by your function.

# %% nbgrader={"grade": false, "grade_id": "mnist_rows", "locked": true, "schema_version": 3, "solution": false, "task": false}
X_digits, y_digits = load_mnist_sample()
pick = np.concatenate([np.flatnonzero(y_digits == 2)[:4],
                       np.flatnonzero(y_digits == 3)[:4]])
pixels = np.rint(X_digits[pick] * 255).astype(np.uint8)  # (8, 784) in 0..255
with checks.given():
    X_mnist = preprocess_images(pixels)
    print(f"pixels {pixels.shape} {pixels.dtype} -> {X_mnist.shape} {X_mnist.dtype}; "
          f"column 0: {np.unique(X_mnist[:, 0])}, pixel columns in "
          f"[{X_mnist[:, 1:].min():g}, {X_mnist[:, 1:].max():g}]")
    display(plots.digit_grid(X_mnist[:, 1:], labels=y_digits[pick], ncol=8,
                             title="Columns 1 to 784 of eight rows, as images"))

# %% [markdown]
# ## 10. The gradient with respect to the probabilities (1 point)
#
# Frameworks such as PyTorch compute gradients one operation at a time, backwards:
# the first factor of the chain rule is the derivative of the loss with respect to
# the model's output. Write `bce_output_grad(output, target)`, the gradient of the
# **summed** cross-entropy
# $L(p) = -\sum_i \big[t_i \log p_i + (1 - t_i) \log(1 - p_i)\big]$ with respect to
# the probabilities $p$ (`output`), elementwise, for labels $t_i \in \{0, 1\}$ and
# probabilities strictly between 0 and 1. It has the shape of `output`. Simplify the
# derivative of one term into a single fraction.

# %% nbgrader={"grade": false, "grade_id": "bce_output_grad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bce_output_grad(output, target):
    """Elementwise gradient of the summed BCE with respect to the probabilities."""
    ### BEGIN SOLUTION
    return (output - target) / (output * (1 - output))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_bce_output_grad", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Is bce_output_grad -1/p for label 1 and 1/(1-p) for label 0, elementwise?"""
with checks.public("bce_output_grad"):
    checks.check_close(checks.call(bce_output_grad, np.array([0.25, 0.8]),
                                   np.array([1, 0])), [-4.0, 5.0], rtol=1e-9,
                       what="bce_output_grad([0.25, 0.8], [1, 0])",
                       hint="For t = 1 the derivative of -log p is -1/p; for t = 0 "
                            "that of -log(1 - p) is 1/(1 - p). The loss is summed, "
                            "not averaged.")
    _p = np.array([[0.1, 0.5, 0.9], [0.3, 0.6, 0.99]])
    _target = np.array([[1, 1, 0], [0, 1, 1]])
    checks.check_close(checks.call(bce_output_grad, _p, _target),
                       (_p - _target) / (_p * (1 - _p)), rtol=1e-9,
                       what="bce_output_grad of a (2, 3) array",
                       hint="Work elementwise and keep the shape of output.")

# %% nbgrader={"grade": true, "grade_id": "test_bce_output_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of bce_output_grad (1 point): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
from lib import logistic as _ref

_rng = np.random.default_rng(808)
for _what, _p, _target in (
        ("40 random probabilities", _rng.uniform(0.01, 0.99, size=40),
         _rng.integers(0, 2, size=40)),
        ("a (3, 5) array", _rng.uniform(0.05, 0.95, size=(3, 5)),
         _rng.integers(0, 2, size=(3, 5))),
        ("probabilities close to 0 and 1", np.array([1e-6, 1e-6, 1 - 1e-6, 1 - 1e-6,
                                                     0.5, 0.5]),
         np.array([0, 1, 0, 1, 0, 1]))):
    checks.check_close(checks.call(bce_output_grad, _p, _target), _ref.bce_output_grad(_p, _target),
                       rtol=1e-9, what=f"bce_output_grad of {_what}",
                       hint="Differentiate the summed (not averaged) cross-entropy "
                            "with respect to each probability, for labels 0 and 1, "
                            "and keep the shape of output.")
### END HIDDEN TESTS

# %% [markdown]
# Two checks of your gradient that do not depend on the formula. First, autograd
# differentiates the summed loss written with `autograd.numpy`. Second, the chain
# rule through the sigmoid, whose derivative is $g(z)(1 - g(z))$, must give the
# gradient with respect to the logits that `loss_grad` uses: $g(z) - t$.

# %% nbgrader={"grade": false, "grade_id": "bce_output_grad_checks", "locked": true, "schema_version": 3, "solution": false, "task": false}
def summed_bce(p, t):
    return -anp.sum(t * anp.log(p) + (1 - t) * anp.log(1 - p))


z_check = np.linspace(-6.0, 6.0, 13)
t_check = (np.arange(13) % 2).astype(float)
with checks.given():
    p_check = sigmoid(z_check)
    dp = bce_output_grad(p_check, t_check)
    auto = grad(summed_bce)(p_check, t_check)
    print(f"largest relative difference from autograd: "
          f"{np.max(np.abs(dp - auto) / np.abs(auto)):.1e}")
    print(f"largest |dL/dp * g(1 - g) - (g - t)|: "
          f"{np.max(np.abs(dp * p_check * (1 - p_check) - (p_check - t_check))):.1e}")

# %% [markdown]
# ## 11. 2 against 3, with early stopping (3 points)
#
# Now the model tells 2s from 3s: the 500 2s and 500 3s of the MNIST sample, label 1
# for a 3 and 0 for a 2, split into 800 training and 200 validation images, and
# turned into design matrices by your `preprocess_images`.
#
# Write `train_early_stopping(X, y, X_val, y_val, eta=0.1, batch=16, epochs=50,
# alpha=0.0, patience=10, checks_per_epoch=5)`, minibatch gradient descent that
# watches the validation loss:
#
# - Start from $\theta = 0$. An epoch is the `n // batch` minibatches `X[0:batch]`,
#   `X[batch:2*batch]`, ... **in order** (no shuffling; the rows after the last full
#   minibatch are left out). Each minibatch takes one step
#   $\theta \leftarrow \theta - \eta\, \nabla J(\theta)$ on its rows, with
#   `loss_grad` and `alpha`.
# - Count the steps over the whole run. After every
#   `max(1, (n // batch) // checks_per_epoch)` steps (every fifth of an epoch by
#   default), *check* the model: record the number of steps taken so far (`step`),
#   the mean cross-entropy **without** the penalty,
#   `binary_cross_entropy(sigmoid(X @ theta), y)`, on the whole training set
#   (`train_loss`) and on the whole validation set (`val_loss`), and the fraction
#   of the validation set that `predict` gets right (`val_accuracy`).
# - A check *improves* when its `val_loss` is lower than at every check before it.
#   Stop right after the check that makes `patience` checks in a row without
#   improvement, or at the end of the last epoch.
# - Return `(theta, history)`: the $\theta$ of the check with the lowest validation
#   loss (as it was then, not as later steps left it), and a `pandas.DataFrame`
#   with the columns `step`, `train_loss`, `val_loss` and `val_accuracy`, one row
#   per check, in order (no row, but the same columns, when there was no check:
#   with `epochs=0`, say).

# %% nbgrader={"grade": false, "grade_id": "train_early_stopping", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_early_stopping(X, y, X_val, y_val, eta=0.1, batch=16, epochs=50, alpha=0.0,
                         patience=10, checks_per_epoch=5):
    """Minibatch gradient descent with early stopping; returns (theta, history)."""
    ### BEGIN SOLUTION
    steps_per_epoch = len(y) // batch
    interval = max(1, steps_per_epoch // checks_per_epoch)
    theta = np.zeros(X.shape[1])
    best_theta, best_loss, stale, step = theta, np.inf, 0, 0
    rows = []
    for _ in range(epochs):
        for start in range(0, steps_per_epoch * batch, batch):
            rows_b = slice(start, start + batch)
            theta = theta - eta * loss_grad(theta, X[rows_b], y[rows_b], alpha)
            step += 1
            if step % interval:
                continue
            val_loss = binary_cross_entropy(sigmoid(X_val @ theta), y_val)
            rows.append({"step": step,
                         "train_loss": binary_cross_entropy(sigmoid(X @ theta), y),
                         "val_loss": val_loss,
                         "val_accuracy": np.mean(predict(X_val, theta) == y_val)})
            if val_loss < best_loss:
                best_theta, best_loss, stale = theta, val_loss, 0
            else:
                stale += 1
                if stale == patience:
                    return best_theta, pd.DataFrame(rows)
    return best_theta, pd.DataFrame(rows, columns=["step", "train_loss", "val_loss",
                                                   "val_accuracy"])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_train_early_stopping", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does train_early_stopping check on schedule, stop after patience checks and return the best theta?"""
with checks.public("train_early_stopping"):
    _theta, _history = checks.call(train_early_stopping, X[:300], y[:300], X[300:],
                                   y[300:], eta=0.5, batch=300, epochs=1)
    checks.check_close(_theta, -0.5 * (X[:300].T @ (0.5 - y[:300])) / 300, rtol=1e-9,
                       what="theta after one step on one minibatch of all 300 rows",
                       hint="Start from zeros and step against loss_grad of the "
                            "minibatch, scaled by eta.")
    checks.check(isinstance(_history, pd.DataFrame)
                 and list(_history.columns) == ["step", "train_loss", "val_loss",
                                                "val_accuracy"],
                 "history should be a pandas.DataFrame with the columns step, "
                 "train_loss, val_loss and val_accuracy.")
    _theta, _history = checks.call(train_early_stopping, X[:300], y[:300], X[300:],
                                   y[300:], eta=0.5, batch=20, epochs=2, patience=100)
    checks.check_equal(list(_history["step"]), list(range(3, 31, 3)),
                       what="the steps of the checks (15 minibatches an epoch, 2 "
                            "epochs, checks_per_epoch=5)",
                       hint="Check after every (n // batch) // checks_per_epoch steps, "
                            "counting the steps from 1 over the whole run.")
    _best = int(np.argmin(_history["val_loss"]))
    checks.check_close(binary_cross_entropy(sigmoid(X[300:] @ _theta), y[300:]),
                       _history["val_loss"][_best], rtol=1e-9,
                       what="the validation loss of the theta returned",
                       hint="Return the theta of the check with the lowest val_loss, "
                            "a value later steps do not change.")
    checks.check_close(_history["val_accuracy"][_best],
                       np.mean(predict(X[300:], _theta) == y[300:]), rtol=1e-12,
                       what="val_accuracy at the best check",
                       hint="val_accuracy is the fraction of the validation set "
                            "predict gets right.")
    _theta, _history = checks.call(train_early_stopping, X[:40], y[:40], X[40:],
                                   y[40:], eta=5.0, batch=4, epochs=100, patience=2)
    _best = int(np.argmin(_history["val_loss"]))
    checks.check(len(_history) == _best + 3,
                 f"With patience=2 training should stop 2 checks after the best one; "
                 f"it made {len(_history) - _best - 1} more checks.",
                 hint="Count the checks in a row without a new lowest val_loss, and "
                      "stop when the count reaches patience.")
    checks.check_close(binary_cross_entropy(sigmoid(X[40:] @ _theta), y[40:]),
                       _history["val_loss"][_best], rtol=1e-9,
                       what="the validation loss of the theta returned by a run "
                            "stopped early",
                       hint="Return the theta of the best check as it was then: a "
                            "copy, if later steps change theta in place.")

# %% nbgrader={"grade": true, "grade_id": "test_train_early_stopping", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of train_early_stopping (3 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# Data small enough that a run overfits (the validation loss turns up) and is
# stopped early, and runs that are not stopped; the other graded functions are the
# references, so that one mistake elsewhere costs nothing here.
from lib import logistic as _ref

_rng = np.random.default_rng(909)


def _data(n, d):
    _X = add_intercept(_rng.normal(size=(n, d - 1)))
    _flip = _rng.random(n) < 0.2
    return _X, ((_X[:, 1] + 0.5 * _X[:, 2] > 0) ^ _flip).astype(int)


with checks.substituted(globals(), sigmoid=_ref.sigmoid,
                        binary_cross_entropy=_ref.binary_cross_entropy,
                        loss_grad=_ref.loss_grad, loss=_ref.loss, predict=_ref.predict):
    for _what, _n, _d, _kwargs in (
            ("a run stopped early", 40, 16,
             dict(eta=2.0, batch=4, epochs=60, patience=3)),
            ("a run with alpha=0.3 and 3 rows left out of every epoch", 53, 5,
             dict(eta=0.5, batch=10, epochs=8, alpha=0.3, patience=50)),
            ("two checks an epoch", 48, 6,
             dict(eta=1.0, batch=8, epochs=10, patience=4, checks_per_epoch=2)),
            ("the default arguments", 64, 4, {}),
            ("a run of the default number of epochs", 32, 3, dict(patience=10**6)),
            ("8 minibatches an epoch and the default checks", 128, 4,
             dict(eta=0.5, epochs=3, patience=50)),
            ("a run whose validation loss never falls", 24, 3,
             dict(eta=0.0, batch=4, epochs=5, patience=3)),
            ("a run of no epoch", 20, 3, dict(epochs=0))):
        _X, _y = _data(_n, _d)
        _X_val, _y_val = _data(30, _d)
        _want_theta, _want = _ref.train_early_stopping(_X, _y, _X_val, _y_val, **_kwargs)
        _theta, _history = checks.call(train_early_stopping, _X, _y, _X_val, _y_val,
                                       what=f"train_early_stopping in {_what}",
                                       **_kwargs)
        checks.check(isinstance(_history, pd.DataFrame)
                     and set(_want.columns) <= set(_history.columns),
                     f"train_early_stopping in {_what} should return a DataFrame with "
                     f"the columns step, train_loss, val_loss and val_accuracy.")
        checks.check_equal(list(_history["step"]), list(_want["step"]),
                           what=f"the steps of the checks in {_what}",
                           hint="Check every max(1, (n // batch) // checks_per_epoch) "
                                "steps over the whole run, and stop right after the "
                                "check that makes patience checks in a row without a "
                                "new lowest val_loss.")
        for _column, _hint in (
                ("train_loss", "train_loss is the mean cross-entropy, without the "
                               "penalty, on the whole training set."),
                ("val_loss", "val_loss is the mean cross-entropy, without the "
                             "penalty, on the whole validation set."),
                ("val_accuracy", "val_accuracy is the fraction of the validation set "
                                 "that predict gets right.")):
            checks.check_close(np.asarray(_history[_column], dtype=float),
                               np.asarray(_want[_column], dtype=float), rtol=1e-8,
                               atol=1e-12, what=f"{_column} in {_what}", hint=_hint)
        checks.check_close(_theta, _want_theta, rtol=1e-8, atol=1e-12,
                           what=f"theta returned by {_what}",
                           hint="Step through the minibatches in order, and return the "
                                "theta of the check with the lowest val_loss, as it "
                                "was at that check.")
### END HIDDEN TESTS

# %% [markdown]
# Training on 2 against 3 with the default arguments: the losses and the accuracy
# at every check, the early stop marked by the dashed line (the check whose
# $\theta$ is returned).

# %% nbgrader={"grade": false, "grade_id": "two_against_three", "locked": true, "schema_version": 3, "solution": false, "task": false}
two_or_three = (y_digits == 2) | (y_digits == 3)
pixels_23 = np.rint(X_digits[two_or_three] * 255).astype(np.uint8)
with checks.given():
    X_23, y_23, X_23_val, y_23_val = split(preprocess_images(pixels_23),
                                           (y_digits[two_or_three] == 3).astype(int),
                                           0.2, rng=0)
    theta_23, history_23 = train_early_stopping(X_23, y_23, X_23_val, y_23_val)
    best_23 = history_23.loc[history_23["val_loss"].idxmin()]
    print(f"training {X_23.shape}, validation {X_23_val.shape}; stopped after "
          f"{history_23['step'].iloc[-1]:.0f} steps "
          f"({history_23['step'].iloc[-1] / (len(y_23) // 16):.1f} epochs); the best "
          f"check, at step {best_23['step']:.0f}, has validation loss "
          f"{best_23['val_loss']:.4f} and validation accuracy "
          f"{best_23['val_accuracy']:.1%}")
    long_23 = history_23.rename(columns={"train_loss": "training", "val_loss": "validation"}
                                ).melt(id_vars="step", value_vars=["training", "validation"],
                                       var_name="set", value_name="loss")
    stop = geom_vline(xintercept=best_23["step"], linetype="dashed", color="grey")
    display(gggrid([
        ggplot(long_23, aes("step", "loss", color="set")) + geom_line(size=1) + stop
        + labs(title="Loss at every check", x="gradient-descent step",
               y="mean cross-entropy (nats)", color=""),
        ggplot(history_23, aes("step", "val_accuracy")) + stop
        + geom_line(size=1, color="#1f77b4")
        + labs(title="Validation accuracy", x="gradient-descent step",
               y="validation accuracy (fraction)"),
    ], ncol=2) + ggsize(960, 360))

# %% [markdown]
# The same training for five penalties $\alpha$: the validation accuracy at every
# check (the minibatches come in the same order every epoch, so the curves swing
# with the ones seen last), the size $\|\theta_{1:}\|$ of the weights returned, and
# the weights of $\alpha = 0$ and $\alpha = 1$ drawn as 28 x 28 images (each with its
# own grey scale; light is positive, in favour of a 3).

# %% nbgrader={"grade": false, "grade_id": "penalty_sweep", "locked": true, "schema_version": 3, "solution": false, "task": false}
ALPHAS = [1.0, 0.1, 0.01, 0.001, 0.0]
with checks.given():
    sweep = {a: train_early_stopping(X_23, y_23, X_23_val, y_23_val, alpha=a)
             for a in ALPHAS}
    summary_23 = pd.DataFrame([
        {"alpha": a, "stopped at step": h["step"].iloc[-1],
         "best validation accuracy": h.loc[h["val_loss"].idxmin(), "val_accuracy"],
         "||theta[1:]||": np.linalg.norm(th[1:])} for a, (th, h) in sweep.items()])
    print(summary_23.to_string(index=False, formatters={
        "best validation accuracy": "{:.1%}".format, "||theta[1:]||": "{:.3f}".format}))
    curves_23 = pd.concat([h.assign(alpha=f"alpha = {a:g}") for a, (_, h) in
                           sweep.items()])
    display(gggrid([
        ggplot(curves_23, aes("step", "val_accuracy", color="alpha"))
        + geom_line(size=1)
        + labs(title="Validation accuracy for each penalty",
               x="gradient-descent step", y="validation accuracy (fraction)",
               color=""),
        plots.bar_chart({f"{a:g}": np.linalg.norm(th[1:]) for a, (th, _) in
                         sweep.items()}, title="Size of the weights returned",
                        xlab="alpha (L2 penalty)", ylab="||theta[1:]|| (L2 norm)"),
    ], ncol=2) + ggsize(1000, 380))
    display(gggrid([
        plots.digit_grid(sweep[a][0][None, 1:], ncol=1, title=f"Weights, alpha = {a:g}")
        for a in (0.0, 1.0)
    ], ncol=2) + ggsize(560, 300))

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_gradient", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** For one example $(x, y)$ with $\hat y = g(x^\top\theta)$,
# the loss is $C(\theta) = -\big[y \log \hat y + (1 - y) \log(1 - \hat y)\big]$.
# Show that $\dfrac{\partial C}{\partial \theta_j} = (\hat y - y)\, x_j$, using
# $g'(z) = g(z)\big(1 - g(z)\big)$. Which line of `loss_grad` is this formula?
#
# ### BEGIN SOLUTION
# By the chain rule, $\dfrac{\partial C}{\partial \theta_j} =
# \dfrac{\partial C}{\partial \hat y}\,\dfrac{\partial \hat y}{\partial z}\,
# \dfrac{\partial z}{\partial \theta_j}$ with $z = x^\top\theta$. The three factors
# are $\dfrac{\partial C}{\partial \hat y} = -\dfrac{y}{\hat y} +
# \dfrac{1 - y}{1 - \hat y} = \dfrac{\hat y - y}{\hat y (1 - \hat y)}$ (what
# `bce_output_grad` computes), $\dfrac{\partial \hat y}{\partial z} = g'(z) =
# \hat y (1 - \hat y)$, and $\dfrac{\partial z}{\partial \theta_j} = x_j$. Their
# product is $\dfrac{\hat y - y}{\hat y(1 - \hat y)}\,\hat y(1 - \hat y)\, x_j =
# (\hat y - y)\, x_j$. Averaged over the $n$ examples of a batch, for all $j$ at
# once, this is `X.T @ (sigmoid(X @ theta) - y) / len(y)`, the first line of
# `loss_grad`; the penalty adds $\alpha\theta_j$ for $j \ge 1$.
# ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_penalty", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** What do the norm plot and the two weight images show?
# Explain why the penalty changes the weights in this way, and say which $\alpha$
# you would choose from the validation accuracies, and why.
#
# ### BEGIN SOLUTION
# The norm of the weights returned falls as $\alpha$ grows: the penalty
# $\frac{\alpha}{2}\|\theta_{1:}\|^2$ adds $\alpha\theta_j$ to every gradient, a
# pull of each weight towards 0 at every step ("weight decay") that only a
# consistent gradient of the data can resist. Without it the weight image is
# speckled: single pixels get large weights of either sign that fit the 800
# training images and say nothing about new ones. With $\alpha = 1$ only what
# separates most 2s from most 3s survives, in smooth blobs: one sign where the
# strokes of 3s lie and 2s have little ink, the other along the diagonal stroke of
# the 2. In both images the border is mid-grey, a weight of 0: no digit has ink
# there, so its gradient is 0 and nothing moves it from the start. The penalty
# trades fit for simplicity: too strong, and the template is too crude ($\alpha = 1$
# has the lowest validation accuracy of the five, and it swings with the last few
# minibatches, which is all a model that forgets a tenth of its weights per step
# remembers); the small penalties change little, because early stopping already
# limits how far the weights grow. I would choose the $\alpha$ with the best
# validation accuracy at its early stop, and among near ties the larger one (simpler
# weights, the same accuracy); the test set is kept for the final estimate, not for
# this choice.
# ### END SOLUTION

# %% [markdown]
# ## Public checks
#
# This cell lists the functions whose public checks pass in this kernel. Run it after
# *Kernel → Restart and Run All*, before you submit. Passing is a good sign,
# not a grade: hidden tests with other inputs decide the points.

# %% nbgrader={"grade": false, "grade_id": "public_summary", "locked": true, "schema_version": 3, "solution": false, "task": false}
checks.summary(["sigmoid", "binary_cross_entropy", "loss_grad", "logistic_regression",
                "predict", "decision_boundary", "preprocess_images", "bce_output_grad",
                "train_early_stopping"])
