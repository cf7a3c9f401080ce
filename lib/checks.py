"""Checks used by the notebooks' test cells.

Every failing check raises ``AssertionError`` with one sentence that says what was
expected, never the inputs it used. The checks return ``None``: nbgrader reads a
number returned by the last line of a test cell as partial credit.

nbgrader gives zero to a test cell that writes anything to stderr, warnings included,
so the checks call student code through :func:`call`, which records warnings instead
of printing them. :func:`call` also owns the inputs: the function gets copies, so no
expected value a test computes can depend on what the function did to its arguments,
and a change it makes to one fails the check unless the contract asks for it. The
references a test lends with :func:`substituted` are counted during each
:func:`call`, so that they cannot be made to compute the answer.

Hidden test cells (``test_<function>``, the points) use the checks as they are: a
failure raises, and nbgrader scores the cell zero. Public check cells
(``check_<function>``, 0 points) wrap the same checks in :func:`public`, which turns
the outcome into one printed line, either ``<function>: public checks passed.`` or a
one-sentence hint, and records it for :func:`summary`, the last cell of a notebook.

A public check that fails prints its hint and ends the cell *without* an error.
Students see the sentence they need instead of a traceback, and *Restart and Run All*
goes on to the later cells and to the summary, which lists every function whose
checks do not pass yet; an error would stop the run at the first one. The cells are
worth 0 points, so grades are the same either way. The exception is nbgrader's
*Validate* button, which looks for errors only and would otherwise report "Success!"
for a notebook whose public checks fail: while nbgrader validates
(``NBGRADER_VALIDATING=1`` in the kernel's environment), a failing public check
raises `PublicCheckFailed`, shown as its one-sentence hint alone.
"""

import contextlib
import copy
import os
import time
import types
import warnings

import numpy as np

# Names the grader (the course kit) uses to reach these checks; the kit declares the
# same ones in kit.course, and a test proves them equal.
#: Global of a hidden test's namespace: the grader's hook that makes a substitution
#: in the student's kernel too (:func:`substituted`).
SUBSTITUTE_HOOK = "__kit_substitute__"
#: Method of a student function that runs in another process: it returns the value
#: with the array arguments as the call left them (:func:`call`).
CALL_HOOK = "kit_call"
#: Class attribute of a check's exception: the flag a failure raises in the report.
FLAG_ATTRIBUTE = "kit_flag"

#: Outcome of the public checks run in this kernel: function name -> (passed,
#: what to show in the summary). Filled by `public` and `passed`, read by `summary`.
_public_results = {}

#: Functions found still stubs by `given`, for the cells after it.
_not_written = set()

# The body of every stub in a release notebook (nbgrader's code stub).
_STUB = "raise NotImplementedError()"


def call(fn, *args, forbid_warnings=False, what=None, updates=(), lent_budget=None,
         **kwargs):
    """Call ``fn(*args, **kwargs)`` on copies of the arguments, with warnings
    recorded instead of printed.

    Whatever ``fn`` does to its arguments, the caller's values, and so every expected
    value a test computes from them, stay as they were. An argument that ``fn``
    changes in place fails the check, unless ``updates`` names it: the contract
    asks for that update (an epoch of SGD updates its weights), and the caller's
    array then takes the new values, to be compared with the reference's update of
    the same start.

    Parameters
    ----------
    fn : callable
    *args, **kwargs
        Passed to ``fn`` as copies (arrays, and lists, tuples and dicts of them;
        a random generator is copied too, so the caller's does not advance).
    forbid_warnings : bool, default=False
        If True, a warning raised by the call fails the check.
    what : str, optional
        How to name the call in the failure message (default: the function's name).
    updates : tuple of int or str, default=()
        Positions (in ``args``) and names (in ``kwargs``) of the array arguments
        the contract lets ``fn`` update in place.
    lent_budget : int, optional
        How many array elements, in all, ``fn`` may pass to the functions lent to
        it by `substituted` during this call: about what computing its result from
        the formula needs. A call over it fails as `LentOveruse` (the lent
        functions were made to do the work, by finite differences around them).

    Returns
    -------
    The value returned by ``fn``.
    """
    name = what or f"{getattr(fn, '__name__', 'the function')}()"
    copies = [_copy(a) for a in args]
    kwcopies = {k: _copy(v) for k, v in kwargs.items()}
    saved = _Lent.start(lent_budget, name)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            runner = getattr(fn, CALL_HOOK, None)
            try:
                if runner is not None:  # a function in a sandboxed kernel
                    result, after, kwafter = runner(copies, kwcopies)
                else:
                    result = fn(*copies, **kwcopies)
                    after, kwafter = copies, kwcopies
            except Exception:
                if _Lent.overuse:  # what the function raised came of it
                    raise LentOveruse(_Lent.overuse) from None
                raise
        overuse = _Lent.overuse
    finally:
        _Lent.stop(saved)
    if overuse:  # even if the function caught the error its lent call raised
        raise LentOveruse(overuse)
    if forbid_warnings and caught:
        first = caught[0]
        detail = f" ({first.message})" if str(first.message) else ""
        raise AssertionError(
            f"{name} raised a {first.category.__name__}{detail}; "
            "it must compute the same values without one."
        )
    for key, before in [*enumerate(args), *kwargs.items()]:
        now = after[key] if isinstance(key, int) else kwafter.get(key)
        _settle(name, key, before, now, key in updates)
    return result


class InPlaceChange(AssertionError):
    """A function changed an argument its contract says it leaves as it is: a
    failed check like any other (an honest slip as often as an attack), so it is
    not flagged."""


class LentOveruse(AssertionError):
    """A function made the functions lent to it do far more work than its
    contract needs, or passed them more than any call of theirs may take."""

    # The grader notes such a failure in the grading report, with this kind.
    kit_flag = "cheat"


def _ordinal(key):
    if isinstance(key, str):
        return f"argument {key}"
    words = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh")
    return f"{words[key] if key < len(words) else f'{key + 1}th'} argument"


def _copy(value):
    """A copy of an argument that the called function cannot reach through."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, np.random.Generator):
        return copy.deepcopy(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _elements(value):
    """How many array elements ``value`` holds, in arrays, lists, tuples, dicts."""
    if isinstance(value, np.ndarray):
        return value.size
    if isinstance(value, (list, tuple)):
        return sum(map(_elements, value))
    if isinstance(value, dict):
        return sum(map(_elements, value.values()))
    return 0


def _same(a, b):
    """Whether argument value ``b`` is still ``a`` (arrays compared by value)."""
    if isinstance(a, np.ndarray):
        if not isinstance(b, np.ndarray) or a.shape != b.shape or a.dtype != b.dtype:
            return False
        try:
            return bool(np.array_equal(a, b, equal_nan=True))
        except TypeError:  # no NaN in this dtype
            return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)):
        return (isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(_same(a[k], b[k]) for k in a))
    return True  # scalars, functions, generators: nothing to compare


def _settle(name, key, before, after, update):
    """Check what the call did to one argument; apply an update it may make."""
    if update:
        if not (isinstance(after, np.ndarray) and isinstance(before, np.ndarray)
                and after.shape == before.shape):
            raise InPlaceChange(f"{name} should update its {_ordinal(key)} in place, "
                                "keeping its shape.")
        before[...] = after
    elif after is not None and not _same(before, after):
        raise InPlaceChange(
            f"{name} changed its {_ordinal(key)} in place; it must leave its inputs "
            "unchanged (work on a copy, or build a new array)."
        )


class _Lent:
    """A function lent to the code under test by `substituted`, counting the array
    elements it is given during one `call` and bounding each of its calls."""

    # Per lent call: elements in its arguments and in its result, and seconds.
    MAX_ELEMENTS = 20_000_000
    MAX_SECONDS = 30.0
    _budget, _name = None, "the code under test"
    _used = 0
    overuse = None  # the first overuse during the current call, as a message

    def __init__(self, fn, name):
        self.fn, self.__name__ = fn, name
        self.__qualname__ = name

    @classmethod
    def start(cls, budget, name):
        """Count from zero for a call of ``name``; return the state to restore."""
        saved = cls._budget, cls._name, cls._used, cls.overuse
        cls._budget, cls._name, cls._used, cls.overuse = budget, name, 0, None
        return saved

    @classmethod
    def stop(cls, saved):
        cls._budget, cls._name, cls._used, cls.overuse = saved

    def _refuse(self, message):
        if _Lent.overuse is None:
            _Lent.overuse = message
        raise LentOveruse(message)

    def __call__(self, *args, **kwargs):
        size = _elements([args, kwargs]) or 1
        if size > self.MAX_ELEMENTS:
            self._refuse(f"{_Lent._name} passed more than {self.MAX_ELEMENTS:,} "
                              f"values to {self.__name__} in one call.")
        _Lent._used += size
        if _Lent._budget is not None and _Lent._used > _Lent._budget:
            self._refuse(
                f"{_Lent._name} made {self.__name__} and the other functions lent to "
                "it do far more work than its computation needs (as finite "
                "differences around them would); compute the result from its "
                "formula.")
        start = time.perf_counter()
        try:
            result = self.fn(*args, **kwargs)
        except MemoryError:
            self._refuse(f"{_Lent._name} made {self.__name__} run out of memory.")
        if _elements(result) > self.MAX_ELEMENTS:
            self._refuse(f"{_Lent._name} made {self.__name__} return more than "
                              f"{self.MAX_ELEMENTS:,} values.")
        if time.perf_counter() - start > self.MAX_SECONDS:
            self._refuse(f"{_Lent._name} made one call of {self.__name__} run "
                              f"longer than {self.MAX_SECONDS:g} s.")
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


def check_scalar(actual, *, what="the result", hint=""):
    """Check that ``actual`` is a number (a float or a NumPy scalar), not an array:
    a 0-d array looks like a number but is not one."""
    if np.ndim(actual) or isinstance(actual, np.ndarray):
        kind = (f"an array of shape {np.shape(actual)}"
                if isinstance(actual, np.ndarray) else type(actual).__name__)
        _fail(f"{what} should be a scalar (a float), got {kind}.",
              hint or "out[()] turns a 0-d array into a NumPy scalar.")


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

    When the grader runs hidden tests outside the student's kernel, the namespace
    holds its hook (:data:`SUBSTITUTE_HOOK`), which makes the same replacement in the
    kernel, where the student's functions look these names up.
    """
    replacements = {name: _lend(value, name) for name, value in replacements.items()}
    missing = object()
    saved = {name: namespace.get(name, missing) for name in replacements}
    namespace.update(replacements)
    remote = namespace.get(SUBSTITUTE_HOOK)
    try:
        with remote(replacements) if remote else contextlib.nullcontext():
            yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def _lend(value, name):
    """``value`` counted as a lent function (`_Lent`), if it is a plain function."""
    if (callable(value) and not isinstance(value, (type, types.ModuleType))
            and getattr(value, CALL_HOOK, None) is None):
        return _Lent(value, name)
    return value


class PublicCheckFailed(AssertionError):
    """A failed public check while nbgrader validates the notebook."""

    def _render_traceback_(self):
        # IPython shows this instead of a traceback: the hint is all students need.
        return [str(self)]


def passed(name):
    """Print and record that the public checks of ``name`` passed."""
    _public_results[name] = (True, "passed")
    print(f"{name}: public checks passed.")


@contextlib.contextmanager
def public(name):
    """Run the public checks of the function ``name`` and print one line.

    The line is ``<name>: public checks passed.`` when the body ends normally, and
    otherwise a one-sentence hint: the function is not written yet, a check's
    message, or the error the function raised and where. The cell then ends without
    an error (see the module docstring: under nbgrader's Validate it raises
    `PublicCheckFailed`); the outcome is recorded for `summary`.

    Examples
    --------
    >>> with public("double"):
    ...     check_close(call(lambda x: 2 * x, 1.5), 3.0, what="double(1.5)")
    double: public checks passed.
    >>> with public("double"):
    ...     check(call(lambda x: x + 2, 1.5) == 3.0, "double(1.5) should be 3.0.")
    double: double(1.5) should be 3.0.
    >>> with public("double"):
    ...     call(lambda x: x / 0, 1.5)
    double raised ZeroDivisionError (float division by zero).
    """
    _public_results.pop(name, None)  # interrupted: shown as not run
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - every failure becomes a hint
        status, line = _hint(name, exc)
        _public_results[name] = (False, status)
        if os.environ.get("NBGRADER_VALIDATING") == "1":
            raise PublicCheckFailed(line) from None
        print(line)
    else:
        passed(name)


def summary(names=()):
    """Print which functions pass their public checks in this kernel, as a table.

    Parameters
    ----------
    names : sequence of str
        The functions with a public check cell, in notebook order; a function whose
        cell has not run is listed as not run. Functions checked in this kernel but
        missing from ``names`` follow.
    """
    names = list(names) + [n for n in _public_results if n not in names]
    rows = [(n, *_public_results.get(n, (False, "not run: run its check cell"))) for
            n in names]
    width = max((len(n) for n in names), default=0)
    n_passed = sum(ok for _, ok, _ in rows)
    print(f"Public checks passed for {n_passed} of {len(rows)} functions:")
    for name, ok, status in rows:
        print(f"  {'✓' if ok else '✗'} {name:<{width}}  {status}")
    print("Hidden tests with other inputs decide the grade: passing the public "
          "checks is a good sign, not a score.")


@contextlib.contextmanager
def given():
    """Run given code that calls the student's functions, and let *Run All* go on
    while one of them is not written yet.

    A function that is still its stub (``raise NotImplementedError()``) ends the
    block with one printed line naming it, instead of an error that would stop the
    run before the summary. So does a name the block needs that an earlier such cell
    could not compute. Any other error is raised as usual.

    Examples
    --------
    >>> def train():
    ...     raise NotImplementedError()
    >>> with given():
    ...     theta = train()
    This cell needs train, which is not written yet.
    >>> with given():
    ...     print(theta)
    This cell needs theta, which a cell above could not compute: write train first.
    """
    try:
        yield
    except NotImplementedError as exc:
        if exc.args:  # raised by the code itself, not by a stub
            raise
        name = _innermost(exc.__traceback__).tb_frame.f_code.co_name
        _not_written.add(name)
        print(f"This cell needs {name}, which is not written yet.")
    except NameError as exc:
        if not _not_written or exc.name is None:
            raise
        print(f"This cell needs {exc.name}, which a cell above could not compute: "
              f"write {', '.join(sorted(_not_written))} first.")


def _hint(name, exc):
    """``(status, line)``: the failure ``exc`` of the public checks of ``name`` as a
    short status for the summary and a one-sentence hint to print."""
    text = _first_line(exc)
    if isinstance(exc, AssertionError) and text:  # a check's one sentence
        return f"failed: {text}", f"{name}: {text}"
    raiser = _innermost(exc.__traceback__).tb_frame.f_code.co_name
    if type(exc) is NotImplementedError and not exc.args:  # a stub: nothing written
        if raiser == name:
            return ("not written yet", f"{name} is not written yet: replace "
                    f"`{_STUB}` with your code.")
        return (f"needs {raiser}, which is not written yet",
                f"{name}: its check needs {raiser}, which is not written yet: "
                f"write {raiser} first.")
    error = type(exc).__name__ + (f" ({text})" if text else "")
    entry = _innermost(exc.__traceback__, notebook=True)
    if entry is None:
        return f"raised {error}", f"{name} raised {error}."
    where = entry.tb_frame.f_code.co_name
    if where == "<module>":  # in the check cell itself, on what the function gave
        return (f"its check stopped on {error}",
                f"{name}: the check stopped on {error}: look at what {name} returns.")
    place = (f"at line {entry.tb_lineno} of its cell" if where == name
             else f"in {where}, line {entry.tb_lineno} of its cell")
    return f"raised {error} {place}", f"{name} raised {error} {place}."


def _innermost(tb, notebook=False):
    """The innermost entry of traceback ``tb``; with ``notebook``, the innermost
    entry in code run as a notebook cell (whose globals are ``__main__``), or None.
    """
    found = None
    while tb is not None:
        if not notebook or tb.tb_frame.f_globals.get("__name__") == "__main__":
            found = tb
        tb = tb.tb_next
    return found


def _first_line(exc, limit=200):
    """The first line of an exception's message, at most ``limit`` characters."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
