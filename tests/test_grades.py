"""The kit's SaveAutoGrades writes nbgrader's rows, in one commit per notebook
(kit/plugins/grades.py)."""

import contextlib
import shutil

import nbformat
import pytest
import sqlalchemy.orm
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import SaveAutoGrades

from kit.plugins import grades

ASSIGNMENT = NOTEBOOK = "logistic_regression"


@pytest.fixture
def gradebook(graded_one, tmp_path):
    """A copy of the graded course's gradebook, its URL and the course."""
    course, _ = graded_one
    copy = tmp_path / "gradebook.db"
    shutil.copy2(course.root / "gradebook.db", copy)
    return f"sqlite:///{copy}", course


def students(course):
    return sorted(p.name for p in (course.root / "autograded").iterdir())


def notebook(course, student):
    return course.root / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"


def rows(url, student):
    """What SaveAutoGrades writes for a student's notebook."""
    with Gradebook(url) as gb:
        nb = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
        return ({g.name: (g.auto_score, g.needs_manual_grade) for g in nb.grades},
                {c.name: c.auto_comment for c in nb.comments})


def clear(url, student, manual=None):
    """The student's automatic grades and comments unset; ``manual``, a grade
    given by hand to one cell."""
    with Gradebook(url) as gb:
        nb = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
        for grade in nb.grades:
            grade.auto_score, grade.needs_manual_grade = None, False
            if grade.name == manual:
                grade.manual_score = 0.5
        for comment in nb.comments:
            comment.auto_comment = None
        gb.db.commit()


@contextlib.contextmanager
def commits():
    """The list of the commits of every gradebook session while in the block."""
    made = []
    count = lambda session: made.append(session)  # noqa: E731
    sqlalchemy.event.listen(sqlalchemy.orm.Session, "after_commit", count)
    try:
        yield made
    finally:
        sqlalchemy.event.remove(sqlalchemy.orm.Session, "after_commit", count)


def save(step, url, course, student, corrupt=None):
    """Run the preprocessor ``step`` on the student's autograded notebook; return
    the commits it made past those of opening the gradebook. ``corrupt`` renames
    that graded cell's id."""
    nb = nbformat.read(notebook(course, student), as_version=4)
    for cell in nb.cells:
        if corrupt and cell.metadata.get("nbgrader", {}).get("grade_id") == corrupt:
            cell.metadata.nbgrader.grade_id = "not-in-the-gradebook"
    with commits() as opening:
        Gradebook(url).close()
    with commits() as made:
        step().preprocess(nb, {"nbgrader": dict(
            notebook=NOTEBOOK, assignment=ASSIGNMENT, student=student, db_url=url)})
    return len(made) - len(opening)


def test_the_same_rows_as_nbgraders_in_one_commit(gradebook):
    url, course = gradebook
    for student in students(course):
        for manual in (None, "test_sigmoid"):
            clear(url, student, manual)
            empty = rows(url, student)
            assert save(SaveAutoGrades, url, course, student) > 10
            theirs = rows(url, student)
            assert theirs != empty
            clear(url, student, manual)
            assert save(grades.SaveAutoGrades, url, course, student) == 1
            assert rows(url, student) == theirs, (student, manual)
            if manual:
                assert theirs[0][manual][1] is True   # needs a grader's look


def test_a_notebook_s_grades_are_written_all_together_or_not_at_all(gradebook):
    """A graded cell the gradebook does not know stops both; nbgrader's leaves the
    cells before it graded, the kit's none."""
    url, course = gradebook
    student = students(course)[0]
    nb = nbformat.read(notebook(course, student), as_version=4)
    last = [c.metadata.nbgrader["grade_id"] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")][-1]
    for step, partial in ((SaveAutoGrades, True), (grades.SaveAutoGrades, False)):
        clear(url, student)
        empty = rows(url, student)
        with pytest.raises(MissingEntry):
            save(step, url, course, student, corrupt=last)
        assert (rows(url, student) != empty) == partial, step
