"""Adversarial examples against softmax regression: the reference implementations of
assignment 4 (``fgsm``).

The model has logits ``X @ W + b`` with ``W`` of shape ``(n_features, k)`` and ``b``
of shape ``(k,)``; ``X`` has one example per row with pixels in [0, 1], and ``y``
holds integer labels in ``0..k-1``. The loss of an example is its cross-entropy
``-log softmax(x @ W + b)[y]``.

`blend` is not an attack but a corruption: every image blended with one fixed
example image (the homework's "spoiled" test set).

The functions named in the assignment's answer cells are withheld from the student
build of the library (see the README, "What students receive").
"""

import numbers

import numpy as np
from scipy.special import softmax


def input_gradient(X, y, W, b):
    """Gradient of each example's cross-entropy with respect to its input.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
        The inputs, one per row.
    y : ndarray of shape (n,)
        Integer labels in ``0..k-1``.
    W : ndarray of shape (n_features, k)
        Weights.
    b : ndarray of shape (k,)
        Biases.

    Returns
    -------
    ndarray of shape (n, n_features)
        Row ``i`` is ``(softmax(X[i] @ W + b) - onehot(y[i])) @ W.T``, the gradient
        of ``-log softmax(X[i] @ W + b)[y[i]]`` with respect to ``X[i]``.

    Raises
    ------
    ValueError
        If the shapes do not match or ``y`` does not hold labels in ``0..k-1``.
    """
    X, y, W, b = _check_model(X, y, W, b)
    residual = softmax(X @ W + b, axis=1)  # (n, k): probabilities...
    residual[np.arange(len(y)), y] -= 1.0  # ...minus the one-hot labels
    return residual @ W.T  # (n, n_features)


def fgsm(X, y, W, b, eps):
    """Fast gradient sign method: one step of size ``eps`` up the loss, per pixel.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
        Inputs with pixels in [0, 1].
    y : ndarray of shape (n,)
        Their true labels.
    W : ndarray of shape (n_features, k)
    b : ndarray of shape (k,)
    eps : float
        The change of every pixel, >= 0 (the max-norm of the perturbation before
        clipping).

    Returns
    -------
    ndarray of shape (n, n_features)
        ``clip(X + eps * sign(input_gradient(X, y, W, b)), 0, 1)``. Pixels whose
        gradient is exactly 0 do not move (``np.sign(0) == 0``).

    Raises
    ------
    ValueError
        If ``eps`` is negative or not a finite number, or the shapes do not match.
    """
    if not (isinstance(eps, numbers.Real) and np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r} instead.")
    step = eps * np.sign(input_gradient(X, y, W, b))  # (n, n_features)
    return np.clip(np.asarray(X, dtype=float) + step, 0.0, 1.0)


def targeted_example(target, W, b, eta=0.1, iters=10, rng=None):
    """An input that the model classifies as ``target``, by signed gradient descent.

    Starts from small noise, ``rng.uniform(0, 0.1, size=n_features)``, and takes
    ``iters`` steps ``x <- clip(x - eta * sign(g), 0, 1)`` where ``g`` is the gradient
    with respect to ``x`` of the cross-entropy of ``x`` against the label ``target``.
    Each step lowers the loss of ``target`` to first order, so the result is
    classified as ``target`` once ``eta * iters`` is large enough (it is for every
    digit with the defaults and a softmax regression model of MNIST).

    Parameters
    ----------
    target : int
        The class to reach, in ``0..k-1``.
    W : ndarray of shape (n_features, k)
    b : ndarray of shape (k,)
    eta : float, default=0.1
        The change of every pixel per step, > 0.
    iters : int, default=10
        Number of steps, >= 0.
    rng : None, int, numpy.random.Generator or seed-like, default=None
        Random source for the starting noise, passed to `numpy.random.default_rng`.

    Returns
    -------
    x : ndarray of shape (n_features,)
        Values in [0, 1].

    Raises
    ------
    ValueError
        If ``target`` is not a class of the model, ``eta`` is not > 0, ``iters``
        is not an integer >= 0, or ``W`` and ``b`` do not match.
    """
    W, b = _check_weights(W, b)
    k = W.shape[1]
    if not (isinstance(target, numbers.Integral) and 0 <= target < k):
        raise ValueError(f"target must be a class in 0..{k - 1}, got {target!r}.")
    if not (isinstance(eta, numbers.Real) and np.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be a finite number > 0, got {eta!r} instead.")
    if isinstance(iters, bool) or not isinstance(iters, numbers.Integral) or iters < 0:
        raise ValueError(f"iters must be an integer >= 0, got {iters!r} instead.")
    rng = np.random.default_rng(rng)
    x = rng.uniform(0.0, 0.1, size=W.shape[0])  # (n_features,)
    for _ in range(iters):
        residual = softmax(x @ W + b)  # (k,)
        residual[target] -= 1.0
        x = np.clip(x - eta * np.sign(W @ residual), 0.0, 1.0)
    return x


def blend(X, example, alpha):
    """Every row of ``X`` blended with one example image, by the brighter pixel.

    Row ``i`` of the result is ``maximum(X[i] * (1 - alpha), alpha * example)``:
    the image dimmed by the factor ``1 - alpha``, with the pixels of the example
    (scaled by ``alpha``) drawn over it wherever they are brighter. ``alpha = 0``
    leaves images with pixels >= 0 unchanged; ``alpha = 1`` replaces every image by
    the example.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
        Images, one per row, with pixels in [0, 1].
    example : ndarray of shape (n_features,)
        The one image blended into every row.
    alpha : float
        The weight of the example, in [0, 1].

    Returns
    -------
    ndarray of shape (n, n_features)
        Of the dtype NumPy's arithmetic gives: float64 for float64 images, float32
        for float32 images and example with a Python float ``alpha``.

    Raises
    ------
    ValueError
        If ``X`` is not 2-d, ``example`` is not 1-d of length ``n_features``, or
        ``alpha`` is not a number in [0, 1].
    """
    if not (isinstance(alpha, numbers.Real) and 0 <= alpha <= 1):
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r} instead.")
    X, example = np.asarray(X), np.asarray(example)
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-d of shape (n, n_features), got shape {X.shape} instead."
        )
    if example.shape != (X.shape[1],):
        raise ValueError(
            f"example must have shape ({X.shape[1]},) to match X, got "
            f"{example.shape} instead."
        )
    return np.maximum(X * (1.0 - alpha), alpha * example)  # (n, n_features)


def _check_weights(W, b):
    """``W, b`` as float arrays, or a ValueError saying what does not fit."""
    W, b = np.asarray(W, dtype=float), np.asarray(b, dtype=float)
    if W.ndim != 2:
        raise ValueError(
            f"W must be 2-d of shape (n_features, k), got shape {W.shape} instead."
        )
    if b.shape != (W.shape[1],):
        raise ValueError(
            f"b must have shape ({W.shape[1]},) to match W, got {b.shape} instead."
        )
    return W, b


def _check_model(X, y, W, b):
    """``X, y, W, b`` as arrays, or a ValueError saying what does not fit."""
    W, b = _check_weights(W, b)
    n_features, k = W.shape
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(
            f"X must be 2-d of shape (n, {n_features}) to match W, got shape "
            f"{X.shape} instead."
        )
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape ({X.shape[0]},) to match X, got {y.shape} instead."
        )
    if y.size and (y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= k):
        raise ValueError(f"y must hold integer labels in 0..{k - 1}.")
    return X, y, W, b
