"""Tests for lib.checks: the assertion helpers of the notebooks' test cells.

A failing check raises AssertionError with one sentence; a passing check returns
None (nbgrader would read a returned number as partial credit); nothing a check
does may reach stderr (nbgrader gives zero to a test cell that writes there).
"""

import ast
import re
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest

from kit.course import nbgrader_meta, tool_env
from lib import checks

REPO = Path(__file__).resolve().parents[1]


def assert_one_sentence(message):
    """The message ends with a full stop and has no other sentence boundary."""
    assert message.endswith("."), message
    assert not re.search(r"[.!?]\s+[A-Z]", message), message


def failure(fn, *args, match, **kwargs):
    """Call a check that must fail; return its message after pinning it."""
    with pytest.raises(AssertionError, match=match) as info:
        fn(*args, **kwargs)
    return str(info.value)


def noisy(x, scale=1.0):
    """Return x * scale after a UserWarning."""
    warnings.warn("careful", UserWarning, stacklevel=2)
    return x * scale


# --- every check returns None ----------------------------------------------------


@pytest.mark.parametrize("passing_check", [
    lambda: checks.check_close(np.ones(3), np.ones(3)),
    lambda: checks.check_close(1.0, 1.0 + 1e-9),
    lambda: checks.check_equal([0, 1, 1], np.array([0, 1, 1])),
    lambda: checks.check_dtype(np.arange(3), np.integer),
    lambda: checks.check(True, "never shown."),
    lambda: checks.passed("sigmoid"),
], ids=["check_close", "check_close_scalar", "check_equal", "check_dtype", "check",
        "passed"])
def test_every_passing_check_returns_none(passing_check):
    """Would nbgrader read anything but None as partial credit? It must not."""
    assert passing_check() is None


def test_substituted_yields_none():
    with checks.substituted({}, f=len) as value:
        assert value is None


# --- check_close -----------------------------------------------------------------


def test_check_close_passes_on_equal_arrays_and_scalars():
    checks.check_close(np.array([[1.0, -2.0], [0.0, 3.5]]), [[1.0, -2.0], [0.0, 3.5]])
    checks.check_close(np.float64(2.0), 2)
    checks.check_close([1, 2], np.array([1.0, 2.0]))  # lists and ints are numbers


def test_check_close_fails_on_shape_mismatch():
    message = failure(
        checks.check_close, np.zeros(2), np.zeros(3), what="the gradient",
        match=re.escape("the gradient should have shape (3,), got (2,)."),
    )
    assert_one_sentence(message)


def test_check_close_fails_on_a_scalar_where_an_array_is_expected():
    failure(checks.check_close, 1.0, np.ones(1),
            match=re.escape("the result should have shape (1,), got ()."))


@pytest.mark.parametrize("actual, type_name", [("half", "str"), ({"p": 0.5}, "dict"),
                                               ([[0.5], [0.5, 0.5]], "list")])
def test_check_close_fails_on_something_that_is_not_a_number(actual, type_name):
    message = failure(
        checks.check_close, actual, 0.5,
        match=re.escape("the result should be a number or an array of numbers, "
                        f"got {type_name}."),
    )
    assert_one_sentence(message)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_close_fails_on_nan_or_inf_where_finite_values_are_expected(bad):
    message = failure(
        checks.check_close, np.array([0.5, bad]), np.array([0.5, 0.25]),
        what="sigmoid(z)",
        match=re.escape("sigmoid(z) contains inf or NaN where finite values are "
                        "expected."),
    )
    assert_one_sentence(message)


def test_check_close_never_matches_nan():
    failure(checks.check_close, np.nan, np.nan,
            match="the result differs from the expected value")


@pytest.mark.parametrize("actual", [5.0, 3.0, 4.0])
def test_check_close_passes_just_inside_the_tolerance(actual):
    """Does |actual - expected| == atol + rtol*|expected| pass? (4 +- 1 here.)"""
    assert checks.check_close(actual, 4.0, rtol=0.125, atol=0.5) is None


@pytest.mark.parametrize("actual", [np.nextafter(5.0, np.inf),
                                    np.nextafter(3.0, -np.inf)])
def test_check_close_fails_just_outside_the_tolerance(actual):
    """Does one ulp beyond atol + rtol*|expected| fail? (4 +- 1 here.)"""
    message = failure(
        checks.check_close, actual, 4.0, rtol=0.125, atol=0.5,
        match=re.escape(
            "the result differs from the expected value "
            "(largest relative error 2.5e-01, tolerance rtol=0.125, atol=0.5)."
        ),
    )
    assert_one_sentence(message)


def test_check_close_applies_the_tolerance_elementwise():
    expected = np.array([4.0, -4.0, 100.0])
    checks.check_close(np.array([5.0, -3.0, 100.0]), expected, rtol=0.125, atol=0.5)
    failure(checks.check_close, np.array([5.0, -5.5, 100.0]), expected,
            rtol=0.125, atol=0.5, match="is off: 1 of 3 values differ")


def test_check_close_default_tolerance_is_rtol_1e_7():
    checks.check_close(1.0 + 5e-8, 1.0)
    failure(checks.check_close, 1.0 + 2e-7, 1.0,
            match=re.escape("tolerance rtol=1e-07, atol=0)."))


def test_check_close_message_does_not_reveal_the_values():
    message = failure(checks.check_close, np.array([123.456]), np.array([7.25]),
                      match="differs from the expected value")
    assert "123.456" not in message and "7.25" not in message


def test_check_close_appends_the_hint():
    failure(checks.check_close, 2.0, 1.0, what="the loss",
            hint="Did you take the mean rather than the sum?",
            match=r"^the loss differs from the expected value .*\)\. Did you take the "
                  r"mean rather than the "
                  r"sum\?$")


# Edge cases: zero and infinite expected values, complex values, a missing return.


def test_check_close_fails_without_a_warning_when_expected_is_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        failure(checks.check_close, 5.0, 0.0, match="differs from the expected value")


def test_check_close_fails_on_a_finite_value_where_inf_is_expected():
    failure(checks.check_close, 1.0, np.inf, match="differs from the expected value")


def test_check_close_passes_on_matching_infinities_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checks.check_close(np.array([np.inf, 1.0]), np.array([np.inf, 1.0]))


def test_check_close_rejects_complex_values_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        failure(checks.check_close, np.array([1.0 + 1.0j]), np.array([1.0]),
                match="should be real, got complex values")


def test_check_close_reports_none_as_not_a_number():
    failure(checks.check_close, None, 0.5,
            match=re.escape("should be a number or an array of numbers, got "
                            "NoneType (is a return statement missing?)."))


# --- check_equal -----------------------------------------------------------------


def test_check_equal_passes_on_equal_labels():
    checks.check_equal(np.array([0, 1, 1, 0]), [0, 1, 1, 0])
    checks.check_equal(np.array(["cat", "dog"]), ["cat", "dog"])


def test_check_equal_fails_on_shape_mismatch():
    message = failure(
        checks.check_equal, np.array([[0, 1]]), np.array([0, 1]), what="predict(X)",
        match=re.escape("predict(X) should have shape (2,), got (1, 2)."),
    )
    assert_one_sentence(message)


def test_check_equal_counts_the_differing_values():
    message = failure(
        checks.check_equal, np.array([0, 1, 0, 0]), np.array([0, 1, 1, 1]),
        match=re.escape("the result is off: 2 of 4 values differ from the expected "
                        "ones."),
    )
    assert_one_sentence(message)


def test_check_equal_has_no_tolerance():
    failure(checks.check_equal, np.array([1.0 + 1e-15]), np.array([1.0]),
            match="1 of 1 values differ")


# --- check_dtype -----------------------------------------------------------------


@pytest.mark.parametrize("actual, kind", [
    (np.array([0, 1], dtype=np.int64), np.integer),
    (np.array([0, 1], dtype=np.int32), np.integer),
    (np.array([0.5]), np.floating),
    (np.float32(1.0), np.floating),
])
def test_check_dtype_passes_on_a_subtype_of_the_kind(actual, kind):
    checks.check_dtype(actual, kind)


@pytest.mark.parametrize("actual, got", [
    (np.array([True, False]), "bool"),
    (np.array([0.0, 1.0]), "float64"),
])
def test_check_dtype_fails_on_another_kind(actual, got):
    message = failure(
        checks.check_dtype, actual, np.integer, what="predict(X)",
        match=re.escape(f"predict(X) should have a dtype of kind integer, got {got}."),
    )
    assert_one_sentence(message)


# --- check -----------------------------------------------------------------------


@pytest.mark.parametrize("condition", [True, 1, np.True_])
def test_check_passes_when_the_condition_holds(condition):
    checks.check(condition, "never shown.")


def test_check_fails_with_the_message_and_the_hint():
    failure(checks.check, False, "losses should decrease.",
            match=r"^losses should decrease\.$")
    failure(checks.check, np.False_, "losses should decrease.", hint="Lower eta.",
            match=r"^losses should decrease\. Lower eta\.$")


# --- call ------------------------------------------------------------------------


def test_call_passes_arguments_and_returns_the_value():
    assert checks.call(noisy, 3, scale=2.0) == 6.0
    assert checks.call(lambda: None) is None


def test_call_records_warnings_instead_of_showing_them(recwarn, capsys):
    """Does a warning raised inside call escape to pytest's record or stderr?"""
    assert checks.call(noisy, 2.0) == 2.0
    assert checks.call(np.exp, 1000.0) == np.inf  # RuntimeWarning: overflow
    assert len(recwarn) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    # Control: without call the same warning is seen, so the test is not vacuous.
    noisy(2.0)
    assert [w.category for w in recwarn] == [UserWarning]


def test_call_writes_nothing_to_stderr_in_a_fresh_interpreter():
    """Does a warning inside call reach a real stderr, as in a notebook kernel?"""
    script = textwrap.dedent("""
        import warnings
        import numpy as np
        from lib import checks
        checks.call(np.exp, 1000.0)
        checks.call(warnings.warn, "careful")
        print("done")
    """)
    result = subprocess.run([sys.executable, "-W", "default", "-c", script],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert result.stderr == ""
    control = subprocess.run(
        [sys.executable, "-W", "default", "-c", "import warnings; warnings.warn('x')"],
        capture_output=True, text=True, timeout=60,
    )
    assert "UserWarning" in control.stderr


def test_call_with_forbid_warnings_fails_naming_the_warning_class():
    message = failure(
        checks.call, noisy, 2.0, forbid_warnings=True,
        match=re.escape("noisy() raised a UserWarning (careful); it must compute the "
                        "same values without one."),
    )
    assert_one_sentence(message)


def test_call_with_forbid_warnings_names_a_numpy_runtime_warning():
    failure(checks.call, np.exp, np.array([1000.0]), forbid_warnings=True,
            match=re.escape("exp() raised a RuntimeWarning (overflow encountered in "
                            "exp)"))


def test_call_with_forbid_warnings_uses_what_as_the_name():
    failure(checks.call, noisy, 1.0, forbid_warnings=True, what="sigmoid(z)",
            match=r"^sigmoid\(z\) raised a UserWarning")


def test_call_with_forbid_warnings_catches_a_warning_raised_before():
    """Is a warning already shown once (and so deduplicated by Python) still caught?"""
    for _ in range(3):
        failure(checks.call, noisy, 1.0, forbid_warnings=True, match="UserWarning")


def test_call_with_forbid_warnings_passes_without_a_warning():
    assert checks.call(np.exp, 1.0, forbid_warnings=True) == np.exp(1.0)


def test_call_lets_exceptions_of_the_function_through():
    with pytest.raises(ZeroDivisionError):
        checks.call(lambda: 1 / 0, forbid_warnings=True)


# --- substituted -----------------------------------------------------------------


def test_substituted_replaces_names_inside_and_restores_them_after():
    namespace = {"sigmoid": "student", "loss": "student loss", "other": 1}
    with checks.substituted(namespace, sigmoid="reference", predict="new"):
        assert namespace == {"sigmoid": "reference", "loss": "student loss",
                             "other": 1, "predict": "new"}
    assert namespace == {"sigmoid": "student", "loss": "student loss", "other": 1}


def test_substituted_removes_names_that_did_not_exist_before():
    namespace = {}
    with checks.substituted(namespace, loss_grad=len):
        assert namespace["loss_grad"]([1, 2]) == 2  # len, counted as lent
        assert namespace["loss_grad"].fn is len
    assert "loss_grad" not in namespace


# --- call: the arguments are the caller's, and lent functions are counted ---------


def zero_inputs(z, theta=None):
    """A cheat: returns 0.5 and sets its inputs to where 0.5 is the right answer."""
    z[...] = 0.0
    if theta is not None:
        theta[...] = 0.0
    return np.full(z.shape, 0.5)


def test_the_function_gets_copies_so_expected_values_stay_honest():
    """Is a reference computed after the call still computed on the test's input,
    whatever the function did to its copy?"""
    z = np.array([-3.0, 2.0, 5.0])
    with pytest.raises(checks.InPlaceChange, match="changed its first argument in "
                                                   "place"):
        checks.call(zero_inputs, z)
    np.testing.assert_array_equal(z, [-3.0, 2.0, 5.0])
    theta = np.ones(2)
    with pytest.raises(checks.InPlaceChange, match="argument theta"):
        checks.call(lambda z, theta: theta.fill(3.0), z, theta=theta)
    np.testing.assert_array_equal(theta, [1.0, 1.0])


def test_an_update_the_contract_asks_for_reaches_the_caller():
    theta, X = np.zeros(3), np.arange(3.0)

    def epoch(X, theta):
        theta -= X

    assert checks.call(epoch, X, theta, updates=(1,)) is None
    np.testing.assert_array_equal(theta, [0.0, -1.0, -2.0])
    with pytest.raises(checks.InPlaceChange, match="first argument"):
        checks.call(lambda X, theta: X.fill(0.0), X, theta, updates=(1,))
    with pytest.raises(checks.InPlaceChange, match="keeping its shape"):
        checks.call(lambda X, theta: None, X, [1.0], updates=(1,))


def test_values_lists_and_generators_are_copied_and_nan_is_no_change():
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    nan = np.array([np.nan, 1.0])
    assert checks.call(lambda r, a, items: r.normal() + a.sum() * 0, rng, nan,
                       [np.ones(2)]) is not None
    assert rng.bit_generator.state == state  # the caller's generator did not move
    with pytest.raises(checks.InPlaceChange, match="third argument"):
        checks.call(lambda r, a, items: items[0].fill(2.0), rng, nan, [np.ones(2)])
    assert checks.call(len, "text") == 4  # strings and other values pass as they are


def central_difference_grad(theta, X, y, sigmoid):
    """A cheat: the gradient of the loss by finite differences of the lent sigmoid."""
    grad = np.zeros_like(theta)
    for j in range(theta.size):
        step = np.zeros_like(theta)
        step[j] = 1e-6
        up, down = sigmoid(X @ (theta + step)), sigmoid(X @ (theta - step))
        grad[j] = np.mean(np.log(up / down) * (2 * y - 1)) / 2e-6
    return grad


def test_finite_differences_around_a_lent_function_break_the_budget():
    """Is a function that makes a lent reference do its work failed, while one that
    uses it as the formula needs passes, vectorised or in a loop?"""
    from lib import logistic as ref

    rng = np.random.default_rng(0)
    X, y, theta = rng.normal(size=(50, 4)), rng.integers(0, 2, 50), rng.normal(size=4)
    namespace = {}
    with checks.substituted(namespace, sigmoid=ref.sigmoid):
        lent = namespace["sigmoid"]
        honest = checks.call(lambda t, X, y: X.T @ (lent(X @ t) - y) / len(y), theta,
                             X, y, lent_budget=4 * 50 + 4)
        np.testing.assert_allclose(honest, ref.loss_grad(theta, X, y))
        looped = checks.call(
            lambda t, X, y: sum(x * (lent(np.array([x @ t]))[0] - v)
                                for x, v in zip(X, y, strict=True)) / len(y),
            theta, X, y, lent_budget=4 * 50 + 4)
        np.testing.assert_allclose(looped, honest)
        with pytest.raises(checks.LentOveruse, match="far more work"):
            checks.call(central_difference_grad, theta, X, y, lent,
                        lent_budget=4 * 50 + 4)


def test_an_overuse_the_function_catches_still_fails():
    namespace = {}
    with checks.substituted(namespace, f=np.sum):
        lent = namespace["f"]

        def swallow(x):
            for _ in range(10):
                try:
                    lent(x)
                except AssertionError:
                    pass
            return 1.0
        with pytest.raises(checks.LentOveruse):
            checks.call(swallow, np.ones(10), lent_budget=25)
        assert checks.call(swallow, np.ones(10)) == 1.0  # no budget: no limit


def test_one_lent_call_may_not_take_or_make_a_huge_array():
    namespace = {}
    with checks.substituted(namespace, f=lambda a: np.broadcast_to(a, (10**8, 1))):
        with pytest.raises(checks.LentOveruse, match="return more than"):
            checks.call(lambda: namespace["f"](np.ones(1)))


def test_substituted_restores_names_after_an_exception():
    namespace = {"sigmoid": "student"}
    with pytest.raises(RuntimeError, match="boom"):
        with checks.substituted(namespace, sigmoid="reference", new_name=0):
            assert namespace["sigmoid"] == "reference"
            raise RuntimeError("boom")
    assert namespace == {"sigmoid": "student"}


def test_substituted_restores_names_after_a_failing_check():
    namespace = {"sigmoid": "student"}
    with pytest.raises(AssertionError, match="should decrease"):
        with checks.substituted(namespace, sigmoid="reference"):
            checks.check(False, "losses should decrease.")
    assert namespace == {"sigmoid": "student"}


def test_substituted_restores_a_name_reassigned_inside():
    namespace = {"sigmoid": "student"}
    with checks.substituted(namespace, sigmoid="reference"):
        namespace["sigmoid"] = "overwritten"
    assert namespace == {"sigmoid": "student"}


def test_substituted_works_on_a_real_globals_namespace():
    namespace = {}
    exec("def sigmoid(z):\n    return 'student'\n"
         "def use():\n    return sigmoid(0)\n", namespace)
    with checks.substituted(namespace, sigmoid=lambda z: "reference"):
        assert namespace["use"]() == "reference"
    assert namespace["use"]() == "student"


# --- passed ----------------------------------------------------------------------


def test_passed_prints_to_stdout_only(capsys):
    assert checks.passed("sigmoid") is None
    captured = capsys.readouterr()
    assert captured.out == "sigmoid: public checks passed.\n"
    assert captured.err == ""


# --- check_raises and array conditions ------------------------------------------


def test_check_raises_passes_when_the_named_error_is_raised():
    def bad(x):
        raise ValueError(f"x must be > 0, got {x} instead.")

    assert checks.check_raises(bad, -1, match="x must be > 0") is None


@pytest.mark.parametrize("fn, message", [
    (lambda: None, "should raise ValueError and did not"),
    (lambda: 1 / 0, "should raise ValueError, got ZeroDivisionError"),
    (lambda: (_ for _ in ()).throw(ValueError("other")), "should mention 'x must'"),
])
def test_check_raises_fails_with_a_sentence_on_anything_else(fn, message):
    def check():
        checks.check_raises(fn, match="x must", what="parse()",
                            hint="Raise ValueError naming the value.")

    text = failure(check, match=re.escape(message))
    assert text.startswith("parse() ") and text.endswith("naming the value.")


def test_check_accepts_an_array_condition_only_when_all_hold():
    assert checks.check(np.array([True, True]), "never shown") is None
    failure(checks.check, np.array([True, False]), "not all hold", match="not all")


# --- public checks: one line per cell, and the summary ---------------------------


@pytest.fixture
def results(monkeypatch):
    """A fresh record of public-check outcomes, as in a new kernel."""
    fresh = {}
    monkeypatch.setattr(checks, "_public_results", fresh)
    return fresh


def run_cells(*sources):
    """Run sources as notebook cells: in one ``__main__`` namespace, each compiled
    as its own file so that line numbers count from the top of the cell."""
    namespace = {"__name__": "__main__", "checks": checks, "np": np}
    for i, source in enumerate(sources):
        exec(compile(textwrap.dedent(source), f"<cell {i}>", "exec"), namespace)
    return namespace


STUB = '''
def sigmoid(z):
    """Logistic function."""
    # YOUR CODE HERE
    raise NotImplementedError()
'''

CHECK_SIGMOID = '''
with checks.public("sigmoid"):
    checks.check_close(checks.call(sigmoid, 0.0), 0.5, what="sigmoid(0)",
                       hint="sigmoid(z) is 1 / (1 + exp(-z)).")
'''


def test_public_prints_the_pass_line_and_records_it(results, capsys):
    run_cells("def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n", CHECK_SIGMOID)
    captured = capsys.readouterr()
    assert captured.out == "sigmoid: public checks passed.\n"
    assert captured.err == ""
    assert results == {"sigmoid": (True, "passed")}


def test_public_yields_none():
    with checks.public("f") as value:
        assert value is None


def test_public_says_a_stub_is_not_written_yet(results, capsys):
    run_cells(STUB, CHECK_SIGMOID)
    out = capsys.readouterr().out
    assert out == ("sigmoid is not written yet: replace `raise NotImplementedError()` "
                   "with your code.\n")
    assert_one_sentence(out.strip())
    assert results["sigmoid"] == (False, "not written yet")


def test_public_names_an_unwritten_function_the_check_needs(results, capsys):
    run_cells(STUB, "def loss(z):\n    return -np.log(sigmoid(z))\n", '''
        with checks.public("loss"):
            checks.check_close(checks.call(loss, 0.0), np.log(2.0))
    ''')
    assert capsys.readouterr().out == (
        "loss: its check needs sigmoid, which is not written yet: write sigmoid "
        "first.\n")
    assert results["loss"][0] is False


def test_public_prints_the_message_of_a_failed_check_on_one_line(results, capsys):
    run_cells("def sigmoid(z):\n    return 0.25\n", CHECK_SIGMOID)
    out = capsys.readouterr().out
    assert out == ("sigmoid: sigmoid(0) differs from the expected value (largest "
                   "relative error 5.0e-01, tolerance rtol=1e-07, atol=0). sigmoid(z) "
                   "is 1 / (1 + exp(-z)).\n")
    assert results["sigmoid"][1].startswith("failed: sigmoid(0) differs")


def test_public_says_where_the_function_raised(results, capsys):
    run_cells('''
        def sigmoid(z):
            n = 0
            return z / n
    ''', CHECK_SIGMOID)
    out = capsys.readouterr().out
    assert out == ("sigmoid raised ZeroDivisionError (float division by zero) at "
                   "line 4 of its cell.\n")
    assert_one_sentence(out.strip())
    assert results["sigmoid"] == (
        False, "raised ZeroDivisionError (float division by zero) at line 4 of its "
               "cell")


def test_public_names_the_helper_that_raised(results, capsys):
    run_cells('''
        def _scale(z):
            return z[0]

        def sigmoid(z):
            return 1 / (1 + np.exp(-_scale(z)))
    ''', CHECK_SIGMOID)
    assert capsys.readouterr().out == (
        "sigmoid raised TypeError ('float' object is not subscriptable) in _scale, "
        "line 3 of its cell.\n")


def test_public_points_at_the_returned_value_when_the_check_itself_stops(
        results, capsys):
    run_cells("def fit(X):\n    theta = X.sum()\n", '''
        with checks.public("fit"):
            theta, losses = checks.call(fit, np.ones(3))
    ''')
    assert capsys.readouterr().out == (
        "fit: the check stopped on TypeError (cannot unpack non-iterable NoneType "
        "object): look at what fit returns.\n")


def test_public_treats_a_not_implemented_error_with_a_message_as_an_error(
        results, capsys):
    run_cells('''
        def fit(X, method="exact"):
            raise NotImplementedError(f"method {method!r} is not supported")
    ''', 'with checks.public("fit"):\n    checks.call(fit, 1)\n')
    out = capsys.readouterr().out
    assert out == ("fit raised NotImplementedError (method 'exact' is not "
                   "supported) at line 3 of its cell.\n")


def test_public_locates_a_bare_assert_of_the_student(results, capsys):
    run_cells("def f(x):\n    assert x > 0\n    return x\n",
              'with checks.public("f"):\n    checks.call(f, -1)\n')
    assert capsys.readouterr().out == "f raised AssertionError at line 2 of its cell.\n"


def test_public_outside_a_notebook_still_names_the_error(results, capsys):
    with checks.public("f"):
        checks.call(lambda: {}["key"])
    assert capsys.readouterr().out == "f raised KeyError ('key').\n"


def test_public_ends_the_cell_without_an_error_or_stderr(results, capsys):
    """A failing public check prints its hint; nothing is raised or written to
    stderr, warnings included."""
    run_cells("def f(x):\n    return np.log(-1.0)\n",
              'with checks.public("f"):\n'
              '    checks.check_close(checks.call(f, 1), 0)\n')
    captured = capsys.readouterr()
    assert captured.out.startswith("f: the result contains inf or NaN")
    assert captured.err == ""


def test_public_lets_an_interrupt_through_and_forgets_the_old_outcome(results):
    checks.passed("f")
    with pytest.raises(KeyboardInterrupt):
        with checks.public("f"):
            raise KeyboardInterrupt
    assert "f" not in results


def test_public_keeps_the_latest_outcome_of_a_rerun_cell(results, capsys):
    run_cells(STUB, CHECK_SIGMOID)
    run_cells("def sigmoid(z):\n    return 0.5\n", CHECK_SIGMOID)
    assert results == {"sigmoid": (True, "passed")}


def test_public_raises_the_hint_while_nbgrader_validates(results, capsys,
                                                         monkeypatch):
    """Under nbgrader's Validate a failing public check is an error, whose
    traceback IPython shows as the hint alone."""
    monkeypatch.setenv("NBGRADER_VALIDATING", "1")
    with pytest.raises(checks.PublicCheckFailed) as info:
        run_cells(STUB, CHECK_SIGMOID)
    line = ("sigmoid is not written yet: replace `raise NotImplementedError()` with "
            "your code.")
    assert str(info.value) == line
    assert info.value._render_traceback_() == [line]
    assert isinstance(info.value, AssertionError)
    assert capsys.readouterr().out == ""
    assert results["sigmoid"] == (False, "not written yet")
    run_cells("def sigmoid(z):\n    return 0.5\n", CHECK_SIGMOID)
    assert capsys.readouterr().out == "sigmoid: public checks passed.\n"


def test_nbgrader_validate_lists_the_failing_public_checks(tmp_path):
    """Does Validate name the unwritten functions of the release, instead of
    reporting success?"""
    release = REPO / "release" / "logistic_regression" / "logistic_regression.ipynb"
    shutil.copy(release, tmp_path)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "validate",
                           "logistic_regression.ipynb"], cwd=tmp_path,
                          capture_output=True, text=True, env=tool_env(),
                          timeout=600)
    assert "sigmoid is not written yet: replace" in proc.stdout, proc.stdout
    assert "decision_boundary is not written yet" in proc.stdout
    assert "Success" not in proc.stdout
    assert "Traceback" not in proc.stdout


def test_hidden_checks_keep_raising_assertion_error_inside_substituted():
    """Hidden tests do not use public: a failing check still raises."""
    with pytest.raises(AssertionError, match="differs from the expected value"):
        with checks.substituted({}, sigmoid=len):
            checks.check_close(0.25, 0.5)


def summary_lines(capsys, names=()):
    assert checks.summary(names) is None
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out.splitlines()


def test_summary_lists_every_function_in_order_with_its_outcome(results, capsys):
    run_cells(STUB, CHECK_SIGMOID)
    checks.passed("predict")
    capsys.readouterr()
    lines = summary_lines(capsys, ["sigmoid", "loss_grad", "predict"])
    assert lines[0] == "Public checks passed for 1 of 3 functions:"
    assert lines[1].split() == ["✗", "sigmoid", "not", "written", "yet"]
    assert lines[2].split()[:2] == ["✗", "loss_grad"]
    assert lines[2].endswith("not run: run its check cell")
    assert lines[3].split() == ["✓", "predict", "passed"]
    assert lines[4].startswith("Hidden tests with other inputs decide the grade")
    assert len(lines) == 5


def test_summary_counts_every_pass_and_never_says_all_tests_passed(results, capsys):
    for name in ("a", "b"):
        checks.passed(name)
    capsys.readouterr()
    text = "\n".join(summary_lines(capsys, ["a", "b"]))
    assert text.startswith("Public checks passed for 2 of 2 functions:")
    assert "all tests passed" not in text.lower()
    assert "decide the grade" in text


def test_summary_adds_functions_checked_but_not_named(results, capsys):
    checks.passed("extra")
    capsys.readouterr()
    lines = summary_lines(capsys, ["named"])
    assert lines[0] == "Public checks passed for 1 of 2 functions:"
    assert [line.split()[1] for line in lines[1:3]] == ["named", "extra"]


def test_public_cells_and_summary_in_a_real_kernel():
    """In a Jupyter kernel: one line per check cell, line numbers counted in the
    cell, no error output and no stderr, and the summary of the run."""
    from nbclient import NotebookClient

    cells = ["from lib import checks\nimport numpy as np", STUB.strip(),
             CHECK_SIGMOID.strip(),
             "def predict(x):\n    y = x\n    return y / 0",
             'with checks.public("predict"):\n    checks.call(predict, 1.0)',
             "def one(x):\n    return 1.0",
             'with checks.public("one"):\n    checks.check_close(one(0), 1.0)',
             'checks.summary(["sigmoid", "predict", "one", "never_run"])']
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO)}}).execute()
    outputs = [o for c in nb.cells for o in c.outputs]
    assert all(o.output_type == "stream" and o.name == "stdout" for o in outputs)
    printed = ["".join(o.text for o in c.outputs) for c in nb.cells]
    assert printed[2] == ("sigmoid is not written yet: replace `raise "
                          "NotImplementedError()` with your code.\n")
    assert printed[4] == ("predict raised ZeroDivisionError (float division by zero) "
                          "at line 3 of its cell.\n")
    assert printed[6] == "one: public checks passed.\n"
    summary = printed[7].splitlines()
    assert summary[0] == "Public checks passed for 1 of 4 functions:"
    assert summary[4].split()[:2] == ["✗", "never_run"]


# --- the notebooks use them --------------------------------------------------------


def test_every_public_check_cell_reports_through_public_and_the_summary(repo):
    """Is every check_<f> cell a docstring and one ``with checks.public("<f>")``
    block, and does the last code cell summarise exactly those functions?"""
    for assignment in repo.assignments():
        nb = nbformat.read(repo.source_notebook(assignment), as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        names = []
        for cell in code:
            meta = nbgrader_meta(cell)
            if not (meta.get("grade") and meta["grade_id"].startswith("check_")):
                continue
            name = meta["grade_id"].removeprefix("check_")
            names.append(name)
            body = ast.parse(cell.source).body
            where = f"{assignment}: {meta['grade_id']}"
            assert meta["points"] == 0, where
            assert len(body) == 2 and isinstance(body[1], ast.With), where
            assert ast.unparse(body[1].items[0]) == f"checks.public('{name}')", where
        assert names, assignment
        last = code[-1]
        assert nbgrader_meta(last) == {
            "grade": False, "grade_id": "public_summary", "locked": True,
            "schema_version": 3, "solution": False, "task": False}, assignment
        assert ast.unparse(ast.parse(last.source)) == f"checks.summary({names!r})"


# --- hidden tests call graded functions through the harness ------------------------


@pytest.mark.parametrize("assignment", ["logistic_regression", "gradient_checker",
                                        "softmax_mlp", "fgsm", "fisher_information",
                                        "dataset_distillation"])
def test_hidden_tests_call_graded_functions_only_through_checks_call(repo,
                                                                     assignment):
    """Does every hidden test hand its inputs to a student's function through
    checks.call, which gives it copies (so no expected value can depend on what the
    function did to them)?"""
    from kit.course import HIDDEN_REGION, graded_function_names

    nb = nbformat.read(repo.source / assignment / f"{assignment}.ipynb", as_version=4)
    graded = set(graded_function_names(nb))
    direct = []
    for cell in nb.cells:
        for region in HIDDEN_REGION.finditer(cell.source):
            for node in ast.walk(ast.parse(textwrap.dedent(region.group(0)))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in graded):
                    direct.append(f"{node.func.id}(...) at line {node.lineno}")
    assert graded and not direct, f"{assignment}: called directly: {direct}"


def test_an_overuse_that_ends_the_call_in_an_error_is_still_an_overuse():
    namespace = {}
    with checks.substituted(namespace, f=np.sum):
        def wrap(x):  # as the kernel does: the lent call's error, another type
            try:
                for _ in range(10):
                    namespace["f"](x)
            except AssertionError:
                raise RuntimeError("lent call failed") from None
        with pytest.raises(checks.LentOveruse):
            checks.call(wrap, np.ones(10), lent_budget=25)
