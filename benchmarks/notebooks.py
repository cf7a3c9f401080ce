"""`python -m benchmarks notebooks`: how long the notebooks and the main job take here.

Examples
--------
    python -m benchmarks notebooks            # every assignment, 3 runs each
    python -m benchmarks notebooks --runs 5
    python -m benchmarks notebooks --notebooks-only

Prints, for each assignment, the time to execute its source notebook from kernel
start to the last cell (median of the runs, with min and max), and the time of the
whole main job (build, then autograde of every submission in submitted/, feedback,
export and report) in a scratch copy of the course. Run it on an idle machine; the
figures are for reports, not for tests.
"""

import statistics
import tempfile
import time

import nbformat

from kit.commands import build, grade
from kit.course import copy_course

# Targets from the course's requirements, in seconds: every notebook in grading
# mode under 20 s, the first under 15 s; the main job of the first under 90 s.
NOTEBOOK_TARGETS = {"logistic_regression": 15.0}
NOTEBOOK_TARGET = 20.0
MAIN_JOB_TARGET = 90.0


def time_notebook(course, assignment):
    """Seconds to execute a source notebook in a fresh kernel (start to last cell)."""
    nb = nbformat.read(course.source_notebook(assignment), as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        build.execute_notebook(nb, tmp)
        return time.perf_counter() - start


def main(args, course):
    print(f"{'notebook':32s} {'median':>8s} {'min':>8s} {'max':>8s}  target")
    for assignment in course.assignments():
        times = [time_notebook(course, assignment) for _ in range(args.runs)]
        target = NOTEBOOK_TARGETS.get(assignment, NOTEBOOK_TARGET)
        print(f"{assignment:32s} {statistics.median(times):7.1f}s {min(times):7.1f}s "
              f"{max(times):7.1f}s  < {target:g} s")
    if args.notebooks_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        scratch = copy_course(course.root, tmp)
        n = sum(len(s) for s in grade.submissions(scratch).values())
        lines = []
        start = time.perf_counter()
        grade.run(scratch, rebuild=True, log=lines.append, force=True)
        total = time.perf_counter() - start
    print(f"main job (build + grade {n} submissions): {total:.1f} s "
          f"(target for assignment 1 alone: < {MAIN_JOB_TARGET:g} s)")
    for line in lines:  # the steps' own timings
        if line.endswith(" s") or line.endswith(" s)"):
            print(f"  {line}")


def add_arguments(parser):
    parser.add_argument("--runs", type=int, default=3,
                        help="executions of each notebook (default: 3)")
    parser.add_argument("--notebooks-only", action="store_true",
                        help="time the notebooks only, not the main job")


HELP = "time the notebooks and the main job"
