"""An existing nbgrader course, graded by the kit: nbgrader's own documentation course.

The fixture (tests/fixtures/nbgrader_docs, see its README) is nbgrader's ``ps1``: two
notebooks, no student library, no jupytext twins, tests named as nbgrader's docs name
them, one that deletes a student's global (``del squares``) and docstrings that say
"correct". The kit's default grading must give every test cell the score plain
nbgrader gives it, and flag nothing.
"""

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from kit.course import Course, nbgrader_meta, tool_env
from kit.engine import report

FIXTURE = Path(__file__).parent / "fixtures" / "nbgrader_docs"
REPO = Path(__file__).resolve().parents[1]

# A third student, as a class has them: sum_of_squares written without squares.
REIMPLEMENTED = '''def sum_of_squares(n):
    """Compute the sum of the squares of numbers from 1 to n."""
    return sum(i ** 2 for i in range(1, n + 1))
'''


def kit(course, *args):
    return subprocess.run([sys.executable, "-m", "kit", "--course", str(course), *args],
                          capture_output=True, text=True, env=tool_env(), cwd=REPO)


def add_reimplementing_student(root):
    src = root / "submitted" / "hacker" / "ps1"
    dst = root / "submitted" / "reimplementer" / "ps1"
    shutil.copytree(src, dst)
    nb = nbformat.read(dst / "problem1.ipynb", as_version=4)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == "sum_of_squares":
            cell.source = REIMPLEMENTED
    nbformat.write(nb, dst / "problem1.ipynb")


def cell_scores(course):
    """``{(student, notebook, cell): auto score}`` of the automatically graded
    cells in the gradebook."""
    with Gradebook(course.gradebook_url) as gb:
        return {(s.student.id, nb.name, g.name): g.auto_score
                for s in gb.find_assignment("ps1").submissions
                for nb in s.notebooks for g in nb.grades
                if g.cell_type == "code" and g.auto_score is not None}


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    """The documentation course with a third student, graded by the kit (default,
    secure) and, in a second copy of the same build, by plain nbgrader."""
    base = tmp_path_factory.mktemp("nbgrader docs")
    ours, plain = base / "kit grading", base / "plain nbgrader"
    shutil.copytree(FIXTURE, ours)
    add_reimplementing_student(ours)
    built = kit(ours, "build")
    assert built.returncode == 0, built.stderr
    shutil.copytree(ours, plain)
    graded = kit(ours, "grade")
    theirs = Course(plain).nbgrader("autograde", "ps1", "--force")
    return Course(ours), Course(plain), built, graded, theirs


def test_builds_without_the_kit_conventions(courses):
    ours, _, built, _, _ = courses
    assert "warning" not in built.stdout + built.stderr
    assert sorted(p.name for p in (ours.release / "ps1").iterdir()) == [
        "jupyter.png", "problem1.ipynb", "problem2.ipynb"]
    assert ours.library is None  # no lib/: no student library, none needed
    assert (ours.solutions / "ps1" / "problem2.ipynb").is_file()


def test_every_test_cell_scores_as_nbgrader_scores_it(courses):
    ours, plain, _, graded, theirs = courses
    assert graded.returncode == 0, graded.stdout + graded.stderr  # 0: no flag
    assert "insecure" not in graded.stdout
    expected = cell_scores(plain)
    tests = {"correct_squares", "squares_invalid_input", "correct_sum_of_squares",
             "sum_of_squares_uses_squares"}
    assert sum(cell in tests for _, _, cell in expected) == 3 * len(tests)
    assert cell_scores(ours) == expected
    # The student who does not use squares loses that test, under both.
    assert expected[("reimplementer", "problem1", "sum_of_squares_uses_squares")] == 0
    assert expected[("hacker", "problem1", "sum_of_squares_uses_squares")] == 0.5


def test_totals_are_those_nbgrader_publishes(courses):
    ours = courses[0]
    with (FIXTURE / "published_grades.csv").open() as f:
        published = {row["student_id"]: float(row["raw_score"])
                     for row in csv.DictReader(f)}
    df = report.scores(ours)
    totals = df[df.kind == "auto"].groupby("student").score.sum().to_dict()
    assert {s: totals[s] for s in published} == published == {"bitdiddle": 1.5,
                                                              "hacker": 3.0}


def test_nothing_is_flagged_and_the_report_names_each_notebook(courses):
    ours = courses[0]
    assert report.read_flags(ours).empty
    problems = set(report.scores(ours).problem)
    assert "problem1: correct_squares" in problems
    assert "problem2: part-a" in problems
    manual = report.scores(ours).query("kind == 'manual'").problem
    assert "problem1: sum_of_squares_application" in set(manual)
    assert (ours.root / "feedback" / "hacker" / "ps1" / "problem2.html").is_file()
