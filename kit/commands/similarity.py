"""`python -m kit similarity`: which submissions look copied from each other?

Examples
--------
    python -m kit similarity                                 # every assignment
    python -m kit similarity --assignment logistic_regression --top 20

For each assignment, the pairs of submissions in submitted/ whose answer cells are
most alike, with their similarity: the share of one submission's code, tokenized so
that renamed variables do not hide a copy, that also stands in the other
(copydetect's fingerprints, as MOSS makes them; see :mod:`kit.engine.similarity`).
Code every student receives, the release's answer cells, is left out. Pairs at or
above the review threshold are marked; ``reports/similarity.csv`` gets the table,
and ``python -m kit grade`` puts the same pairs, with their cells side by side, in
``reports/report.html``. A high score is a reason to read two submissions, not a
verdict.
"""

from kit.course import KitError
from kit.engine import similarity


def main(args, course):
    assignments = args.assignment or course.assignments()
    unknown = sorted(set(assignments) - set(course.assignments()))
    if unknown:
        raise KitError(f"no assignment {', '.join(unknown)} in {course.source}.")
    table, _ = similarity.most_alike(course, assignments, top=args.top)
    course.reports.mkdir(exist_ok=True)
    table.to_csv(course.reports / "similarity.csv", index=False)
    for assignment in assignments:
        part = table[table.assignment == assignment]
        print(f"\n{assignment}: the {len(part)} most alike pairs "
              f"(review at {similarity.THRESHOLD:.0%} or more)")
        if part.empty:
            print("  fewer than two submissions with answers")
        for row in part.itertuples():
            mark = "  review" if row.review else ""
            print(f"  {row.similarity:5.0%}  {row.student_a}  {row.student_b}{mark}")
    print(f"\nTable: {course.reports / 'similarity.csv'}")


def add_arguments(parser):
    parser.add_argument("--assignment", action="append", metavar="A",
                        help="only this assignment (may repeat)")
    parser.add_argument("--top", type=int, default=10, metavar="N",
                        help="pairs to list per assignment (default: 10)")


HELP = "list the pairs of submissions whose answers are most alike"
