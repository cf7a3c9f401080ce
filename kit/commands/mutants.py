"""`python -m kit mutants`: do the hidden tests catch small changes to the references?

Examples
--------
    python -m kit mutants                                 # every assignment
    python -m kit mutants --assignment logistic_regression --function sigmoid

Each graded function's reference answer (the solution cell of the source notebook)
is changed in one small way at a time: an arithmetic, comparison or boolean operator
swapped, a number moved by one (an integer) or doubled and negated (a float), a
boolean flipped, a unary minus or ``not`` dropped, a condition negated, a reduction
swapped for its twin (``max``/``min``, ``sum``/``mean``, ...). Defaults in the
``def`` line are changed too: the contract fixes them. Every change (a *mutant*) is
pasted into a copy of the reference submission and graded in a scratch copy of the
course by ``python -m kit grade``, the grading path of real submissions, sandbox and
all. A mutant is *killed* when its function loses points. One submission carries one
mutant of every function (see :func:`grade_mutants`); survivors are confirmed alone.

Mutants that no input the contract allows can tell from the reference are listed,
each with the reason, in the course's ``equivalent_mutants.toml``; they are graded
like the rest but not counted. The command prints, per graded function, mutants
made, killed and survived, and each survivor's changed line; it writes every mutant
and its fate to ``reports/mutants.csv``, and exits with status 1 when fewer than
99% of some assignment's countable mutants are killed, when a listed equivalent
mutant is killed or no longer made (the list is then out of date).

The operators are those of the mutation tools mutmut and cosmic-ray, reduced to the
ones that make sense in numerical code; the generator is a small one of the kit's
own because a mutant here is a notebook cell graded in a batch, not a file under a
test runner.
"""

import ast
import re
import shutil
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kit.commands import build, grade
from kit.course import KitError, copy_course, demo
from kit.engine import report

# The percentage of countable mutants of each assignment that must lose points.
GATE = 99
EQUIVALENTS = "equivalent_mutants.toml"

BINARY = {ast.Add: ("+", "-"), ast.Sub: ("-", "+"), ast.Mult: ("*", "/"),
          ast.Div: ("/", "*"), ast.FloorDiv: ("//", "/"), ast.Pow: ("**", "*"),
          ast.Mod: ("%", "/")}
AUGMENTED = {ast.Add: ("+=", "-="), ast.Sub: ("-=", "+="), ast.Mult: ("*=", "/="),
             ast.Div: ("/=", "*=")}
COMPARE = {ast.Lt: ("<", "<="), ast.LtE: ("<=", "<"), ast.Gt: (">", ">="),
           ast.GtE: (">=", ">"), ast.Eq: ("==", "!="), ast.NotEq: ("!=", "=="),
           ast.Is: ("is", "is not"), ast.IsNot: ("is not", "is"),
           ast.In: ("in", "not in"), ast.NotIn: ("not in", "in")}
BOOLEAN = {ast.And: ("and", "or"), ast.Or: ("or", "and")}
# Reductions and elementwise functions that a slip turns into their twin.
TWINS = {"max": "min", "min": "max", "argmax": "argmin", "argmin": "argmax",
         "maximum": "minimum", "minimum": "maximum", "amax": "amin", "amin": "amax",
         "sum": "mean", "mean": "sum", "nanmax": "nanmin", "nanmin": "nanmax"}


@dataclass(frozen=True)
class Mutant:
    """One small change to a function's source."""

    line: int  # 1-based line of the change in the function's source
    original: str  # that line before the change, stripped
    changed: str  # that line after the change, stripped
    source: str  # the whole changed source


class _Text:
    """A source with ast positions (UTF-8 byte columns) turned into string offsets."""

    def __init__(self, source):
        self.source = source
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno, col):
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode()[:col].decode())

    def span(self, node):
        return (self.offset(node.lineno, node.col_offset),
                self.offset(node.end_lineno, node.end_col_offset))

    def line_of(self, offset):
        return next(i for i, start in enumerate(self.starts[1:], 1) if offset < start)


def _number_changes(value):
    if isinstance(value, bool):
        return [repr(not value)]
    if isinstance(value, int):
        return [repr(value + 1)] + ([repr(value - 1)] if value else [])
    if isinstance(value, float):
        return [repr(-value), repr(2 * value)] if value else ["1.0"]
    return []


def _gap_edit(text, left_end, right_start, old, new):
    """Replace operator ``old`` between two operands with ``new``, or None when the
    text between them holds more than the operator (comments, odd spacing)."""
    gap = text.source[left_end:right_start]
    match = re.fullmatch(rf"([\s()\\]*){re.escape(old)}([\s()\\]*)", gap)
    if not match:
        return None
    return left_end, right_start, match[1] + new + match[2]


def _edits(text, tree):
    """``(start, end, replacement)`` of every mutation of one parsed source."""
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            old, new = BINARY[type(node.op)]
            yield _gap_edit(text, text.span(node.left)[1], text.span(node.right)[0],
                            old, new)
        elif isinstance(node, ast.AugAssign) and type(node.op) in AUGMENTED:
            old, new = AUGMENTED[type(node.op)]
            yield _gap_edit(text, text.span(node.target)[1], text.span(node.value)[0],
                            old, new)
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
                old, new = COMPARE[type(op)]
                yield _gap_edit(text, text.span(left)[1], text.span(right)[0], old,
                                new)
        elif isinstance(node, ast.BoolOp):
            old, new = BOOLEAN[type(node.op)]
            for left, right in zip(node.values, node.values[1:], strict=False):
                yield _gap_edit(text, text.span(left)[1], text.span(right)[0], old,
                                new)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op,
                                                          (ast.USub, ast.Not)):
            start, end = text.span(node)
            operand_start, operand_end = text.span(node.operand)
            yield start, end, text.source[operand_start:operand_end]
        elif isinstance(node, ast.Constant):
            start, end = text.span(node)
            for new in _number_changes(node.value):
                yield start, end, new
        elif isinstance(node, ast.Attribute) and node.attr in TWINS:
            start, end = text.span(node)
            head = text.source[start:end]
            if head.endswith("." + node.attr):
                yield end - len(node.attr), end, TWINS[node.attr]
        elif isinstance(node, ast.Name) and node.id in ("max", "min"):
            start, end = text.span(node)
            yield start, end, TWINS[node.id]
        elif isinstance(node, ast.Attribute) and node.attr == "T":
            yield text.span(node.value)[1], text.span(node)[1], ""
        elif isinstance(node, ast.Call):
            yield from _call_edits(text, node)
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
            start, end = text.span(node.test)
            yield start, end, f"not ({text.source[start:end]})"
        elif isinstance(node, ast.For):
            start, end = text.span(node.iter)
            yield start, end, "[]"
        elif isinstance(node, (ast.Break, ast.Continue)):
            start, end = text.span(node)
            yield start, end, "continue" if isinstance(node, ast.Break) else "break"


# Calls that a slip leaves out: the call is replaced by its only argument.
DROPPABLE = {"abs", "sqrt", "log1p", "expm1"}


def _call_edits(text, node):
    """A keyword argument dropped (``axis=``, ``keepdims=``, ...); ``np.abs(x)`` and
    its kin replaced by ``x``."""
    name = getattr(node.func, "attr", getattr(node.func, "id", None))
    if name in DROPPABLE and len(node.args) == 1 and not node.keywords:
        start, end = text.span(node)
        arg_start, arg_end = text.span(node.args[0])
        yield start, end, f"({text.source[arg_start:arg_end]})"
    parts = sorted([*node.args, *node.keywords], key=lambda n: (n.lineno, n.col_offset))
    for i, part in enumerate(parts):
        if not isinstance(part, ast.keyword) or part.arg is None:
            continue
        start, end = text.span(part)
        if i:
            start = text.span(parts[i - 1])[1]
        elif len(parts) > 1:
            end = text.span(parts[1])[0]
        yield start, end, ""


def mutants(source):
    """Every distinct mutant of ``source`` (the code of one answer cell), in order.

    Strings (docstrings, messages) are left alone; every change keeps the number of
    lines, so a mutant's changed line is the same line of both sources.
    """
    text = _Text(source)
    seen, found = {source}, []
    for edit in _edits(text, ast.parse(source)):
        if edit is None:
            continue
        start, end, new = edit
        changed = source[:start] + new + source[end:]
        if changed in seen:
            continue
        seen.add(changed)
        try:
            ast.parse(changed)
        except SyntaxError:
            continue
        line = text.line_of(start)
        found.append(Mutant(line, text.lines[line - 1].strip(),
                            changed.splitlines()[line - 1].strip(), changed))
    return found


def read_equivalents(course):
    """``{(assignment, function, line, changed): why}`` from equivalent_mutants.toml."""
    path = course.root / EQUIVALENTS
    if not path.is_file():
        return {}
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8")).get("equivalent", [])
    except tomllib.TOMLDecodeError as exc:
        raise KitError(f"{path}: {exc}") from None
    listed = {}
    for i, entry in enumerate(entries, 1):
        missing = {"assignment", "function", "line", "mutant", "why"} - set(entry)
        if missing:
            raise KitError(f"{path}: entry {i} lacks {', '.join(sorted(missing))}.")
        listed[(entry["assignment"], entry["function"], entry["line"].strip(),
                entry["mutant"].strip())] = entry["why"]
    return listed


def plan(course, assignments=None, functions=None):
    """``[(assignment, function, k, Mutant)]`` of every mutant to grade."""
    chosen = []
    for assignment in assignments or course.assignments():
        if assignment not in course.assignments():
            raise KitError(f"no assignment {assignment!r} in {course.source}.")
        answers = demo.reference_answers(course, assignment)
        for function in demo.answer_cell_ids(demo.source_notebook(course, assignment)):
            if not functions or function in functions:
                chosen += [(assignment, function, k, mutant)
                           for k, mutant in enumerate(mutants(answers[function]), 1)]
    if not chosen:
        raise KitError("no graded function matches the --function given.")
    return chosen


def _submit(work, submissions):
    """Replace submitted/ with ``{(student, assignment): {function: Mutant}}``, each
    the reference submission with those functions changed."""
    shutil.rmtree(work.submitted, ignore_errors=True)
    read = {}  # assignment -> (release notebook, reference answers), read once
    for (student, assignment), changed in submissions.items():
        if assignment not in read:
            read[assignment] = (demo.release_notebook(work, assignment),
                                demo.reference_answers(work, assignment))
        release, answers = read[assignment]
        changes = {f: m.source for f, m in changed.items()}
        nb = demo.fill(release, {**answers, **changes})
        demo.write_submission(work, student, assignment, nb)


def _grade(work, submissions, options):
    """Grade ``submissions`` (see :func:`_submit`); return ``({(student, assignment,
    function): killed}, {(student, assignment) with a fault flag})``."""
    _submit(work, submissions)
    scores = grade.run(work, log=lambda *a: None, force=True, **options)
    auto = scores[scores.kind == "auto"].set_index(
        ["student", "assignment", "problem"]).sort_index()
    for (student, assignment), changed in submissions.items():
        if not changed:
            lost = auto.loc[(student, assignment)].query("score < max_score")
            if len(lost):
                raise KitError(f"{assignment}: the reference submission loses "
                               f"points in {', '.join(lost.index)}: the hidden "
                               "tests reject the reference.")
    killed = {(student, assignment, f): bool(auto.score[(student, assignment, f)]
                                             < auto.max_score[(student, assignment, f)])
              for (student, assignment), changed in submissions.items()
              for f in changed}
    flags = report.read_flags(work)
    faults = set(zip(flags.student[flags.kind == "fault"],
                     flags.assignment[flags.kind == "fault"], strict=True))
    return killed, faults


def grade_mutants(course, chosen, scratch, log=print, alone=False, **options):
    """Grade every mutant of ``chosen`` in a scratch course; return one row each.

    Hidden tests judge each function with the other graded functions replaced by
    the references, so a submission may carry one mutant of every function at once
    (the k-th of each): a function's points then tell its own mutant's fate. Two
    kinds of verdict are confirmed by grading the mutant alone: a kill in a
    submission that was flagged for a fault (a cell stopped, the kernel died: that
    can cost the other functions their points too), and every survivor.
    ``alone=True`` grades every mutant alone from the start.
    """
    assignments = sorted({a for a, _, _, _ in chosen})
    work = copy_course(course.root, scratch, submissions=False,
                       assignments=assignments)
    build.build(work, log=lambda *a: None)

    def alone_name(function, k):
        return f"mutant-{function}-{k:03d}"

    references = {("reference", a): {} for a in assignments}
    if alone:
        first = {(alone_name(f, k), a): {f: m} for a, f, k, m in chosen}
        where = {(a, f, k): (alone_name(f, k), a) for a, f, k, _ in chosen}
    else:
        first, where = {}, {}
        for a, f, k, m in chosen:
            first.setdefault((f"mutants-{k:03d}", a), {})[f] = m
            where[(a, f, k)] = (f"mutants-{k:03d}", a)
    log(f"grading {len(chosen)} mutants of {len(assignments)} assignments in "
        f"{len(first)} submissions ...")
    killed, faults = _grade(work, {**references, **first}, options)
    verdict = {key: killed[(*where[key], key[1])] for key in where}
    again = [(a, f, k, m) for a, f, k, m in chosen if not alone and (
        not verdict[(a, f, k)] or where[(a, f, k)] in faults)]
    if again:
        log(f"confirming {len(again)} verdicts, each mutant graded alone ...")
        killed, _ = _grade(work, {(alone_name(f, k), a): {f: m}
                                  for a, f, k, m in again}, options)
        verdict.update({(a, f, k): killed[(alone_name(f, k), a, f)]
                        for a, f, k, _ in again})
    return pd.DataFrame([
        {"assignment": a, "function": f, "mutant_id": k, "line": m.line,
         "original": m.original, "mutant": m.changed, "killed": verdict[(a, f, k)]}
        for a, f, k, m in chosen])


def _rates(table):
    """``(assignment, killed, countable)`` of each assignment in a per-function
    table of :func:`judge`."""
    for assignment, part in table.groupby(level="assignment", sort=False):
        yield (assignment, int(part.killed.sum()),
               int(part.made.sum() - part.equivalent.sum()))


def judge(results, equivalents):
    """Add the ``equivalent`` column; return (results, per-function table, problems):
    the problems are the reasons the gate fails, one sentence each."""
    keys = list(zip(results.assignment, results.function, results.original,
                    results.mutant, strict=True))
    results = results.assign(equivalent=[k in equivalents for k in keys])
    problems = [f"{a}.{f}: listed as equivalent but killed: {m}"
                for (a, f, _, m), killed, eq in zip(keys, results.killed,
                                                    results.equivalent, strict=True)
                if eq and killed]
    made = set(keys)
    covered = set(zip(results.assignment, results.function, strict=True))
    problems += [f"{a}.{f}: listed as equivalent but no longer made: {m}"
                 for (a, f, _, m) in equivalents if (a, f) in covered
                 and (a, f, _, m) not in made]
    counted = results[~results.equivalent]
    table = results.groupby(["assignment", "function"], sort=False).agg(
        made=("killed", "size"), equivalent=("equivalent", "sum"))
    table["killed"] = counted.groupby(["assignment", "function"]).killed.sum()
    table["killed"] = table.killed.fillna(0).astype(int)
    table["survived"] = table.made - table.equivalent - table.killed
    for assignment, killed, countable in _rates(table):
        if 100 * killed < GATE * countable:
            problems.append(f"{assignment}: {killed} of {countable} mutants killed "
                            f"({killed / countable:.1%}), below {GATE}%")
    return results, table, problems


def run(course, assignments=None, functions=None, log=print, alone=False, **options):
    """Make, grade and judge the mutants; return (results, table, problems)."""
    chosen = plan(course, assignments, functions)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kit-mutants-") as scratch:
        results = grade_mutants(course, chosen, Path(scratch), log=log, alone=alone,
                                **options)
    results, table, problems = judge(results, read_equivalents(course))
    log(f"{len(results)} mutants graded in {time.perf_counter() - start:.0f} s")
    return results, table, problems


def describe(results, table, problems):
    """The command's report as text."""
    out = [table.to_string()]
    for assignment, killed, countable in _rates(table):
        out.append(f"{assignment}: {killed} of {countable} killed"
                   + (f" ({killed / countable:.1%})" if countable else ""))
    survivors = results[~results.killed & ~results.equivalent]
    if len(survivors):
        out.append("\nsurvivors (the hidden tests give them every point):")
        for r in survivors.itertuples():
            where = f"  {r.assignment}.{r.function} line {r.line}: "
            out += [where + r.original, " " * (len(where) - 3) + "-> " + r.mutant]
    out += ["\n" + p for p in problems]
    return "\n".join(out)


def main(args, course):
    results, table, problems = run(
        course, args.assignment, args.function, alone=args.alone,
        workers=args.workers, timeout=args.timeout)
    course.reports.mkdir(exist_ok=True)
    results.to_csv(course.reports / "mutants.csv", index=False)
    print(describe(results, table, problems))
    return 1 if problems else 0


def add_arguments(parser):
    parser.add_argument("--assignment", action="append",
                        help="only this assignment (repeatable)")
    parser.add_argument("--function", action="append",
                        help="only this graded function (repeatable)")
    parser.add_argument("--workers", type=int, default=None,
                        help="grading processes (default: one per core)")
    parser.add_argument("--alone", action="store_true",
                        help="grade every mutant in a submission of its own (slower; "
                             "by default a submission holds one mutant of each "
                             "function and survivors are confirmed alone)")
    parser.add_argument("--timeout", type=int, default=30,
                        help="seconds one cell may run (default: %(default)s; a "
                             "mutant that loops forever loses its points)")


HELP = "grade small changes to the references: do the hidden tests catch them?"
