"""Gradient checking: the reference implementations of assignment 2.

A gradient is checked by comparing it, coordinate by coordinate, with a finite
difference of the function. The functions named in the assignment's answer cells are
withheld from the student build of the library (see the README, "What students
receive").

Relative errors are elementwise (the reading of CS231n's ``rel_error``): for each
coordinate ``|a - b| / max(1e-8, |a| + |b|)``, and the largest of them is reported.
The floor ``1e-8`` keeps a coordinate where both values are (nearly) zero from
dividing by zero.
"""

import numbers

import numpy as np

#: Finite-difference schemes of :func:`numerical_gradient`.
METHODS = ("forward", "backward", "central")


def numerical_gradient(f, theta, eps=1e-5, method="central"):
    """Finite-difference gradient of a scalar function, one coordinate at a time.

    Parameters
    ----------
    f : callable
        ``f(theta)`` returns a float. It is called with an array of the shape of
        ``theta`` (a float for a scalar ``theta``).
    theta : float or ndarray of any shape
        The point; never modified.
    eps : float, default=1e-5
        The step, > 0.
    method : {"forward", "backward", "central"}, default="central"
        ``(f(t + eps e_i) - f(t)) / eps``, ``(f(t) - f(t - eps e_i)) / eps`` or
        ``(f(t + eps e_i) - f(t - eps e_i)) / (2 eps)``.

    Returns
    -------
    float or ndarray of the shape of ``theta``
        A float for a scalar ``theta``.

    Raises
    ------
    ValueError
        If ``method`` is not one of the three names, or ``eps`` is not > 0.
    """
    if method not in METHODS:
        raise ValueError(
            f"method must be 'forward', 'backward' or 'central', got {method!r} "
            "instead."
        )
    if not (isinstance(eps, numbers.Real) and eps > 0):
        raise ValueError(f"eps must be > 0, got {eps!r} instead.")
    x = np.array(theta, dtype=float)  # a copy: theta itself is never touched

    def at(value, index):
        """f at x with x[index] set to value (x is restored afterwards)."""
        old = x[index]
        x[index] = value
        try:
            return float(f(x if x.ndim else x[()]))
        finally:
            x[index] = old

    f0 = None if method == "central" else float(f(x.copy() if x.ndim else x[()]))
    grad = np.empty(x.shape)
    for index in np.ndindex(x.shape):
        xi = x[index]
        if method == "central":
            grad[index] = (at(xi + eps, index) - at(xi - eps, index)) / (2 * eps)
        elif method == "forward":
            grad[index] = (at(xi + eps, index) - f0) / eps
        else:
            grad[index] = (f0 - at(xi - eps, index)) / eps
    return float(grad[()]) if grad.ndim == 0 else grad


def relative_error(a, b):
    """Largest elementwise relative error ``|a - b| / max(1e-8, |a| + |b|)``.

    Parameters
    ----------
    a, b : float or ndarray of the same shape

    Returns
    -------
    float
        0 where ``a`` and ``b`` are equal; never NaN for finite inputs.

    Raises
    ------
    ValueError
        If ``a`` and ``b`` have different shapes or are empty.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(
            f"a and b must have the same shape, got {a.shape} and {b.shape} instead."
        )
    if a.size == 0:
        raise ValueError("a and b must not be empty.")
    diff = np.abs(a - b)  # (shape of a)
    scale = np.maximum(1e-8, np.abs(a) + np.abs(b))
    return float(np.max(diff / scale))


def gradient_checker(J, grad_J, theta, eps=1e-5, rtol=1e-6):
    """Compare an analytic gradient with central differences at every coordinate.

    Parameters
    ----------
    J : callable
        ``J(theta)`` returns a float.
    grad_J : callable
        ``grad_J(theta)`` returns the gradient, of the shape of ``theta``.
    theta : float or ndarray of any shape
        The point; never modified.
    eps : float, default=1e-5
        Step of the central differences, > 0.
    rtol : float, default=1e-6
        The largest relative error that passes.

    Returns
    -------
    ok : bool
        ``worst_error <= rtol``.
    worst_index : tuple of int
        Index into ``theta`` of the coordinate with the largest relative error
        (the first one in C order on ties); ``()`` for a scalar ``theta``.
    worst_error : float
        That relative error, ``|g - n| / max(1e-8, |g| + |n|)`` for the analytic
        component ``g`` and the numerical one ``n``.

    Raises
    ------
    ValueError
        If ``grad_J(theta)`` does not have the shape of ``theta``, or ``eps`` is
        not > 0.
    """
    theta = np.asarray(theta, dtype=float)
    analytic = np.asarray(grad_J(theta.copy() if theta.ndim else theta[()]),
                          dtype=float)
    if analytic.shape != theta.shape:
        raise ValueError(
            f"grad_J(theta) must have the shape of theta, {theta.shape}, got "
            f"{analytic.shape} instead."
        )
    numeric = np.asarray(numerical_gradient(J, theta, eps, method="central"))
    errors = np.abs(analytic - numeric) / np.maximum(
        1e-8, np.abs(analytic) + np.abs(numeric)
    )  # (shape of theta)
    flat = int(np.argmax(errors))  # the first maximum in C order
    worst_index = tuple(int(i) for i in np.unravel_index(flat, theta.shape))
    worst_error = float(errors[worst_index])
    return bool(worst_error <= rtol), worst_index, worst_error


def check_sparse(J, grad_J, theta, num_checks=10, rng=None):
    """Compare an analytic gradient with central differences at random coordinates.

    Like :func:`gradient_checker` with ``eps=1e-5`` and ``rtol=1e-6``, but only at
    ``num_checks`` coordinates drawn independently and uniformly (repeats allowed), so
    ``J`` is evaluated ``2 * num_checks`` times whatever the size of ``theta``.

    Parameters
    ----------
    J, grad_J : callable
        As in :func:`gradient_checker`.
    theta : float or ndarray of any shape
        The point; never modified.
    num_checks : int, default=10
        Number of coordinates to check, >= 1 (it may exceed ``theta.size``).
    rng : None, int or numpy.random.Generator, default=None
        Passed to `numpy.random.default_rng`: the same seed checks the same
        coordinates.

    Returns
    -------
    ok : bool
        ``worst_error <= 1e-6``.
    worst_index : tuple of int
        Index into ``theta`` of the checked coordinate with the largest relative
        error; ``()`` for a scalar ``theta``.
    worst_error : float
        That relative error.

    Raises
    ------
    ValueError
        If ``num_checks`` is not a positive integer or ``grad_J(theta)`` does not
        have the shape of ``theta``.
    """
    if (isinstance(num_checks, bool) or not isinstance(num_checks, numbers.Integral)
            or num_checks < 1):
        raise ValueError(
            f"num_checks must be a positive integer, got {num_checks!r} instead."
        )
    eps, rtol = 1e-5, 1e-6
    rng = np.random.default_rng(rng)
    x = np.array(theta, dtype=float)  # a copy, perturbed and restored below
    analytic = np.asarray(grad_J(x.copy() if x.ndim else x[()]), dtype=float)
    if analytic.shape != x.shape:
        raise ValueError(
            f"grad_J(theta) must have the shape of theta, {x.shape}, got "
            f"{analytic.shape} instead."
        )
    worst_index, worst_error = None, -1.0
    for _ in range(num_checks):
        index = tuple(int(rng.integers(n)) for n in x.shape)  # one per dimension
        old = x[index]
        x[index] = old + eps
        up = float(J(x if x.ndim else x[()]))
        x[index] = old - eps
        down = float(J(x if x.ndim else x[()]))
        x[index] = old
        numeric = (up - down) / (2 * eps)
        error = abs(analytic[index] - numeric) / max(
            1e-8, abs(analytic[index]) + abs(numeric)
        )
        if error > worst_error:
            worst_index, worst_error = index, float(error)
    return bool(worst_error <= rtol), worst_index, worst_error
