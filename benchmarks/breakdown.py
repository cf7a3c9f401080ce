"""`python -m benchmarks breakdown`: where the time of grading one notebook goes,
against the floor.

Examples
--------
    python -m benchmarks breakdown                    # 4 submissions per assignment
    python -m benchmarks breakdown --submissions 2 --assignments logistic_regression

In a scratch copy of the course, each submission is graded by the kit's own job
(:func:`kit.engine.autograde._grade`: staging, secure execution, hidden tests,
gradebook rows, feedback), one after another in this process, with each phase
timed on the wall clock. The floor is the same notebook's cells executed in one
kernel that imported NumPy, SciPy, pandas, scikit-learn, lets-plot and every
module of the student library before the clock starts (its namespace is reset
between notebooks), in grading mode as the sandbox runs them. Beside it, the
test cells with hidden tests timed in that kernel, after the solution's cells, as
plain nbgrader runs them: what the hidden tests cost without the sandbox.

It prints, per assignment and for all, the seconds per notebook of each phase (of
the hidden tests', the part spent serving the kernel's callbacks into the grader:
the reference functions lent to the student's code) and the ratio of a whole job
to the floor (target: at most 1.5). Run it on an idle machine; figures are for
reports, not tests.
"""

import functools
import os
import pkgutil
import queue
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel

from benchmarks.grading import make_submissions
from kit.commands import build, grade
from kit.course import HIDDEN_REGION, copy_course, tool_env
from kit.engine import autograde, staging
from kit.plugins import secure
from kit.sandbox import remote

# Phases as printed: measured ones, then those derived from them.
MEASURED = ("job", "staging", "autograde", "execution", "student cells",
            "first cell", "hidden tests", "callbacks", "feedback")
DERIVED = {
    "kernel start and stop": ("execution", "student cells", "hidden tests"),
    "other student cells": ("student cells", "first cell"),
    "nbgrader autograde, without execution": ("autograde", "execution"),
    "rest of the job": ("job", "staging", "autograde", "feedback"),
}
SHOWN = ("job", "staging", "kernel start and stop", "first cell",
         "other student cells", "hidden tests", "callbacks",
         "nbgrader autograde, without execution",
         "feedback", "rest of the job")


class Clock:
    """Wall-clock seconds per phase, summed over the jobs timed."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.calls = defaultdict(int)
        self.first_pending = False

    def wrap(self, owner, name, phase):
        """Time every call of ``owner.name`` as ``phase``; return an undo."""
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - start
                self.calls[phase] += 1

        setattr(owner, name, timed)
        return lambda: setattr(owner, name, original)

    def wrap_first_cell(self):
        """Time the first cell a kernel runs (the notebook's imports)."""
        original = secure.SecureExecute._run_in_kernel
        clock = self

        def timed(self, *args, **kwargs):
            if not clock.first_pending:
                return original(self, *args, **kwargs)
            clock.first_pending = False
            start = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                clock.seconds["first cell"] += time.perf_counter() - start

        secure.SecureExecute._run_in_kernel = timed
        return lambda: setattr(secure.SecureExecute, "_run_in_kernel", original)

    def phases(self, n):
        """Seconds per notebook of every phase, measured and derived."""
        out = {phase: self.seconds[phase] / n for phase in MEASURED}
        for phase, (whole, *parts) in DERIVED.items():
            out[phase] = out[whole] - sum(out[p] for p in parts)
        return out


def grade_timed(course, assignment, students):
    """Grade ``students``' submissions of ``assignment`` one by one, in this
    process; return the :class:`Clock`."""
    from nbgrader.apps.api import NbGraderAPI

    clock = Clock()
    undo = [clock.wrap(staging, "stage", "staging"),
            clock.wrap(NbGraderAPI, "autograde", "autograde"),
            clock.wrap(NbGraderAPI, "generate_feedback", "feedback"),
            clock.wrap(secure.SecureExecute, "_run_once", "execution"),
            clock.wrap(secure.SecureExecute, "_run_student_cells", "student cells"),
            clock.wrap(secure.SecureExecute, "_run_hidden_tests", "hidden tests"),
            clock.wrap(remote.Session, "_callback", "callbacks"),
            clock.wrap_first_cell()]
    try:
        for student in students:
            clock.first_pending = True
            start = time.perf_counter()
            result = autograde._grade(course.root, assignment, student,
                                      autograde.Options(workers=1))
            clock.seconds["job"] += time.perf_counter() - start
            faults = [reason for kind, reason in result.notes if kind == "fault"]
            if not result.recorded or faults:
                print(f"  note: {assignment}/{student}: {faults or 'not recorded'}")
    finally:
        for step in undo:
            step()
    return clock


def warm_kernel(course):
    """A kernel in grading mode that has imported the course's modules."""
    env = dict(tool_env())
    if course.library:
        env["PYTHONPATH"] = str(course.library)
    km, kc = start_new_kernel(kernel_name="python3", env=env)
    modules = ["numpy", "scipy", "pandas", "sklearn", "lets_plot"]
    if course.library:
        modules += ["lib"] + [f"lib.{m.name}" for m in
                              pkgutil.iter_modules([str(course.library / "lib")])]
    setup(kc, "\n".join(f"import {m}" for m in modules))
    return km, kc


def run(kc, code, timeout=300):
    """Execute ``code`` in the kernel and wait until it is done and its outputs are
    all received (errors allowed)."""
    msg_id = kc.execute(code, store_history=False, allow_stdin=False)
    deadline = time.monotonic() + timeout
    error = None
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=max(1, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError(f"a cell ran over {timeout} s") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "error":
            error = f"{msg['content']['ename']}: {msg['content']['evalue']}"
        if (msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"):
            return error


def time_floor(course, assignment, students, kc):
    """Seconds to execute the students' notebooks' code cells in the warm kernel."""
    total = 0.0
    for student in students:
        folder = course.submitted / student / assignment
        nb = nbformat.read(next(folder.glob("*.ipynb")), as_version=4)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "work"
            shutil.copytree(folder, work, ignore=shutil.ignore_patterns("*.ipynb"))
            setup(kc, f"%reset -f\nimport os\nos.chdir({str(work)!r})")
            start = time.perf_counter()
            for c in nb.cells:
                if c.cell_type == "code" and c.source.strip():
                    run(kc, c.source)
            total += time.perf_counter() - start
            # Out of the folder before it goes: %reset fails in a deleted folder.
            setup(kc, f"import os\nos.chdir({str(course.root)!r})")
    return total


def setup(kc, code):
    """Run code that prepares the kernel for what is timed; it must not fail."""
    error = run(kc, code)
    if error:
        raise RuntimeError(f"the warm kernel could not be prepared: {error}")


def time_hidden_in_kernel(course, assignment, kc):
    """Seconds the test cells with hidden tests take when they run in the warm
    kernel beside the reference solution (as plain nbgrader runs them, in the
    student's kernel): the solution notebook's code cells, in order."""
    nb = nbformat.read(course.source_notebook(assignment), as_version=4)
    # The hidden tests import the course's lib/, references included.
    folder = course.source / assignment
    setup(kc, f"%reset -f\nimport os, sys\nos.chdir({str(folder)!r})"
            f"\nsys.path.insert(0, {str(course.root)!r})\n"
            "for _m in [m for m in sys.modules if m == 'lib' or m.startswith('lib.')]:"
            "\n    del sys.modules[_m]")
    total = 0.0
    for c in nb.cells:
        if c.cell_type == "code" and c.source.strip():
            start = time.perf_counter()
            error = run(kc, c.source)
            if HIDDEN_REGION.search(c.source):
                total += time.perf_counter() - start
                if error:
                    print(f"  note: {assignment}: a hidden test failed on the "
                          f"solution in the warm kernel: {error}")
    setup(kc, f"sys.path.remove({str(course.root)!r})\n"
            "for _m in [m for m in sys.modules if m == 'lib' or m.startswith('lib.')]:"
            "\n    del sys.modules[_m]\nimport lib")
    return total


def report(name, clock, n, floor, hidden_in_kernel):
    phases = clock.phases(n)
    print(f"\n{name}: seconds per notebook")
    for phase in SHOWN:
        label = phase
        if phase == "callbacks":  # part of the hidden tests' time
            label = f"  of which {clock.calls[phase] / n:.0f} callbacks"
        print(f"  {label:40s} {phases[phase]:7.2f}")
    print(f"  {'floor (cells in a warm kernel)':40s} {floor:7.2f}")
    print(f"  {'hidden tests in that kernel':40s} {hidden_in_kernel:7.2f}")
    print(f"  {'job / floor':40s} {phases['job'] / floor:7.2f}x (target: at most 1.5x)")


def main(args, course):
    assignments = args.assignments.split(",") if args.assignments else \
        course.assignments()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = copy_course(course.root, Path(tmp) / "course", submissions=False,
                              assignments=assignments)
        build.build(scratch, log=lambda *a: None)
        make_submissions(scratch, assignments, args.submissions)
        found = grade.submissions(scratch, assignments)
        autograde._init_worker(scratch.root)
        autograde.start_fork_server(scratch.root, autograde.Options())
        autograde.prepare_gradebook(scratch, found)
        km, kc = warm_kernel(scratch)
        totals, floors, hiddens, n = Clock(), 0.0, 0.0, 0
        try:
            for assignment, students in found.items():
                clock = grade_timed(scratch, assignment, students)
                floor = time_floor(scratch, assignment, students, kc)
                hidden = time_hidden_in_kernel(scratch, assignment, kc)
                report(assignment, clock, len(students), floor / len(students),
                       hidden)
                for phase, seconds in clock.seconds.items():
                    totals.seconds[phase] += seconds
                    totals.calls[phase] += clock.calls[phase]
                floors += floor
                hiddens += hidden * len(students)
                n += len(students)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    report(f"all {len(assignments)} assignments, {n} notebooks, {os.cpu_count()} "
           "cores", totals, n, floors / n, hiddens / n)


def add_arguments(parser):
    parser.add_argument("--submissions", type=int, default=4,
                        help="submissions per assignment (default: 4)")
    parser.add_argument("--assignments", default="",
                        help="comma-separated assignments (default: all)")


HELP = "where one graded notebook's time goes, against the floor of its cells"
