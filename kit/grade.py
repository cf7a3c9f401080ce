"""`python -m kit grade`: autograde submissions; write feedback, grades and a report.

Examples
--------
    python -m kit grade              # grade submitted/ as it is
    python -m kit grade --build      # rebuild release/ and solutions/ first

Submissions are read from ``submitted/<student>/<assignment>/``. Outputs (not
committed): ``autograded/``, ``feedback/``, ``gradebook.db`` and ``reports/``
(``grades.csv``, nbgrader's export; ``scores.csv``, one row per problem;
``report.html``, charts and tables). The command ends with a summary table.
"""

import time

import pandas as pd

from kit import build, report
from kit.course import Course, KitError


def submissions(course):
    """``{assignment: [students]}`` found under submitted/; fail if there are none."""
    if not course.submitted.is_dir():
        raise KitError(f"{course.submitted}: no submitted/ folder. Collect submissions "
                       "into submitted/<student>/<assignment>/ first.")
    found = {}
    for assignment in course.assignments():
        students = sorted(d.parent.name
                          for d in course.submitted.glob(f"*/{assignment}")
                          if d.is_dir())
        if students:
            found[assignment] = students
    if not found:
        raise KitError(f"{course.submitted}: no submission of any assignment "
                       f"({', '.join(course.assignments())}).")
    return found


def grade(course, found, log=print):
    """Autograde and write feedback for every assignment in ``found``."""
    for assignment, students in found.items():
        start = time.perf_counter()
        # nbgrader exits non-zero when one notebook fails; the gradebook tells which.
        proc = course.nbgrader("autograde", assignment, "--force", check=False)
        if proc.returncode:
            log(f"{assignment}: nbgrader autograde reported a problem:\n"
                + proc.stderr[-2000:])
        course.nbgrader("generate_feedback", assignment, "--force", check=False)
        log(f"{assignment}: {len(students)} submissions graded in "
            f"{time.perf_counter() - start:.1f} s")


def export(course):
    """Write reports/: nbgrader's grade export, per-problem scores and the report."""
    course.reports.mkdir(exist_ok=True)
    course.nbgrader("export", "--to", str(course.reports / "grades.csv"))
    df = report.scores(course)
    df.to_csv(course.reports / "scores.csv", index=False)
    report.write_html(df, course.reports / "report.html")
    return df


def run(course=None, rebuild=False, log=print):
    course = course or Course()
    found = submissions(course)
    if rebuild:
        build.build(course, log=log)
    grade(course, found, log=log)
    df = export(course)
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        for assignment, part in df.groupby("assignment", sort=False):
            table = report.summary(part).droplevel("assignment")
            log(f"\n{assignment}\n"
                + table.to_string(na_rep="-", float_format="{:g}".format))
    log(f"Grades: {course.reports / 'grades.csv'}; report: "
        f"{course.reports / 'report.html'}; feedback: {course.root / 'feedback'}/")
    return df


def main(args, course):
    run(course, rebuild=args.build)


def add_arguments(parser):
    parser.add_argument("--build", action="store_true",
                        help="rebuild release/ and solutions/ from source/ first")


HELP = "autograde submitted/, write feedback, grades CSV, report and a summary"
