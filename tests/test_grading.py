"""The grading pipeline end to end: real nbgrader autograde in a scratch course,
scores read back from the gradebook.

The scratch course holds the demo submissions of submitted/ and, for every
assignment, submissions built from variants/: the k-th correct (or wrong)
variant of every graded function at once. Hidden tests check one function with the
other graded functions replaced by references, so each problem is judged alone.
"""

import subprocess
import sys

import pandas as pd
import pytest

from kit.course import copy_course, demo, nbgrader_meta


def points(scores, assignment, student):
    """``{problem: (score, max_score)}`` of one submission's automatic grades."""
    rows = scores[(scores.assignment == assignment) & (scores.student == student)
                  & (scores.kind == "auto")]
    assert len(rows), f"{student} has no grades for {assignment}"
    return {r.problem: (r.score, r.max_score) for r in rows.itertuples()}


def test_every_graded_function_has_two_right_and_three_wrong_variants(repo):
    for assignment in repo.assignments():
        module = demo.load_variants(repo, assignment)
        assert module is not None, f"variants/{assignment}.py is missing"
        for function in demo.answer_cell_ids(demo.source_notebook(repo, assignment)):
            assert len(module.names(function, "correct")) >= 2, function
            assert len(module.names(function, "wrong")) >= 3, function


def test_correct_variants_get_every_point(graded):
    course, scores, plans = graded
    for assignment, plan in plans.items():
        for student, chosen in plan.items():
            if "correct" not in student:
                continue
            got = points(scores, assignment, student)
            for function, variant in chosen.items():
                score, maximum = got[function]
                assert score == maximum, (
                    f"{variant} is correct but earned {score}/{maximum}: the hidden "
                    f"tests of {function} reject a correct answer")


def test_wrong_variants_get_no_point_for_their_problem(graded):
    course, scores, plans = graded
    for assignment, plan in plans.items():
        for student, chosen in plan.items():
            if "wrong" not in student:
                continue
            got = points(scores, assignment, student)
            for function, variant in chosen.items():
                score, maximum = got[function]
                assert score == 0, (
                    f"{variant} is wrong but earned {score}/{maximum}: the hidden "
                    f"tests of {function} accept it")
            for function in set(got) - set(chosen):
                assert got[function][0] == got[function][1], (
                    f"{student}: {function} is the reference but lost points")


def test_demo_submissions_lose_exactly_the_points_of_their_mistakes(graded):
    course, scores, _ = graded
    for assignment in course.assignments():
        module = demo.load_variants(course, assignment)
        expected_wrong = {s: {demo.parse_variant_name(v).function for v in names}
                          for s, names in module.demo.items()}
        expected_wrong["reference"] = set()
        for student, wrong in expected_wrong.items():
            for problem, (score, maximum) in points(scores, assignment,
                                                    student).items():
                assert score == (0 if problem in wrong else maximum), (
                    f"{student}: {problem} scored {score}/{maximum}")
        untouched = points(scores, assignment, "untouched")
        assert all(score == 0 for score, _ in untouched.values())


def test_written_answers_wait_for_manual_grading(graded):
    """Are answered written questions left ungraded, and blank ones scored zero?"""
    course, scores, _ = graded
    manual = scores[scores.kind == "manual"]
    for assignment in course.assignments():
        written = {nbgrader_meta(c)["grade_id"]
                   for c in demo.source_notebook(course, assignment).cells
                   if c.cell_type == "markdown" and nbgrader_meta(c).get("grade")}
        assert set(manual[manual.assignment == assignment].problem) == written
    blank = manual.student == "untouched"
    assert (manual[blank].score == 0).all()
    assert manual[~blank].score.isna().all()


def test_grading_writes_feedback_grades_and_report(graded):
    course, scores, _ = graded
    students = set(scores.student)
    for assignment, student in scores[["assignment", "student"]].drop_duplicates(
            ).itertuples(index=False):
        html = course.root / "feedback" / student / assignment / f"{assignment}.html"
        assert html.is_file(), html
    exported = pd.read_csv(course.reports / "grades.csv")
    assert set(exported.student_id) == students
    assert {"assignment", "student_id", "score", "max_score"} <= set(exported.columns)
    report = (course.reports / "report.html").read_text()
    assert report.count("<svg") >= len(course.assignments())
    assert all(student in report for student in students)
    assert "<script" not in report


def test_variant_plan_uses_each_variant_once(repo):
    for assignment in repo.assignments():
        plan = demo.variant_plan(repo, assignment)
        used = [v for chosen in plan.values() for v in chosen.values()]
        assert len(used) == len(set(used))
        module = demo.load_variants(repo, assignment)
        assert set(used) == {n for n in module.functions if "__correct_" in n
                             or "__wrong_" in n}


@pytest.mark.parametrize("layout", ["missing", "empty"])
def test_grading_without_submissions_says_so_and_fails(tmp_path, repo, layout):
    course = copy_course(repo.root, tmp_path, submissions=False)
    if layout == "empty":
        course.submitted.mkdir()
    proc = subprocess.run([sys.executable, "-m", "kit", "--course", str(course.root),
                           "grade"], capture_output=True, text=True)
    assert proc.returncode == 2
    expected = "no submitted/ folder" if layout == "missing" else "no submission of any"
    assert expected in proc.stderr
