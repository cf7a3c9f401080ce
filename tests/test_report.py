"""The course report: failures, flags, charts, and regrading that changes nothing."""

import html

import pandas as pd
import pytest
import sqlalchemy

from kit.commands import grade
from kit.course import Course, KitError, demo
from kit.engine import report

ASSIGNMENT = "logistic_regression"


def quiet(*args, **kwargs):
    pass


def test_failures_name_the_wrong_function_of_each_demo_submission(graded_one):
    course, _ = graded_one
    failed = report.failures(course)
    assert list(failed.columns) == ["assignment", "student", "problem", "message"]
    assert set(failed.assignment) == {ASSIGNMENT}
    mistakes = demo.load_variants(course, ASSIGNMENT).demo
    assert mistakes
    for student, variants in mistakes.items():
        mine = failed[failed.student == student]
        functions = {demo.parse_variant_name(v).function for v in variants}
        assert set(mine.problem) == functions, student
        assert (mine.message.str.len() > 20).all()
    assert failed[failed.student == "reference"].empty
    untouched = failed[failed.student == "untouched"]
    # the student's own exception is named by its type only (its message could
    # carry the hidden inputs)
    assert {(r.problem, r.message) for r in untouched.itertuples()} == {
        (p, f"{p}() raised NotImplementedError.") for p in untouched.problem}


def test_common_failures_counts_and_keeps_the_most_frequent():
    rows = [("a", f"s{i}", "f", "f is wrong.") for i in range(5)]
    rows += [("a", f"s{i}", "g", "g is wrong.") for i in range(3)]
    rows += [("a", f"t{i}", "h", f"message {i}") for i in range(12)]
    failures = pd.DataFrame(rows, columns=["assignment", "student", "problem",
                                           "message"])
    common = report.common_failures(failures, top=4)
    assert common.values.tolist() == [["f", "f is wrong.", 5], ["g", "g is wrong.", 3],
                                      ["h", "message 0", 1], ["h", "message 1", 1]]


def test_failure_rate_and_mean_score_per_problem(graded_one):
    _, scores = graded_one
    stats = report.problem_stats(scores[scores.assignment == ASSIGNMENT])
    auto = scores[scores.kind == "auto"]
    for problem, row in stats.iterrows():
        mine = auto[auto.problem == problem]
        assert row["mean"] == pytest.approx(mine.score.mean())
        assert row.failure_rate == pytest.approx((mine.score < mine.max_score).mean())
    # The untouched submission fails everything, the reference nothing.
    assert (stats.failure_rate > 0).all() and (stats.failure_rate < 1).all()


def test_report_page_has_the_charts_tables_and_messages(graded_one):
    course, _ = graded_one
    page = (course.reports / "report.html").read_text(encoding="utf-8")
    for title in ("Score distribution", "Mean score per problem",
                  "Failure rate per problem", "Scores per problem",
                  "Most common failure messages", "Flagged submissions",
                  "Most alike submissions"):
        assert title in page, title
    alike = pd.read_csv(course.reports / "similarity.csv")  # written by grade too
    assert set(alike.assignment) == {ASSIGNMENT} and len(alike) > 0
    assert page.count("<svg") >= 4 and "<script" not in page
    failures = report.failures(course)
    for assignment in failures.assignment.unique():
        shown = report.common_failures(failures[failures.assignment == assignment])
        assert len(shown) > 0
        for message in shown.message:  # the most common ones, as the page says
            assert html.escape(message) in page


def test_flags_are_read_and_shown(graded_one, tmp_path):
    course, scores = graded_one
    scratch = Course(tmp_path)
    assert list(report.read_flags(scratch).columns) == report.FLAG_COLUMNS
    assert report.read_flags(scratch).empty

    scratch.reports.mkdir()
    flags = pd.DataFrame([
        ["overflowing-sigmoid", ASSIGNMENT, "cheat",
         "answer cell sigmoid changes how IPython runs later cells "
         "(input_transformers)"],
        ["<b>broken</b>", ASSIGNMENT, "fault",
         "logistic_regression.ipynb is not valid JSON"],
    ], columns=report.FLAG_COLUMNS)
    flags.to_csv(scratch.reports / "flags.csv", index=False)
    read = report.read_flags(scratch)
    pd.testing.assert_frame_equal(read, flags)

    path = tmp_path / "report.html"
    report.write_html(scores, path, failures=report.failures(course), flags=read)
    page = path.read_text(encoding="utf-8")
    assert "Flagged submissions (2)" in page
    for reason in flags.reason:
        assert html.escape(reason) in page
    assert "&lt;b&gt;broken&lt;/b&gt;" in page and "<b>broken" not in page

    report.write_html(scores, path)
    assert "No submission was flagged." in path.read_text(encoding="utf-8")


def test_flags_file_with_wrong_columns_is_an_error(tmp_path):
    course = Course(tmp_path)
    course.reports.mkdir()
    (course.reports / "flags.csv").write_text("student,why\nann,late\n")
    with pytest.raises(KitError, match="flags.csv: missing columns"):
        report.read_flags(course)


def gradebook_rows(course):
    """Rows in each table of the course's gradebook."""
    engine = sqlalchemy.create_engine(course.gradebook_url)
    try:
        with engine.connect() as db:
            return {table: db.execute(sqlalchemy.text(
                        f'SELECT COUNT(*) FROM "{table}"')).scalar()
                    for table in sqlalchemy.inspect(db).get_table_names()}
    finally:
        engine.dispose()


def outputs(course):
    """What grading writes that a regrade must reproduce."""
    keys = ["assignment", "student", "problem"]
    return {
        "scores": pd.read_csv(course.reports / "scores.csv")
        .sort_values(keys).reset_index(drop=True),
        "grades": pd.read_csv(course.reports / "grades.csv")
        .sort_values(["assignment", "student_id"]).reset_index(drop=True),
        "failures": report.failures(course).sort_values(keys).reset_index(drop=True),
        "gradebook": gradebook_rows(course),
        "feedback": sorted(p.relative_to(course.root)
                           for p in (course.root / "feedback").rglob("*.html")),
    }


def test_regrading_gives_the_same_scores_and_no_duplicate_rows(graded_one):
    course, _ = graded_one
    first = outputs(course)
    assert len(first["scores"]) and len(first["grades"]) and first["gradebook"]
    assert first["gradebook"]["grade"] > 0

    grade.run(course, log=quiet, force=True)
    second = outputs(course)
    for name in ("scores", "grades", "failures"):
        pd.testing.assert_frame_equal(second[name], first[name], obj=name)
    assert second["gradebook"] == first["gradebook"]
    assert second["feedback"] == first["feedback"]


def test_a_run_grades_only_what_changed_or_what_it_is_told(graded_one):
    """A second run grades nothing and changes nothing; a changed submission is
    graded again, alone; --student with --force grades that student alone; the
    reports cover every graded submission all along."""
    course, _ = graded_one
    first = outputs(course)
    flags = (course.reports / "flags.csv").read_text()
    lines = []
    grade.run(course, log=lines.append)
    assert not any(" graded in " in line for line in lines)
    assert any(line.startswith(f"{len(first['grades'])} submissions unchanged")
               for line in lines)
    assert (course.reports / "flags.csv").read_text() == flags
    changed = course.submitted / "reference" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    text = changed.read_text()
    try:
        changed.write_text(text + "\n")
        lines.clear()
        grade.run(course, log=lines.append)
        assert any(line.startswith("1 submissions graded in ") for line in lines)
    finally:
        changed.write_text(text)
    lines.clear()
    grade.run(course, log=lines.append, force=True, students=["untouched"],
              assignments=[ASSIGNMENT])
    assert any(line.startswith("1 submissions graded in ") for line in lines)
    second = outputs(course)
    for name in ("scores", "grades", "failures"):
        pd.testing.assert_frame_equal(second[name], first[name], obj=name)
    assert second["gradebook"] == first["gradebook"]
    assert (course.reports / "flags.csv").read_text() == flags


def test_naming_what_does_not_exist_is_an_error(graded_one):
    course, _ = graded_one
    with pytest.raises(KitError, match="no assignment named nope"):
        grade.submissions(course, assignments=["nope"])
    with pytest.raises(KitError, match="no submission of ghost"):
        grade.submissions(course, students=["ghost"])


def test_an_assignment_nbgrader_could_not_grade_is_said_never_a_traceback(tmp_path):
    """Scores nbgrader never wrote (NaN) give a sentence, not a crash of the report."""
    rows = [("lr", s, p, "auto", float("nan"), 1.0) for s in ("a", "b")
            for p in ("sigmoid", "predict")]
    rows += [("sm", "a", "softmax", "auto", 1.0, 1.0),
             ("sm", "b", "softmax", "auto", float("nan"), 1.0)]
    df = pd.DataFrame(rows, columns=["assignment", "student", "problem", "kind",
                                     "score", "max_score"])
    assert report.none_graded(df[df.assignment == "lr"])
    assert not report.none_graded(df[df.assignment == "sm"])
    path = tmp_path / "report.html"
    report.write_html(df, path)
    page = path.read_text()
    assert "No submission of lr could be graded" in page
    assert "<h2>sm</h2>" in page and "No submission of sm" not in page
