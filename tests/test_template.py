"""`python -m kit new`: does an assignment made from the course template build,
release and grade as every other assignment does?

The scratch course holds logistic_regression and ``my_topic``, made by the command.
The commands run in the scratch course with it on ``PYTHONPATH``, so that the grader
and the kernels import its ``lib``, where ``lib/my_topic.py`` was written, rather
than this repository's.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kit.course import (
    HIDDEN_REGION,
    SOLUTION_REGION,
    copy_course,
    demo,
    nbgrader_meta,
    read_text_notebook,
    tool_env,
)
from kit.engine import report

REPO = Path(__file__).resolve().parents[1]
NAME = "my_topic"
FILES = [f"source/{NAME}/{NAME}.py", f"source/{NAME}/{NAME}.ipynb", f"lib/{NAME}.py",
         f"variants/{NAME}.py", f"tests/test_{NAME}.py"]


def kit(course, *args):
    """Run ``python -m kit --course <course> <args>`` from the course folder, so that
    the grader and the kernels import that course's ``lib``; return the process."""
    env = dict(tool_env(), PYTHONPATH=str(course.root))
    return subprocess.run([sys.executable, "-m", "kit", "--course", str(course.root),
                           *args], cwd=course.root, capture_output=True, text=True,
                          env=env)


def run_ok(course, *args):
    proc = kit(course, *args)
    assert proc.returncode == 0, f"kit {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
    return proc


def outputs(nb, grade_id):
    """The text printed by the cell ``grade_id`` of an executed notebook."""
    cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == grade_id)
    return "".join(o.get("text", "") for o in cell.outputs)


@pytest.fixture
def scratch(tmp_path):
    return copy_course(REPO, tmp_path / "course", submissions=False,
                       assignments=["logistic_regression"])


@pytest.fixture(scope="module")
def graded_template(tmp_path_factory):
    """The scratch course after `new`, `build`, `submissions` and `grade`, with one
    submission per row of the template's variants besides its demo submissions.

    Only the template's submissions are graded: the other tests grade the
    repository's assignments.
    """
    course = copy_course(REPO, tmp_path_factory.mktemp("template") / "course",
                         submissions=False, assignments=["logistic_regression"])
    for args in (["new", NAME], ["build"], ["submissions"]):
        run_ok(course, *args)
    for folder in course.submitted.glob("*/logistic_regression"):
        shutil.rmtree(folder)
    plan = demo.variant_plan(course, NAME)
    for student, chosen in plan.items():
        demo.write_submission(course, student, NAME,
                              demo.with_variants(course, NAME, chosen))
    run_ok(course, "grade")
    return course, report.scores(course), plan


# --- the command ------------------------------------------------------------------


def test_new_writes_a_complete_assignment_with_the_name_filled_in(scratch):
    proc = run_ok(scratch, "new", NAME)
    for path in FILES:
        text = (scratch.root / path).read_text(encoding="utf-8")
        assert "{{" not in text and "}}" not in text, f"{path}: a placeholder is left"
        assert f"{path} written" in proc.stdout
    assert f"from lib import {NAME} as _ref" in (
        scratch.source_text(NAME).read_text())
    assert scratch.assignments() == ["logistic_regression", NAME]


def test_new_writes_files_that_pass_the_linter(scratch):
    run_ok(scratch, "new", NAME)
    proc = subprocess.run([str(Path(sys.executable).parent / "ruff"), "check",
                           "--config", str(REPO / "pyproject.toml"),
                           *[p for p in FILES if p.endswith(".py")]],
                          cwd=scratch.root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_new_notebook_has_every_kind_of_cell(scratch):
    """Setup, an answer with its public check (0 points) and hidden test (points),
    a written answer and the public-check summary, in the kit's conventions."""
    run_ok(scratch, "new", NAME)
    cells = {nbgrader_meta(c).get("grade_id"): c
             for c in read_text_notebook(scratch.source_text(NAME)).cells}
    assert {"setup", "standardize", "check_standardize", "test_standardize",
            "written_test_set", "public_summary"} <= set(cells)
    assert SOLUTION_REGION.search(cells["standardize"].source)
    assert nbgrader_meta(cells["check_standardize"])["points"] == 0
    assert 'with checks.public("standardize"):' in cells["check_standardize"].source
    assert nbgrader_meta(cells["test_standardize"])["points"] > 0
    assert HIDDEN_REGION.search(cells["test_standardize"].source)
    assert cells["written_test_set"].cell_type == "markdown"
    assert nbgrader_meta(cells["written_test_set"])["points"] > 0
    assert cells["public_summary"].source == 'checks.summary(["standardize"])'
    assert not nbgrader_meta(cells["public_summary"])["grade"]


def test_new_template_variants_cover_the_graded_function(scratch):
    run_ok(scratch, "new", NAME)
    module = demo.load_variants(scratch, NAME)
    assert len(module.names("standardize", "correct")) >= 2
    assert len(module.names("standardize", "wrong")) >= 3
    assert module.demo


def test_new_reference_passes_its_own_tests(scratch):
    run_ok(scratch, "new", NAME)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p",
                           "no:cacheprovider", f"tests/test_{NAME}.py"],
                          cwd=scratch.root, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(scratch.root)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout


@pytest.mark.parametrize("name, message", [
    ("logistic_regression", "would overwrite source/logistic_regression"),
    ("data", "would overwrite lib/data.py"),
    ("My-topic", "is not a valid assignment name"),
    ("2nd_topic", "is not a valid assignment name"),
    ("class", "is not a valid assignment name"),
    ("library", "is reserved"),
])
def test_new_refuses_a_taken_or_invalid_name(scratch, name, message):
    before = sorted(p for p in scratch.root.rglob("*"))
    proc = kit(scratch, "new", name)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert sorted(p for p in scratch.root.rglob("*")) == before


def test_new_refuses_to_overwrite_an_assignment_it_made(scratch):
    run_ok(scratch, "new", NAME)
    (scratch.root / f"lib/{NAME}.py").write_text("# edited\n")
    proc = kit(scratch, "new", NAME)
    assert proc.returncode != 0 and "would overwrite" in proc.stderr
    assert (scratch.root / f"lib/{NAME}.py").read_text() == "# edited\n"


# --- built, released and graded ----------------------------------------------------


def test_template_demo_submissions_get_the_expected_scores(graded_template):
    course, scores, _ = graded_template
    auto = scores[(scores.assignment == NAME) & (scores.kind == "auto")]
    got = {r.student: (r.score, r.max_score) for r in auto.itertuples()}
    assert got["reference"] == (2, 2)
    assert got["untouched"] == (0, 2)
    assert got["rows-not-columns"] == (0, 2)


def test_template_hidden_test_tells_right_from_wrong_variants(graded_template):
    course, scores, plan = graded_template
    for student, chosen in plan.items():
        row = scores[(scores.assignment == NAME) & (scores.student == student)
                     & (scores.problem == "standardize")]
        assert len(row) == 1, student
        expected = row.max_score.iloc[0] if "correct" in student else 0
        assert row.score.iloc[0] == expected, f"{chosen['standardize']} scored wrong"


def test_template_written_answer_waits_for_manual_grading(graded_template):
    course, scores, _ = graded_template
    manual = scores[(scores.assignment == NAME) & (scores.kind == "manual")]
    assert set(manual.problem) == {"written_test_set"}
    assert manual[manual.student == "reference"].score.isna().all()


def test_template_public_checks_print_a_pass_or_a_hint(graded_template):
    """Do the autograded notebooks show the one-line outcome and the summary?"""
    course, _, _ = graded_template

    def autograded(student):
        path = course.root / "autograded" / student / NAME / f"{NAME}.ipynb"
        return nbformat.read(path, as_version=4)

    reference, untouched = autograded("reference"), autograded("untouched")
    assert outputs(reference, "check_standardize") == (
        "standardize: public checks passed.\n")
    assert "Public checks passed for 1 of 1 functions" in outputs(
        reference, "public_summary")
    assert outputs(untouched, "check_standardize") == (
        "standardize is not written yet: replace `raise NotImplementedError()` with "
        "your code.\n")
    rows = outputs(autograded("rows-not-columns"), "check_standardize")
    assert rows.startswith("standardize: the first two columns ")


def test_template_release_holds_no_solution_or_hidden_test(graded_template):
    course, _, _ = graded_template
    secret, public = set(), set()
    for cell in nbformat.read(course.source_notebook(NAME), as_version=4).cells:
        rest = cell.source
        for region in (SOLUTION_REGION, HIDDEN_REGION):
            for block in region.findall(cell.source):
                secret.update(line.strip() for line in block.splitlines()
                              if len(line.strip()) >= 16 and "###" not in line)
            rest = region.sub("", rest)
        public.update(line.strip() for line in rest.splitlines())
    secret -= public
    assert len(secret) > 10
    release = nbformat.read(course.release / NAME / f"{NAME}.ipynb", as_version=4)
    lines = {line.strip() for c in release.cells for line in c.source.splitlines()}
    assert not lines & secret
    text = (course.release / NAME / f"{NAME}.ipynb").read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", f"lib import {NAME}"):
        assert marker not in text
    student_lib = (course.release / "library" / "lib" / f"{NAME}.py").read_text()
    assert "np.where(std > 0" not in student_lib
    assert "standardize() is withheld from the student library" in student_lib
