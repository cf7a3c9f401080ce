"""Scores read back from the gradebook and failures read from the autograded
notebooks: a table, a summary and an HTML report."""

import html

import nbformat
import pandas as pd
from lets_plot import (
    aes,
    geom_histogram,
    geom_text,
    geom_tile,
    ggplot,
    ggsize,
    ggtitle,
    labs,
    scale_fill_gradient,
    scale_x_continuous,
    scale_y_continuous,
)
from nbgrader.api import Gradebook

from kit.course import KitError
from kit.engine import similarity
from lib import plots


def problem_name(grade_id, notebook=None):
    """``test_sigmoid`` -> ``sigmoid``; written answers keep their grade_id. In an
    assignment of several notebooks, the notebook's name comes first
    (``problem1: correct_squares``)."""
    name = grade_id.removeprefix("test_")
    return f"{notebook}: {name}" if notebook else name


def scores(course):
    """One row per graded cell of every submission in the gradebook.

    Columns: assignment, student, problem, kind ("auto" or "manual"), score (NaN for
    a written answer not graded yet) and max_score. Public check cells (worth 0
    points) are left out.
    """
    rows = []
    with Gradebook(course.gradebook_url) as gb:
        for assignment in gb.assignments:
            several = len(assignment.notebooks) > 1
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    # A graded cell that is also an answer is graded by hand.
                    answers = {c.name for c in notebook.notebook.solution_cells}
                    for grade in notebook.grades:
                        if grade.max_score == 0:
                            continue
                        graded = (grade.auto_score is not None
                                  or grade.manual_score is not None)
                        rows.append({
                            "assignment": assignment.name,
                            "student": submission.student.id,
                            "problem": problem_name(
                                grade.name, notebook.name if several else None),
                            "kind": "auto" if grade.cell_type == "code"
                                    and grade.name not in answers else "manual",
                            "score": grade.score if graded else float("nan"),
                            "max_score": grade.max_score,
                        })
    columns = ["assignment", "student", "problem", "kind", "score", "max_score"]
    return pd.DataFrame(rows, columns=columns)


def none_graded(df):
    """Whether no automatically graded cell of ``df`` got a score (nbgrader could
    grade no submission)."""
    auto = df[df.kind == "auto"]
    return len(auto) > 0 and bool(auto.score.isna().all())


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


def failures(course):
    """The failed checks of every autograded notebook, one row per failing test.

    Reads ``autograded/<student>/<assignment>/*.ipynb``. A test cell (a graded code
    cell worth points) failed when one of its outputs is an error; its message is
    the error's value, or its name when the value is empty. A notebook that cannot
    be read is skipped (grading flags it).

    Returns
    -------
    pandas.DataFrame
        Columns assignment, student, problem and message.
    """
    rows = []
    for path in sorted((course.root / "autograded").glob("*/*/*.ipynb")):
        try:
            nb = nbformat.read(path, as_version=4)
        except (OSError, ValueError):  # nbformat's read errors are ValueErrors
            continue
        several = len(list((course.release / path.parent.name).glob("*.ipynb"))) > 1
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if (cell.cell_type != "code" or not meta.get("grade")
                    or not (meta.get("points") or 0) > 0):
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    rows.append({
                        "assignment": path.parent.name,
                        "student": path.parent.parent.name,
                        "problem": problem_name(meta.get("grade_id", ""),
                                                path.stem if several else None),
                        "message": output.get("evalue") or output.get("ename", ""),
                    })
    return pd.DataFrame(rows, columns=["assignment", "student", "problem", "message"])


FLAG_COLUMNS = ["student", "assignment", "kind", "reason"]


def read_flags(course):
    """``reports/flags.csv`` (submissions that need attention) as a DataFrame;
    empty, with its columns, when grading flagged nothing or wrote no file."""
    path = course.reports / "flags.csv"
    try:
        flags = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return pd.DataFrame(columns=FLAG_COLUMNS)
    missing = set(FLAG_COLUMNS) - set(flags.columns)
    if missing:
        raise KitError(f"{path}: missing columns {sorted(missing)}; expected "
                       f"{', '.join(FLAG_COLUMNS)}.")
    return flags


def score_histogram(df):
    """How many submissions earned each total of automatic points."""
    auto = df[df.kind == "auto"]
    totals = auto.groupby("student")["score"].sum()
    out_of = float(auto.groupby("student")["max_score"].sum().max())
    # Whole submissions: ticks at integers only.
    most = int(totals.round().value_counts().max())
    step = max(1, -(-most // 6))
    return (
        ggplot({"total": totals.tolist()}, aes("total"))
        + geom_histogram(binwidth=1, center=0, fill="#4c78a8", color="white")
        + scale_x_continuous(limits=[-0.5, out_of + 0.5])
        + scale_y_continuous(breaks=list(range(0, most + step, step)))
        + labs(x=f"automatic points (out of {out_of:g})", y="submissions")
        + ggtitle("Score distribution")
        + ggsize(560, 340)
    )


def problem_stats(df):
    """Per automatically graded problem: mean score, points and failure rate (the
    fraction of submissions that did not earn all its points)."""
    auto = df[df.kind == "auto"].assign(failed=lambda d: d.score < d.max_score)
    return auto.groupby("problem", sort=False).agg(
        mean=("score", "mean"), points=("max_score", "max"),
        failure_rate=("failed", "mean"))


def problem_charts(df):
    """Bar charts of the mean score and of the failure rate of each problem, in
    percent (problems are worth different points)."""
    stats = problem_stats(df)
    return [
        plots.bar_chart(100 * stats["mean"] / stats.points,
                        title="Mean score per problem", xlab="problem",
                        ylab="mean score (% of the problem's points)"),
        plots.bar_chart(100 * stats.failure_rate, title="Failure rate per problem",
                        xlab="problem", ylab="% of submissions without all the points"),
    ]


def common_failures(failures, top=10):
    """The ``top`` most frequent (problem, message) pairs, with their counts."""
    counts = (failures.groupby(["problem", "message"]).size()
              .rename("submissions").reset_index()
              .sort_values(["submissions", "problem", "message"],
                           ascending=[False, True, True]))
    return counts.head(top).reset_index(drop=True)


def _table(df, empty):
    """A plain HTML table of text cells (escaped), or ``empty`` when no rows."""
    if df.empty:
        return f"<p>{html.escape(empty)}</p>"
    return df.to_html(index=False, classes="text", border=0)


STYLE = (
    "body{font-family:sans-serif;margin:2em} table{border-collapse:collapse;"
    "margin-bottom:1.5em} td,th{border:1px solid #ccc;padding:2px 6px;"
    "text-align:right} table.text td,table.text th{text-align:left;vertical-align:top} "
    "pre{margin:0;font-size:85%} "
    ".charts{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}"
)


def similarity_section(table, cells):
    """The most alike pairs of one assignment, and the answer cells of each pair
    marked for review side by side."""
    if table.empty:
        return "<p>Fewer than two submissions with answers.</p>"
    shown = table[["student_a", "student_b", "similarity", "review"]].copy()
    shown["similarity"] = shown["similarity"].map("{:.0%}".format)
    shown["review"] = shown["review"].map({True: "yes", False: ""})
    parts = [_table(shown, "")]
    for pair in table[table.review].itertuples():
        rows = "".join(
            f"<tr><th>{html.escape(cell)}</th><td><pre>{html.escape(a)}</pre></td>"
            f"<td><pre>{html.escape(b)}</pre></td></tr>"
            for cell, a, b in similarity.side_by_side(cells[pair.student_a],
                                                      cells[pair.student_b]))
        parts.append(
            f"<details><summary>{html.escape(pair.student_a)} and "
            f"{html.escape(pair.student_b)}: {pair.similarity:.0%} alike</summary>"
            f"<table class='text'><tr><th>cell</th><th>{html.escape(pair.student_a)}"
            f"</th><th>{html.escape(pair.student_b)}</th></tr>{rows}</table></details>")
    return "".join(parts)


def write_html(df, path, failures=None, flags=None, similar=None,
               title="Grading report"):
    """A standalone report page (static SVG charts, no JavaScript).

    Parameters
    ----------
    df : pandas.DataFrame
        Scores as returned by :func:`scores`.
    path : pathlib.Path
        The HTML file to write; missing parent folders are created.
    failures : pandas.DataFrame, optional
        Failed checks as returned by :func:`failures`.
    flags : pandas.DataFrame, optional
        Flagged submissions, columns student, assignment, kind and reason.
    similar : tuple, optional
        ``(table, cells)`` of :func:`kit.engine.similarity.most_alike`.
    title : str
        Page title and top heading.

    The page starts with the flagged submissions; then, per assignment, the score
    distribution, the mean score and failure rate of each problem, the scores of
    each submission (chart and table), the most common failure messages and the
    most alike pairs of submissions.
    """
    if failures is None:
        failures = pd.DataFrame(columns=["assignment", "student", "problem",
                                         "message"])
    if flags is None:
        flags = pd.DataFrame(columns=FLAG_COLUMNS)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
             f"{html.escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<h2 id='flags'>Flagged submissions ({len(flags)})</h2>",
             _table(flags[FLAG_COLUMNS], "No submission was flagged.")]
    for assignment, part in df.groupby("assignment", sort=False):
        parts.append(f"<h2>{html.escape(assignment)}</h2>")
        if none_graded(part):
            parts.append(f"<p>No submission of {html.escape(assignment)} could be "
                         "graded: the flagged submissions above say why.</p>")
        elif (part.kind == "auto").any():
            # A cell nbgrader gave no score is in the flags, not in the charts.
            part = part[(part.kind != "auto") | part.score.notna()]
            charts = [score_histogram(part), *problem_charts(part)]
            parts.append("<div class='charts'>"
                         + "".join(plots.to_svg(c) for c in charts) + "</div>")
            parts.append(plots.to_svg(score_heatmap(part)))
            table = summary(part).droplevel("assignment")
            parts.append(table.to_html(na_rep="", float_format="{:g}".format))
        common = common_failures(failures[failures.assignment == assignment])
        parts.append("<h3>Most common failure messages</h3>")
        parts.append(_table(common, "No check failed."))
        if similar is not None:
            table, cells = similar
            parts.append(f"<h3 id='similar-{html.escape(assignment)}'>Most alike "
                         f"submissions (review at {similarity.THRESHOLD:.0%})</h3>")
            parts.append(similarity_section(
                table[table.assignment == assignment], cells.get(assignment, {})))
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
