"""The kit in a real browser: JupyterLab with nbgrader's extension, as students and
instructors meet it.

Headless Debian Chromium (``make browser`` installs it) driven by Playwright. The
student test runs a release notebook with the student library, completes an answer
and validates it with nbgrader's button; the instructor test grades a written answer
by hand in the formgrader and finds the score in nbgrader's export, and finds the
mathematics typeset, with no network, in the formgrader and in a feedback page.
Screenshots go to test-artifacts/browser/.
"""

import os
import re
import shutil
import subprocess
import sys
import warnings

import browser
import nbformat
import pandas as pd
import pytest
from playwright.sync_api import expect

from kit.course import Course, copy_course, demo, nbgrader_meta, tool_env

ASSIGNMENT = "logistic_regression"
NOTEBOOK = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"

pytestmark = browser.NEEDS_CHROMIUM


def cell_index(nb, grade_id):
    """Position of the cell with nbgrader ``grade_id`` in the notebook."""
    return next(i for i, c in enumerate(nb.cells)
                if nbgrader_meta(c).get("grade_id") == grade_id)


def first_plot_index(nb):
    """Position of the first code cell that draws a plot with the course library."""
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                and re.search(r"\bplots\.(?!setup\b)\w+\(", c.source))


def first_line(source):
    return source.strip().splitlines()[0]


def open_notebook_checked(page, server):
    """Open the release notebook; nbgrader's extension must have loaded with it."""
    browser.open_notebook(page, server, NOTEBOOK)
    expect(page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")).to_be_visible()
    expect(page.locator(".validate-button")).to_be_visible()


def test_student_runs_completes_and_validates(tmp_path, chromium):
    """A student's session on a release notebook in JupyterLab."""
    work = tmp_path / "student"
    shutil.copytree(browser.REPO / "release" / ASSIGNMENT, work / ASSIGNMENT)
    nb = nbformat.read(work / NOTEBOOK, as_version=4)
    plot, answer = first_plot_index(nb), cell_index(nb, "sigmoid")
    check = cell_index(nb, "check_sigmoid")
    question = cell_index(nb, "written_eps")
    # The kernel imports the student library, as `pip install ./release/library`
    # gives it to students; without grading mode (KIT_GRADING) set.
    env = {k: v for k, v in os.environ.items() if k != "KIT_GRADING"}
    env["PYTHONPATH"] = str(browser.REPO / "release" / "library")

    with browser.JupyterServer(work, tmp_path, env) as server:
        page = server.new_page(chromium)
        open_notebook_checked(page, server)
        browser.menu(page, "Run", "Run All Cells")

        # The plot of the data, drawn before any answer is needed, is an inline SVG.
        svg = browser.cell(page, plot).locator(".jp-OutputArea-output svg").first
        svg.wait_for()
        svg.scroll_into_view_if_needed()
        assert svg.bounding_box()["width"] > 200
        assert svg.locator("text").count() > 0
        browser.screenshot(page, "student-1-plot")

        # The public check of the unwritten sigmoid fails and says why.
        hint = browser.wait_output(page, check)
        browser.wait_idle(page)
        last = [line for line in hint.splitlines() if line.strip()][-1]
        assert "public checks passed" not in hint
        assert "sigmoid" in last or "NotImplementedError" in last, hint
        browser.cell(page, check).scroll_into_view_if_needed()
        browser.screenshot(page, "student-2-hint")

        # A correct sigmoid, typed in its answer cell, passes its check.
        variants = demo.load_variants(Course(browser.REPO), ASSIGNMENT)
        browser.replace_source(
            page, answer, demo.variant_source(variants, "sigmoid__correct_tanh"))
        page.keyboard.press("Shift+Enter")  # runs the answer, selects the check
        page.keyboard.press("Shift+Enter")  # runs the check
        passed = browser.cell(page, check).locator(".jp-OutputArea")
        expect(passed).to_contain_text("sigmoid: public checks passed", timeout=60_000)
        browser.cell(page, answer).scroll_into_view_if_needed()
        browser.screenshot(page, "student-3-sigmoid-passed")

        # nbgrader's Validate button saves the notebook, runs it afresh and reports
        # what is left: the unanswered question, no longer the sigmoid's check.
        page.locator(".validate-button").click()
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("Validation Results", timeout=180_000)
        report = dialog.text_content()
        assert first_line(nb.cells[question].source) in report, report
        assert first_line(nb.cells[check].source) not in report, report
        browser.screenshot(page, "student-4-validate")
        dialog.get_by_role("button", name="Ok").click()


def grade_course(course):
    """Autograde the scratch course with `python -m kit grade`.

    Exit status 3 means some submission was flagged, which still grades it. If the
    command fails otherwise, nbgrader's own autograde grades the course instead, and
    a warning says so: this test is about the formgrader, not the grading engine.
    """
    cmd = [sys.executable, "-m", "kit", "--course", str(course.root), "grade"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=tool_env())
    if proc.returncode in (0, 3):
        return
    output = (proc.stdout + proc.stderr)[-2000:]
    warnings.warn(f"`python -m kit grade` failed (exit {proc.returncode}); graded "
                  f"with `nbgrader autograde` instead:\n{output}", stacklevel=2)
    course.nbgrader("autograde", ASSIGNMENT, "--force")


def export_score(course, path, student):
    """The student's total for the assignment in `nbgrader export`'s CSV."""
    course.nbgrader("export", "--to", str(path))
    grades = pd.read_csv(path)
    row = grades[(grades.student_id == student) & (grades.assignment == ASSIGNMENT)]
    assert len(row) == 1, grades
    return float(row.score.iloc[0])


def show_written_mathematics(page):
    """Check that the student's own written answers have typeset formulas too, and
    scroll to the first of them."""
    written = page.locator(".kit-student-markdown").locator(browser.FORMULA)
    assert written.count() > 0, "no formula typeset in the student's written answers"
    written.first.scroll_into_view_if_needed()


def test_instructor_grades_written_answer_by_hand(tmp_path, chromium):
    """The formgrader on a graded course: a written answer scored by hand counts."""
    course = copy_course(browser.REPO, tmp_path / "course", submissions=False,
                         assignments=[ASSIGNMENT])
    for command in ("build", "submissions"):
        subprocess.run([sys.executable, "-m", "kit", "--course", str(course.root),
                        command], check=True, capture_output=True, env=tool_env())
    # One submission with written answers is enough here, and keeps grading short.
    for student in course.submitted.iterdir():
        if student.name != "reference":
            shutil.rmtree(student)
    # A file of the submission where a page looking for the server's MathJax might
    # find it: the formgrader serves a submission's other files next to its page
    # (formgrader/submissions/<id>/), and nbgrader copies them into feedback/, which
    # the instructor's server serves under /files/. Found, it would run in the
    # instructor's session and stop MathJax.
    planted = (course.submitted / "reference" / ASSIGNMENT / "static"
               / "jupyter_server_mathjax" / "MathJax.js")
    planted.parent.mkdir(parents=True)
    planted.write_text("window.MathJax = {Hub: {}}; window.kitPlanted = true;\n")
    grade_course(course)
    before = export_score(course, tmp_path / "before.csv", "reference")

    nb = nbformat.read(course.source_notebook(ASSIGNMENT), as_version=4)
    written = "written_eps"
    points = float(nbgrader_meta(nb.cells[cell_index(nb, written)])["points"])

    with browser.JupyterServer(course.root, tmp_path, tool_env()) as server:
        page = server.new_page(chromium)
        browser.formgrader_submission(page, f"{server.url}/formgrader", ASSIGNMENT,
                                      "reference", shot="instructor-1-submissions")

        # The questions and the student's written answers show their mathematics
        # typeset, by the MathJax the course's own server serves: the page has no
        # network (browser.JupyterServer.new_page).
        assert browser.wait_mathematics(page) > 20
        assert page.evaluate("() => window.kitPlanted") is None
        show_written_mathematics(page)
        browser.screenshot(page, "instructor-2-mathematics")

        # The written answer's score box: typing a score and leaving the box saves
        # it through the formgrader's API.
        browser.formgrader_score(page, written, points)
        browser.screenshot(page, "instructor-3-manual-score")

        page.goto(f"{server.url}/formgrader/gradebook/{ASSIGNMENT}/{ASSIGNMENT}")
        page.get_by_text("Submission #1").wait_for()
        page.get_by_text("Show All Names").click()
        row = page.locator("tr", has=page.locator("a.name-shown",
                                                  has_text=re.compile("^reference$")))
        expect(row.locator("td.written-score")).to_have_text(
            re.compile(rf"^\s*{points:g} / "))
        browser.screenshot(page, "instructor-4-written-score")

        # The student's feedback page, opened from the server as a file, typesets
        # its mathematics the same way.
        feedback = course.root / "feedback" / "reference" / ASSIGNMENT
        page.goto(f"{server.url}/files/{feedback.relative_to(course.root)}"
                  f"/{ASSIGNMENT}.html")
        assert (feedback / planted.relative_to(planted.parents[2])).is_file()
        assert browser.wait_mathematics(page) > 20
        assert page.evaluate("() => window.kitPlanted") is None
        show_written_mathematics(page)
        browser.screenshot(page, "instructor-5-feedback-mathematics")
        assert not page.refused, page.refused

    after = export_score(course, tmp_path / "after.csv", "reference")
    assert after == pytest.approx(before + points)
