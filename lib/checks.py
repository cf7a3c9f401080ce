"""Checks used by the notebooks' test cells.

Every failing check raises ``AssertionError`` with one sentence that says what was
expected, never the inputs it used. The checks return ``None``: nbgrader reads a
number returned by the last line of a test cell as partial credit.

nbgrader gives zero to a test cell that writes anything to stderr, warnings included,
so the checks call student code through :func:`call`, which records warnings instead
of printing them.
"""

import contextlib
import warnings

import numpy as np


def call(fn, *args, forbid_warnings=False, what=None, **kwargs):
    """Call ``fn(*args, **kwargs)`` with warnings recorded instead of printed.

    Parameters
    ----------
    fn : callable
    *args, **kwargs
        Passed to ``fn``.
    forbid_warnings : bool, default=False
        If True, a warning raised by the call fails the check.
    what : str, optional
        How to name the call in the failure message (default: the function's name).

    Returns
    -------
    The value returned by ``fn``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    if forbid_warnings and caught:
        name = what or f"{getattr(fn, '__name__', 'the function')}()"
        first = caught[0]
        raise AssertionError(
            f"{name} raised a {first.category.__name__} ({first.message}); "
            "it must compute the same values without one."
        )
    return result


def check_close(actual, expected, *, rtol=1e-7, atol=0.0, what="the result", hint=""):
    """Check that ``actual`` matches ``expected`` in shape and value.

    Values match when ``|actual - expected| <= atol + rtol * |expected|`` elementwise
    (NaN never matches).

    Parameters
    ----------
    actual, expected : float or array_like
    rtol, atol : float
        Relative and absolute tolerance.
    what : str
        The quantity checked, as it should read in the message.
    hint : str
        A sentence a student can act on, appended to the message.
    """
    expected = np.asarray(expected, dtype=float)
    try:
        actual_arr = np.asarray(actual, dtype=float)
    except (TypeError, ValueError):
        _fail(f"{what} should be a number or an array of numbers, got "
              f"{type(actual).__name__}.", hint)
    if actual_arr.shape != expected.shape:
        _fail(f"{what} should have shape {expected.shape}, got {actual_arr.shape}.",
              hint)
    if not np.all(np.isfinite(actual_arr)) and np.all(np.isfinite(expected)):
        _fail(f"{what} contains inf or NaN where finite values are expected.", hint)
    err = np.abs(actual_arr - expected)
    bad = ~(err <= atol + rtol * np.abs(expected))
    if np.any(bad):
        rel = np.max(err / np.maximum(np.abs(expected), np.finfo(float).tiny))
        _fail(f"{what} is off: {int(bad.sum())} of {bad.size} values differ from the "
              f"expected ones (largest relative error {rel:.1e}, tolerance "
              f"rtol={rtol:g}, atol={atol:g}).", hint)


def check_equal(actual, expected, *, what="the result", hint=""):
    """Check exact equality of arrays of integers or labels, shape included."""
    actual_arr, expected = np.asarray(actual), np.asarray(expected)
    if actual_arr.shape != expected.shape:
        _fail(f"{what} should have shape {expected.shape}, got {actual_arr.shape}.",
              hint)
    wrong = int(np.sum(actual_arr != expected))
    if wrong:
        _fail(f"{what} is off: {wrong} of {expected.size} values differ from the "
              "expected ones.", hint)


def check_dtype(actual, kind, *, what="the result", hint=""):
    """Check that ``actual`` is an array whose dtype is a sub-type of ``kind``.

    ``kind`` is a NumPy abstract type such as ``np.integer`` or ``np.floating``.
    """
    dtype = np.asarray(actual).dtype
    if not np.issubdtype(dtype, kind):
        _fail(f"{what} should have a dtype of kind {kind.__name__}, got {dtype}.",
              hint)


def check(condition, message, hint=""):
    """Fail with ``message`` (and ``hint``) unless ``condition`` holds."""
    if not condition:
        _fail(message, hint)


@contextlib.contextmanager
def substituted(namespace, **replacements):
    """Temporarily replace names in ``namespace`` (a notebook's ``globals()``).

    Hidden tests use it to check one function with the other graded functions it may
    call replaced by references, so one mistake costs the points of one problem.
    """
    missing = object()
    saved = {name: namespace.get(name, missing) for name in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def passed(name):
    """Print that the public checks of ``name`` passed; hidden tests decide grades."""
    print(f"{name}: public checks passed.")


def _fail(message, hint):
    raise AssertionError(f"{message} {hint}".strip())
