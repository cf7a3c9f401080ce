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
# # Assignment 6: dataset distillation
#
# How few training images does a model need? Wang et al. ("Dataset Distillation",
# 2018) asked the question the other way round: keep the training procedure fixed,
# here **one gradient step** from a fixed starting point, and *learn the training
# images* so that the model after that step does well on the real data. You will
# derive the gradients of that objective with respect to the images and the step
# size, implement them, check them against finite differences, distil the
# handwritten digits into ten images, and compare the model they train with models
# trained on real images.
#
# **How this notebook is graded.** Write your code between the `def` line and the end
# of each answer cell, replacing `raise NotImplementedError()`. The cell after each
# answer runs *public checks* and prints one line: that they passed, or a hint saying
# what was expected. The last cell lists which functions pass. Passing is a good sign
# but not a grade: hidden tests with other inputs decide the points. Written answers
# are graded by hand. Do not add, delete or reorder cells; run *Kernel → Restart and
# Run All* before you submit.
#
# **Conventions.** The model is softmax regression without bias: logits `X @ theta`
# with `theta` of shape `(n_features, k)`, integer labels in `0..k-1`, and losses
# that are mean cross-entropies. `X` has one example per row; arrays are `float64`.
# You may use `softmax` (imported from `scipy.special`) and `np.eye(k)[y]` for one-hot
# labels.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numbers

import numpy as np
import pandas as pd
from IPython.display import display
from lets_plot import (
    aes,
    geom_line,
    geom_point,
    gggrid,
    ggplot,
    ggsize,
    labs,
    scale_x_log10,
)
from scipy.differentiate import jacobian
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, log_loss

from lib import checks, plots
from lib.data import grading_run, load_digits, split
from lib.distillation import initial_theta

plots.setup()

# %% [markdown]
# ## The data
#
# We use scikit-learn's 8 × 8 handwritten digits (pixels scaled to $[0, 1]$), not
# MNIST, for two reasons. The model trained by one step is a linear classifier, so
# it can be no better than the best linear classifier of the data: on the MNIST
# sample of `lib.data.load_mnist`, a linear classifier gets about one test image in
# ten wrong (see the `fgsm` notebook), while on the digits it gets about one in
# fifty wrong (the last row of the table in section 6). And 64 pixels instead of
# 784 make every step of distillation twelve times cheaper, so the whole notebook
# runs in seconds.

# %% nbgrader={"grade": false, "grade_id": "data", "locked": true, "schema_version": 3, "solution": false, "task": false}
X_digits, y_digits = load_digits()
X_train, y_train, X_test, y_test = split(X_digits, y_digits, 0.25, rng=0)
print(f"{len(y_digits)} images: training set {X_train.shape}, test set "
      f"{X_test.shape}, classes {np.bincount(y_train)}")

# %% [markdown]
# ## The distillation objective
#
# The distilled set is $m$ images $\tilde X$ (an $m \times d$ array `xd`) with labels
# $\tilde y$ (`yd`, one-hot rows $\tilde Y$). One gradient step of size $\eta$ on
# their mean cross-entropy, from the fixed weights $\theta_0$, gives
#
# $$\theta_1 = \theta_0 - \frac{\eta}{m} \tilde X^\top \big(\tilde P_0 - \tilde Y\big),
# \qquad \tilde P_0 = \operatorname{softmax}(\tilde X \theta_0) \text{ (row by row)}.$$
#
# The distillation loss is the mean cross-entropy of $\theta_1$ on a batch of $n$
# real images $X$ with labels $y$:
# $\mathcal L(\tilde X, \eta) = -\frac{1}{n} \sum_{i} \log P_{i, y_i}$ with
# $P = \operatorname{softmax}(X \theta_1)$. Distillation minimises $\mathcal L$ over
# the images $\tilde X$ and the step size $\eta$; the labels $\tilde y$ and
# $\theta_0$ stay fixed. Note that $\tilde X$ enters $\theta_1$ **twice**: through
# $\tilde X^\top$ and through $\tilde P_0 = \operatorname{softmax}(\tilde X\theta_0)$.
#
# Useful facts: the gradient of the mean cross-entropy of softmax regression on
# $(X, y)$ at $\theta_1$ is $A = \frac{1}{n} X^\top (P - Y)$, and the Jacobian of the
# softmax $p$ of one row of logits is $\operatorname{diag}(p) - p p^\top$.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_gradients", "locked": false, "points": 4, "schema_version": 3, "solution": true, "task": false}
# **Question (4 points).** Derive $\partial \mathcal L / \partial \eta$ (a number) and
# $\partial \mathcal L / \partial \tilde X$ (an $m \times d$ matrix) in matrix form.
# Write $R = \tilde P_0 - \tilde Y$ and $G = \frac{1}{m}\tilde X^\top R$, so that
# $\theta_1 = \theta_0 - \eta G$, and follow both paths by which $\tilde X$ enters
# $G$. Say what becomes of the second path when $\theta_0 = 0$.
#
# ### BEGIN SOLUTION
# Write $\langle U, V\rangle = \sum_{ij} U_{ij} V_{ij}$. A small change of
# $\theta_1$ changes the loss by $d\mathcal L = \langle A, d\theta_1\rangle$.
#
# **Step size.** $\partial\theta_1/\partial\eta = -G$, so
# $\dfrac{\partial \mathcal L}{\partial \eta} = -\langle A, G\rangle
# = -\frac{1}{m}\sum_{ij} A_{ij} (\tilde X^\top R)_{ij}$.
#
# **Images.** $d\theta_1 = -\eta\, dG$, so
# $d\mathcal L = \langle B, dG\rangle$ with $B = -\eta A$ ($d \times k$). With
# $G = \frac1m \tilde X^\top R$,
# $dG = \frac1m\big(d\tilde X^\top R + \tilde X^\top dR\big)$, hence
# $d\mathcal L = \frac1m\langle R B^\top, d\tilde X\rangle
# + \langle V, dR\rangle$ with $V = \frac1m \tilde X B$ ($m \times k$).
#
# *Direct path:* $\frac1m R B^\top = -\frac{\eta}{m} R A^\top$.
#
# *Path through the softmax:* $dR = d\tilde P_0$, and row $i$ of $\tilde P_0$ is the
# softmax $p_i$ of row $i$ of $Z_0 = \tilde X\theta_0$. Its Jacobian
# $\operatorname{diag}(p_i) - p_i p_i^\top$ is symmetric, so
# $\langle V, dR\rangle = \langle S, dZ_0\rangle$ with
# $S_{ic} = \tilde P_{0,ic}\big(V_{ic} - \sum_{c'} \tilde P_{0,ic'} V_{ic'}\big)$, and
# $dZ_0 = d\tilde X\,\theta_0$ gives $\langle S\theta_0^\top, d\tilde X\rangle$.
#
# Together,
# $$\frac{\partial \mathcal L}{\partial \tilde X} = -\frac{\eta}{m} R A^\top
# + S \theta_0^\top, \quad S = \tilde P_0 \odot \big(V - (\tilde P_0 \odot V)\mathbf 1
# \mathbf 1^\top\big), \quad V = -\frac{\eta}{m} \tilde X A.$$
# With $\theta_0 = 0$ the second term vanishes (it is multiplied by $\theta_0$, and
# $\tilde P_0 = 1/k$ does not depend on $\tilde X$); with the random $\theta_0$ used
# here it does not.
# ### END SOLUTION

# %% [markdown]
# ## 1. One step (1 point)
#
# Write `one_step(xd, yd, eta, theta0)`. It returns $\theta_1$, the weights after one
# gradient-descent step of size `eta` on the mean cross-entropy of `(xd, yd)` from
# `theta0` (the formula above): an array of the shape of `theta0`. Vectorise it; do
# not modify the inputs. The rest of the notebook uses it to train the one-step
# models.

# %% nbgrader={"grade": false, "grade_id": "one_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def one_step(xd, yd, eta, theta0):
    """theta1: the weights after one gradient step of size eta on the mean
    cross-entropy of (xd, yd), from theta0."""
    ### BEGIN SOLUTION
    k = theta0.shape[1]
    residual = softmax(xd @ theta0, axis=1) - np.eye(k)[yd]  # (m, k)
    return theta0 - eta * xd.T @ residual / len(xd)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_one_step", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does one_step take the right step on three small problems?"""
with checks.public("one_step"):
    _xd = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]])
    _yd = np.array([0, 1])
    _theta1 = checks.call(one_step, _xd, _yd, 0.5, np.zeros((3, 2)))
    checks.check(np.shape(_theta1) == (3, 2),
                 f"theta1 should have the shape (3, 2) of theta0, got {np.shape(_theta1)}.",
                 hint="xd.T (n_features, m) times an (m, k) array gives (n_features, k).")
    checks.check_close(_theta1, [[0.125, -0.125], [-0.125, 0.125], [0.375, -0.375]],
                       rtol=1e-10, what="theta1 with theta0 = 0",
                       hint="Step against the gradient (minus sign), and divide by the "
                            "number m of images: the loss is a mean.")
    _theta0 = np.array([[0.5, -1.0], [0.2, 0.3], [-0.4, 0.1]])
    checks.check_close(checks.call(one_step, _xd, _yd, 0.5, _theta0),
                       [[0.594385167199536, -1.094385167199536],
                        [0.050328084971887, 0.449671915028113],
                        [-0.061557750572814, -0.238442249427186]],
                       rtol=1e-10, what="theta1 with theta0 != 0",
                       hint="Take the softmax of each row of xd @ theta0 (over the k "
                            "classes, axis=1), not over a column or the whole array.")
    _theta0 = np.array([[0.2, -0.1, 0.4], [0.0, 0.3, -0.2], [0.1, 0.1, 0.0]])
    checks.check_close(checks.call(one_step, np.array([[1.0, -1.0, 0.5]]), np.array([2]),
                                   2.0, _theta0),
                       [[-0.473881878453463, -0.469834216248161, 1.443716094701625],
                        [0.673881878453463, 0.669834216248161, -1.243716094701624],
                        [-0.236940939226732, -0.08491710812408, 0.521858047350812]],
                       rtol=1e-10, what="theta1 for one image of label 2 and k = 3",
                       hint="Label c is the one-hot row with a 1 in column c (labels "
                            "start at 0).")
    checks.check_close(checks.call(one_step, _xd, _yd, 0.0, _theta0[:, :2]),
                       _theta0[:, :2], what="theta1 at eta = 0",
                       hint="A step of size 0 leaves theta0 unchanged.")
    checks.check_close(_theta0, [[0.2, -0.1, 0.4], [0.0, 0.3, -0.2], [0.1, 0.1, 0.0]],
                       what="theta0 after the calls",
                       hint="Do not modify theta0 in place: compute a new array.")

# %% nbgrader={"grade": true, "grade_id": "test_one_step", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of one_step (1 point): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# Tolerances: rtol 1e-8 against the float64 reference (tested against autograd);
# atol 1e-10 times the largest |entry| for entries that nearly cancel.
from lib import distillation as _ref

_rng = np.random.default_rng(505)
_cases = ((10, 64, 10, np.int64), (4, 7, 3, np.uint8), (1, 5, 2, np.int64),
          (6, 9, 4, np.int32), (3, 3, 3, np.int64))
for _m, _d, _k, _dtype in _cases:
    _xd = _rng.normal(size=(_m, _d))
    _yd = _rng.integers(0, _k, size=_m).astype(_dtype)
    _eta = float(_rng.uniform(0.5, 3.0))
    _theta0 = _rng.normal(size=(_d, _k))
    _copies = [_a.copy() for _a in (_xd, _yd, _theta0)]
    _want = _ref.one_step(_xd, _yd, _eta, _theta0)
    _got = checks.call(one_step, _xd, _yd, _eta, _theta0)
    checks.check(np.shape(_got) == _want.shape,
                 f"theta1 should have the shape {_want.shape} of theta0, got "
                 f"{np.shape(_got)}.")
    checks.check_close(_got, _want, rtol=1e-8, atol=1e-10 * np.max(np.abs(_want)),
                       what="theta1",
                       hint="One step against the gradient of the mean cross-entropy: "
                            "softmax over the classes of each row, one-hot labels "
                            "from 0, the mean over the m images.")
    for _before, _after, _name in zip(_copies, (_xd, _yd, _theta0),
                                      ("xd", "yd", "theta0"), strict=True):
        checks.check(np.array_equal(_before, _after),
                     f"one_step changed its argument {_name}; it must not.",
                     hint="Compute a new array instead of updating theta0 in place.")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The gradients (4 points)
#
# Write `distill_grads(xd, yd, eta, theta0, X, y)`. It returns a tuple
# `(loss, grad_xd, grad_eta)`: the loss $\mathcal L$ of the one-step model on the real
# batch `(X, y)`, its gradient with respect to `xd` (an array of the shape of `xd`),
# and its derivative with respect to `eta` (a float, not an array). Vectorise it;
# do not modify the inputs. You may call your `one_step`.

# %% nbgrader={"grade": false, "grade_id": "distill_grads", "locked": false, "schema_version": 3, "solution": true, "task": false}
def distill_grads(xd, yd, eta, theta0, X, y):
    """(loss, grad_xd, grad_eta) of the mean cross-entropy on (X, y) of one step of
    size eta on (xd, yd) from theta0."""
    ### BEGIN SOLUTION
    m, n, k = len(xd), len(X), theta0.shape[1]
    p0 = softmax(xd @ theta0, axis=1)  # (m, k)
    r0 = p0 - np.eye(k)[yd]
    g0 = xd.T @ r0 / m  # (d, k)
    theta1 = theta0 - eta * g0
    p1 = softmax(X @ theta1, axis=1)  # (n, k)
    loss = -np.mean(np.log(p1[np.arange(n), y]))
    a = X.T @ (p1 - np.eye(k)[y]) / n  # dL/dtheta1
    grad_eta = -np.sum(a * g0)
    v = -eta * xd @ a / m  # dL/dp0
    s = p0 * (v - np.sum(p0 * v, axis=1, keepdims=True))  # dL/d(xd @ theta0)
    grad_xd = -eta * r0 @ a.T / m + s @ theta0.T
    return float(loss), grad_xd, float(grad_eta)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_distill_grads", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does distill_grads return the right loss and gradients on two small problems?"""
with checks.public("distill_grads"):
    _xd = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]])
    _yd = np.array([0, 1])
    _X = np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 1.0], [1.0, 0.0, 1.0]])
    _y = np.array([1, 0, 1])
    _out = checks.call(distill_grads, _xd, _yd, 0.5, np.zeros((3, 2)), _X, _y)
    checks.check(isinstance(_out, (tuple, list)) and len(_out) == 3,
                 "distill_grads should return a tuple (loss, grad_xd, grad_eta).")
    checks.check(isinstance(_out[2], numbers.Real),
                 f"grad_eta should be a float, got {type(_out[2]).__name__}.",
                 hint="The derivative with respect to one number is one number: sum "
                      "over every entry, and return it with float(...).")
    checks.check_close(_out[0], 0.8607827626523372, rtol=1e-8,
                       what="the loss with theta0 = 0",
                       hint="Take one step from theta0 on (xd, yd), then return the mean "
                            "cross-entropy of the new weights on (X, y).")
    checks.check_close(_out[2], 0.41440180256763626, rtol=1e-8,
                       what="grad_eta with theta0 = 0",
                       hint="theta1 = theta0 - eta * G: mind the sign and the 1/m and 1/n.")
    checks.check_close(_out[1], [[0.102588214886, -0.031303916519, 0.024436256626],
                                 [-0.102588214886, 0.031303916519, -0.024436256626]],
                       rtol=1e-8, atol=1e-12, what="grad_xd with theta0 = 0",
                       hint="With theta0 = 0 only the direct path through xd.T counts; "
                            "check the 1/m and 1/n factors.")
    _theta0 = np.array([[0.5, -1.0], [0.2, 0.3], [-0.4, 0.1]])
    _out = checks.call(distill_grads, _xd, _yd, 0.5, _theta0, _X, _y)
    checks.check_close(_out[0], 1.5313019765975209, rtol=1e-8,
                       what="the loss with theta0 != 0",
                       hint="Use softmax(xd @ theta0) in the inner step.")
    checks.check_close(_out[2], 0.4080304131192793, rtol=1e-8,
                       what="grad_eta with theta0 != 0")
    checks.check_close(_out[1], [[-0.018416551491, -0.02439507524, 0.054295910104],
                                 [-0.120639846658, 0.048674256134, -0.036152099624]],
                       rtol=1e-8, atol=1e-12, what="grad_xd with theta0 != 0",
                       hint="If the case theta0 = 0 passed, the path through "
                            "softmax(xd @ theta0) is missing or wrong: it needs the "
                            "softmax Jacobian and theta0.")
    _out = checks.call(distill_grads, _xd, _yd, 0.0, _theta0, _X, _y)
    checks.check_close(_out[1], np.zeros((2, 3)), atol=1e-15, what="grad_xd at eta = 0",
                       hint="With eta = 0 the images do not affect theta1.")
    checks.check_close(_xd, [[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]], what="xd after the call",
                       hint="Do not modify xd in place.")

# %% nbgrader={"grade": true, "grade_id": "test_distill_grads", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of distill_grads (4 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# Tolerances: rtol 1e-8 against the float64 reference (tested against autograd and
# finite differences); atol 1e-10 times the largest |entry| for entries near 0.
# A distill_grads may call one_step: it gets the reference, so that a mistake in
# one_step costs only the point of one_step.
from lib import distillation as _ref

_rng = np.random.default_rng(606)
_shapes = ((10, 64, 10, 50), (4, 7, 3, 25), (3, 5, 2, 8), (6, 9, 4, 1))
with checks.substituted(globals(), one_step=_ref.one_step):
    for _m, _d, _k, _n in _shapes:
        _xd = _rng.normal(size=(_m, _d))
        _yd = _rng.integers(0, _k, size=_m).astype(np.uint8)
        _eta = float(_rng.uniform(0.5, 3.0))
        _theta0 = _rng.normal(scale=1.5 / np.sqrt(_d), size=(_d, _k))
        _X = _rng.normal(size=(_n, _d))
        _y = _rng.integers(0, _k, size=_n)
        _copies = [_a.copy() for _a in (_xd, _yd, _theta0, _X, _y)]
        _want = _ref.distill_grads(_xd, _yd, _eta, _theta0, _X, _y)
        # Three calls of one_step at most: its gradient comes from the formula,
        # not from finite differences around the lent one_step.
        _got = checks.call(distill_grads, _xd, _yd, _eta, _theta0, _X, _y,
                           lent_budget=3 * (_xd.size + _yd.size + _theta0.size + 1))
        checks.check(isinstance(_got, (tuple, list)) and len(_got) == 3,
                     "distill_grads should return a tuple (loss, grad_xd, grad_eta).")
        checks.check_close(_got[0], _want[0], rtol=1e-8, what="the loss",
                           hint="The loss is the mean (not the sum) cross-entropy over "
                                "the rows of X of the weights after one step.")
        checks.check_close(_got[1], _want[1], rtol=1e-8,
                           atol=1e-10 * np.max(np.abs(_want[1])), what="grad_xd",
                           hint="Follow both paths by which xd enters theta1 (xd.T and "
                                "softmax(xd @ theta0)), with the factors 1/m and 1/n.")
        checks.check(isinstance(_got[2], numbers.Real),
                     f"grad_eta should be a float, got {type(_got[2]).__name__}.",
                     hint="Sum over every entry and return float(...).")
        checks.check_close(_got[2], _want[2], rtol=1e-8, atol=1e-14,
                           what="grad_eta",
                           hint="Differentiate theta1 = theta0 - eta * G with respect "
                                "to eta; mind the sign and the 1/m and 1/n factors.")
        for _before, _after, _name in zip(_copies, (_xd, _yd, _theta0, _X, _y),
                                          ("xd", "yd", "theta0", "X", "y"),
                                          strict=True):
            checks.check(np.array_equal(_before, _after),
                         f"distill_grads changed its argument {_name}; it must not.")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Checking the gradients with finite differences
#
# The cell below computes the distillation loss a second way, with library calls
# only: your `one_step`, `scipy.special.softmax` and scikit-learn's `log_loss` (the
# mean cross-entropy of predicted probabilities). It differentiates that loss
# numerically with `scipy.differentiate.jacobian`, which combines central
# differences $f(x + h) - f(x - h)$ at several step sizes into a fourth-order formula
# (its error shrinks like $h^4$), starting from $h = 0.01$ and halving the steps
# until two successive estimates agree to about eight digits, and compares the
# result with your `distill_grads`. It does so on a small random problem, for every
# entry of `xd`, and on a batch of digits, for 20 randomly chosen entries of `xd` out
# of 640 (each evaluation of `log_loss` takes milliseconds, so all of them would
# take half a minute); for `eta` in both. Both problems have a random $\theta_0$, so
# that both paths by which `xd` enters $\theta_1$ matter. The loss is built on your
# `one_step`: run this cell after `check_one_step` passes, or a mistake there shows
# up here too.
#
# With correct gradients the relative differences are about $10^{-9}$ or smaller:
# the finite differences carry errors of that order (rounding of the loss, divided
# by a small step). The tolerance is $10^{-6}$; a missing term or a wrong factor
# gives differences of $10^{-2}$ or more.

# %% nbgrader={"grade": false, "grade_id": "finite_difference_check", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    TOLERANCE = 1e-6  # finite differences meet it with a margin of 100 or more


    def distillation_loss(xd, eta, yd, theta0, X, y):
        """The distillation loss from library calls and your one_step."""
        theta1 = one_step(xd, yd, eta, theta0)
        return log_loss(y, softmax(X @ theta1, axis=1), labels=np.arange(theta0.shape[1]))


    def numerical_derivatives(xd, eta, yd, theta0, X, y, entries):
        """Derivatives of distillation_loss with respect to the entries of xd numbered
        `entries` (of xd.ravel()) and to eta, by scipy.differentiate.jacobian."""

        def loss_at(params):  # params: the chosen entries of xd, then eta
            x = xd.copy()
            x.flat[entries] = params[:-1]
            return distillation_loss(x, params[-1], yd, theta0, X, y)

        def loss_vectorised(params):  # jacobian evaluates many points in one call
            return np.apply_along_axis(loss_at, 0, params)

        result = jacobian(loss_vectorised, np.append(xd.flat[entries], eta), order=4,
                          initial_step=0.01)
        return result.df[:-1], result.df[-1]


    rng = np.random.default_rng(1)
    problems = {
        "random, d = 6, k = 4": (rng.normal(size=(5, 6)), rng.integers(0, 4, size=5),
                                 1.7, rng.normal(size=(6, 4)), rng.normal(size=(30, 6)),
                                 rng.integers(0, 4, size=30)),
        "digits, m = 10": (rng.normal(size=(10, 64)), np.arange(10), 8.0,
                           initial_theta(64, 10), X_train[:200], y_train[:200]),
    }
    rows = {}
    for name, (xd, yd, eta, theta0, X, y) in problems.items():
        loss, grad_xd, grad_eta = distill_grads(xd, yd, eta, theta0, X, y)
        if xd.size <= 40:
            entries = np.arange(xd.size)
        else:
            entries = np.sort(rng.choice(xd.size, size=20, replace=False))
        fd_xd, fd_eta = numerical_derivatives(xd, eta, yd, theta0, X, y, entries)
        library_loss = distillation_loss(xd, eta, yd, theta0, X, y)
        rows[name] = {
            "entries of xd": len(entries),
            "loss": abs(loss - library_loss) / abs(library_loss),
            "grad_xd": (np.max(np.abs(np.ravel(grad_xd)[entries] - fd_xd))
                        / np.max(np.abs(fd_xd))),
            "grad_eta": abs(grad_eta - fd_eta) / abs(fd_eta),
        }
    table = pd.DataFrame(rows).T
    print("relative differences from the library computations:")
    print(table.to_string(formatters={"entries of xd": "{:.0f}".format},
                          float_format="{:.1e}".format))
    worst = table[["loss", "grad_xd", "grad_eta"]].to_numpy().max()
    print(f"all within the tolerance {TOLERANCE:g}." if worst <= TOLERANCE else
          f"the largest difference, {worst:.1e}, exceeds the tolerance {TOLERANCE:g}.")

# %% [markdown]
# ## 4. Distillation (3 points)
#
# Write
# `dataset_distill(X, y, n_classes=10, steps=300, alpha=1.0, eta0=10.0, rng=None)`.
# It returns `(xd, eta)`: `n_classes` images, one per class (row `c` has label `c`,
# so `yd = np.arange(n_classes)`), and the learned step size, a float. The algorithm:
#
# - `rng = np.random.default_rng(rng)`; draw every random number from it, so the same
#   seed gives the same result;
# - `theta0 = initial_theta(n_features, n_classes)` (imported above: fixed random
#   weights, the same on every call, as in the paper's "fixed initialisation");
# - start from small random images `xd` (we use Gaussian noise of standard deviation
#   0.1; any small start works) and `eta = eta0`;
# - `steps` times: draw a minibatch of `(X, y)` (we use 256 rows without replacement,
#   all rows if there are fewer; other minibatches work too), compute the gradients
#   with `distill_grads`, and take a plain gradient-descent step of size `alpha` on
#   `xd` and `eta` together.
#
# `eta0 = 10` is the default because the gradient with respect to `xd` is
# proportional to `eta`: from a small `eta` the first steps hardly move the images.

# %% nbgrader={"grade": false, "grade_id": "dataset_distill", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dataset_distill(X, y, n_classes=10, steps=300, alpha=1.0, eta0=10.0, rng=None):
    """(xd, eta): one distilled image per class and the learned step size."""
    ### BEGIN SOLUTION
    rng = np.random.default_rng(rng)
    n, d = X.shape
    theta0 = initial_theta(d, n_classes)
    xd = rng.normal(scale=0.1, size=(n_classes, d))
    yd = np.arange(n_classes)
    eta = float(eta0)
    for _ in range(steps):
        rows = rng.choice(n, size=min(256, n), replace=False)
        _, grad_xd, grad_eta = distill_grads(xd, yd, eta, theta0, X[rows], y[rows])
        xd = xd - alpha * grad_xd
        eta = eta - alpha * grad_eta
    return xd, eta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_dataset_distill", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does dataset_distill learn images and a step size that classify held-out digits?"""
with checks.public("dataset_distill"):
    _Xa, _ya, _Xb, _yb = split(X_train, y_train, 0.3, rng=5)
    _out = checks.call(dataset_distill, _Xa, _ya, steps=100, rng=3)
    checks.check(isinstance(_out, (tuple, list)) and len(_out) == 2,
                 "dataset_distill should return a tuple (xd, eta).")
    _xd, _eta = _out
    checks.check(np.shape(_xd) == (10, 64),
                 f"xd should have shape (10, 64) here, got {np.shape(_xd)}.")
    checks.check(isinstance(_eta, numbers.Real) and np.isfinite(_eta),
                 f"eta should be a finite float, got {_eta!r}.")
    checks.check(np.all(np.isfinite(_xd)), "xd contains inf or NaN.",
                 hint="Check the signs of both updates and that alpha is used.")
    checks.check(_eta != 10.0, "eta is still eta0 after 100 steps: it should be learned.")
    _theta1 = one_step(_xd, np.arange(10), _eta, initial_theta(64, 10))
    _accuracy = np.mean(np.argmax(_Xb @ _theta1, axis=1) == _yb)
    checks.check(_accuracy > 0.8,
                 f"One step on the distilled images should classify more than 80% of "
                 f"held-out digits after 100 steps, got {_accuracy:.1%}.",
                 hint="Start from theta0 = initial_theta(n_features, n_classes), give row "
                      "c label c, and step against both gradients.")
    _again = checks.call(dataset_distill, _Xa, _ya, steps=100, rng=3)
    checks.check(np.array_equal(_again[0], _xd) and _again[1] == _eta,
                 "Two calls with the same rng seed should give the same result.",
                 hint="Draw every random number from np.random.default_rng(rng).")

# %% nbgrader={"grade": true, "grade_id": "test_dataset_distill", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of dataset_distill (3 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# By properties, not by exact output: the thresholds hold for any correct answer
# (other starting images, minibatch sizes, sampling with replacement) with margin.
from lib import distillation as _ref

_X, _y = load_digits()
_Xa, _ya, _Xb, _yb = split(_X, _y, 0.4, rng=707)
_Xa, _ya, _Xb, _yb = _Xa[:600], _ya[:600], _Xb[:400], _yb[:400]


def _heldout(xd, eta, k, X, y):
    """Loss and accuracy on (X, y) of one step on (xd, arange(k)) from theta0."""
    theta0 = _ref.initial_theta(X.shape[1], k)
    loss = _ref.distill_grads(xd, np.arange(k), eta, theta0, X, y)[0]
    theta1 = _ref.one_step(xd, np.arange(k), eta, theta0)
    return loss, np.mean(np.argmax(X @ theta1, axis=1) == y)


_start = _ref.distill_grads(np.zeros((10, 64)), np.arange(10), 0.0,
                            _ref.initial_theta(64, 10), _Xb, _yb)[0]
with checks.substituted(globals(), distill_grads=_ref.distill_grads,
                        initial_theta=_ref.initial_theta, one_step=_ref.one_step):
    _out = checks.call(dataset_distill, _Xa, _ya, n_classes=10, steps=300, alpha=1.0,
                       eta0=10.0, rng=7)
    checks.check(isinstance(_out, (tuple, list)) and len(_out) == 2,
                 "dataset_distill should return a tuple (xd, eta).")
    _xd, _eta = _out
    checks.check(np.shape(_xd) == (10, 64),
                 f"xd should have shape (n_classes, n_features), got {np.shape(_xd)}.")
    checks.check(isinstance(_eta, numbers.Real) and np.isfinite(_eta),
                 f"eta should be a finite float, got {type(_eta).__name__}.")
    checks.check(np.all(np.isfinite(_xd)), "xd contains inf or NaN.",
                 hint="Check the signs of both updates and that alpha is used.")
    checks.check(_eta != 10.0, "eta is never updated: it should be learned.",
                 hint="Step eta against its gradient, like xd.")
    _loss, _accuracy = checks.call(_heldout, _xd, _eta, 10, _Xb, _yb)
    checks.check(_loss < 0.25 * _start,
                 "The held-out loss of the one-step model should fall below a quarter "
                 "of its value at theta0 after 300 steps; it did not.",
                 hint="Step against the gradients of both xd and eta, start from "
                      "theta0 = initial_theta(n_features, n_classes), give row c "
                      "label c.")
    checks.check(_accuracy > 0.85,
                 f"One step on the distilled images should classify more than 85% of "
                 f"held-out digits after 300 steps, got {_accuracy:.1%}.",
                 hint="Step against the gradients of both xd and eta.")
    _again = checks.call(dataset_distill, _Xa, _ya, rng=np.random.default_rng(7))
    checks.check(np.array_equal(_again[0], _xd) and _again[1] == _eta,
                 "With its default n_classes, steps, alpha and eta0 and "
                 "np.random.default_rng(7) as rng, dataset_distill should give what "
                 "the seed 7 and n_classes=10, steps=300, alpha=1.0, eta0=10.0 give.",
                 hint="Draw every random number from np.random.default_rng(rng); "
                      "keep the defaults of the def line.")

    _keep, _keep_b = _ya < 3, _yb < 3
    _xd, _eta = checks.call(dataset_distill, _Xa[_keep], _ya[_keep], n_classes=3,
                            steps=100, alpha=0.3, eta0=10.0, rng=8)
    checks.check(np.shape(_xd) == (3, 64),
                 f"With n_classes=3, xd should have shape (3, 64), got "
                 f"{np.shape(_xd)}.")
    _loss, _accuracy = checks.call(_heldout, _xd, _eta, 3, _Xb[_keep_b], _yb[_keep_b])
    checks.check(_accuracy > 0.9,
                 f"With three classes the one-step model should classify more than "
                 f"90% of held-out digits, got {_accuracy:.1%}.",
                 hint="Use n_classes for the number of images and for theta0.")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Ten images for the digits
#
# Distil the training set. The images are drawn with the grey levels spread over
# the smallest to the largest pixel value of each grid. The distilled pixels are not
# confined to $[0, 1]$ (nothing in the objective keeps them there): in their grid
# mid-grey is about zero, black negative and white positive, while the real digits
# below span $[0, 1]$.

# %% nbgrader={"grade": false, "grade_id": "distill_digits", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    STEPS = 1000
    xd, eta = dataset_distill(X_train, y_train, steps=STEPS, rng=0)
    theta0 = initial_theta(X_train.shape[1], 10)
    rng = np.random.default_rng(1)
    real = np.array([X_train[rng.choice(np.flatnonzero(y_train == c))] for c in range(10)])
    print(f"learned step size eta = {eta:.2f}; distilled pixels range from "
          f"{xd.min():.2f} to {xd.max():.2f}")
    display(gggrid([
                plots.digit_grid(xd, labels=range(10),
                                 title=f"Ten distilled images ({STEPS} steps; grey levels from "
                                       f"{xd.min():.1f} to {xd.max():.1f})"),
                plots.digit_grid(real, labels=range(10),
                                 title="One real image per class (grey levels from 0 to 1)"),
            ], ncol=1) + ggsize(580, 260))

# %% [markdown]
# ## 6. How good are ten images?
#
# We compare test accuracies of models trained by the same single step from the same
# $\theta_0$, on the ten distilled images with their learned $\eta$, on one real image
# per class and on the ten class means; and of a model trained on the whole training
# set (scikit-learn's `LogisticRegression`, same model without bias, L2 penalty
# $C = 1$). To be fair to the real images, their $\eta$ is the best of 41 values
# from 0.1 to 1,000 on the training set, and the real-image row is the mean over 20
# random draws (their range is printed below the table). The last line shows how the
# distilled images fare from a $\theta_0$ they were not distilled for.

# %% nbgrader={"grade": false, "grade_id": "compare", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    ETAS = np.geomspace(0.1, 1000.0, 41)
    DRAWS = 20


    def accuracy(theta, X, y):
        return float(np.mean(np.argmax(X @ theta, axis=1) == y))


    def best_step(images, start=theta0):
        """One step from `start` on (images, 0..9) with the eta of best training
        accuracy; returns (eta, test accuracy)."""
        train = [accuracy(one_step(images, np.arange(10), e, start), X_train, y_train)
                 for e in ETAS]
        best = ETAS[int(np.argmax(train))]
        return best, accuracy(one_step(images, np.arange(10), best, start), X_test, y_test)


    picks = [[rng.choice(np.flatnonzero(y_train == c)) for c in range(10)]
             for _ in range(DRAWS)]
    draws = [best_step(X_train[p]) for p in picks]
    real_eta, real_acc = np.median([e for e, _ in draws]), [a for _, a in draws]
    means = np.array([X_train[y_train == c].mean(axis=0) for c in range(10)])
    means_eta, means_acc = best_step(means)
    zero = np.zeros_like(theta0)
    real_acc_zero = np.mean([best_step(X_train[p], zero)[1] for p in picks])
    means_acc_zero = best_step(means, zero)[1]
    full = LogisticRegression(fit_intercept=False, max_iter=2000).fit(X_train, y_train)
    distilled_acc = accuracy(one_step(xd, np.arange(10), eta, theta0), X_test, y_test)

    results = pd.DataFrame({
        "training images": [10, 10, 10, len(X_train)],
        "training": [f"1 step, learned eta = {eta:.1f}",
                     f"1 step, best eta (median {real_eta:.1f}), {DRAWS} draws",
                     f"1 step, best eta = {means_eta:.1f}",
                     "LogisticRegression (L-BFGS to convergence)"],
        "test accuracy": [distilled_acc, np.mean(real_acc), means_acc,
                          full.score(X_test, y_test)],
    }, index=["distilled", "real, 1 per class", "class means", "all real"])
    print(results.to_string(formatters={"test accuracy": "{:.1%}".format}))
    print(f"one real image per class: from {min(real_acc):.1%} to {max(real_acc):.1%} "
          f"over the {DRAWS} draws")
    other = accuracy(one_step(xd, np.arange(10), eta, initial_theta(64, 10, seed=1)),
                     X_test, y_test)
    print(f"the distilled images, one step from another random theta0: {other:.1%}")
    print(f"one step from theta0 = 0 instead: one real image per class {real_acc_zero:.1%} "
          f"(mean of the draws), class means {means_acc_zero:.1%}")
    display(plots.bar_chart(results["test accuracy"].round(3),
                            title="Test accuracy on the digits",
                            xlab="training images of the model", ylab="test accuracy (fraction)"))

# %% [markdown]
# ## 7. Learning the images, step by step
#
# The same run, stopped after more and more steps (the same seed gives the same
# minibatches, so each run continues the previous one).

# %% nbgrader={"grade": false, "grade_id": "steps_curve", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    checkpoints = [0, 10, 25, 50, 100, 200, 400] + ([] if grading_run() else [700, 1000])
    curve = []
    for s in checkpoints:
        xs, es = dataset_distill(X_train, y_train, steps=s, rng=0)
        curve.append({"steps": s, "eta": es,
                      "test accuracy": accuracy(one_step(xs, np.arange(10), es, theta0),
                                                X_test, y_test),
                      "test loss": distill_grads(xs, np.arange(10), es, theta0, X_test,
                                                 y_test)[0]})
    curve = pd.DataFrame(curve)


    def line(column, title, ylab):
        return (ggplot(curve, aes("steps", column)) + geom_line(color="#1f77b4")
                + geom_point(color="#1f77b4")
                + labs(title=title, x="distillation step", y=ylab))


    display(gggrid([line("test accuracy", "Test accuracy", "test accuracy (fraction)"),
                    line("test loss", "Test loss", "mean cross-entropy (nats)"),
                    line("eta", "Learned step size", "eta")], ncol=3) + ggsize(1000, 320))

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_linear", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** Take $\theta_0 = 0$, $m = k$ and $\tilde y = (0, 1, \dots,
# k-1)$. Show that column $c$ of $\theta_1$ is
# $\frac{\eta}{k}\big(\tilde x_c - \bar{\tilde x}\big)$, where $\bar{\tilde x}$ is the
# mean of the $k$ distilled images, and conclude that $k$ images and one step can
# reproduce the predictions of *any* linear classifier $W$ (without bias). What
# does that say about the best test accuracy distillation can reach here, and why
# is one real image per class so much worse?
#
# ### BEGIN SOLUTION
# With $\theta_0 = 0$ every logit is 0, so $\tilde P_0 = \frac1k$ everywhere and
# $R = \frac1k - \tilde Y$. Column $c$ of $\tilde X^\top R$ is
# $\frac1k\sum_i \tilde x_i - \tilde x_c = \bar{\tilde x} - \tilde x_c$ (row $c$ is
# the only one with label $c$, and $m = k$), so
# $\theta_1[:, c] = -\frac{\eta}{k}(\bar{\tilde x} - \tilde x_c)
# = \frac{\eta}{k}(\tilde x_c - \bar{\tilde x})$.
#
# Given any $W$, choose $\tilde x_c = \frac{k}{\eta} W[:, c]$. Then
# $\theta_1 = W - \bar w \mathbf 1^\top$ with $\bar w$ the mean column of $W$:
# every logit of an example is shifted by the same number $x^\top \bar w$, which
# changes neither the softmax nor the predicted class. So ten images encode any
# linear classifier exactly; distillation is an optimisation over all linear
# classifiers, and its test accuracy is bounded by (and can reach) that of the best
# linear classifier, 98.0% on these digits, as the table shows (the random
# $\theta_0$ used here does not change this much). One real image per class gives
# $\theta_1[:, c] \propto x_c - \bar x$: it scores a test image by its overlap with a
# single example of each class, so it is at the mercy of how typical that example
# is and of how much ink it has (thick digits win every comparison). From
# $\theta_0 = 0$ that gives 48.1% here (the mean of the draws), and class means
# 89.3%; from the random $\theta_0$ of this notebook they fall to 25.5% and
# 24.5%, because real images do nothing to cancel $\theta_0$'s own preferences
# for some classes, whereas the distilled images are optimised for that very
# $\theta_0$.
# ### END SOLUTION

# %% [markdown]
# ## 8. Training longer, scored by micro F1 (1 point)
#
# The distilled images were learned for one step from $\theta_0$. How do they serve
# ordinary training? As the homework does, we train a fresh softmax regression
# model (weights starting at zero) for hundreds of epochs on the ten distilled
# images, and the same model on one real image per class, and score both on the
# test set by their confusion matrices.
#
# The F1 score of a class $c$ counts, in the confusion matrix $C$ (rows: true
# class, columns: predicted class), its true positives $TP_c = C_{cc}$, its false
# positives $FP_c$ (the rest of column $c$) and its false negatives $FN_c$ (the rest
# of row $c$): $F_1 = 2\,TP / (2\,TP + FP + FN)$. *Micro* averaging pools the
# counts of all the classes first, $TP = \sum_c TP_c$, $FP = \sum_c FP_c$,
# $FN = \sum_c FN_c$, and takes $F_1$ of the pooled counts (*macro* averaging, which
# is not asked here, would average the $k$ per-class scores).
#
# Write `f1_micro(confusion)`: `confusion` is an array of shape `(k, k)` of counts
# (non-negative integers, or floats for weighted counts), `confusion[i, j]` the
# number of test examples of true class `i` predicted as `j`, as
# `sklearn.metrics.confusion_matrix` returns it. Return the micro-averaged F1 score
# as a float. Do not modify `confusion`.

# %% nbgrader={"grade": false, "grade_id": "f1_micro", "locked": false, "schema_version": 3, "solution": true, "task": false}
def f1_micro(confusion):
    """Micro-averaged F1 score of a (k, k) confusion matrix, rows true, columns
    predicted: a float."""
    ### BEGIN SOLUTION
    tp = np.trace(confusion)
    total = np.sum(confusion)
    fp = fn = total - tp  # each error is a false positive and a false negative
    return float(2 * tp / (2 * tp + fp + fn))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_f1_micro", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does f1_micro pool the counts of every class, and return one float?"""
with checks.public("f1_micro"):
    _C = np.array([[5, 1, 0], [2, 3, 1], [0, 0, 8]])
    _f1 = checks.call(f1_micro, _C)
    checks.check_scalar(_f1, what="f1_micro of a 3 x 3 confusion matrix",
                        hint="Return one number for the whole matrix, not one per "
                             "class.")
    checks.check_close(_f1, 0.8, rtol=1e-9,
                       what="f1_micro of [[5, 1, 0], [2, 3, 1], [0, 0, 8]]",
                       hint="Pool TP, FP and FN over the classes first, then take "
                            "2 TP / (2 TP + FP + FN); averaging the F1 scores of the "
                            "classes is macro F1.")
    checks.check_close(checks.call(f1_micro, np.array([[90, 10], [0, 0]])), 0.9,
                       rtol=1e-9, what="f1_micro when one class is never the true one",
                       hint="A class with no examples adds nothing to the pooled "
                            "counts; do not divide by its empty row.")
    checks.check_close(checks.call(f1_micro, np.diag([3, 4, 5])), 1.0, rtol=1e-12,
                       what="f1_micro of a perfect classifier",
                       hint="Without errors FP = FN = 0.")
    checks.check_close(checks.call(f1_micro, np.array([[0, 2], [3, 0]])), 0.0,
                       atol=1e-12, what="f1_micro when every prediction is wrong",
                       hint="Without true positives the score is 0.")

# %% nbgrader={"grade": true, "grade_id": "test_f1_micro", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of f1_micro (1 point): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# rtol 1e-10: pooled counts, the trace over the total or sums of per-class counts
# differ by rounding only.
from lib import distillation as _ref

_rng = np.random.default_rng(808)
_skewed = _rng.integers(0, 30, size=(10, 10)) + np.diag(_rng.integers(0, 200, 10))
_skewed[:, 0] *= 7  # class 0 predicted far more often
_labels = _rng.integers(0, 4, size=300)
_pred = np.where(_rng.uniform(size=300) < 0.6, _labels, _rng.integers(0, 4, size=300))
_cases = [  # (what, confusion)
    ("a 10 x 10 matrix with unequal classes", _skewed),
    ("two classes", np.array([[40, 9], [1, 2]])),
    ("the confusion matrix of predictions",
     np.bincount(4 * _labels + _pred, minlength=16).reshape(4, 4)),
    ("int32 counts with an empty class",
     np.array([[7, 0, 3], [0, 0, 0], [5, 0, 1]], dtype=np.int32)),
    ("weighted (float) counts", _rng.uniform(0.0, 5.0, size=(5, 5))),
    ("a perfect classifier", np.diag([4, 1, 9, 2])),
    ("no correct prediction", np.array([[0, 3, 1], [2, 0, 0], [6, 1, 0]])),
    ("a single class", np.array([[12]])),
]
for _what, _C in _cases:
    _got = checks.call(f1_micro, _C)
    checks.check_scalar(_got, what=f"f1_micro for {_what}",
                        hint="Return one float for the whole matrix.")
    checks.check_close(_got, _ref.f1_micro(_C), rtol=1e-10, atol=0,
                       what=f"f1_micro for {_what}",
                       hint="Micro F1 pools TP, FP and FN over every class (rows: true "
                            "class, columns: predicted) before taking "
                            "2 TP / (2 TP + FP + FN).")
### END HIDDEN TESTS

# %% [markdown]
# The cell below trains softmax regression without bias from zero weights by
# full-batch gradient descent: each epoch is one step of your `one_step` on all
# ten training images, with learning rate 1. It does so on the ten distilled
# images and on the one real image per class shown in section 5, records the micro
# F1 score on the test set after every epoch, and shows both confusion matrices
# after the last.

# %% nbgrader={"grade": false, "grade_id": "train_longer", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    EPOCHS, LR = 300, 1.0


    def confusion_on_test(theta):
        """The confusion matrix of the model theta on the test set."""
        return confusion_matrix(y_test, np.argmax(X_test @ theta, axis=1),
                                labels=np.arange(10))


    def train(images, epochs=EPOCHS, lr=LR):
        """Full-batch gradient descent from zero on (images, 0..9); the final weights
        and the test micro F1 after every epoch."""
        theta = np.zeros((images.shape[1], 10))
        scores = []
        for _ in range(epochs):
            theta = one_step(images, np.arange(10), lr, theta)
            scores.append(f1_micro(confusion_on_test(theta)))
        return theta, scores


    trained = {"distilled": train(xd), "real, 1 per class": train(real)}
    summary = pd.DataFrame({
        name: {"micro F1 after 1 epoch": scores[0],
               f"micro F1 after {EPOCHS} epochs": scores[-1],
               f"test accuracy after {EPOCHS} epochs": accuracy(theta, X_test, y_test),
               "training images right": accuracy(theta, xd if name == "distilled"
                                                 else real, np.arange(10))}
        for name, (theta, scores) in trained.items()}).T
    print(summary.to_string(float_format="{:.3f}".format))
    curves = pd.DataFrame([{"epoch": epoch + 1, "training images": name, "micro F1": f1}
                           for name, (_, scores) in trained.items()
                           for epoch, f1 in enumerate(scores)])
    display(ggplot(curves, aes("epoch", "micro F1", color="training images"))
            + geom_line(size=1) + scale_x_log10()
            + labs(title="Test micro F1 of softmax regression trained on ten images",
                   x="epoch (full-batch gradient steps, log scale)",
                   y="micro F1 on the test set", color="")
            + ggsize(640, 380))
    display(gggrid([plots.confusion_matrix_plot(
                y_test, np.argmax(X_test @ theta, axis=1), labels=np.arange(10),
                title=f"{name}: micro F1 {scores[-1]:.3f}")
            for name, (theta, scores) in trained.items()], ncol=2) + ggsize(900, 420))

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_f1", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** Show that for a classifier that gives each example one
# label, micro F1 is the accuracy. Then compare the two confusion matrices and
# curves: which digits does the model trained on real images get wrong, and why
# does the model trained on the distilled images score less after hundreds of
# epochs than after the first?
#
# ### BEGIN SOLUTION
# Each test example is counted once in $C$. A correct one is a true positive of its
# class. A wrong one, of true class $i$ predicted as $j \ne i$, is a false positive
# of $j$ and a false negative of $i$, and of no other class. So $TP = \mathrm{tr}\,C$
# and $FP = FN = N - \mathrm{tr}\,C$ with $N$ the number of examples, and
# $F_1 = 2\,\mathrm{tr}\,C / (2\,\mathrm{tr}\,C + 2(N - \mathrm{tr}\,C))
# = \mathrm{tr}\,C / N$, the accuracy (the table prints both: they agree).
#
# Both models classify their ten training images right from the first epoch on;
# what differs is what those images say about the test digits. The model trained
# on one real image per class climbs a little over the first epochs and then stays
# far below the other: ten examples say little about the digits. Its errors are
# concentrated: most 7s are taken for 1s, many 3s for 8s and 4s for 0s or 1s, and
# the columns of 0 and 1, whose single images overlap many digits, collect the
# most errors. The distilled images carry, by construction, a whole linear
# classifier: with $\theta = 0$ the first step gives column $c$ of $\theta$
# proportional to $\tilde x_c - \bar{\tilde x}$ (the written question above), so
# the first epoch already scores close to the one-step model of section 6, and its
# few errors go mostly to 8. Further epochs fit the ten images themselves:
# gradient descent on separable data pushes the weights towards the largest margin
# on those ten points, a classifier that need not be the one the images encode,
# and the test score falls, most of the way within the first few dozen epochs.
# Distilled images are made for the training procedure they were distilled for
# (here one step from $\theta_0$); under another they remain far better than real
# images, but lose part of their advantage.
# ### END SOLUTION

# %% [markdown]
# ## Public checks
#
# This cell lists the functions whose public checks pass in this kernel. Run it after
# *Kernel → Restart and Run All*, before you submit. Passing is a good sign,
# not a grade: hidden tests with other inputs decide the points.

# %% nbgrader={"grade": false, "grade_id": "public_summary", "locked": true, "schema_version": 3, "solution": false, "task": false}
checks.summary(["one_step", "distill_grads", "dataset_distill", "f1_micro"])
