"""The kit's grading engine: same scores as nbgrader, staging of broken submissions."""

import shutil

import nbformat
import pytest

from kit.course import Course, demo, nbgrader_meta
from kit.engine import autograde, report, staging


def auto_scores(scores, students):
    rows = scores[(scores.kind == "auto") & scores.student.isin(students)]
    return {(r.assignment, r.student, r.problem): r.score for r in rows.itertuples()}


def test_parallel_secure_grading_records_what_sequential_nbgrader_records(
        graded, tmp_path):
    """The demo submissions, graded again by plain `nbgrader autograde`, one
    assignment after the other in the kernel with the tests, score the same."""
    course, scores, _ = graded
    plain = Course(tmp_path / "plain")
    shutil.copytree(course.root, plain.root, ignore=shutil.ignore_patterns(
        "autograded", "feedback", "reports", ".kit", "submitted"))
    students = set()
    for assignment in plain.assignments():
        for student, nb in demo.demo_notebooks(plain, assignment).items():
            demo.write_submission(plain, student, assignment, nb)
            students.add(student)
    for assignment in plain.assignments():
        plain.nbgrader("autograde", assignment, "--force", check=False)
    want = auto_scores(report.scores(plain), students)
    got = auto_scores(scores, students)
    assert len(want) > 30 and set(want) == set(got)
    differ = {key: (got[key], want[key]) for key in want if got[key] != want[key]}
    assert not differ, f"kit and nbgrader disagree (kit, nbgrader): {differ}"


@pytest.fixture
def staged_course(built, tmp_path):
    """A scratch course sharing ``built``'s release, with one fresh submission."""
    course = Course(tmp_path / "course")
    shutil.copytree(built.release, course.release)
    nb = demo.release_notebook(built, "logistic_regression")
    return course, nb


def write(course, student, nb_or_text, name="logistic_regression.ipynb"):
    folder = course.submitted / student / "logistic_regression"
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(nb_or_text, str):
        (folder / name).write_text(nb_or_text)
    else:
        nbformat.write(nb_or_text, folder / name)


def staged(course, student):
    path = (course.root / staging.STAGED / student / "logistic_regression"
            / "logistic_regression.ipynb")
    return nbformat.read(path, as_version=4) if path.exists() else None


def ids(nb):
    return [nbgrader_meta(c).get("grade_id") for c in nb.cells]


def test_deleted_and_stripped_test_cells_are_put_back(staged_course):
    course, nb = staged_course
    want = ids(nb)
    del nb.cells[ids(nb).index("test_sigmoid")]
    nb.cells[ids(nb).index("test_predict")].metadata.pop("nbgrader")
    write(course, "s", nb)
    notes = staging.stage(course, "logistic_regression", "s")
    assert [i for i in ids(staged(course, "s")) if i] == [i for i in want if i]
    reasons = " ".join(reason for _, reason in notes)
    assert "test_sigmoid was deleted" in reasons and "test_predict" in reasons
    # the submission itself is left as it was
    path = course.submitted / "s" / "logistic_regression" / "logistic_regression.ipynb"
    assert "test_sigmoid" not in ids(nbformat.read(path, as_version=4))


def test_a_duplicated_test_cell_is_graded_once(staged_course):
    course, nb = staged_course
    at = ids(nb).index("test_sigmoid")
    nb.cells.insert(at, nbformat.from_dict(dict(nb.cells[at])))
    write(course, "s", nb)
    notes = staging.stage(course, "logistic_regression", "s")
    assert ids(staged(course, "s")).count("test_sigmoid") == 1
    assert any("test_sigmoid appears more than once" in r for _, r in notes)


def test_broken_missing_and_extra_notebooks_are_named(staged_course):
    course, nb = staged_course
    write(course, "broken", '{"cells": [')
    notes = staging.stage(course, "logistic_regression", "broken")
    assert staged(course, "broken") is None
    assert notes == [("fault", notes[0][1])] and "not a valid notebook" in notes[0][1]
    write(course, "extra", nb)
    write(course, "extra", nb, name="scratch.ipynb")
    (course.submitted / "missing" / "logistic_regression").mkdir(parents=True)
    extra = staging.stage(course, "logistic_regression", "extra")
    missing = staging.stage(course, "logistic_regression", "missing")
    assert extra == [("fault", "scratch.ipynb is not a notebook of logistic_regression;"
                               " it was not graded")]
    assert missing == [("fault", "logistic_regression.ipynb is missing: it scores "
                                 "zero")]


def test_honest_demo_submissions_raise_no_flag(graded):
    course, _, plans = graded
    flags = report.read_flags(course)
    demo_students = {s for a in course.assignments()
                     for s in demo.demo_notebooks(course, a)}
    students = demo_students | {s for plan in plans.values() for s in plan}
    flagged = flags[flags.student.isin(students)]
    assert flagged.empty, flagged.to_string()


def test_a_worker_imports_what_the_instructors_files_import():
    """What a worker imports before its jobs are forked (autograde._preload): every
    absolute import of a cell or module, at the top or in a function; nothing of a
    relative import or of a cell that is not Python."""
    text = ("import numpy as np, os.path\nfrom lib import checks\nfrom json import *\n"
            "def f():\n    from scipy import optimize\n"
            "    import sklearn.linear_model\nfrom . import sibling\n")
    assert sorted(autograde._imported(text)) == [
        "json", "lib", "lib.checks", "numpy", "os.path", "scipy", "scipy.optimize",
        "sklearn.linear_model"]
    assert autograde._imported("%matplotlib inline\nimport numpy") == []
