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
    actual_arr = _real_array(actual, what, hint)
    if actual_arr.shape != expected.shape:
        _fail(f"{what} should have shape {expected.shape}, got {actual_arr.shape}.",
              hint)
    # np.isclose: equal infinities match, NaN never does, and no warning is raised.
    bad = ~np.isclose(actual_arr, expected, rtol=rtol, atol=atol)
    if not np.any(bad):
        return
    if not np.all(np.isfinite(actual_arr[bad])) and np.all(np.isfinite(expected[bad])):
        _fail(f"{what} contains inf or NaN where finite values are expected.", hint)
    with np.errstate(all="ignore"):
        err = np.abs(actual_arr - expected)[bad]
        rel = err / np.abs(expected)[bad]
    if np.any(np.isfinite(rel)):
        size = f"largest relative error {np.max(rel[np.isfinite(rel)]):.1e}"
    elif np.any(np.isfinite(err)):  # the expected values are zero
        size = f"largest error {np.max(err[np.isfinite(err)]):.1e}"
    else:
        size = "infinite values expected"
    tolerance = f"tolerance rtol={rtol:g}, atol={atol:g}"
    if bad.size == 1:
        _fail(f"{what} differs from the expected value ({size}, {tolerance}).", hint)
    _fail(f"{what} is off: {int(bad.sum())} of {bad.size} values differ from the "
          f"expected ones ({size}, {tolerance}).", hint)


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
        name = getattr(kind, "__name__", str(kind))
        _fail(f"{what} should have a dtype of kind {name}, got {dtype}.", hint)


def check(condition, message, hint=""):
    """Fail with ``message`` (and ``hint``) unless ``condition`` holds (for an
    array, unless every element holds)."""
    if not np.all(condition):
        _fail(message, hint)


def check_raises(fn, *args, exception=ValueError, match="", what=None, hint="",
                 **kwargs):
    """Check that ``fn(*args, **kwargs)`` raises ``exception`` whose message
    contains ``match``."""
    name = what or f"{getattr(fn, '__name__', 'the function')}()"
    try:
        call(fn, *args, **kwargs)
    except exception as exc:
        if match not in str(exc):
            _fail(f"{name} raised {exception.__name__}, but its message should "
                  f"mention {match!r}.", hint)
    except Exception as exc:  # noqa: BLE001 - any other error is the failure
        _fail(f"{name} should raise {exception.__name__}, got "
              f"{type(exc).__name__}.", hint)
    else:
        _fail(f"{name} should raise {exception.__name__} and did not.", hint)


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


def _real_array(value, what, hint):
    """``value`` as a float array, or a failed check saying what it was instead."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = np.asarray(None)
    if arr.dtype.kind == "c":
        _fail(f"{what} should be real, got complex values.", hint)
    if arr.dtype.kind not in "biuf" or isinstance(value, (str, bytes)):
        missing = " (is a return statement missing?)" if value is None else ""
        _fail(f"{what} should be a number or an array of numbers, got "
              f"{type(value).__name__}{missing}.", hint)
    return arr.astype(float)


def _fail(message, hint):
    raise AssertionError(f"{message} {hint}".strip())
