"""Tests for lib.checks: the assertion helpers of the notebooks' test cells.

A failing check raises AssertionError with one sentence; a passing check returns
None (nbgrader would read a returned number as partial credit); nothing a check
does may reach stderr (nbgrader gives zero to a test cell that writes there).
"""

import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

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
        assert namespace["loss_grad"] is len
    assert "loss_grad" not in namespace


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
