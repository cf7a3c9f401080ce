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
# # Assignment 4: adversarial examples against softmax regression
#
# A classifier that is right on almost nine test digits out of ten can be made wrong
# on nearly all of them by changing every pixel by a quarter of its range, in a
# direction computed from the model's own gradient. You will compute that gradient,
# write the *fast gradient sign method* (FGSM) of Goodfellow, Shlens and Szegedy,
# [*Explaining and harnessing adversarial examples*](https://arxiv.org/abs/1412.6572)
# (ICLR 2015), attack a softmax regression model of MNIST with it, and then go the
# other way: build, from noise, an image the model takes for any digit you choose.
# Last, you will spoil the test set by blending one image into every test image, a
# corruption that needs no access to the model, and see where its errors go.
#
# **How this notebook is graded.** Write your code between the `def` line and the end
# of each answer cell, replacing `raise NotImplementedError()`. The cell after each
# answer runs *public checks* and prints one line: that they passed, or a hint saying
# what was expected. The last cell lists which functions pass. Passing is a good sign
# but not a grade: hidden tests with other inputs decide the points. Written answers
# are graded by hand. Do not add, delete or reorder cells; run *Kernel → Restart and
# Run All* before you submit.
#
# **Conventions.** `X` has one image per row, with pixels in $[0, 1]$; `y` holds
# integer labels $0, \dots, k-1$. The model is softmax regression: the logits of the
# rows of `X` are `X @ W + b`, with weights `W` of shape `(n_features, k)` and biases
# `b` of shape `(k,)`. The loss of an example $(x, y)$ is its cross-entropy
# $L(x, y) = -\log \mathrm{softmax}(x W + b)_y$. You may use
# `scipy.special.softmax` (imported below): `softmax(Z, axis=1)` normalizes each
# row.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import pandas as pd
from IPython.display import display
from lets_plot import (
    aes,
    facet_wrap,
    geom_bar,
    geom_line,
    geom_point,
    ggplot,
    ggsize,
    labs,
    scale_x_discrete,
    scale_y_continuous,
)
from scipy.special import log_softmax, softmax
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from lib import checks, plots
from lib.data import grading_run, load_mnist

plots.setup()

# %% [markdown]
# ## The model
#
# The cell below trains softmax regression on MNIST with scikit-learn: multinomial
# logistic regression fitted by L-BFGS, minimizing the summed cross-entropy plus
# scikit-learn's default penalty $\frac{1}{2C}\|W\|^2$ with $C = 1$. We only need
# its parameters: `W = clf.coef_.T` and `b = clf.intercept_`. The pixels stay in
# $[0, 1]$, as they are stored; the attacks below change each pixel by at most `eps`
# on that scale.

# %% nbgrader={"grade": false, "grade_id": "data", "locked": true, "schema_version": 3, "solution": false, "task": false}
if grading_run():  # a small seeded subset: 2,000 training and 1,000 test images
    X_train, y_train, X_test, y_test = load_mnist(n_train=2000, n_test=1000)
else:  # the 5,000-image sample (4,000 / 1,000), or the MNIST files in $MNIST_DIR
    X_train, y_train, X_test, y_test = load_mnist()
X_test = X_test.astype(np.float64)  # the images to attack
# One BLAS thread: for a problem this small it is faster than several competing ones.
with threadpool_limits(1):
    clf = LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000)
    clf.fit(X_train, y_train)  # float32 images give float32 coefficients
W = clf.coef_.T.astype(np.float64)  # (784, 10)
b = clf.intercept_.astype(np.float64)  # (10,)
print(f"training {X_train.shape}, test {X_test.shape}; W {W.shape}, b {b.shape}")
print(f"clean test accuracy: {clf.score(X_test, y_test):.1%}")

# %% [markdown]
# ## 1. The gradient with respect to the input (3 points)
#
# Training differentiates the loss with respect to the weights. An attacker holds
# the weights fixed and differentiates with respect to the *input*. With
# $z = x W + b$ and $p = \mathrm{softmax}(z)$, the derivative of the cross-entropy
# with respect to the logits is $p - e_y$ (where $e_y$ is the one-hot vector of the
# label), and by the chain rule
#
# $$\nabla_x L(x, y) = (p - e_y)\, W^\top,$$
#
# a vector of the length of $x$. Write `input_gradient(X, y, W, b)`: row `i` of the
# result is the gradient of example `i`'s own loss with respect to `X[i]` (not a mean
# over the examples), so the result has the shape of `X`. Try to vectorize it: a loop
# over the examples is correct too, only slower.

# %% nbgrader={"grade": false, "grade_id": "input_gradient", "locked": false, "schema_version": 3, "solution": true, "task": false}
def input_gradient(X, y, W, b):
    """Row i: gradient of the cross-entropy of (X[i], y[i]) w.r.t. X[i]; shape of X."""
    ### BEGIN SOLUTION
    residual = softmax(X @ W + b, axis=1)  # (n, k)
    residual[np.arange(len(y)), y] -= 1.0
    return residual @ W.T
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_input_gradient", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does input_gradient give known values, one row per example, and the slope of the loss?"""
with checks.public("input_gradient"):
    _g = checks.call(input_gradient, np.zeros((1, 2)), np.array([0]), np.eye(2),
                     np.zeros(2))
    checks.check_close(_g, [[-0.5, 0.5]], rtol=1e-9,
                       what="input_gradient with W = I, b = 0 at x = (0, 0), label 0",
                       hint="Both probabilities are 0.5: subtract 1 from the probability "
                            "of the label, then multiply by W transposed.")
    _g = checks.call(input_gradient, np.zeros((1, 2)), np.array([1]),
                     np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
                     np.array([0.0, 0.0, np.log(2.0)]))
    checks.check_close(_g, [[0.25, -0.75]], rtol=1e-9,
                       what="input_gradient with three classes and a bias",
                       hint="The probabilities are (1/4, 1/4, 1/2): use the bias in the "
                            "logits.")
    _X5, _y5 = X_test[:5], y_test[:5]
    _g = checks.call(input_gradient, _X5, _y5, W, b)
    checks.check(np.shape(_g) == _X5.shape,
                 f"input_gradient of 5 images should have shape {_X5.shape} (one row per "
                 f"image), got {np.shape(_g)}.")
    checks.check_close(_g[1:2], checks.call(input_gradient, _X5[1:2], _y5[1:2], W, b),
                       rtol=1e-9, atol=1e-12,
                       what="row 1 of input_gradient compared with image 1 alone",
                       hint="Each row is the gradient of that example's own loss: do not "
                            "average over the examples.")
    # The slope of the loss along a random direction d is the dot product with d.
    _d, _h = np.random.default_rng(0).normal(size=784), 1e-4
    _slope = (-log_softmax((_X5[1] + _h * _d) @ W + b)[_y5[1]]
              + log_softmax((_X5[1] - _h * _d) @ W + b)[_y5[1]]) / (2 * _h)
    checks.check_close(_g[1] @ _d, _slope, rtol=1e-5,
                       what="the slope of the loss of a test image along a direction",
                       hint="Check the sign: the gradient points to where the loss grows.")

# %% nbgrader={"grade": true, "grade_id": "test_input_gradient", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of input_gradient (3 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# rtol 1e-7; atol 1e-12 * max|W| for entries in which p - onehot nearly cancels (the
# last case has saturated probabilities, close to 0 and 1).
from lib import fgsm as _ref
from lib.data import load_mnist_sample as _load_sample

_rng = np.random.default_rng(401)
_images = _load_sample()[0][_rng.choice(5000, size=50, replace=False)]
_cases = [  # (what, X, y, W, b)
    ("random inputs, 4 classes", _rng.uniform(size=(30, 8)), _rng.integers(0, 4, 30),
     _rng.normal(size=(8, 4)), _rng.normal(size=4)),
    ("a single example, 2 classes", _rng.uniform(size=(1, 5)), np.array([1]),
     _rng.normal(size=(5, 2)), _rng.normal(size=2)),
    ("float32 MNIST images, uint8 labels", _images,
     _rng.integers(0, 10, 50).astype(np.uint8), _rng.normal(scale=0.1, size=(784, 10)),
     _rng.normal(size=10)),
    ("confident predictions", _rng.uniform(size=(20, 6)), _rng.integers(0, 3, 20),
     _rng.normal(scale=20.0, size=(6, 3)), _rng.normal(size=3)),
]
for _what, _X, _y, _W, _b in _cases:
    checks.check_close(checks.call(input_gradient, _X, _y, _W, _b),
                       _ref.input_gradient(_X, _y, _W, _b), rtol=1e-7,
                       atol=1e-12 * np.abs(_W).max(),
                       what=f"input_gradient for {_what}",
                       hint="Row i is (softmax(X[i] @ W + b) - onehot(y[i])) @ W.T: the "
                            "gradient with respect to the input X[i], of the shape of "
                            "X, with the bias in the logits.")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The fast gradient sign method (2 points)
#
# To first order, changing $x$ by $\delta$ changes the loss by
# $\nabla_x L \cdot \delta$. Among all changes with $|\delta_j| \le \varepsilon$ for
# every pixel $j$, the one that raises this the most is
# $\delta = \varepsilon\,\mathrm{sign}(\nabla_x L)$. FGSM takes that single step and
# clips the result back to valid pixel values:
#
# $$x_{\mathrm{adv}} = \mathrm{clip}\big(x + \varepsilon\,
# \mathrm{sign}(\nabla_x L(x, y)),\ 0,\ 1\big).$$
#
# Write `fgsm(X, y, W, b, eps)` for all the rows of `X` at once, with your
# `input_gradient`. Use `np.sign`: a pixel whose gradient is exactly 0 (the model
# ignores it) does not move. Do not change `X` itself.

# %% nbgrader={"grade": false, "grade_id": "fgsm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fgsm(X, y, W, b, eps):
    """clip(X + eps * sign(input_gradient(X, y, W, b)), 0, 1); shape of X."""
    ### BEGIN SOLUTION
    return np.clip(X + eps * np.sign(input_gradient(X, y, W, b)), 0.0, 1.0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_fgsm", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does fgsm step by eps along the sign of the gradient, and clip to [0, 1]?"""
with checks.public("fgsm"):
    _X = np.array([[0.5, 0.5], [0.05, 0.98]])
    _adv = checks.call(fgsm, _X, np.array([0, 0]), np.eye(2), np.zeros(2), 0.1)
    checks.check_close(_adv, [[0.4, 0.6], [0.0, 1.0]], rtol=1e-9, atol=1e-12,
                       what="fgsm with W = I, b = 0, label 0 and eps = 0.1",
                       hint="The gradient is (p0 - 1, p1): each pixel moves by eps against "
                            "or along it, then 0.05 - 0.1 is clipped to 0 and 0.98 + 0.1 "
                            "to 1.")
    checks.check_close(_X, [[0.5, 0.5], [0.05, 0.98]], what="X after calling fgsm",
                       hint="Do not modify X in place: build a new array.")
    _X5 = X_test[:5]
    checks.check_close(checks.call(fgsm, _X5, y_test[:5], W, b, 0.0), _X5,
                       what="fgsm with eps = 0", hint="With eps = 0 nothing moves.")
    _adv = checks.call(fgsm, _X5, y_test[:5], W, b, 0.2)
    checks.check(np.shape(_adv) == _X5.shape and np.min(_adv) >= 0 and np.max(_adv) <= 1,
                 "fgsm of 5 test images should have their shape, with pixels in [0, 1].",
                 hint="Clip the result with np.clip.")
    checks.check(np.max(np.abs(_adv - _X5)) <= 0.2 + 1e-9,
                 "No pixel should move by more than eps.", hint="Use the sign of the "
                 "gradient, not the gradient itself.")

# %% nbgrader={"grade": true, "grade_id": "test_fgsm", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of fgsm (2 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# Pixels are compared with atol 1e-6 (float32 images may stay float32). Where a
# gradient entry is so small that rounding may decide its sign (|g| below 1e-12 of
# the weights of its pixel plus 1e-9 of the sizes of its terms), any of the three
# values x - eps, x, x + eps (clipped) is accepted; an entry that is exactly 0
# because the pixel has no weight must not move.
from lib import fgsm as _ref
from lib.data import load_mnist_sample as _load_sample


def _check_fgsm(X, y, W, b, eps, what):
    before = X.copy()
    got = checks.call(fgsm, X, y, W, b, eps)
    checks.check_close(X, before, what="X after calling fgsm",
                       hint="Do not modify X in place: build a new array.")
    checks.check(isinstance(got, np.ndarray) and got.shape == X.shape,
                 f"fgsm for {what} should return an array of the shape of X.")
    checks.check(np.all(np.isfinite(got)) and got.min() >= 0 and got.max() <= 1,
                 f"fgsm for {what} should give pixels in [0, 1].",
                 hint="Clip the perturbed images to [0, 1].")
    g = _ref.input_gradient(X, y, W, b)
    r = softmax(X @ W + b, axis=1)
    r[np.arange(len(y)), y] -= 1.0
    weight = np.abs(W).sum(axis=1)  # (n_features,)
    sure = (np.abs(g) > 1e-12 * weight + 1e-9 * (np.abs(r) @ np.abs(W).T)) | (
        weight == 0)
    want = np.clip(X + eps * np.sign(g), 0.0, 1.0)
    checks.check_close(got[sure], want[sure], rtol=0, atol=1e-6,
                       what=f"fgsm for {what}",
                       hint="Move every pixel by eps in the direction of the sign of "
                            "the gradient of the loss of the true label (np.sign: a zero "
                            "gradient does not move), then clip to [0, 1].")
    near = [np.isclose(got, np.clip(X + s * eps, 0, 1), rtol=0, atol=1e-6)
            for s in (-1, 0, 1)]
    checks.check(np.all(np.logical_or.reduce(near)[~sure]),
                 f"fgsm for {what}: every pixel should move by eps or not at all.")


_rng = np.random.default_rng(402)
with checks.substituted(globals(), input_gradient=_ref.input_gradient):
    _X = _rng.uniform(size=(40, 12))
    _X[:, :4] = np.round(_X[:, :4])  # pixels at exactly 0 and 1
    _W = _rng.normal(size=(12, 5))
    _W[[2, 7]] = 0.0  # two pixels the model ignores: zero gradient
    _y, _b = _rng.integers(0, 5, 40), _rng.normal(size=5)
    for _eps in (0.3, 0.07):
        _check_fgsm(_X, _y, _W, _b, _eps, f"random images with eps={_eps}")
    _check_fgsm(_X, _y, _W, _b, 0.0, "eps=0")
    _X = _load_sample()[0][_rng.choice(5000, size=60, replace=False)]
    _W = _rng.normal(scale=0.05, size=(784, 10))
    _W[:28] = 0.0  # the top row of pixels has no weight
    _check_fgsm(_X, _rng.integers(0, 10, 60), _W, _rng.normal(size=10), 0.25,
                "float32 MNIST images with eps=0.25")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Attacking the model
#
# The cells below run your `fgsm` on the test images for $\varepsilon$ from 0 to 0.3
# and compare it with noise of the same size in a random direction
# ($\pm\varepsilon$ on every pixel, random signs).

# %% nbgrader={"grade": false, "grade_id": "accuracy_vs_eps", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    EPSILONS = np.round(np.linspace(0.0, 0.3, 13), 3)
    noise_rng = np.random.default_rng(0)
    rows = []
    for eps in EPSILONS:
        signs = noise_rng.choice([-1.0, 1.0], size=X_test.shape)
        attacks = {"FGSM": fgsm(X_test, y_test, W, b, eps),
                   "random signs": np.clip(X_test + eps * signs, 0.0, 1.0)}
        for attack, X_attacked in attacks.items():
            rows.append({"eps": eps, "attack": attack,
                         "accuracy": np.mean(clf.predict(X_attacked) == y_test)})
    accuracy = pd.DataFrame(rows)
    print(accuracy.pivot(index="eps", columns="attack", values="accuracy").round(3)
          .to_string())
    display(ggplot(accuracy, aes("eps", "accuracy", color="attack"))
             + geom_line(size=1) + geom_point(size=2.5)
             + scale_y_continuous(limits=[0, 1])
             + labs(title="Test accuracy of softmax regression under attack",
                    x="eps (largest change of a pixel; pixels range from 0 to 1)",
                    y="test accuracy (fraction correct)", color="")
             + ggsize(640, 380))

# %% [markdown]
# Goodfellow et al. report an error rate of 99.9% for a shallow softmax model of MNIST
# at $\varepsilon = 0.25$. Where do the attacked digits go?

# %% nbgrader={"grade": false, "grade_id": "confusion", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    EPS = 0.25
    X_adv = fgsm(X_test, y_test, W, b, EPS)
    pred_clean, pred_adv = clf.predict(X_test), clf.predict(X_adv)
    print(f"test error: clean {np.mean(pred_clean != y_test):.1%}, "
          f"FGSM at eps = {EPS}: {np.mean(pred_adv != y_test):.1%}")
    display(plots.confusion_matrix_plot(y_test, pred_adv, labels=np.arange(10),
                                        title=f"Confusion matrix of the test set under FGSM, "
                                              f"eps = {EPS}"))

# %% nbgrader={"grade": false, "grade_id": "adversarial_digits", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    first = [int(np.flatnonzero(y_test == d)[0]) for d in range(10)]  # one of each digit
    display(plots.digit_grid(
        np.vstack([X_test[first], X_adv[first]]),
        labels=[f"{y_test[i]} → {p}" for i, p in zip(first, pred_clean[first],
                                                      strict=True)]
        + [f"{y_test[i]} → {p}" for i, p in zip(first, pred_adv[first], strict=True)],
        title=f"Clean (top) and FGSM (bottom, eps = {EPS}) test digits: "
              "true → predicted label",
    ))

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_confusion", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** What does the confusion matrix under attack show? Look at
# the diagonal, at where each digit goes, and at the columns; say why the attack
# sends a digit to those classes rather than to any class.
#
# ### BEGIN SOLUTION
# The diagonal is empty (or nearly): at $\varepsilon = 0.25$ the attack fools the
# model on essentially every test image, including the ones it classified correctly
# with confidence, although the digits remain obvious to a human.
#
# The errors are not spread evenly. Each digit goes mostly to one to three classes,
# and they are the classes the clean model already confuses it with: 4 → 9, 7 → 9,
# 9 → 4 or 7, 3 → 5 or 8, 5 → 3 or 8, 8 → 3, 5 or 9, 6 → 2 or 5, 1 → 2 or 3,
# 0 → 5 or 6, 2 → 3 or 8. FGSM is untargeted: it raises the loss of the true class,
# so each image ends in the class whose logit overtakes the true one first, the one
# with the smallest margin $z_y - z_j$ to begin with and the largest gain
# $\varepsilon \|w_j - w_y\|_1$ from a sign step (for a linear model the gradient
# is a mixture of the differences $w_j - w_y$ weighted by the probabilities, so the
# step mostly serves the runner-up class). The columns are uneven too: classes such
# as 8, 3, 5, 9 and 2, whose weight templates overlap many digits, collect many
# images, while 0 and 1 are almost never predicted.
# ### END SOLUTION

# %% [markdown]
# ## 4. A targeted example from noise (3 points)
#
# FGSM moves an image away from its class. The opposite is to move an image *towards*
# a class of our choice by gradient descent on the loss of that class. Write
# `targeted_example(target, W, b, eta=0.1, iters=10, rng=None)`:
#
# - start from small random noise of shape `(n_features,)`, with values in
#   $[0, 0.1]$ (for example uniform); draw it from `np.random.default_rng(rng)`, so
#   that a seed or a `Generator` gives the same result every time;
# - take `iters` steps $x \leftarrow \mathrm{clip}\big(x - \eta\,
#   \mathrm{sign}(\nabla_x L(x, \mathrm{target})),\ 0,\ 1\big)$, clipping after
#   every step;
# - return $x$ as a 1-d array of shape `(n_features,)`.
#
# With the defaults every pixel can travel the whole range $[0, 1]$, and the result
# should be classified as `target`. You may call your `input_gradient` on a batch of
# one image.

# %% nbgrader={"grade": false, "grade_id": "targeted_example", "locked": false, "schema_version": 3, "solution": true, "task": false}
def targeted_example(target, W, b, eta=0.1, iters=10, rng=None):
    """An input in [0, 1] of shape (n_features,) that the model classifies as target."""
    ### BEGIN SOLUTION
    rng = np.random.default_rng(rng)
    x = rng.uniform(0.0, 0.1, size=W.shape[0])
    for _ in range(iters):
        g = input_gradient(x[None, :], np.array([target]), W, b)[0]
        x = np.clip(x - eta * np.sign(g), 0.0, 1.0)
    return x
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_targeted_example", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Is targeted_example a 1-d image in [0, 1], classified as its target, reproducible?"""
with checks.public("targeted_example"):
    _x = checks.call(targeted_example, 3, W, b, rng=0)
    checks.check(isinstance(_x, np.ndarray) and _x.shape == (784,),
                 f"targeted_example should return a 1-d array of shape (784,), got "
                 f"{np.shape(_x)}.", hint="Return x itself, not x[None] or a batch.")
    checks.check(np.min(_x) >= 0 and np.max(_x) <= 1,
                 "targeted_example should give pixels in [0, 1].",
                 hint="Clip x after every step.")
    checks.check(clf.predict(_x[None])[0] == 3,
                 f"targeted_example(3, W, b) should be classified as 3, but the model "
                 f"says {clf.predict(_x[None])[0]}.",
                 hint="Step against the gradient of the loss of the target (descent), "
                      "with its sign.")
    checks.check_close(checks.call(targeted_example, 3, W, b, rng=0), _x,
                       what="a second call with rng=0",
                       hint="Draw the starting noise from np.random.default_rng(rng).")

# %% nbgrader={"grade": true, "grade_id": "test_targeted_example", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of targeted_example (3 points): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# Any starting noise in [0, 0.1] is accepted, so the result is compared with the
# reference only where the noise cannot matter: in the two-pixel model below,
# pixel 0 is pushed down once and then up twice, and with eta = 0.5 and per-step
# clipping both pixels end at exactly 1 for any start in [0, 0.3] (compared with
# atol 1e-12).
import warnings as _warnings

from lib import fgsm as _ref
from lib.data import load_mnist_sample as _load_sample

_rng = np.random.default_rng(403)
_Xs, _ys = _load_sample()
_pick = _rng.choice(5000, size=600, replace=False)
with _warnings.catch_warnings(), threadpool_limits(1):
    _warnings.simplefilter("ignore")
    _clf = LogisticRegression(C=1.0, max_iter=1000).fit(_Xs[_pick], _ys[_pick])
_W, _b = _clf.coef_.T.astype(np.float64), _clf.intercept_.astype(np.float64)
with checks.substituted(globals(), input_gradient=_ref.input_gradient):
    for _target, _kwargs in ((0, {"rng": 11}), (4, {"rng": 12}), (7, {"rng": 13}),
                             (9, {"rng": np.random.default_rng(14)}),
                             (2, {"eta": 0.05, "iters": 25, "rng": 15})):
        _x = checks.call(targeted_example, _target, _W, _b, **_kwargs)
        checks.check(isinstance(_x, np.ndarray) and _x.shape == (784,),
                     f"targeted_example should return a 1-d array of shape "
                     f"(n_features,), got {np.shape(_x)}.",
                     hint="Return x itself, not a batch of one image.")
        checks.check(np.all(np.isfinite(_x)) and _x.min() >= 0 and _x.max() <= 1,
                     "targeted_example should give pixels in [0, 1].",
                     hint="Clip x to [0, 1] after every step.")
        checks.check(np.argmax(_x @ _W + _b) == _target,
                     "targeted_example's result is not classified as the target by "
                     "another softmax regression model of MNIST.",
                     hint="Take iters steps against the sign of the gradient of the "
                          "loss of the target, of size eta.")
    _a = checks.call(targeted_example, 5, _W, _b, eta=0.05, iters=2, rng=16)
    _a2 = checks.call(targeted_example, 5, _W, _b, eta=0.05, iters=2, rng=16)
    _a3 = checks.call(targeted_example, 5, _W, _b, eta=0.05, iters=2,
                      rng=np.random.default_rng(16))
    checks.check(np.array_equal(_a, _a2) and np.array_equal(_a, _a3),
                 "targeted_example should give the same result for the same seed or "
                 "an equally seeded Generator.",
                 hint="Draw the noise from np.random.default_rng(rng), not from "
                      "np.random.")
    _W2 = np.array([[4.0, 8.0, 0.0], [10.0, -10.0, 5.0]])
    _b2 = np.array([-10.0, 3.0, -3.0])
    for _seed in (17, 18):
        checks.check_close(checks.call(targeted_example, 0, _W2, _b2, eta=0.5, iters=3,
                                       rng=_seed), [1.0, 1.0], rtol=0, atol=1e-12,
                           what="targeted_example for a small model whose gradient "
                                "changes sign",
                           hint="Clip x to [0, 1] after every step (not only at the "
                                "end) and use eta and iters as given.")
    _Wz = _W.copy()
    _Wz[:60] = 0.0  # pixels the model ignores: their gradient is exactly 0
    _start = checks.call(targeted_example, 6, _Wz, _b, iters=0, rng=19)
    checks.check(np.shape(_start) == (784,) and np.min(_start) >= 0
                 and np.max(_start) <= 0.1,
                 "With iters=0, targeted_example should return its starting noise, "
                 "with values in [0, 0.1].",
                 hint="Start from noise in [0, 0.1], for example "
                      "rng.uniform(0.0, 0.1, size=n_features).")
    _x = checks.call(targeted_example, 6, _Wz, _b, rng=19)
    checks.check(np.array_equal(_x, checks.call(targeted_example, 6, _Wz, _b, eta=0.1,
                                                iters=10, rng=19)),
                 "targeted_example with its default eta and iters should give what "
                 "eta=0.1, iters=10 give.", hint="The defaults are eta=0.1 and iters=10.")
    checks.check(np.array_equal(_x[:60], _start[:60]),
                 "A pixel whose gradient is 0 should keep its starting value.",
                 hint="np.sign(0) is 0: such a pixel takes no step.")
### END HIDDEN TESTS

# %% [markdown]
# The cell below builds one targeted example for each digit and shows it with the
# probabilities the model gives to the ten classes, before the first step (the
# noise, from `iters=0`) and after the last. Compare the images with the
# model's weights, one column of `W` per class, drawn as images in the last plot.

# %% nbgrader={"grade": false, "grade_id": "targeted_digits", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    targeted = np.array([targeted_example(t, W, b, rng=t) for t in range(10)])  # (10, 784)
    start = np.array([targeted_example(t, W, b, iters=0, rng=t) for t in range(10)])
    probs = softmax(targeted @ W + b, axis=1)  # (10, 10): row t is the example for t
    print("classified as:", clf.predict(targeted))
    print("probability of the target:", np.round(probs[np.arange(10), np.arange(10)], 4))
    display(plots.digit_grid(
        targeted, labels=[str(t) for t in range(10)],
        title="Targeted examples from noise, labelled with their target"))
    probabilities = pd.concat([
        pd.DataFrame({"target": np.repeat([f"target {t}" for t in range(10)], 10),
                      "class": np.tile([str(c) for c in range(10)], 10),
                      "probability": softmax(x @ W + b, axis=1).ravel(), "image": image})
        for x, image in ((start, "starting noise"), (targeted, "after the steps"))
    ])
    display(ggplot(probabilities, aes("class", "probability", fill="image"))
            + geom_bar(stat="identity", position="dodge", width=0.8)
            + facet_wrap("target", ncol=5)
            + scale_x_discrete(limits=[str(c) for c in range(10)])
            + scale_y_continuous(limits=[0, 1])
            + labs(title="Class probabilities of the targeted examples and of their "
                         "starting noise",
                   x="class", y="probability (softmax of the logits)", fill="")
            + ggsize(900, 440))
    display(plots.digit_grid(W.T, labels=[f"w{c}" for c in range(10)],
                             title="The weights of each class as images (light: positive)"))

# %% [markdown]
# How much can a change of at most $\varepsilon$ per pixel move the difference of two
# logits, $z_i - z_j = x \cdot (w_i - w_j) + b_i - b_j$, compared with the margins by
# which the model classifies the clean test images?

# %% nbgrader={"grade": false, "grade_id": "logit_budget", "locked": true, "schema_version": 3, "solution": false, "task": false}
top_two = np.sort(X_test @ W + b, axis=1)[:, -2:]  # (n_test, 2): runner-up, top
pairs = np.triu_indices(10, k=1)
differences = W[:, :, None] - W[:, None, :]  # (784, 10, 10): w_i - w_j
print(pd.Series({
    "median margin of a clean test image (top logit - runner-up)":
        np.median(top_two[:, 1] - top_two[:, 0]),
    f"eps * ||w_i - w_j||_1 at eps = {EPS} (sign step, before clipping)":
        np.median(EPS * np.abs(differences).sum(axis=0)[pairs]),
    f"eps * ||w_i - w_j||_2 at eps = {EPS} (spread under random signs)":
        np.median(EPS * np.sqrt((differences ** 2).sum(axis=0))[pairs]),
}).to_string(float_format="{:.1f}".format))
print("(the last two are medians over the 45 pairs of classes; logits in nats)")

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_linear", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** Why is a linear model so easy to fool? Use the change of a
# logit under a perturbation $\delta$ with $|\delta_j| \le \varepsilon$, the number
# of pixels, and the accuracy plot (FGSM against random signs).
#
# ### BEGIN SOLUTION
# A logit is linear in the input: $\delta$ changes $z_i - z_j$ by
# $\delta \cdot (w_i - w_j)$. With $\delta = \varepsilon\,\mathrm{sign}(w_i - w_j)$
# the change is $\varepsilon \|w_i - w_j\|_1$, which grows with the number of pixels
# $n$: each of the 784 pixels moves only by $\varepsilon$, a change hard to see, but
# all the small changes add up in the same direction. Here that is a median of 45.3
# nats at $\varepsilon = 0.25$ (somewhat less after clipping), against a median
# margin of 5.1 nats for a clean test image, so every image can be pushed over a
# boundary. Random signs add up only like $\varepsilon \|w_i - w_j\|_2$ (2.5
# nats, the size of $\varepsilon\, m \sqrt{n}$ rather than $\varepsilon\, m\, n$
# for weights of typical size $m$) and partly cancel, which is why noise of the same
# size costs only a few points of accuracy while FGSM takes it to zero. For softmax
# regression the gradient is a mixture of weight differences that hardly depends on
# $x$, so the one-step sign attack is already close to the best attack within the
# $\varepsilon$ box: there is no nonlinearity or saturation to resist it. The model
# also extrapolates linearly to images unlike any it was trained on (grey background
# pixels, as in the targeted examples, which look like the weight templates and not
# like digits), and nothing in training constrains its behaviour there. Smaller
# weights (stronger regularization) or adversarial training reduce the effect but do
# not remove it.
# ### END SOLUTION

# %% [markdown]
# ## 5. A spoiled test set (1 point)
#
# FGSM needs the model's gradient. A corruption that knows nothing of the model can
# hurt too: here every test image is *spoiled* by blending it with one fixed
# example image. Pixel by pixel, the blend keeps the brighter of the test image
# dimmed by the factor $1 - \alpha$ and the example dimmed by $\alpha$:
#
# $$x_{\mathrm{spoiled}} = \max\big((1 - \alpha)\, x,\ \alpha\, e\big)
# \quad \text{(elementwise)}, \qquad 0 \le \alpha \le 1.$$
#
# Write `blend(X, example, alpha)`. `X` has shape `(n, n_features)`, one image per
# row; `example` has shape `(n_features,)`, one image; `alpha` is a float in
# $[0, 1]$. Row `i` of the result is `np.maximum(X[i] * (1 - alpha), alpha *
# example)`, so the result has the shape of `X`. NumPy broadcasting does all the
# rows at once; do not change `X` itself.

# %% nbgrader={"grade": false, "grade_id": "blend", "locked": false, "schema_version": 3, "solution": true, "task": false}
def blend(X, example, alpha):
    """Row i: maximum(X[i] * (1 - alpha), alpha * example); shape of X."""
    ### BEGIN SOLUTION
    return np.maximum(X * (1 - alpha), alpha * example)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_blend", "locked": true, "points": 0, "schema_version": 3, "solution": false, "task": false}
"""Does blend keep the brighter of the two weighted images, pixel by pixel, per row?"""
with checks.public("blend"):
    _X = np.array([[0.2, 0.8, 0.5], [1.0, 0.0, 0.4]])
    _e = np.array([0.6, 0.1, 0.5])
    _out = checks.call(blend, _X, _e, 0.5)
    checks.check_close(_out, [[0.3, 0.4, 0.25], [0.5, 0.05, 0.25]], rtol=1e-9,
                       what="blend of two images with alpha = 0.5",
                       hint="Keep the larger of X[i] * (1 - alpha) and alpha * example "
                            "at each pixel (np.maximum), not their sum or the smaller.")
    checks.check_close(checks.call(blend, _X, _e, 0.25),
                       [[0.15, 0.6, 0.375], [0.75, 0.025, 0.3]], rtol=1e-9,
                       what="blend with alpha = 0.25",
                       hint="The test images are multiplied by 1 - alpha and the "
                            "example by alpha, not the other way round.")
    checks.check_close(checks.call(blend, _X, _e, 0.0), _X, what="blend with alpha = 0",
                       hint="With alpha = 0 the images stay as they are.")
    checks.check_close(checks.call(blend, _X, _e, 1.0), np.vstack([_e, _e]),
                       what="blend with alpha = 1",
                       hint="With alpha = 1 every row is the example.")
    _X5 = X_test[:5]
    _out = checks.call(blend, _X5, X_test[5], 0.3)
    checks.check(np.shape(_out) == _X5.shape,
                 f"blend of 5 test images should have their shape {_X5.shape}, got "
                 f"{np.shape(_out)}.",
                 hint="Broadcast the example over the rows: no sum or mean over them.")

# %% nbgrader={"grade": true, "grade_id": "test_blend", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of blend (1 point): they run when the notebook is graded."""
### BEGIN HIDDEN TESTS
# rtol 1e-9 for float64 images (other orders of operations round differently by
# about 1e-16); rtol 1e-6 for float32 images, whose blend may stay float32.
from lib import fgsm as _ref
from lib.data import load_mnist_sample as _load_sample

_rng = np.random.default_rng(404)
_images = _load_sample()[0][_rng.choice(5000, size=41, replace=False)]
_Xr = _rng.uniform(size=(30, 12))
_Xr[:, :3] = np.round(_Xr[:, :3])  # pixels at exactly 0 and 1
_cases = [  # (what, X, example, alpha, rtol)
    ("random images with alpha = 0.3", _Xr, _rng.uniform(size=12), 0.3, 1e-9),
    ("random images with alpha = 0.8", _Xr, _rng.uniform(size=12), 0.8, 1e-9),
    ("alpha = 0", _Xr, _rng.uniform(size=12), 0.0, 1e-9),
    ("alpha = 1", _Xr, _rng.uniform(size=12), 1.0, 1e-9),
    ("a single image", _rng.uniform(size=(1, 5)), _rng.uniform(size=5), 0.6, 1e-9),
    ("MNIST images in float64", _images[:40].astype(np.float64),
     _images[40].astype(np.float64), 0.45, 1e-9),
    ("float32 MNIST images", _images[:40], _images[40], 0.35, 1e-6),
]
for _what, _X, _e, _alpha, _rtol in _cases:
    checks.check_close(checks.call(blend, _X, _e, _alpha),
                       _ref.blend(_X, _e, _alpha), rtol=_rtol, atol=1e-12,
                       what=f"blend for {_what}",
                       hint="Row i is np.maximum(X[i] * (1 - alpha), alpha * example): "
                            "the larger of the two weighted pixels, one row per image, "
                            "with X unchanged.")
### END HIDDEN TESTS

# %% [markdown]
# The cell below spoils the test set with your `blend`. The example is one fixed
# training image of a 3: the most typical one, closest to the mean of the training
# 3s. It shows a few spoiled images, the test accuracy for several values of
# $\alpha$, and the confusion matrix of the model on the test set spoiled at
# $\alpha = 0.5$.

# %% nbgrader={"grade": false, "grade_id": "spoiled", "locked": true, "schema_version": 3, "solution": false, "task": false}
with checks.given():
    ALPHA, DIGIT = 0.5, 3
    threes = X_train[y_train == DIGIT].astype(np.float64)
    example = threes[np.argmin(((threes - threes.mean(axis=0)) ** 2).sum(axis=1))]
    X_spoiled = blend(X_test, example, ALPHA)
    pred_spoiled = clf.predict(X_spoiled)
    print(pd.DataFrame([
        {"alpha": a, "test accuracy": np.mean(p == y_test),
         f"predicted {DIGIT}": np.mean(p == DIGIT)}
        for a in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
        for p in [clf.predict(blend(X_test, example, a))]
    ]).to_string(index=False, float_format="{:.3f}".format))
    print(f"the example itself is classified as {clf.predict(example[None])[0]}")
    display(plots.digit_grid(
        np.vstack([example, X_spoiled[first]]), ncol=11,
        labels=["example"] + [f"{y_test[i]} → {pred_spoiled[i]}" for i in first],
        title=f"The example and spoiled test digits (alpha = {ALPHA}): "
              "true → predicted label"))
    display(plots.confusion_matrix_plot(y_test, pred_spoiled, labels=np.arange(10),
                                        title=f"Confusion matrix of the test set spoiled with one "
                                              f"{DIGIT}, alpha = {ALPHA}"))

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_spoiled", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Question (2 points).** What does the confusion matrix of the spoiled test set
# show? Say where the errors go, which digits keep their label best and which lose
# it, and explain why with the logits of a linear model. How does it differ from
# the confusion matrix under FGSM?
#
# ### BEGIN SOLUTION
# Almost all the errors go to one column, the class of the example (3): the
# spoiled images are classified as 3 more than half of the time, and every digit
# loses some of its images to it, while the 3s themselves stay right. The other
# column that fills is 5, the model's second choice for the example (a 5 shares
# the 3's lower loop), which collects 0s, 6s and 8s.
#
# Write $x' = \max((1-\alpha)x, \alpha e)$. Where only one of the two images has
# ink the blend is the sum $(1-\alpha)x + \alpha e$, so roughly
# $z(x') \approx (1-\alpha)\, x W + \alpha\, e W + b$ (minus the overlap, counted
# once): every spoiled image gets the same push $\alpha\, e W$ towards the
# example's class, whose logit for 3 is far above the others, while its own
# evidence is halved. An image keeps its label when its own margin, scaled by
# $1-\alpha$, outweighs $\alpha$ times the example's margin for 3. Digits with
# confident logits and ink where the 3 has none keep their label best: 5 (which
# the example itself half supports) and 0. Thin digits lose: every 1 becomes a 3,
# since a 1 has little ink of its own to set against the example's strokes, and
# most 2s and 8s and about half of the 6s, 7s and 9s go to 3 as well.
# Accuracy falls steadily with $\alpha$, and at $\alpha = 0.7$ nearly every
# image is a 3.
#
# Under FGSM the diagonal is empty and each digit goes to its own runner-up
# classes, spread over many columns: the attack chooses, for every image, the
# direction that hurts that image most. The spoiled set uses the same change for
# every image, chosen without the model, so its errors all point one way, to the
# class of the example; it is a much weaker attack per unit of change (here
# pixels move by up to half their range) but needs no access to the model at all.
# ### END SOLUTION

# %% [markdown]
# ## Public checks
#
# This cell lists the functions whose public checks pass in this kernel. Run it after
# *Kernel → Restart and Run All*, before you submit. Passing is a good sign,
# not a grade: hidden tests with other inputs decide the points.

# %% nbgrader={"grade": false, "grade_id": "public_summary", "locked": true, "schema_version": 3, "solution": false, "task": false}
checks.summary(["input_gradient", "fgsm", "targeted_example", "blend"])
