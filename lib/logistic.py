"""Binary logistic regression: the reference implementations of assignment 1.

Column 0 of ``X`` is the intercept (a column of ones, see
:func:`lib.data.add_intercept`); ``theta[0]`` is the bias and is never regularized.
The functions named in the assignment's answer cells are withheld from the student
build of the library (see the README, "What students receive").
"""

import numpy as np
import pandas as pd


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, elementwise.

    Parameters
    ----------
    z : float or ndarray of any shape

    Returns
    -------
    float or ndarray of the shape of ``z``
        Values in [0, 1]; no overflow warning and no NaN for any finite ``z``.
    """
    z = np.asarray(z, dtype=float)
    # exp of a non-positive number never overflows: use exp(-|z|) on both sides.
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out[()] if out.ndim == 0 else out


def binary_cross_entropy(output, target, eps=1e-15):
    """Mean binary cross-entropy of probabilities ``output`` against 0/1 ``target``.

    Parameters
    ----------
    output : ndarray of shape (n,)
        Predicted probabilities of class 1, possibly exactly 0 or 1.
    target : ndarray of shape (n,)
        Labels in {0, 1}.
    eps : float, default=1e-15
        Probabilities are clipped to ``[eps, 1 - eps]`` so the loss stays finite.

    Returns
    -------
    float
    """
    p = np.clip(np.asarray(output, dtype=float), eps, 1.0 - eps)
    t = np.asarray(target, dtype=float)
    return float(-np.mean(t * np.log(p) + (1.0 - t) * np.log1p(-p)))


def loss(theta, X, y, alpha=0.0):
    """Mean BCE of ``sigmoid(X @ theta)`` plus ``alpha/2 * ||theta[1:]||^2``.

    Parameters
    ----------
    theta : ndarray of shape (d,)
    X : ndarray of shape (n, d)
        Column 0 is the intercept.
    y : ndarray of shape (n,)
    alpha : float, default=0.0

    Returns
    -------
    float
    """
    penalty = 0.5 * alpha * float(theta[1:] @ theta[1:])
    return binary_cross_entropy(sigmoid(X @ theta), y) + penalty


def loss_grad(theta, X, y, alpha=0.0):
    """Gradient of :func:`loss` with respect to ``theta``.

    Returns
    -------
    ndarray of shape (d,)
        ``X.T @ (sigmoid(X @ theta) - y) / n + alpha * [0, theta[1:]]``.
    """
    residual = sigmoid(X @ theta) - y  # (n,)
    grad = X.T @ residual / len(y)  # (d,)
    grad[1:] += alpha * theta[1:]
    return grad


def logistic_regression(X, y, eta=0.1, iters=1000, alpha=0.0):
    """Full-batch gradient descent on :func:`loss`, starting from zeros.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    eta : float, default=0.1
        Step size.
    iters : int, default=1000
        Number of steps.
    alpha : float, default=0.0
        L2 penalty on ``theta[1:]``.

    Returns
    -------
    theta : ndarray of shape (d,)
    losses : ndarray of shape (iters,)
        ``losses[i]`` is the loss after step ``i``.
    """
    theta = np.zeros(X.shape[1])
    losses = np.empty(iters)
    for i in range(iters):
        theta = theta - eta * loss_grad(theta, X, y, alpha)
        losses[i] = loss(theta, X, y, alpha)
    return theta, losses


def predict(X, theta):
    """0/1 labels: 1 where ``sigmoid(X @ theta) >= 0.5``, that is ``X @ theta >= 0``.

    Returns
    -------
    ndarray of shape (n,), dtype int
    """
    return (X @ theta >= 0).astype(int)


def decision_boundary(theta):
    """The line ``theta0 + theta1*x1 + theta2*x2 = 0`` as ``x2 = intercept + slope*x1``.

    Parameters
    ----------
    theta : ndarray of shape (3,)

    Returns
    -------
    intercept, slope : float
    """
    return float(-theta[0] / theta[2]), float(-theta[1] / theta[2])


def bce_output_grad(output, target):
    """Gradient of the summed binary cross-entropy with respect to the probabilities.

    The summed loss is ``-sum(t * log(p) + (1 - t) * log(1 - p))``; its derivative
    with respect to ``p_i`` is ``-t_i / p_i + (1 - t_i) / (1 - p_i)``, that is
    ``(p_i - t_i) / (p_i * (1 - p_i))``.

    Parameters
    ----------
    output : float or ndarray of any shape
        Predicted probabilities of class 1, strictly between 0 and 1.
    target : float or ndarray of the shape of ``output``
        Labels in {0, 1}.

    Returns
    -------
    float or ndarray of the shape of ``output``
    """
    p = np.asarray(output, dtype=float)
    t = np.asarray(target, dtype=float)
    return (p - t) / (p * (1.0 - p))


def preprocess_images(X):
    """MNIST pixels as a design matrix: scaled to [0, 1], with a column of ones.

    Parameters
    ----------
    X : array_like of shape (n, 784)
        One flattened 28 x 28 image per row, pixels in 0..255 (any numeric dtype).

    Returns
    -------
    X1 : ndarray of shape (n, 785), dtype float64
        Column 0 is all ones (the bias trick: ``theta[0]`` is then the bias), the
        other columns are the pixels divided by 255.

    Raises
    ------
    ValueError
        If ``X`` is not of shape ``(n, 784)``; the message names the shape received.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 784:
        raise ValueError(
            f"X must have shape (n, 784), one flattened 28 x 28 image per row, got "
            f"shape {X.shape} instead."
        )
    X1 = np.ones((X.shape[0], 785))  # (n, 785); column 0 stays 1
    X1[:, 1:] = X
    X1[:, 1:] /= 255.0  # in float64, whatever the dtype of the pixels
    return X1


def train_early_stopping(X, y, X_val, y_val, eta=0.1, batch=16, epochs=50, alpha=0.0,
                         patience=10, checks_per_epoch=5):
    """Minibatch gradient descent on :func:`loss` from zeros, with early stopping.

    An epoch is the ``n // batch`` minibatches ``X[0:batch]``, ``X[batch:2*batch]``,
    ... in order (rows past the last full minibatch are not used); each step is
    ``theta -= eta * loss_grad(theta, X_b, y_b, alpha)``. After every
    ``max(1, (n // batch) // checks_per_epoch)`` steps, counted over the whole run,
    the model is checked on the validation set; training stops after the check at
    which the validation loss has not improved (fallen below its lowest value so far)
    for ``patience`` checks in a row, or after ``epochs`` epochs.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Column 0 is the intercept.
    y : ndarray of shape (n,)
    X_val : ndarray of shape (n_val, d)
    y_val : ndarray of shape (n_val,)
    eta : float, default=0.1
    batch : int, default=16
    epochs : int, default=50
    alpha : float, default=0.0
        L2 penalty on ``theta[1:]``, in the gradient steps only.
    patience : int, default=10
    checks_per_epoch : int, default=5

    Returns
    -------
    theta : ndarray of shape (d,)
        The parameters at the check of lowest validation loss.
    history : pandas.DataFrame
        One row per check: ``step`` (gradient steps taken so far), ``train_loss``
        and ``val_loss`` (mean cross-entropy, without the penalty, on the whole
        training and validation sets), ``val_accuracy`` (fraction of the validation
        set that :func:`predict` gets right).
    """
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
