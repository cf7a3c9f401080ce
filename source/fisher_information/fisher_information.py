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
# # Assignment 5: Fisher information
#
# The Fisher information measures how much one observation tells us about a
# parameter. It is the expected square of the *score*, the derivative of the
# log-likelihood, and, under regularity conditions, also minus the expected second
# derivative. Its inverse is the large-sample covariance of the maximum-likelihood
# estimate, which is how statistics packages compute the standard errors of logistic
# regression coefficients. You will prove the identity, write the score and the
# information of a Bernoulli variable, the empirical Fisher matrix, the Fisher matrix
# of logistic regression and the standard errors it gives, check the identity by Monte
# Carlo, and compare the standard errors with a bootstrap.
#
# **How this notebook is graded.** Write your code between the `def` line and the end
# of each answer cell, replacing `raise NotImplementedError()`. The cell after each
# answer runs *public checks* and prints one line: that they passed, or a hint saying
# what was expected. The last cell lists which functions pass. Passing is a good sign
# but not a grade: hidden tests with other inputs decide the points. Written answers
# are graded by hand. Do not add, delete or reorder cells; run *Kernel → Restart and
# Run All* before you submit.
#
# **Conventions.** $\ell(\theta; x) = \log p(x \mid \theta)$ is the log-likelihood of
# one observation. In logistic regression `X` has one example per row and its column
# 0 is all ones (the intercept), so `theta[0]` is the bias, and
# $p_i = \sigma(x_i^\top \theta)$. You need a sigmoid: use `scipy.special.expit`,
# imported below. Arrays are `float64`.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import autograd.numpy as anp
import numpy as np
import pandas as pd
from autograd import elementwise_grad, grad, hessian
from IPython.display import display
from lets_plot import (
    aes,
    geom_bar,
    geom_histogram,
    geom_line,
    geom_point,
    geom_pointrange,
    geom_vline,
    gggrid,
    ggplot,
    ggsize,
    labs,
    position_dodge,
    scale_y_log10,
)
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from lib import checks, plots
from lib.data import add_intercept, grading_run

plots.setup()

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_information_identity", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# ## 1. The information identity (3 points, written)
#
# Let $p(x \mid \theta)$ be a family of densities (or probability mass functions)
# with a scalar parameter $\theta$, and $\ell(\theta; x) = \log p(x \mid \theta)$.
# Prove that
#
# $$\mathbb{E}_\theta\!\left[\left(\frac{\partial}{\partial\theta}
# \ell(\theta; X)\right)^{2}\right]
# = -\,\mathbb{E}_\theta\!\left[\frac{\partial^2}{\partial\theta^2}
# \ell(\theta; X)\right],$$
#
# where $X \sim p(\cdot \mid \theta)$. State every regularity condition you use, and
# where you use it. (Hint: start from $\int p(x \mid \theta)\,dx = 1$.)
#
# ### BEGIN SOLUTION
# **Conditions.** (R1) the support $\{x : p(x \mid \theta) > 0\}$ does not depend on
# $\theta$, and $\theta$ is an interior point of the parameter set; (R2)
# $p(x \mid \theta)$ is twice differentiable in $\theta$ for every $x$; (R3) the
# integral $\int p(x \mid \theta)\,dx$ can be differentiated twice under the integral
# sign (for example because $|\partial_\theta p|$ and $|\partial^2_\theta p|$ are
# bounded by an integrable function of $x$ near $\theta$); (R4) the expectations
# below are finite.
#
# **Proof.** Write $s = \partial_\theta \ell = \partial_\theta p / p$ (on the support,
# by R1 and R2). Since $\int p(x \mid \theta)\,dx = 1$ for every $\theta$, differentiating
# under the integral (R3) gives
# $0 = \int \partial_\theta p\,dx = \int s\,p\,dx = \mathbb{E}_\theta[s]$: the score
# has mean zero. Differentiate $\int s(\theta; x)\,p(x \mid \theta)\,dx = 0$ once more
# (R3 again, R2 for the derivative of $s$):
# $0 = \int \partial_\theta s\;p\,dx + \int s\;\partial_\theta p\,dx
# = \int \partial^2_\theta \ell\;p\,dx + \int s^2\,p\,dx$, because
# $\partial_\theta p = s\,p$. Both integrals are finite (R4), so
# $\mathbb{E}_\theta[s^2] = -\mathbb{E}_\theta[\partial^2_\theta \ell]$. $\square$
#
# Where it breaks: for the uniform on $[0, \theta]$ the support moves with $\theta$
# (R1 fails), $\mathbb{E}[s] = -1/\theta \ne 0$ and the identity does not hold.
# ### END SOLUTION

# %% [markdown]
# ## 2. The Bernoulli model (2 points)
#
# For $x \in \{0, 1\}$ and $\theta \in (0, 1)$,
# $\ell(\theta; x) = x \log\theta + (1 - x)\log(1 - \theta)$.
#
# - `bernoulli_score(theta, x)` returns the score
#   $\dfrac{x}{\theta} - \dfrac{1 - x}{1 - \theta}$, elementwise over `x` (a scalar
#   `x` gives a scalar, an array an array of the same shape; `theta` is a float).
# - `bernoulli_fisher(theta)` returns the Fisher information of one observation,
#   $I(\theta) = \dfrac{1}{\theta(1 - \theta)}$, elementwise when `theta` is an array.

# %% nbgrader={"grade": false, "grade_id": "bernoulli_score", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bernoulli_score(theta, x):
    """d/dtheta of x log(theta) + (1 - x) log(1 - theta), elementwise over x."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    out = x / theta - (1.0 - x) / (1.0 - theta)
    return out[()] if out.ndim == 0 else out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_bernoulli_score", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does bernoulli_score give the known scores, keep shapes, and have mean zero?"""
with checks.public("bernoulli_score"):
    checks.check_close(checks.call(bernoulli_score, 0.25, np.array([0.0, 1.0])),
                       [-4.0 / 3.0, 4.0], rtol=1e-12, what="bernoulli_score(0.25, [0, 1])",
                       hint="Differentiate x log(theta) + (1 - x) log(1 - theta) with "
                            "respect to theta; the term of x = 0 is negative.")
    checks.check_scalar(checks.call(bernoulli_score, 0.25, 1),
                        what="bernoulli_score of a scalar x")
    checks.check_close(checks.call(bernoulli_score, 0.6, np.ones((2, 3))),
                       np.full((2, 3), 1 / 0.6), rtol=1e-12,
                       what="bernoulli_score(0.6, ones((2, 3)))",
                       hint="Work elementwise and keep the shape of x.")
    _mean = (0.3 * checks.call(bernoulli_score, 0.3, 1)
             + 0.7 * checks.call(bernoulli_score, 0.3, 0))
    checks.check(abs(_mean) < 1e-12,
                 f"The score should have mean zero: theta * score(1) + (1 - theta) * "
                 f"score(0) is {_mean:.3g} at theta = 0.3.",
                 hint="See the proof in question 1: E[score] = 0.")

# %% nbgrader={"grade": true, "grade_id": "test_bernoulli_score", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of bernoulli_score (1 point): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# rtol 1e-10: equivalent formulas, such as (x - theta) / (theta (1 - theta)), differ
# by rounding only.
from lib import fisher as _ref

_rng = np.random.default_rng(501)
for _theta in (0.03, 0.37, 0.5, 0.81, 0.995):
    _x = _rng.integers(0, 2, size=(4, 6)).astype(float)
    checks.check_close(checks.call(bernoulli_score, _theta, _x),
                       _ref.bernoulli_score(_theta, _x), rtol=1e-10,
                       what="bernoulli_score of an array of observations",
                       hint="Return x / theta - (1 - x) / (1 - theta) elementwise, "
                            "with the shape of x.")
_x = np.array([1, 0, 0, 1, 1])  # integers
checks.check_close(checks.call(bernoulli_score, 0.62, _x),
                   _ref.bernoulli_score(0.62, _x), rtol=1e-10,
                   what="bernoulli_score of integer observations",
                   hint="Integer 0/1 observations should work too.")
for _xs in (0, 1):
    _out = checks.call(bernoulli_score, 0.18, _xs)
    checks.check_scalar(_out, what="bernoulli_score of a scalar observation",
                        hint="A scalar x gives a scalar score: out[()] turns a 0-d "
                             "array into one.")
    checks.check_close(_out, _ref.bernoulli_score(0.18, _xs), rtol=1e-10,
                       what="bernoulli_score of a scalar observation",
                       hint="A scalar x gives a scalar score.")
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "bernoulli_fisher", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bernoulli_fisher(theta):
    """Fisher information 1 / (theta (1 - theta)) of one Bernoulli observation."""
    ### BEGIN SOLUTION
    theta = np.asarray(theta, dtype=float)
    out = 1.0 / (theta * (1.0 - theta))
    return out[()] if out.ndim == 0 else out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_bernoulli_fisher", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does bernoulli_fisher give the known information, elementwise?"""
with checks.public("bernoulli_fisher"):
    checks.check_close(checks.call(bernoulli_fisher, 0.5), 4.0, rtol=1e-12,
                       what="bernoulli_fisher(0.5)",
                       hint="The information is the inverse of the variance theta (1 - "
                            "theta) of one observation: 4 at theta = 0.5, not 1/4.")
    checks.check_close(checks.call(bernoulli_fisher, np.array([0.2, 0.9])),
                       [6.25, 1.0 / 0.09], rtol=1e-12,
                       what="bernoulli_fisher([0.2, 0.9])",
                       hint="Compute 1 / (theta (1 - theta)) elementwise.")

# %% nbgrader={"grade": true, "grade_id": "test_bernoulli_fisher", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of bernoulli_fisher (1 point): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# rtol 1e-10: 1/theta + 1/(1 - theta) and other equivalent forms differ by rounding.
from lib import fisher as _ref

for _theta in (0.013, 0.31, 0.77, np.float64(0.998)):
    _out = checks.call(bernoulli_fisher, _theta)
    checks.check_scalar(_out, what="bernoulli_fisher of a scalar theta")
    checks.check_close(_out, _ref.bernoulli_fisher(_theta), rtol=1e-10,
                       what="bernoulli_fisher of a scalar theta",
                       hint="The information of one observation is the expected "
                            "squared score, 1 / (theta (1 - theta)).")
_theta = np.random.default_rng(502).uniform(0.02, 0.98, size=(3, 5))
checks.check_close(checks.call(bernoulli_fisher, _theta),
                   _ref.bernoulli_fisher(_theta), rtol=1e-10,
                   what="bernoulli_fisher of an array of thetas",
                   hint="Work elementwise and keep the shape of theta.")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The empirical Fisher matrix (2 points)
#
# For a parameter $\theta \in \mathbb{R}^p$ and samples $x_1, \dots, x_n$, the
# empirical Fisher matrix is the mean outer product of the scores,
#
# $$\hat I(\theta) = \frac{1}{n}\sum_{i=1}^n s(\theta; x_i)\, s(\theta; x_i)^\top,
# \qquad s(\theta; x) = \nabla_\theta\, \ell(\theta; x).$$
#
# Write `empirical_fisher(score, samples, theta)`. `score(theta, x)` returns the
# score of **one** sample: a float for a scalar parameter, an array of shape `(p,)`
# for a vector one; call it once per sample. `samples` is an array whose axis 0 runs
# over the samples (`samples[i]` is one sample: a number, or a row). Return a
# `(p, p)` array: `(1, 1)` for a scalar parameter. Do not subtract the mean score:
# at the true parameter it is zero in expectation, but not at other values of
# `theta`, where the empirical Fisher matrix is still defined as above.

# %% nbgrader={"grade": false, "grade_id": "empirical_fisher", "locked": false, "schema_version": 3, "solution": true, "task": false}
def empirical_fisher(score, samples, theta):
    """Mean over samples of outer(score(theta, x), score(theta, x)), shape (p, p)."""
    ### BEGIN SOLUTION
    S = np.array([np.atleast_1d(score(theta, x)) for x in samples], dtype=float)
    return S.T @ S / len(S)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_empirical_fisher", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Is empirical_fisher the mean outer product of the scores, with shape (p, p)?"""
with checks.public("empirical_fisher"):
    # Scores of a Gaussian mean with unit variance: s(mu; x) = x - mu.
    _F = checks.call(empirical_fisher, lambda mu, x: x - mu, np.array([1.0, 3.0]), 0.0)
    checks.check_close(_F, [[5.0]], rtol=1e-12,
                       what="the empirical Fisher matrix of the scores 1 and 3",
                       hint="For a scalar parameter return a (1, 1) array holding the "
                            "mean of the squared scores, not their variance (np.outer of "
                            "a 1-element array with itself has that shape).")
    _F = checks.call(empirical_fisher, lambda mu, x: x - mu,
                     np.array([[1.0, 2.0], [3.0, 0.0]]), np.zeros(2))
    checks.check_close(_F, [[5.0, 1.0], [1.0, 2.0]], rtol=1e-12,
                       what="the empirical Fisher matrix of the scores (1, 2) and (3, 0)",
                       hint="Average the outer products s s^T over the samples; do not "
                            "subtract the mean score.")

# %% nbgrader={"grade": true, "grade_id": "test_empirical_fisher", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of empirical_fisher (2 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# rtol 1e-10, atol 1e-12 of the largest entry: sums in another order differ by
# rounding only.
from lib import fisher as _ref


def _logistic_row_score(theta, row):
    return (row[-1] - expit(row[:-1] @ theta)) * row[:-1]


_rng = np.random.default_rng(503)
_x = (_rng.random(60) < 0.7).astype(float)  # theta = 0.35 below: mean score far from 0
_want = _ref.empirical_fisher(_ref.bernoulli_score, _x, 0.35)
checks.check_close(checks.call(empirical_fisher, _ref.bernoulli_score, _x, 0.35),
                   _want, rtol=1e-10, what="the empirical Fisher matrix of Bernoulli "
                   "samples away from the true theta",
                   hint="For a scalar parameter return the (1, 1) array of the mean "
                        "squared score; do not subtract the mean score.")
for _n, _d in ((40, 3), (1, 4), (25, 5)):
    _X = add_intercept(_rng.normal(size=(_n, _d - 1)))
    _rows = np.column_stack([_X, _rng.integers(0, 2, size=_n)])
    _theta = _rng.normal(size=_d)
    _want = _ref.empirical_fisher(_logistic_row_score, _rows, _theta)
    checks.check_close(checks.call(empirical_fisher, _logistic_row_score, _rows,
                                   _theta),
                       _want, rtol=1e-10, atol=1e-12 * np.max(np.abs(_want)),
                       what=f"the empirical Fisher matrix of a {_d}-parameter model",
                       hint="Return the (p, p) mean over the samples of the outer "
                            "product of each sample's score with itself.")
_F = checks.call(empirical_fisher, lambda lam, k: k / lam - 1.0,  # Poisson scores
                 np.array([0.0, 2.0, 5.0, 1.0]), 1.5)
checks.check_close(_F, _ref.empirical_fisher(lambda lam, k: k / lam - 1.0,
                                             np.array([0.0, 2.0, 5.0, 1.0]), 1.5),
                   rtol=1e-10, what="the empirical Fisher matrix of scalar scores",
                   hint="A scalar parameter gives a (1, 1) array.")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. A Monte Carlo check: the Bernoulli model
#
# The identity of question 1 says that, at the true $\theta$, the mean squared score
# and minus the mean second derivative of $\ell$ estimate the same number,
# $I(\theta)$. We draw $N$ observations at $\theta_0 = 0.3$, compute the first
# average with your `empirical_fisher` and the second with second derivatives from
# autograd (an independent oracle), and compare both with `bernoulli_fisher`.
#
# **Monte Carlo standard errors.** An average of $N$ random terms is itself random.
# We split the $N$ draws into $K = 20$ batches, estimate on each batch, and take the
# mean of the $K$ batch estimates; its standard error is the standard deviation of
# the batch estimates divided by $\sqrt{K}$ (the *batch-means* method, which works
# for any estimate that is an average, matrices included). A difference larger than
# three standard errors would be a surprise (probability 0.3% for one normal
# quantity).

# %% nbgrader={"grade": false, "grade_id": "mc_bernoulli", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    K = 20  # batches


    def batch_mean_se(batch_estimates):
        """Mean of K batch estimates (arrays of any shape) and its standard error."""
        v = np.asarray(batch_estimates, dtype=float)
        return v.mean(axis=0), v.std(axis=0, ddof=1) / np.sqrt(len(v))


    def bernoulli_loglik(theta, x):
        """log p(x | theta) of each observation, written with autograd.numpy."""
        return x * anp.log(theta) + (1 - x) * anp.log(1 - theta)


    # With theta an array like x, the second derivative of each term, one per observation.
    second_derivative = elementwise_grad(elementwise_grad(bernoulli_loglik))

    theta0 = 0.3
    N_BERNOULLI = 20_000 if grading_run() else 200_000
    x = (np.random.default_rng(1).random(N_BERNOULLI) < theta0).astype(float)
    batches = x.reshape(K, -1)
    sq_score_batches = [empirical_fisher(bernoulli_score, b, theta0)[0, 0]
                        for b in batches]
    minus_second_batches = [-np.mean(second_derivative(np.full(b.shape, theta0), b))
                            for b in batches]
    mean_sq_score = batch_mean_se(sq_score_batches)
    minus_second = batch_mean_se(minus_second_batches)
    exact = bernoulli_fisher(theta0)
    bernoulli_table = pd.DataFrame(
        [mean_sq_score, minus_second], columns=["estimate", "MC standard error"],
        index=["mean squared score", "minus mean second derivative"])
    bernoulli_table["1 / (theta (1 - theta))"] = exact
    bernoulli_table["z = (estimate - exact) / SE"] = (
        (bernoulli_table["estimate"] - exact) / bernoulli_table["MC standard error"])
    print(f"N = {N_BERNOULLI:,} draws at theta0 = {theta0}, K = {K} batches")
    print(bernoulli_table.round(4).to_string())
    batch_gap = np.max(np.abs(np.subtract(sq_score_batches, minus_second_batches)))
    print(f"largest difference between the two sides, batch by batch: {batch_gap:.1e}")

# %% [markdown]
# The same comparison over a range of $\theta$ (each point from a fresh, smaller
# sample, with a bar of $\pm 3$ standard errors), against the exact curve:

# %% nbgrader={"grade": false, "grade_id": "mc_bernoulli_curve", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    grid = np.linspace(0.05, 0.95, 19)
    n_per_theta = 2_000 if grading_run() else 20_000
    rng = np.random.default_rng(2)
    rows = []
    for th in grid:
        b = (rng.random(n_per_theta) < th).astype(float).reshape(K, -1)
        est, se = batch_mean_se([empirical_fisher(bernoulli_score, bk, th)[0, 0]
                                 for bk in b])
        rows.append({"theta": th, "estimate": est, "low": est - 3 * se,
                     "high": est + 3 * se})
    mc_curve = pd.DataFrame(rows)
    fine = np.linspace(0.03, 0.97, 200)
    display(ggplot()
             + geom_line(aes("theta", "information"), size=1, color="#1f77b4",
                         data={"theta": fine, "information": bernoulli_fisher(fine)})
             + geom_pointrange(aes("theta", "estimate", ymin="low", ymax="high"),
                               data=mc_curve, color="#d62728", size=0.6)
             + scale_y_log10()
             + labs(title=f"Bernoulli Fisher information: exact (line) and Monte Carlo "
                          f"(points, ±3 SE, n = {n_per_theta:,})",
                    x="θ (success probability)",
                    y="information per observation (log scale)")
             + ggsize(720, 400))

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_pointwise", "locked": false, "points": 1, "schema_version": 3, "solution": true, "task": false}
# **Question (1 point).** In the table above, the two Monte Carlo averages agree to
# the last digit, although each has a standard error of its own. Why? Would you expect
# the same for logistic regression (section 6)?
#
# ### BEGIN SOLUTION
# For $x \in \{0, 1\}$ we have $x^2 = x$ and $x(1-x) = 0$, so the squared score
# $s^2 = x/\theta^2 + (1-x)/(1-\theta)^2$ equals, observation by observation, minus
# the second derivative $-\ell'' = x/\theta^2 + (1-x)/(1-\theta)^2$. The two averages
# are the same numbers summed (up to rounding), so they share their Monte Carlo error
# and their difference has none; the check that means something is against the exact
# $1/(\theta(1-\theta))$.
#
# In logistic regression the squared-score matrix of one example is
# $(y - p)^2 x x^\top$ and minus its Hessian is $p(1-p)\, x x^\top$: they differ for
# each example and agree only in expectation over $y$ given $x$
# ($\mathbb{E}[(y-p)^2 \mid x] = p(1-p)$). Their averages therefore differ by a Monte
# Carlo error, which is why section 6 compares them with the standard error of the
# difference.
# ### END SOLUTION

# %% [markdown]
# ## 5. The Fisher matrix of logistic regression (2 points)
#
# With $p_i = \sigma(x_i^\top\theta)$ the log-likelihood of $n$ examples is
# $\sum_i y_i \log p_i + (1 - y_i)\log(1 - p_i)$; its Hessian is
# $-\sum_i p_i(1 - p_i)\, x_i x_i^\top$, which does not depend on the labels. The
# Fisher information of the whole sample is therefore
#
# $$F(\theta) = X^\top \operatorname{diag}\big(p_i (1 - p_i)\big)\, X
# = \sum_{i=1}^n p_i (1 - p_i)\, x_i x_i^\top .$$
#
# Write `logistic_fisher(X, theta)`, **summed** over the rows of `X` (not averaged),
# shape `(d, d)`. You do not need to build the $n \times n$ diagonal matrix.

# %% nbgrader={"grade": false, "grade_id": "logistic_fisher", "locked": false, "schema_version": 3, "solution": true, "task": false}
def logistic_fisher(X, theta):
    """X.T @ diag(p (1 - p)) @ X with p = sigmoid(X @ theta), shape (d, d)."""
    ### BEGIN SOLUTION
    p = expit(X @ theta)
    return X.T @ ((p * (1.0 - p))[:, None] * X)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_logistic_fisher", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does logistic_fisher give known matrices, summed over the examples?"""
with checks.public("logistic_fisher"):
    _X = np.array([[1.0, 0.0], [1.0, 1.0]])
    checks.check_close(checks.call(logistic_fisher, _X, np.zeros(2)),
                       [[0.5, 0.25], [0.25, 0.25]], rtol=1e-12,
                       what="logistic_fisher at theta = 0",
                       hint="At theta = 0 every p is 1/2 and every weight p (1 - p) is "
                            "1/4; sum the weighted outer products x x^T over the rows.")
    checks.check_close(checks.call(logistic_fisher, np.array([[1.0, 2.0]]),
                                   np.array([0.0, np.log(3.0) / 2])),
                       [[0.1875, 0.375], [0.375, 0.75]], rtol=1e-12,
                       what="logistic_fisher of one example with p = 3/4",
                       hint="The weight of an example is p (1 - p), here 3/16.")
    checks.check_close(checks.call(logistic_fisher, np.vstack([_X, _X]), np.zeros(2)),
                       [[1.0, 0.5], [0.5, 0.5]], rtol=1e-12,
                       what="logistic_fisher of the same rows twice",
                       hint="The information of a sample is summed over its examples, "
                            "not averaged: twice the data, twice the information.")

# %% nbgrader={"grade": true, "grade_id": "test_logistic_fisher", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of logistic_fisher (2 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# rtol 1e-9, atol 1e-12 of the largest entry (off-diagonal entries may nearly
# cancel): the logits stay within +-3, where p (1 - p) computed from any sigmoid is
# accurate to ~1e-15.
from lib import fisher as _ref

_rng = np.random.default_rng(505)
for _n, _d in ((60, 3), (1, 4), (250, 6)):
    _X = add_intercept(_rng.normal(size=(_n, _d - 1)) @ _rng.normal(size=(_d - 1,
                                                                         _d - 1)))
    _theta = _rng.normal(size=_d) / _d
    _want = _ref.logistic_fisher(_X, _theta)
    checks.check_close(checks.call(logistic_fisher, _X, _theta), _want, rtol=1e-9,
                       atol=1e-12 * np.max(np.abs(_want)),
                       what=f"logistic_fisher of {_n} examples with {_d} parameters",
                       hint="Sum p_i (1 - p_i) x_i x_i^T over all rows of X (not the "
                            "mean), with p_i = sigmoid(x_i @ theta).")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. A Monte Carlo check: logistic regression
#
# Now the identity as matrices. We draw examples from a logistic model with two
# correlated Gaussian features and true parameter `theta_true`. One example is stored
# as a row `(x, y)`, with `x` including the intercept. Its score, the gradient of
# $y \log p + (1 - y) \log(1 - p)$, is $(y - p)\,x$: the next cell writes it and
# checks it against autograd. On each batch we compare your `empirical_fisher` of
# these scores with minus the Hessian of the batch's mean log-likelihood, from
# autograd, and with `logistic_fisher(X, theta) / n` (observed and expected
# information coincide for logistic regression).

# %% nbgrader={"grade": false, "grade_id": "mc_logistic_setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
theta_true = np.array([-0.5, 1.0, -0.75])
names = ["intercept", "x1", "x2"]


def simulate(n, rng):
    """n examples of the logistic model: features (n, 2) with correlation 0.8, labels."""
    z = rng.standard_normal((n, 2))
    features = np.column_stack([z[:, 0], 0.8 * z[:, 0] + 0.6 * z[:, 1]])
    p = expit(add_intercept(features) @ theta_true)
    return features, (rng.random(n) < p).astype(int)


def loglik(theta, X, y):
    """Log-likelihood of logistic regression, summed over rows, for autograd."""
    t = anp.dot(X, theta)
    return anp.sum(y * t - anp.logaddexp(0.0, t))


def logistic_score(theta, row):
    """Score (y - sigmoid(x @ theta)) x of one example stored as the row (x, y)."""
    x, label = row[:-1], row[-1]
    return (label - expit(x @ theta)) * x


_features, _y = simulate(5, np.random.default_rng(0))
_X = add_intercept(_features)
for _i in range(5):
    _auto = grad(loglik)(theta_true, _X[_i : _i + 1], _y[_i : _i + 1])
    assert np.allclose(logistic_score(theta_true, np.append(_X[_i], _y[_i])), _auto,
                       rtol=1e-12, atol=1e-15)
print("logistic_score agrees with autograd's gradient of the log-likelihood.")

# %% nbgrader={"grade": false, "grade_id": "mc_logistic", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    N_LOGISTIC = 20_000 if grading_run() else 100_000
    features, y = simulate(N_LOGISTIC, np.random.default_rng(3))
    X = add_intercept(features)
    examples = np.column_stack([X, y])  # one row (x, y) per example
    lhs, rhs, diff, closed_form = [], [], [], []
    for X_b, y_b, examples_b in zip(np.split(X, K), np.split(y, K),
                                    np.split(examples, K), strict=True):
        left = empirical_fisher(logistic_score, examples_b, theta_true)
        right = -hessian(loglik)(theta_true, X_b, y_b) / len(y_b)
        lhs.append(left)
        rhs.append(right)
        diff.append(left - right)
        closed_form.append(logistic_fisher(X_b, theta_true) / len(y_b))
    (lhs, lhs_se), (rhs, rhs_se), (diff, diff_se) = (
        batch_mean_se(lhs), batch_mean_se(rhs), batch_mean_se(diff))
    logistic_table = pd.DataFrame([
        {"entry": f"({names[i]}, {names[j]})", "mean outer score": lhs[i, j],
         "SE(score)": lhs_se[i, j], "minus mean Hessian": rhs[i, j],
         "SE(Hessian)": rhs_se[i, j], "difference": diff[i, j],
         "SE(difference)": diff_se[i, j], "z": diff[i, j] / diff_se[i, j]}
        for i in range(3) for j in range(i, 3)]).set_index("entry")
    print(f"N = {N_LOGISTIC:,} examples, K = {K} batches, theta_true = {theta_true}")
    print(logistic_table.round(4).to_string())
    gap = np.max(np.abs(np.mean(closed_form, axis=0) - rhs))
    print(f"logistic_fisher(X, theta) / n against autograd's Hessian: largest difference "
          f"{gap:.1e}")

# %% [markdown]
# All the checks of this notebook, as differences measured in Monte Carlo standard
# errors (for the Bernoulli model, each side against the exact information):

# %% nbgrader={"grade": false, "grade_id": "mc_summary", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    z_scores = pd.DataFrame({
        "check": ["Bernoulli: mean squared score vs exact",
                  "Bernoulli: minus mean 2nd derivative vs exact"]
        + [f"logistic {e}: outer score vs Hessian" for e in logistic_table.index],
        "z": list(bernoulli_table["z = (estimate - exact) / SE"])
        + list(logistic_table["z"]),
    })
    print(f"largest |z|: {np.max(np.abs(z_scores.z)):.2f}; all within 3 standard errors: "
          f"{bool(np.all(np.abs(z_scores.z) < 3))}")
    display(ggplot(z_scores, aes("z", "check"))
             + geom_vline(xintercept=-3, linetype="dashed", color="grey")
             + geom_vline(xintercept=3, linetype="dashed", color="grey")
             + geom_vline(xintercept=0, color="grey")
             + geom_point(size=4, color="#1f77b4")
             + labs(title="Monte Carlo checks of the information identity",
                    x="difference / Monte Carlo standard error (dashed: ±3)", y="")
             + ggsize(760, 360))

# %% [markdown]
# ## 7. Standard errors (2 points)
#
# When $\hat\theta$ is the maximum-likelihood estimate from $n$ examples, its
# covariance is approximately $F(\hat\theta)^{-1}$, so the standard error of
# coefficient $j$ is $\sqrt{[F(\hat\theta)^{-1}]_{jj}}$. Write
# `standard_errors(X, theta)`: the square roots of the diagonal of the **inverse** of
# `logistic_fisher(X, theta)`, shape `(d,)`. (Use `logistic_fisher`; `np.linalg.inv`
# or `np.linalg.solve` both do.)

# %% nbgrader={"grade": false, "grade_id": "standard_errors", "locked": false, "schema_version": 3, "solution": true, "task": false}
def standard_errors(X, theta):
    """sqrt(diag(inverse of logistic_fisher(X, theta))), shape (d,)."""
    ### BEGIN SOLUTION
    return np.sqrt(np.diag(np.linalg.inv(logistic_fisher(X, theta))))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_standard_errors", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Are standard_errors the square roots of the diagonal of the inverse Fisher matrix?"""
with checks.public("standard_errors"):
    _se = checks.call(standard_errors, np.array([[1.0, 0.0], [1.0, 1.0]]), np.zeros(2))
    checks.check_close(_se, [2.0, np.sqrt(8.0)], rtol=1e-10,
                       what="standard_errors of two examples at theta = 0",
                       hint="Here F = [[0.5, 0.25], [0.25, 0.25]]: invert the whole "
                            "matrix first, then take the square roots of its diagonal "
                            "(1 / sqrt(diag(F)) ignores the correlation between "
                            "coefficients).")

# %% nbgrader={"grade": true, "grade_id": "test_standard_errors", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of standard_errors (2 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# rtol 1e-8: the Fisher matrices here have condition numbers below 1e3, so any
# inversion (inv, solve, Cholesky) is accurate to ~1e-13.
from lib import fisher as _ref

_rng = np.random.default_rng(507)
with checks.substituted(globals(), logistic_fisher=_ref.logistic_fisher):
    for _n, _d in ((300, 3), (80, 4), (40, 2)):
        _z = _rng.normal(size=(_n, _d - 1))
        _z[:, 1:] = 0.9 * _z[:, :1] + 0.45 * _z[:, 1:]  # correlated features
        _X = add_intercept(_z + 0.8)  # a mean away from 0: intercept correlates too
        _theta = 0.5 * _rng.normal(size=_d)
        checks.check_close(checks.call(standard_errors, _X, _theta),
                           _ref.standard_errors(_X, _theta), rtol=1e-8,
                           what=f"standard_errors with {_d} correlated coefficients",
                           hint="Invert the whole Fisher matrix, then take the square "
                                "roots of the diagonal of the inverse.")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_inverse_diagonal", "locked": false, "points": 1, "schema_version": 3, "solution": true, "task": false}
# **Question (1 point).** Why does `standard_errors` take the diagonal of the inverse
# of $F$ and not invert its diagonal, $1/\sqrt{F_{jj}}$? Which of the two is larger,
# and when are they equal? (The table of section 8 shows both.)
#
# ### BEGIN SOLUTION
# $1/F_{jj}$ is the asymptotic variance of $\hat\theta_j$ when every other
# coefficient is *known*; when the others are estimated too, information about
# $\theta_j$ is shared with correlated coefficients. Writing $F$ in blocks for $j$ and
# the rest $r$, $[F^{-1}]_{jj} = 1/(F_{jj} - F_{jr} F_{rr}^{-1} F_{rj})$, and the
# subtracted term is $\ge 0$ because $F_{rr}$ is positive definite. So
# $[F^{-1}]_{jj} \ge 1/F_{jj}$: the naive standard errors are too small. They are equal
# exactly when $F_{jr} = 0$, that is when the weighted column $j$ is orthogonal to the
# others ($\sum_i p_i(1-p_i) x_{ij} x_{ik} = 0$ for $k \ne j$). With our correlated
# features (correlation 0.8) the difference is large.
# ### END SOLUTION

# %% [markdown]
# ## 8. Standard errors against the bootstrap
#
# The bootstrap estimates the same standard deviations without any formula: draw $n$
# rows with replacement, refit, repeat $B$ times, and take the standard deviation of
# the fitted coefficients. We fit an unpenalized logistic regression with
# scikit-learn (in this version `C=np.inf` means no penalty; `penalty=None` is
# deprecated), starting every bootstrap fit from $\hat\theta$ (a warm start) to make
# it fast. At $n = 2000$ the two should agree within about 10%.

# %% nbgrader={"grade": false, "grade_id": "bootstrap", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    n = 2000
    B = 1000 if grading_run() else 2000  # bootstrap fits
    features, y = simulate(n, np.random.default_rng(4))
    X = add_intercept(features)
    model = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-10).fit(features, y)
    theta_hat = np.concatenate([model.intercept_, model.coef_[0]])
    print("gradient of the log-likelihood at theta_hat (should be ~0): "
          f"{np.max(np.abs(grad(loglik)(theta_hat, X, y))):.1e}")
    se_fisher = standard_errors(X, theta_hat)

    boot_model = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-8,
                                    warm_start=True)
    rng = np.random.default_rng(5)
    boot = np.empty((B, 3))
    for b in range(B):
        idx = rng.integers(0, n, size=n)
        # Warm start: scikit-learn begins the fit at the coefficients already set.
        boot_model.coef_ = model.coef_.copy()
        boot_model.intercept_ = model.intercept_.copy()
        boot_model.fit(features[idx], y[idx])
        boot[b] = np.concatenate([boot_model.intercept_, boot_model.coef_[0]])

    se_boot = boot.std(axis=0, ddof=1)
    se_table = pd.DataFrame({
        "true": theta_true, "estimate": theta_hat, "Fisher SE": se_fisher,
        "bootstrap SE": se_boot, "relative difference": se_boot / se_fisher - 1,
        "1/sqrt(F_jj)": 1 / np.sqrt(np.diag(logistic_fisher(X, theta_hat))),
    }, index=names)
    print(f"n = {n}, B = {B} bootstrap fits")
    print(se_table.round(4).to_string())
    print(f"largest relative difference: {np.max(np.abs(se_table['relative difference'])):.1%}"
          f" (the bootstrap SE itself has a relative error of about "
          f"{1 / np.sqrt(2 * (B - 1)):.1%})")

# %% nbgrader={"grade": false, "grade_id": "bootstrap_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    bars = pd.DataFrame({
        "coefficient": names * 3,
        "method": ["Fisher: sqrt(diag(F⁻¹))"] * 3 + ["bootstrap"] * 3
        + ["1/sqrt(F_jj)"] * 3,
        "standard error": np.concatenate([se_fisher, se_boot, se_table["1/sqrt(F_jj)"]]),
    })
    se_plot = (ggplot(bars, aes("coefficient", "standard error", fill="method"))
               + geom_bar(stat="identity", position=position_dodge(width=0.8), width=0.75)
               + labs(title=f"Standard errors (n = {n}, B = {B})", x="coefficient",
                      y="standard error (coefficient units)", fill=""))


    def bootstrap_histogram(j):
        """Bootstrap draws of coefficient j, with the normal density from the Fisher SE."""
        t = np.linspace(boot[:, j].min(), boot[:, j].max(), 200)
        density = np.exp(-0.5 * ((t - theta_hat[j]) / se_fisher[j]) ** 2) / (
            se_fisher[j] * np.sqrt(2 * np.pi))
        return (ggplot()
                + geom_histogram(aes(x="value", y="..density.."), bins=30,
                                 data={"value": boot[:, j]}, fill="#aec7e8",
                                 color="white")
                + geom_line(aes("t", "density"), data={"t": t, "density": density},
                            color="#d62728", size=1)
                + labs(title=f"{names[j]}: bootstrap (bars), N(θ̂, Fisher SE²) (line)",
                       x=f"fitted {names[j]} coefficient",
                       y="density (1 / coefficient unit)"))


    display(gggrid([se_plot] + [bootstrap_histogram(j) for j in range(3)], ncol=2) + ggsize(
        1000, 720))

# %% [markdown]
# ## Public checks
#
# This cell lists the functions whose public checks pass in this kernel. Run it after
# *Kernel → Restart and Run All*, before you submit. Passing is a good sign,
# not a grade: hidden tests with other inputs decide the points.

# %% nbgrader={"grade": false, "grade_id": "public_summary", "locked": true, "schema_version": 3, "solution": false, "task": false}
checks.summary(["bernoulli_score", "bernoulli_fisher", "empirical_fisher",
                "logistic_fisher", "standard_errors"])
