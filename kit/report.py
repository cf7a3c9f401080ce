"""Scores read back from the gradebook: a table, a summary and an HTML report."""

import html

import pandas as pd
from lets_plot import (
    aes,
    geom_text,
    geom_tile,
    ggplot,
    ggsize,
    ggtitle,
    labs,
    scale_fill_gradient,
)
from nbgrader.api import Gradebook

from lib import plots


def problem_name(grade_id):
    """``test_sigmoid`` -> ``sigmoid``; written answers keep their grade_id."""
    return grade_id.removeprefix("test_")


def scores(course):
    """One row per graded cell of every submission in the gradebook.

    Columns: assignment, student, problem, kind ("auto" or "manual"), score (NaN for
    a written answer not graded yet) and max_score. Public check cells (worth 0
    points) are left out.
    """
    rows = []
    with Gradebook(course.gradebook_url) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        if grade.max_score == 0:
                            continue
                        graded = (grade.auto_score is not None
                                  or grade.manual_score is not None)
                        rows.append({
                            "assignment": assignment.name,
                            "student": submission.student.id,
                            "problem": problem_name(grade.name),
                            "kind": "auto" if grade.cell_type == "code" else "manual",
                            "score": grade.score if graded else float("nan"),
                            "max_score": grade.max_score,
                        })
    columns = ["assignment", "student", "problem", "kind", "score", "max_score"]
    return pd.DataFrame(rows, columns=columns)


def summary(df):
    """Automatic points per student and problem, with totals, one table."""
    auto = df[df.kind == "auto"]
    table = auto.pivot_table(index=["assignment", "student"], columns="problem",
                             values="score", aggfunc="sum", sort=False)
    table["auto total"] = table.sum(axis=1)
    maxima = auto.groupby(["assignment", "student"])["max_score"].sum()
    table["out of"] = maxima
    return table


def score_heatmap(df):
    """Fraction of the points earned, student by problem."""
    auto = df[df.kind == "auto"].copy()
    auto["fraction"] = auto.score / auto.max_score
    fmt = "{:g}".format
    auto["label"] = auto.score.map(fmt) + "/" + auto.max_score.map(fmt)
    n_students = auto.student.nunique()
    return (
        ggplot(auto, aes("problem", "student"))
        + geom_tile(aes(fill="fraction"), color="white")
        + geom_text(aes(label="label"), size=7)
        + scale_fill_gradient(low="#d7301f", high="#1a9850", limits=[0, 1],
                              name="fraction of points")
        + labs(x="problem (automatically graded)", y="submission")
        + ggtitle("Scores per problem")
        + ggsize(160 + 90 * auto.problem.nunique(), 140 + 34 * n_students)
    )


def write_html(df, path, title="Grading report"):
    """A standalone report page: the score chart per assignment and the table."""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
             f"{html.escape(title)}</title><style>body{{font-family:sans-serif;"
             f"margin:2em}} table{{border-collapse:collapse}} td,th{{border:1px solid "
             f"#ccc;padding:2px 6px;text-align:right}}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    for assignment, part in df.groupby("assignment", sort=False):
        parts.append(f"<h2>{html.escape(assignment)}</h2>")
        parts.append(plots.to_svg(score_heatmap(part)))
        parts.append(summary(part).to_html(na_rep="", float_format="{:g}".format))
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
