"""`python -m kit bench`: how long the notebooks and the main job take here.

Examples
--------
    python -m kit bench            # every assignment, 3 runs each
    python -m kit bench --runs 5

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

from kit import build, grade
from kit.course import copy_course

# Targets from the course's requirements, in seconds.
NOTEBOOK_TARGET = 15.0
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
        print(f"{assignment:32s} {statistics.median(times):7.1f}s {min(times):7.1f}s "
              f"{max(times):7.1f}s  < {NOTEBOOK_TARGET:g} s")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = copy_course(course.root, tmp)
        n = sum(len(s) for s in grade.submissions(scratch).values())
        start = time.perf_counter()
        grade.run(scratch, rebuild=True, log=lambda *_: None)
        total = time.perf_counter() - start
    print(f"main job (build + grade {n} submissions): {total:.1f} s "
          f"(target < {MAIN_JOB_TARGET:g} s)")


def add_arguments(parser):
    parser.add_argument("--runs", type=int, default=3,
                        help="executions of each notebook (default: 3)")


HELP = "time the notebooks and the main job"
