"""`python -m benchmarks grading`: the kit's grading against plain nbgrader, same run.

Examples
--------
    python -m benchmarks grading                      # 40 submissions per assignment
    python -m benchmarks grading --submissions 10 --assignments logistic_regression

In a scratch copy of the course, ``--submissions`` copies of the demo submissions of
each assignment are graded four ways, each from the same clean gradebook:

- ``nbgrader``: ``nbgrader autograde`` then ``generate_feedback``, one assignment
  after another (what a course runs without the kit);
- ``kit, 1 worker``: the kit's secure grading in one process (its cost per notebook);
- ``kit, N workers``: the kit's secure grading, one worker per core;
- ``nbclient``: executing the same notebooks with nbclient alone, no grading.

It prints seconds, submissions per minute, the throughput ratio of the parallel kit
over nbgrader (target on 2 cores: at least 1.7), the secure cost per notebook over
nbgrader (target: at most 1.5) and the per-notebook overhead over nbclient.
Run it on an idle machine; figures are for reports, not tests.
"""

import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from kit.commands import build, grade
from kit.course import Course, copy_course, demo, tool_env
from kit.engine import autograde, staging

#: Notebooks a class of 300 students hands in over six assignments.
CLASS = 1_800


def make_submissions(course, assignments, count):
    """``count`` submissions per assignment, cycling through the demo notebooks."""
    for assignment in assignments:
        demos = list(demo.demo_notebooks(course, assignment).values())
        for i in range(count):
            demo.write_submission(course, f"s{i:03d}", assignment,
                                  demos[i % len(demos)])


def fresh(course, gradebook):
    """Put back the gradebook as built, with no grading outputs."""
    for part in ("autograded", "feedback", staging.STAGED):
        shutil.rmtree(course.root / part, ignore_errors=True)
    shutil.copy2(gradebook, course.root / "gradebook.db")


def time_nbgrader(course, assignments):
    start = time.perf_counter()
    for assignment in assignments:
        course.nbgrader("autograde", assignment, "--force", check=False)
        course.nbgrader("generate_feedback", assignment, "--force", check=False)
    return time.perf_counter() - start


def time_kit(course, assignments, workers):
    found = {a: s for a, s in grade.submissions(course).items() if a in assignments}
    start = time.perf_counter()
    autograde.grade_all(course, found, autograde.Options(workers=workers))
    return time.perf_counter() - start


def time_nbclient(course, assignments):
    start = time.perf_counter()
    for assignment in assignments:
        for path in sorted(course.submitted.glob(f"*/{assignment}/*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            with tempfile.TemporaryDirectory() as tmp:
                # as nbgrader does: a failing cell does not stop the notebook
                NotebookClient(nb, timeout=120, kernel_name="python3",
                               allow_errors=True,
                               resources={"metadata": {"path": tmp}}
                               ).execute(env=tool_env())
    return time.perf_counter() - start


def main(args, course):
    assignments = args.assignments.split(",") if args.assignments else \
        course.assignments()
    workers = autograde.Options().worker_count(10**6)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = copy_course(course.root, Path(tmp) / "course", submissions=False,
                              assignments=assignments)
        build.build(scratch, log=lambda *a: None)
        gradebook = Path(tmp) / "built.db"
        shutil.copy2(scratch.root / "gradebook.db", gradebook)
        make_submissions(scratch, assignments, args.submissions)
        n = args.submissions * len(assignments)
        runs = {}
        steps = {"nbgrader": lambda: time_nbgrader(scratch, assignments),
                 "kit, 1 worker": lambda: time_kit(scratch, assignments, 1),
                 f"kit, {workers} workers":
                     lambda: time_kit(scratch, assignments, workers),
                 "nbclient": lambda: time_nbclient(Course(scratch.root), assignments)}
        for name, step in steps.items():
            fresh(scratch, gradebook)
            runs[name] = step()
            print(f"  {name}: {runs[name]:.1f} s", flush=True)
    print(f"{n} submissions ({args.submissions} of each of {len(assignments)} "
          f"assignments), {os.cpu_count()} cores")
    print(f"{'run':22s} {'seconds':>8s} {'per notebook':>13s} {'per minute':>11s}")
    for name, seconds in runs.items():
        rate = 60 * n / seconds
        print(f"{name:22s} {seconds:8.1f} {seconds / n:12.2f}s {rate:11.1f}")
    plain, one = runs["nbgrader"], runs["kit, 1 worker"]
    parallel = runs[f"kit, {workers} workers"]
    print(f"throughput, kit with {workers} workers over nbgrader: "
          f"{plain / parallel:.2f}x (target: at least 1.7x on 2 cores)")
    print(f"secure grading cost per notebook over nbgrader: {one / plain:.2f}x "
          f"(target: at most 1.5x)")
    print(f"kit overhead per notebook over nbclient alone: "
          f"{(one - runs['nbclient']) / n:.2f} s")
    # A class of 300 with six assignments, at this run's rates.
    scaling = one / parallel / workers
    print(f"{workers} workers reach {one / parallel:.2f}x one worker "
          f"({scaling:.2f} per core; target: at least 0.9)")
    for cores, seconds in ((workers, parallel / n * CLASS),
                           (16, one / n * CLASS / (16 * scaling))):
        print(f"{CLASS:,} notebooks on {cores} cores: {seconds / 60:.0f} min"
              + ("" if cores == workers else
                 f" (projected from one worker, at {scaling:.2f} per core)"))


def add_arguments(parser):
    parser.add_argument("--submissions", type=int, default=40,
                        help="submissions per assignment (default: 40)")
    parser.add_argument("--assignments", default="",
                        help="comma-separated assignments (default: all)")


HELP = "time the kit's parallel secure grading against plain nbgrader"
