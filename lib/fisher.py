"""Fisher information: the reference implementations of assignment 5.

The score is the gradient of the log-likelihood of one observation with respect to
the parameter, and the Fisher information is the expected outer product of the score
with itself. For a Bernoulli variable with success probability ``theta``, and for
logistic regression, where the information of a whole sample is
``X.T @ diag(p * (1 - p)) @ X``, its inverse gives the large-sample covariance of the
maximum-likelihood estimate. Column 0 of ``X`` is the intercept, as in
:mod:`lib.logistic`. The functions named in the assignment's answer cells are withheld
from the student build of the library (see the README, "What students receive").
"""

import numpy as np
from scipy.special import expit


def bernoulli_score(theta, x):
    """Score of a Bernoulli observation: ``x / theta - (1 - x) / (1 - theta)``.

    The derivative with respect to ``theta`` of
    ``x log(theta) + (1 - x) log(1 - theta)``, elementwise over ``x``.

    Parameters
    ----------
    theta : float
        Success probability, in (0, 1).
    x : float or ndarray of any shape
        Observations, 0 or 1.

    Returns
    -------
    float or ndarray of the shape of ``x``

    Raises
    ------
    ValueError
        If ``theta`` is not in the open interval (0, 1).
    """
    theta = float(theta)
    if not 0.0 < theta < 1.0:
        raise ValueError(f"theta must be in (0, 1), got {theta} instead.")
    x = np.asarray(x, dtype=float)
    out = x / theta - (1.0 - x) / (1.0 - theta)
    return out[()] if out.ndim == 0 else out


def bernoulli_fisher(theta):
    """Fisher information of one Bernoulli observation: ``1 / (theta (1 - theta))``.

    Parameters
    ----------
    theta : float or ndarray of any shape
        Success probabilities, in (0, 1); elementwise.

    Returns
    -------
    float or ndarray of the shape of ``theta``

    Raises
    ------
    ValueError
        If a value of ``theta`` is not in the open interval (0, 1).
    """
    theta = np.asarray(theta, dtype=float)
    if not np.all((theta > 0.0) & (theta < 1.0)):
        raise ValueError("theta must be in (0, 1) elementwise.")
    out = 1.0 / (theta * (1.0 - theta))
    return out[()] if out.ndim == 0 else out


def empirical_fisher(score, samples, theta):
    """Mean over the samples of the outer product of the score with itself.

    Parameters
    ----------
    score : callable
        ``score(theta, x)`` returns the score of one sample ``x`` at ``theta``: a
        float for a scalar parameter, an array of shape (p,) for a vector one.
    samples : ndarray of shape (n, ...)
        The samples along axis 0: ``samples[i]`` is passed to ``score`` as ``x``.
    theta : float or ndarray of shape (p,)
        The parameter.

    Returns
    -------
    ndarray of shape (p, p)
        ``mean_i outer(score(theta, samples[i]), score(theta, samples[i]))``:
        symmetric, of shape (1, 1) for a scalar parameter.

    Raises
    ------
    ValueError
        If there are no samples or a score is not a scalar or a 1-d array.
    """
    samples = np.asarray(samples)
    if samples.ndim == 0 or len(samples) == 0:
        raise ValueError("samples must hold at least one sample along axis 0.")
    scores = []
    for x in samples:
        s = np.asarray(score(theta, x), dtype=float)
        if s.ndim > 1:
            raise ValueError(
                f"score must return a float or a 1-d array, got shape {s.shape}."
            )
        scores.append(s.reshape(-1))
    S = np.stack(scores)  # (n, p)
    return S.T @ S / len(S)


def logistic_fisher(X, theta):
    """Fisher information of logistic regression: ``X.T @ diag(p (1 - p)) @ X``.

    Summed over the rows of ``X`` (the information of the whole sample, not of one
    observation), with ``p = sigmoid(X @ theta)``. It is also minus the Hessian of
    the log-likelihood, which does not depend on the labels.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Design matrix, one example per row.
    theta : ndarray of shape (d,)

    Returns
    -------
    ndarray of shape (d, d)
        Symmetric and positive semi-definite.

    Raises
    ------
    ValueError
        If ``X`` is not 2-d or ``theta`` does not have shape (d,).
    """
    X = np.asarray(X, dtype=float)
    theta = np.asarray(theta, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-d of shape (n, d), got shape {X.shape}.")
    if theta.shape != (X.shape[1],):
        raise ValueError(
            f"theta must have shape ({X.shape[1]},) to match X, got {theta.shape}."
        )
    t = X @ theta  # (n,)
    # sigmoid(t) * (1 - sigmoid(t)) = sigmoid(t) * sigmoid(-t), exact for large |t|.
    w = expit(t) * expit(-t)  # (n,)
    return X.T @ (w[:, None] * X)


def standard_errors(X, theta):
    """Standard errors of logistic-regression coefficients from the Fisher matrix.

    The square roots of the diagonal of the inverse of ``logistic_fisher(X, theta)``,
    the large-sample standard deviations of the maximum-likelihood estimate when
    ``theta`` is that estimate.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    theta : ndarray of shape (d,)

    Returns
    -------
    ndarray of shape (d,)

    Raises
    ------
    ValueError
        If the Fisher matrix is singular (fewer independent rows than columns).
    """
    F = logistic_fisher(X, theta)
    try:
        covariance = np.linalg.inv(F)  # (d, d)
    except np.linalg.LinAlgError:
        raise ValueError(
            "the Fisher matrix is singular: X needs d linearly independent rows."
        ) from None
    return np.sqrt(np.diag(covariance))
