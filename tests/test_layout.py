"""Conventions between the parts of the kit that no import can check: the names the
kit and the course library both spell, and the preprocessors nbgrader runs."""

from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute

from kit import course
from kit.engine import autograde
from kit.plugins import grades, metadata, sanitize, secure
from kit.sandbox import remote
from lib import checks, data


def test_the_course_library_spells_the_names_the_kit_declares():
    assert data.GRADING_VARIABLE == course.GRADING_VARIABLE
    assert course.GRADING_ENV[course.GRADING_VARIABLE] == "1"
    assert checks.SUBSTITUTE_HOOK == course.SUBSTITUTE_HOOK
    assert checks.CALL_HOOK == course.CALL_HOOK
    assert callable(getattr(remote.RemoteFunction, course.CALL_HOOK))
    assert checks.FLAG_ATTRIBUTE == course.FLAG_ATTRIBUTE
    assert getattr(checks.LentOveruse, course.FLAG_ATTRIBUTE) == "cheat"


def steps(repo, tmp_path, **options):
    cfg = autograde._config(repo, autograde.Options(**options), tmp_path / "notes")
    return list(cfg.Autograde.autograde_preprocessors)


def test_secure_mode_runs_nbgraders_own_preprocessors_with_execute_swapped(
        repo, tmp_path):
    # nbgrader's own steps, two of them the kit's versions (which give the same
    # verdicts and rows: tests/test_metadata.py, tests/test_grades.py).
    nbgraders = Autograde.class_traits()["autograde_preprocessors"].default()
    default = autograde.kits_steps(nbgraders)
    assert len(default) == len(nbgraders)
    assert set(default) - set(nbgraders) == {metadata.CheckCellMetadata,
                                             grades.SaveAutoGrades}
    at = default.index(Execute)
    expected = default[:at] + [secure.SecureExecute, sanitize.SanitizeOutputs] + (
        default[at + 1:])
    assert steps(repo, tmp_path) == expected
    insecure = default[:at + 1] + [sanitize.SanitizeOutputs] + default[at + 1:]
    assert steps(repo, tmp_path, secure=False) == insecure
    # IgnorePattern, which a course may enable, runs in both modes.
    assert any(step.__name__ == "IgnorePattern" for step in expected)
