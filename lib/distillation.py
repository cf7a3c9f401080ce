"""Dataset distillation with one gradient step: the reference implementations of
assignment 6 (``dataset_distillation``), after Wang et al., "Dataset Distillation"
(2018), in its simplest setting.

The model is softmax regression without bias: logits ``X @ theta`` with ``theta`` of
shape ``(n_features, k)`` and integer labels in ``0..k-1``; losses are mean
cross-entropies. A distilled set ``xd`` of shape ``(m, n_features)`` with labels
``yd`` and a learning rate ``eta`` define the model ``theta1`` reached by one
gradient-descent step of size ``eta`` on the mean cross-entropy of ``(xd, yd)``,
from a fixed initialisation ``theta0`` (`one_step`). Distillation chooses ``xd`` and
``eta`` so that ``theta1`` has a small loss on the real data. ``theta0`` is
`initial_theta`: the same random matrix on every call (the "fixed initialisation"
setting of the paper).

`f1_micro` scores the models trained on the distilled images from their confusion
matrix.

`one_step`, `distill_grads`, `dataset_distill` and `f1_micro` are graded in the
notebook and withheld from the student build of the library (see the README, "What
students receive"); `initial_theta` and the input validation `_checked` are not.
"""

import numbers

import numpy as np
from scipy.special import log_softmax, softmax

#: Rows of the real data in each minibatch of `dataset_distill` (all rows if fewer).
BATCH_SIZE = 256

#: Standard deviation of the noise that `dataset_distill` starts the images from.
INIT_SCALE = 0.1


def initial_theta(n_features, n_classes, seed=0):
    """The fixed initialisation ``theta0`` of dataset distillation.

    Gaussian weights with standard deviation ``1 / sqrt(n_features)``, drawn from
    their own seeded generator, so every call with the same arguments returns the
    same matrix.

    Parameters
    ----------
    n_features, n_classes : int
        The shape of ``theta0``, both > 0.
    seed : int, default=0
        Seed of the generator.

    Returns
    -------
    theta0 : ndarray of shape (n_features, n_classes), dtype float64
    """
    for name, value in (("n_features", n_features), ("n_classes", n_classes)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer, got {value!r} instead.")
        if value <= 0:
            raise ValueError(f"{name} must be > 0, got {value} instead.")
    rng = np.random.default_rng(seed)
    return rng.normal(scale=1.0 / np.sqrt(n_features), size=(n_features, n_classes))


def one_step(xd, yd, eta, theta0):
    """The weights after one gradient step of size ``eta`` on ``(xd, yd)``.

    ``theta0 - eta * xd.T @ (softmax(xd @ theta0) - onehot(yd)) / len(xd)``: one
    step of gradient descent on the mean cross-entropy of the rows of ``xd``.

    Parameters
    ----------
    xd : ndarray of shape (m, n_features)
        The training images of the step (distilled or real).
    yd : ndarray of shape (m,)
        Their integer labels in ``0..k-1``.
    eta : float
        The step size.
    theta0 : ndarray of shape (n_features, k)
        The weights before the step.

    Returns
    -------
    theta1 : ndarray of shape (n_features, k)
    """
    if not (isinstance(eta, numbers.Real) and np.isfinite(eta)):
        raise ValueError(f"eta must be a finite number, got {eta!r} instead.")
    xd, yd, theta0 = _checked(xd, yd, theta0, "xd", "yd")
    k = theta0.shape[1]
    residual = softmax(xd @ theta0, axis=1) - np.eye(k)[yd]  # (m, k)
    return theta0 - eta * xd.T @ residual / len(xd)


def distill_grads(xd, yd, eta, theta0, X, y):
    """Loss of the one-step model on real data, and its gradients.

    With ``theta1 = theta0 - eta * xd.T @ (softmax(xd @ theta0) - onehot(yd)) / m``,
    the loss is the mean cross-entropy of ``theta1`` on ``(X, y)``. The images
    ``xd`` enter ``theta1`` twice, through ``xd.T`` and through
    ``softmax(xd @ theta0)``; the gradient follows both paths.

    Parameters
    ----------
    xd : ndarray of shape (m, n_features)
        The distilled images.
    yd : ndarray of shape (m,)
        Their integer labels in ``0..k-1``.
    eta : float
        The learned step size.
    theta0 : ndarray of shape (n_features, k)
        The weights before the step.
    X : ndarray of shape (n, n_features)
        A batch of real images.
    y : ndarray of shape (n,)
        Their integer labels in ``0..k-1``.

    Returns
    -------
    loss : float
        The mean cross-entropy of ``theta1`` on ``(X, y)``.
    grad_xd : ndarray of shape (m, n_features)
        Its gradient with respect to ``xd``.
    grad_eta : float
        Its derivative with respect to ``eta``.
    """
    if not (isinstance(eta, numbers.Real) and np.isfinite(eta)):
        raise ValueError(f"eta must be a finite number, got {eta!r} instead.")
    xd, yd, theta0 = _checked(xd, yd, theta0, "xd", "yd")
    X, y, _ = _checked(X, y, theta0, "X", "y")
    m, n, k = len(xd), len(X), theta0.shape[1]

    # Forward: the inner step on the distilled set, then the loss on the real batch.
    p0 = softmax(xd @ theta0, axis=1)  # (m, k)
    r0 = p0 - np.eye(k)[yd]  # (m, k)
    g0 = xd.T @ r0 / m  # (n_features, k): the inner gradient
    theta1 = theta0 - eta * g0
    log_p1 = log_softmax(X @ theta1, axis=1)  # (n, k)
    loss = -np.mean(log_p1[np.arange(n), y])

    # Backward. dL/dtheta1 is the softmax-regression gradient on the real batch.
    a = X.T @ (np.exp(log_p1) - np.eye(k)[y]) / n  # (n_features, k)
    grad_eta = -np.sum(a * g0)  # theta1 = theta0 - eta * g0
    dg0 = -eta * a  # dL/dg0
    # g0 = xd.T @ r0 / m: xd appears directly, and inside r0 = softmax(xd @ theta0).
    direct = r0 @ dg0.T / m  # (m, n_features)
    dr0 = xd @ dg0 / m  # (m, k): dL/dp0
    # Each row of p0 is a softmax; its Jacobian is diag(p) - p p^T.
    dz0 = p0 * (dr0 - np.sum(p0 * dr0, axis=1, keepdims=True))  # dL/d(xd @ theta0)
    grad_xd = direct + dz0 @ theta0.T
    return float(loss), grad_xd, float(grad_eta)


def dataset_distill(X, y, n_classes=10, steps=300, alpha=1.0, eta0=10.0, rng=None):
    """Distil ``(X, y)`` into one image per class and a learned step size.

    Starts from ``xd`` = Gaussian noise with standard deviation `INIT_SCALE` (drawn
    from ``rng``), labels ``yd = arange(n_classes)`` and ``eta = eta0``, with
    ``theta0 = initial_theta(n_features, n_classes)``. Each of ``steps`` steps draws
    a minibatch of `BATCH_SIZE` rows of ``(X, y)`` without replacement (all rows if
    fewer) and takes a plain gradient-descent step of size ``alpha`` on ``xd`` and
    ``eta`` together, with the gradients of `distill_grads`.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
        The real images.
    y : ndarray of shape (n,)
        Their integer labels in ``0..n_classes-1``.
    n_classes : int, default=10
        The number of classes ``k``: one distilled image each.
    steps : int, default=300
        Number of gradient-descent steps, >= 0.
    alpha : float, default=1.0
        Step size of the gradient descent on ``xd`` and ``eta``, > 0. The gradient
        with respect to ``xd`` grows like ``eta / n_classes``: with fewer classes
        take a smaller step (0.3 for three classes), or the first steps overshoot
        to images that ``theta0`` already classifies with certainty, where every
        gradient vanishes.
    eta0 : float, default=10.0
        The starting value of ``eta``. The gradient with respect to ``xd`` is
        proportional to ``eta``, so a small start makes the first steps slow.
    rng : None, int or numpy.random.Generator, default=None
        Random source of the starting images and the minibatches, passed to
        `numpy.random.default_rng`.

    Returns
    -------
    xd : ndarray of shape (n_classes, n_features)
        The distilled images: row ``c`` has label ``c``.
    eta : float
        The learned step size.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral):
        raise ValueError(f"n_classes must be an integer, got {n_classes!r} instead.")
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes} instead.")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r} instead.")
    if not (isinstance(alpha, numbers.Real) and np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a finite number > 0, got {alpha!r} instead.")
    if not (isinstance(eta0, numbers.Real) and np.isfinite(eta0)):
        raise ValueError(f"eta0 must be a finite number, got {eta0!r} instead.")
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-d of shape (n, n_features), got shape {X.shape} instead."
        )
    X, y, theta0 = _checked(X, y, initial_theta(X.shape[1], n_classes), "X", "y")
    rng = np.random.default_rng(rng)
    n, d = X.shape

    xd = rng.normal(scale=INIT_SCALE, size=(n_classes, d))
    yd = np.arange(n_classes)
    eta = float(eta0)
    batch = min(BATCH_SIZE, n)
    for _ in range(steps):
        rows = rng.choice(n, size=batch, replace=False)
        _, grad_xd, grad_eta = distill_grads(xd, yd, eta, theta0, X[rows], y[rows])
        xd = xd - alpha * grad_xd
        eta = eta - alpha * grad_eta
    return xd, eta


def f1_micro(confusion):
    """Micro-averaged F1 score from a confusion matrix.

    Micro averaging pools the counts of all classes: with ``TP`` the sum of the
    diagonal and ``FP``, ``FN`` the sums over the classes of their false positives
    and false negatives, F1 is ``2 TP / (2 TP + FP + FN)``. With one label per
    example every error is a false positive of the predicted class and a false
    negative of the true one, so ``FP = FN = total - TP`` and the score is the
    accuracy, ``trace / total``.

    Parameters
    ----------
    confusion : ndarray of shape (k, k)
        Counts (non-negative, integers or floats): ``confusion[i, j]`` examples of
        true class ``i`` predicted as class ``j`` (rows true, columns predicted, as
        `sklearn.metrics.confusion_matrix` returns them).

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If ``confusion`` is not a square 2-d array of finite counts >= 0 with a
        positive total.
    """
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(
            f"confusion must be a square 2-d array of shape (k, k), got shape "
            f"{confusion.shape} instead."
        )
    if confusion.dtype.kind not in "iuf":
        raise ValueError(f"confusion must hold counts, got dtype {confusion.dtype}.")
    confusion = confusion.astype(float)
    if not np.all(np.isfinite(confusion)) or np.any(confusion < 0):
        raise ValueError("confusion must hold finite counts >= 0.")
    total = confusion.sum()
    if total == 0:
        raise ValueError("confusion counts no example: its F1 score is undefined.")
    tp = np.trace(confusion)  # the correct predictions of every class
    fp = fn = total - tp  # each error: a false positive and a false negative
    return float(2.0 * tp / (2.0 * tp + fp + fn))


def _checked(X, labels, theta, x_name, label_name):
    """``(X, labels, theta)`` as float, int and float arrays with matching shapes."""
    X = np.asarray(X, dtype=float)
    theta = np.asarray(theta, dtype=float)
    labels = np.asarray(labels)
    if theta.ndim != 2:
        raise ValueError(
            f"theta0 must be 2-d of shape (n_features, k), got shape {theta.shape} "
            "instead."
        )
    d, k = theta.shape
    if X.ndim != 2 or X.shape[1] != d or len(X) == 0:
        raise ValueError(
            f"{x_name} must be a non-empty 2-d array of shape (n, {d}), got shape "
            f"{X.shape} instead."
        )
    if labels.shape != (len(X),):
        raise ValueError(
            f"{label_name} must have shape ({len(X)},) to match {x_name}, got "
            f"{labels.shape} instead."
        )
    if labels.dtype.kind not in "iu" and not (
        labels.dtype.kind == "f" and np.all(labels == np.round(labels))
    ):
        raise ValueError(f"{label_name} must hold integer labels, got {labels.dtype}.")
    labels = labels.astype(np.int64)
    if labels.min() < 0 or labels.max() >= k:
        raise ValueError(
            f"{label_name} must hold labels in 0..{k - 1}, got values from "
            f"{labels.min()} to {labels.max()} instead."
        )
    return X, labels, theta
