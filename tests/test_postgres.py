"""Grading into a PostgreSQL gradebook, the setup of a course with several graders.

A throwaway server on loopback (tests/pgserver.py) holds the gradebook; the course
names it with ``KIT_GRADEBOOK_URL``, which nbgrader (nbgrader_config.py) and the kit
(``Course.gradebook_url``) both read. The demo submissions of two assignments are
built and graded by `python -m kit grade`'s code and read back with nbgrader's API:
every submission, notebook and graded cell must be there with the scores the demo
submissions earn on the default SQLite gradebook (tests/test_grading.py checks those
on SQLite).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from nbgrader.api import Gradebook

from kit.commands import build, grade
from kit.course import Course, copy_course, demo, nbgrader_meta, tool_env

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ["logistic_regression", "fisher_information"]
URL_VARIABLE = "KIT_GRADEBOOK_URL"


def quiet(*args):
    pass


@pytest.fixture(scope="module")
def pg_built(pg, tmp_path_factory):
    """A scratch course built with its gradebook on the server, demo submissions
    written: ``(course, url)``. Building registers the assignments in the gradebook
    (nbgrader generate_assignment), as a course does once after creating it."""
    url = pg.create_database("gradebook")
    course = copy_course(REPO, tmp_path_factory.mktemp("pg-course"),
                         assignments=ASSIGNMENTS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(URL_VARIABLE, url)
        build.build(course, log=quiet)
        for assignment in ASSIGNMENTS:
            for student, nb in demo.demo_notebooks(course, assignment).items():
                demo.write_submission(course, student, assignment, nb)
    return course, url


@pytest.fixture(scope="module")
def pg_graded(pg_built):
    """The course graded by `python -m kit grade`: ``(course, url, scores)``."""
    course, url = pg_built
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(URL_VARIABLE, url)
        scores = grade.run(course, log=quiet)
    return course, url, scores


def expected_grades(course, assignment, student):
    """``{grade_id: (max_score, auto_score)}`` of a demo submission: the reference
    earns every automatic point, each mistaken demo submission loses the points of
    the functions it gets wrong, the untouched release earns nothing. Written
    answers wait for manual grading (no score), blank ones are scored zero."""
    module = demo.load_variants(course, assignment)
    wrong = {demo.parse_variant_name(v).function for v in module.demo.get(student, [])}
    expected = {}
    for cell in demo.source_notebook(course, assignment).cells:
        meta = nbgrader_meta(cell)
        if not meta.get("grade"):
            continue
        points = float(meta["points"])
        if cell.cell_type == "markdown":
            score = 0.0 if student == "untouched" else None
        else:
            problem = meta["grade_id"].removeprefix("test_")
            right = student != "untouched" and problem not in wrong
            score = points if right else 0.0
        expected[meta["grade_id"]] = (points, score)
    return expected


def gradebook_contents(url, assignment):
    """``{student: {notebook: {grade_id: (max_score, auto_score)}}}`` as stored."""
    with Gradebook(url, "ml-course") as gb:
        return {
            submission.student.id: {
                notebook.name: {g.name: (g.max_score, g.auto_score)
                                for g in notebook.grades}
                for notebook in submission.notebooks
            }
            for submission in gb.find_assignment(assignment).submissions
        }


def submitted_students(course, assignment):
    return {d.parent.name for d in course.submitted.glob(f"*/{assignment}")}


def test_demo_submissions_graded_into_postgres_keep_every_score(pg_graded):
    course, url, scores = pg_graded
    for assignment in ASSIGNMENTS:
        stored = gradebook_contents(url, assignment)
        students = submitted_students(course, assignment)
        assert set(stored) == students
        assert students == set(demo.demo_notebooks(course, assignment))
        for student in students:
            assert stored[student] == {
                assignment: expected_grades(course, assignment, student)}, student


def test_postgres_run_writes_no_sqlite_gradebook_and_reports_from_postgres(
        pg_graded):
    course, url, scores = pg_graded
    assert not list(course.root.rglob("*.db")), "a SQLite gradebook was written"
    # The kit's tables and nbgrader's export were both read from the server.
    for assignment in ASSIGNMENTS:
        students = submitted_students(course, assignment)
        assert set(scores[scores.assignment == assignment].student) == students
    # nbgrader's export has a row per student and assignment, submitted or not.
    exported = pd.read_csv(course.reports / "grades.csv")
    assert set(exported.student_id) == set(scores.student)
    assert set(exported.assignment) == set(ASSIGNMENTS)


def test_two_autograde_processes_write_the_gradebook_at_once(pg, pg_built, tmp_path,
                                                             monkeypatch):
    """Two graders' nbgrader processes land their grades in one database."""
    built, _ = pg_built
    course = Course(tmp_path / "course")
    shutil.copytree(built.root, course.root, ignore=shutil.ignore_patterns(
        "autograded", "feedback", "reports"))
    url = pg.create_database("two_graders")
    monkeypatch.setenv(URL_VARIABLE, url)
    assignment = "logistic_regression"
    build.generate_release(course, assignment)  # registers it in the new database
    module = demo.load_variants(course, assignment)
    students = ["reference", sorted(module.demo)[0]]
    procs = [subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde",
                               assignment, "--student", student],
                              cwd=course.root, env=tool_env(), text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for student in students]
    for student, proc in zip(students, procs, strict=True):
        output = proc.communicate()[0]
        assert proc.returncode == 0, f"{student}: {output[-3000:]}"
    stored = gradebook_contents(url, assignment)
    assert set(stored) == set(students)
    for student in students:
        assert stored[student] == {
            assignment: expected_grades(course, assignment, student)}, student
