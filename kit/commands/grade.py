"""`python -m kit grade`: autograde submissions; write feedback, grades and a report.

Examples
--------
    python -m kit grade              # grade submitted/ as it is
    python -m kit grade --build      # rebuild release/ and solutions/ first

    python -m kit grade --workers 8  # eight grading processes
    python -m kit grade --insecure   # plain nbgrader execution, for comparison
    python -m kit grade --assignment fgsm --student s123   # one submission
    python -m kit grade --force      # grade again what is unchanged too

Submissions are read from ``submitted/<student>/<assignment>/`` and graded in
parallel (:mod:`kit.engine.autograde`), each in a sandboxed kernel with hidden tests
run outside it (:mod:`kit.plugins.secure`); only those new or changed since they were
last graded (:mod:`kit.engine.ledger`), unless ``--force``. Outputs (not
committed): ``autograded/``, ``feedback/``, the gradebook and ``reports/``
(``grades.csv``, nbgrader's export; ``scores.csv``, one row per problem;
``flags.csv``, the submissions that need a person's attention and why;
``report.html``, charts and tables), always of every graded submission. The command
ends with a summary table, and exits with status 3 when ``flags.csv`` is not empty.
"""

import functools
import sys
import time

import pandas as pd

from kit.commands import build
from kit.course import Course, KitError
from kit.engine import autograde, cluster, ledger, report, similarity
from kit.plugins import testscope
from kit.sandbox import bubblewrap

# Exit status of `python -m kit grade` when some submission needs a person's look.
ATTENTION = 3


def submissions(course, assignments=(), students=()):
    """``{assignment: [students]}`` found under submitted/, restricted to the named
    assignments and students when there are any; fail if there are none."""
    if not course.submitted.is_dir():
        raise KitError(f"{course.submitted}: no submitted/ folder. Collect submissions "
                       "into submitted/<student>/<assignment>/ first.")
    known = course.assignments()
    unknown = sorted(set(assignments) - set(known))
    if unknown:
        raise KitError(f"no assignment named {', '.join(unknown)} in {course.source} "
                       f"(there are {', '.join(known)}).")
    found = {}
    for assignment in assignments or known:
        names = sorted(d.parent.name
                       for d in course.submitted.glob(f"*/{assignment}")
                       if d.is_dir() and (not students or d.parent.name in students))
        if names:
            found[assignment] = names
    if not found:
        which = (f" of {', '.join(students)}" if students else "")
        raise KitError(f"{course.submitted}: no submission{which} of any assignment "
                       f"({', '.join(assignments or known)}).")
    return found


def to_grade(course, found, force=False):
    """The submissions of ``found`` that are new or changed since last graded (all
    with ``force``), and the digest of each submission of ``found``."""
    digests = {}
    for a, students in found.items():
        depends = ledger.basis(course, a)  # once per assignment, not per submission
        digests.update({(a, s): ledger.digest(course, a, s, depends)
                        for s in students})
    done = {} if force else ledger.recorded(course)
    todo = {}
    for (a, s), value in digests.items():
        if done.get((a, s)) != value:
            todo.setdefault(a, []).append(s)
    return todo, digests


def grade(course, found, options, log=print, progress=False, force=False,
          scheduler=None):
    """Grade the submissions in ``found`` that are new or changed since they were
    last graded (every one with ``force``); write and return the flags table, which
    keeps the flags of the submissions not graded again."""
    todo, digests = to_grade(course, found, force)
    skipped = sum(map(len, found.values())) - sum(map(len, todo.values()))
    results = []
    if todo:
        if options.secure:
            # One cause shared by every submission stops the batch before it starts.
            check = (functools.partial(cluster.preflight, scheduler) if scheduler
                     else bubblewrap.preflight)
            if (course.root / "lib").is_dir() and course.library is None:
                raise KitError(f"{course.release / 'library'}: missing; the student "
                               "library is built from lib/ by `python -m kit build`, "
                               "and grading kernels import it in place of lib/.")
            problem = check(course.library, options.memory_mb or None)
            if problem:
                raise KitError(f"secure grading cannot start: {problem}.")
        start = time.perf_counter()
        results = autograde.grade_all(course, todo, options, progress=progress,
                                      scheduler=scheduler)
        seconds = time.perf_counter() - start
        insecure = ("" if options.secure
                    else " (insecure: student code ran with the tests)")
        where = (f"on the cluster of {scheduler}" if scheduler else
                 f"with {options.worker_count(len(results))} workers")
        log(f"{len(results)} submissions graded in {seconds:.1f} s {where}{insecure}")
        ledger.record(course, {(r.assignment, r.student):
                               digests[(r.assignment, r.student)]
                               for r in results if r.recorded})
    if skipped:
        log(f"{skipped} submissions unchanged since they were last graded: not graded "
            "again (--force grades them)")
    graded = {(r.student, r.assignment) for r in results}
    kept = report.read_flags(course)
    kept = kept[[(s, a) not in graded
                 for s, a in zip(kept.student, kept.assignment, strict=True)]]
    flags = pd.concat([kept, pd.DataFrame(
        [(r.student, r.assignment, kind, reason)
         for r in results for kind, reason in r.notes],
        columns=report.FLAG_COLUMNS)], ignore_index=True)
    course.reports.mkdir(exist_ok=True)
    flags.to_csv(course.reports / "flags.csv", index=False)
    return flags


def export(course):
    """Write reports/: nbgrader's grade export, per-problem scores and the report."""
    course.reports.mkdir(exist_ok=True)
    course.nbgrader("export", "--to", str(course.reports / "grades.csv"))
    df = report.scores(course)
    df.to_csv(course.reports / "scores.csv", index=False)
    similar = similarity.most_alike(course, course.assignments())
    similar[0].to_csv(course.reports / "similarity.csv", index=False)
    report.write_html(df, course.reports / "report.html",
                      failures=report.failures(course), flags=report.read_flags(course),
                      similar=similar)
    return df


def run(course=None, rebuild=False, log=print, progress=False, force=False,
        assignments=(), students=(), scheduler=None, **options):
    """Grade submitted/ (the named assignments and students, when there are any;
    only what changed since it was last graded, unless ``force``), write feedback
    and reports/ (of every graded submission), print a summary; return the
    per-problem scores. ``options`` are those of
    :class:`kit.engine.autograde.Options`."""
    course = course or Course()
    found = submissions(course, assignments, students)
    if rebuild:
        build.build(course, log=log)
    elif options.get("secure", True):  # kit build says it as well
        for assignment in found:
            for warning in testscope.assignment_warnings(course, assignment):
                log(f"warning: {warning}")
    flags = grade(course, found, autograde.Options(**options), log=log,
                  progress=progress, force=force, scheduler=scheduler)
    df = export(course)
    with pd.option_context("display.width", 200, "display.max_columns", 50,
                           "display.max_colwidth", 120):
        for assignment, part in df.groupby("assignment", sort=False):
            if report.none_graded(part):
                log(f"\n{assignment}: no submission could be graded (see the flags)")
                continue
            table = report.summary(part).droplevel("assignment")
            log(f"\n{assignment}\n"
                + table.to_string(na_rep="-", float_format="{:g}".format))
        if len(flags):
            log(f"\n{flags.groupby(['assignment', 'student']).ngroups} submissions "
                f"need attention:\n{flags.to_string(index=False)}")
    log(f"Grades: {course.reports / 'grades.csv'}; report: "
        f"{course.reports / 'report.html'}; flags: {course.reports / 'flags.csv'}; "
        f"feedback: {course.root / 'feedback'}/")
    return df


def main(args, course):
    run(course, rebuild=args.build, progress=sys.stderr.isatty(), force=args.force,
        assignments=args.assignment or (), students=args.student or (),
        scheduler=args.scheduler,
        workers=args.workers,
        secure=not args.insecure, memory_mb=args.memory_mb, timeout=args.timeout,
        budget=args.budget, grader_memory_mb=args.grader_memory_mb)
    return ATTENTION if len(report.read_flags(course)) else 0


def add_arguments(parser):
    defaults = autograde.Options()
    parser.add_argument("--build", action="store_true",
                        help="rebuild release/ and solutions/ from source/ first")
    parser.add_argument("--assignment", action="append", metavar="A",
                        help="grade only this assignment (may repeat)")
    parser.add_argument("--student", action="append", metavar="S",
                        help="grade only this student's submissions (may repeat)")
    parser.add_argument("--force", action="store_true",
                        help="grade again the submissions unchanged since they were "
                             "last graded (by default only new or changed ones are)")
    parser.add_argument("--workers", type=int, default=defaults.workers,
                        help="grading processes (default: one per core)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="grade on the workers of this Dask scheduler instead "
                             "of here (see the README, \"Grading on several "
                             "machines\")")
    parser.add_argument("--insecure", action="store_true",
                        help="run hidden tests in the student's kernel, as plain "
                             "nbgrader does (no sandbox; for comparison only)")
    parser.add_argument("--memory-mb", type=int, default=defaults.memory_mb,
                        help="address-space limit of each grading kernel "
                             "(default: %(default)s MB; 0: none)")
    parser.add_argument("--timeout", type=int, default=defaults.timeout,
                        help="seconds one cell may run (default: %(default)s)")
    parser.add_argument("--budget", type=int, default=defaults.budget,
                        help="seconds one submission's cells and hidden tests may "
                             "run in all; what is left then is not run and the "
                             "submission is flagged (default: %(default)s; 0: none)")
    parser.add_argument("--grader-memory-mb", type=int,
                        default=defaults.grader_memory_mb,
                        help="address-space limit of the grader's side of one "
                             "submission, hidden tests included (default: "
                             "%(default)s MB; 0: none)")


HELP = "autograde submitted/, write feedback, grades CSV, report and a summary"
