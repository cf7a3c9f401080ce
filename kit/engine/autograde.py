"""Grading at class scale: nbgrader's autograde, one worker process per core.

Each submission is one job: a worker stages it (:mod:`kit.engine.staging`: a
repaired copy, the submitted folder itself is never changed, read for cheating and
with the student's markdown cleaned), then runs nbgrader's own ``Autograde`` and
``GenerateFeedback`` for that student, in process, against the course's gradebook.
nbgrader runs its default autograde preprocessors; with ``secure=True`` (the
default) :class:`kit.plugins.secure.SecureExecute` takes the place of ``Execute``:
the student's code runs in a sandboxed kernel and hidden tests run in the worker. In
both modes the outputs are cleaned and bounded right after execution
(:class:`kit.plugins.sanitize.SanitizeOutputs`). The plugins report what went wrong
through a notes file per job (:mod:`kit.plugins.notes`).

A job that fails cannot stop the others: its faults are returned as notes, and the
batch goes on. Notes become ``reports/flags.csv``. Each job runs in a process of its
own, forked by the worker, with a limit on its address space and a time budget: a
submission that makes the grader's side of its grading run out of memory, hang or
die costs that submission alone (the worker notes it and goes on), and a worker that
dies all the same has its unfinished jobs graded again by a new pool.
"""

import ast
import contextlib
import ctypes
import gc
import importlib
import multiprocessing
import os
import pickle
import resource
import select
import shutil
import signal
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from kit.course import Course, KitError, last_message, tool_env
from kit.engine import staging
from kit.plugins import feedback, grades, metadata, sanitize, secure
from kit.plugins import notes as grading_notes
from kit.sandbox import forkserver

# Each job writes its process id here while it runs (for operators and tests).
JOBS = ".kit/jobs"
# The grading notes of each job's nbgrader plugins (kit/plugins/notes.py).
NOTES = ".kit/notes"
# Seconds a job may take past its submission's budget (feedback, gradebook rows)
# before its process is killed; rounds of regrading after a worker dies.
GRACE = 120
ROUNDS = 3
PR_SET_PDEATHSIG = 1  # prctl(2)
# The modules the course's notebooks and library import (_preload).
_KERNEL_MODULES = []


@dataclass(frozen=True)
class Options:
    """How to grade: worker count, secure mode and the limits of each kernel."""

    workers: int = 0          # 0: one per core
    secure: bool = True
    memory_mb: int = 4096     # address-space limit of a grading kernel
    timeout: int = 120        # seconds one cell may run
    budget: int = 300         # seconds one submission's cells and tests may run
    grader_memory_mb: int = 3072  # address-space limit of the grader of one job

    def worker_count(self, jobs):
        return max(1, min(jobs, self.workers or os.cpu_count() or 1))


@dataclass
class Result:
    """What grading one submission did: the faults and suspicions found."""

    assignment: str
    student: str
    notes: list = field(default_factory=list)   # [(kind, reason)]
    seconds: float = 0.0
    recorded: bool = False   # nbgrader wrote its grades


def _config(course, options, notes_path):
    """nbgrader's configuration for grading one submission: the course's own
    ``nbgrader_config.py``, with nbgrader's default autograde preprocessors, in which
    secure mode puts :class:`SecureExecute` in the place of ``Execute``; in both
    modes :class:`SanitizeOutputs` cleans the outputs right after execution."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config()
    cfg.CourseDirectory.root = str(course.root)
    cfg.CourseDirectory.submitted_directory = staging.STAGED
    cfg.Execute.timeout = options.timeout
    cfg.SecureExecute.budget = options.budget
    cfg.GradingNotes.path = str(notes_path)
    traits = Autograde.class_traits()
    # nbgrader's own steps, with the kit's versions of two in both of its passes
    # (the course's own list of the first, if it has one).
    cleaning = (cfg.Autograde.sanitize_preprocessors
                if "sanitize_preprocessors" in cfg.Autograde
                else traits["sanitize_preprocessors"].default())
    cfg.Autograde.sanitize_preprocessors = kits_steps(cleaning)
    steps = kits_steps(traits["autograde_preprocessors"].default())
    execute = steps.index(Execute)
    if options.secure:
        steps[execute] = secure.SecureExecute
        cfg.SecureExecute.library = str(course.library or "")
        cfg.SecureExecute.memory_mb = options.memory_mb
    # Outputs are made harmless and small as soon as they exist: what is scored,
    # saved and shown is the cleaned notebook (kit/plugins/sanitize.py).
    steps.insert(execute + 1, sanitize.SanitizeOutputs)
    cfg.Autograde.autograde_preprocessors = steps
    return cfg


def kits_steps(steps):
    """``steps`` with the kit's versions of nbgrader's metadata check (its schema
    compiled once: kit/plugins/metadata.py) and of SaveAutoGrades (one commit per
    notebook: kit/plugins/grades.py), which give the same verdicts and rows."""
    from nbgrader.preprocessors import CheckCellMetadata, SaveAutoGrades

    kits = {CheckCellMetadata: metadata.CheckCellMetadata,
            SaveAutoGrades: grades.SaveAutoGrades}
    return [kits.get(step, step) for step in steps]


def grade_submission(root, assignment, student, options):
    """Grade one submission in a process of its own, forked from this one (a
    worker), under the grader's memory limit and the submission's time budget;
    never raises. A job that dies or overruns is noted, with what it earned so far
    left out: nbgrader writes the grades at the end of a run."""
    start = time.perf_counter()
    start_fork_server(root, options)
    pidfile = Path(root) / JOBS / assignment / student
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the job's own process
        os.close(read)
        code = 1
        try:
            _die_with_parent()
            pidfile.parent.mkdir(parents=True, exist_ok=True)
            pidfile.write_text(str(os.getpid()))
            _limit_memory(options.grader_memory_mb)
            data = pickle.dumps(_grade(root, assignment, student, options))
            with os.fdopen(write, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    data, reason = _collect(read, pid, options.budget + GRACE if options.budget
                            else None)
    pidfile.unlink(missing_ok=True)
    try:
        result = pickle.loads(data) if reason is None else None
    except Exception:  # noqa: BLE001 - a truncated result
        result, reason = None, "its grading process sent back an unreadable result"
    if result is None:
        result = Result(assignment, student, [("fault", f"grading stopped: {reason}; "
                                               "no grade was recorded")])
    result.seconds = time.perf_counter() - start
    return result


def start_fork_server(root, options):
    """Start this worker's fork server of grading kernels, unless it runs: its
    jobs, forked from the worker, have their kernels forked by it."""
    if options.secure:
        forkserver.start(Course(Path(root)).library, options.memory_mb or None,
                         _KERNEL_MODULES)


def _die_with_parent():
    """Have the kernel end this process when its parent (the worker) dies, so that
    a job whose worker died is never graded twice at once."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _limit_memory(megabytes):
    """Limit this process's address space (soft limit only, so that the sandbox
    can still give the kernel its own limit)."""
    if megabytes:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (megabytes * 2**20, hard))


def _collect(fd, pid, seconds):
    """Read a job's result from ``fd`` until it ends; ``(data, None)``, or
    ``(None, reason)`` when the job died or overran ``seconds`` and was killed."""
    deadline = time.monotonic() + seconds if seconds else float("inf")
    chunks = []
    with os.fdopen(fd, "rb", buffering=0) as f:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return None, f"it ran longer than {seconds} s and was stopped"
            ready, _, _ = select.select([f], [], [], min(left, 1.0))
            if ready:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return None, f"its grading process was killed ({name})"
    if os.WEXITSTATUS(status) != 0 or not chunks:
        return None, (f"its grading process failed (exit status "
                      f"{os.WEXITSTATUS(status)}, possibly out of memory)")
    return b"".join(chunks), None


def _grade(root, assignment, student, options):
    """Grade one submission in this process; never raises."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    course = Course(Path(root))
    result = Result(assignment, student)
    notes_path = course.root / NOTES / assignment / student
    notes_path.parent.mkdir(parents=True, exist_ok=True)
    notes_path.unlink(missing_ok=True)
    try:
        result.notes += staging.stage(course, assignment, student)
        cfg = _config(course, options, notes_path)
        api = NbGraderAPI(CourseDirectory(config=cfg), config=cfg)
        graded = api.autograde(assignment, student, force=True, create=True)
        result.recorded = bool(graded["success"])
        if not graded["success"]:
            why = last_message(graded.get("error") or graded.get("log"))
            result.notes.append(("fault", f"nbgrader could not grade it: {why}"))
        written = api.generate_feedback(assignment, student, force=True)
        if not written["success"]:
            result.notes.append(("fault", "no feedback was written: "
                                 + last_message(written.get("error"))))
    except Exception as exc:  # noqa: BLE001 - one submission never stops the batch
        result.notes.append(("fault", f"grading failed: {type(exc).__name__}: "
                                      f"{last_message(str(exc))}"))
    for kind, reason in grading_notes.read(notes_path):
        grading_notes.add(result.notes, kind, reason)
    notes_path.unlink(missing_ok=True)
    return result


def _init_worker(root):
    # First the environment (one BLAS thread: it is read when numpy loads), then
    # nbgrader, imported once per worker: its jobs are forked from it.
    os.environ.update(tool_env())
    import nbgrader.apps.api  # noqa: F401
    import nbgrader.coursedir  # noqa: F401

    # Hidden tests import the references of the course being graded, which may be
    # another course than the one installed in the environment.
    sys.path.insert(0, str(root))
    # nbgrader's gradebook code triggers SQLAlchemy 2's cascade warnings on every new
    # submission; they say nothing about the submission, so keep them off the output.
    from sqlalchemy.exc import SAWarning
    warnings.filterwarnings("ignore", category=SAWarning)
    _preload(Path(root))


def _preload(root):
    """Import once, in the worker, what the jobs forked from it import: the
    feedback's HTML export, and every module the course's source notebooks and
    library import, at the top or in a function (NumPy, SciPy, scikit-learn...),
    which the hidden tests import in the grader. Each job then starts with them
    instead of paying for them (a second or more). Only the instructor's files are
    read, never a submission; a module that fails to import is left to the job
    that needs it, which says why."""
    import nbconvert.exporters.html  # noqa: F401
    import nbformat

    feedback.template_cache()   # shared by the jobs: each template compiled once

    course = Course(root)
    texts = [p.read_text(errors="replace") for p in sorted(root.glob("lib/**/*.py"))]
    for assignment in course.assignments():
        with contextlib.suppress(Exception):
            nb = nbformat.read(course.source_notebook(assignment), as_version=4)
            texts += [c.source for c in nb.cells if c.cell_type == "code"]
    names = sorted({n for text in texts for n in _imported(text)})
    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    # The same names, for the fork server of the kernels, which imports them from
    # the student library (its stubs) and the environment (kit/sandbox/forkserver.py).
    _KERNEL_MODULES[:] = names
    # Out of the collector's rounds: a job would otherwise walk the worker's whole
    # heap, and copy it page by page from the worker it is forked from.
    gc.freeze()


def _imported(text):
    """The absolute module names ``text`` imports (and ``from M import N``'s
    ``M.N``, which may be a module); none when it is not Python (a magic)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module] + [f"{node.module}.{alias.name}"
                                      for alias in node.names if alias.name != "*"]
    return names


def prepare_gradebook(course, found):
    """Check that every assignment is in the gradebook and add every student, one
    at a time: two workers adding the same new student at once would collide."""
    from nbgrader.api import Gradebook, InvalidEntry, MissingEntry

    with Gradebook(course.gradebook_url) as gb:
        for assignment in found:
            try:
                gb.find_assignment(assignment)
            except MissingEntry:
                raise KitError(
                    f"{assignment} is not in the gradebook {course.gradebook_url}: "
                    "run `python -m kit build` (make build) with this gradebook "
                    "first.") from None
        for student in sorted({s for students in found.values() for s in students}):
            try:
                gb.update_or_create_student(student)
            except InvalidEntry:  # added meanwhile by another machine
                gb.db.rollback()


def _run_pool(course, jobs, options, results, bar):
    """Grade ``jobs`` in a pool of worker processes, adding to ``results``; return
    the jobs left unfinished because a worker died (to be graded again)."""
    workers = options.worker_count(len(jobs))
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                               initargs=(str(course.root),))
    left = []
    with pool:
        futures = {pool.submit(grade_submission, str(course.root), a, s, options):
                   (a, s) for a, s in jobs}
        for future in as_completed(futures):
            try:
                results.append(future.result())
            except BrokenProcessPool:
                left.append(futures[future])
                continue
            except Exception as exc:  # noqa: BLE001 - never lose a submission
                assignment, student = futures[future]
                results.append(Result(assignment, student, [
                    ("fault", f"grading failed: {type(exc).__name__}")]))
            advance(bar, results[-1])
    return left


def advance(bar, result):
    """Count one more submission done on the progress bar, and one more failed
    when nbgrader could not record its grades."""
    if not result.recorded:
        bar.failed = getattr(bar, "failed", 0) + 1
        bar.set_postfix(failed=bar.failed, refresh=False)
    bar.update()


def _run_local(course, jobs, options, results, bar):
    """Grade ``jobs`` in pools of worker processes here, adding to ``results``: a
    new pool takes the jobs a dead worker left, up to ROUNDS times."""
    left = list(jobs)
    for _ in range(ROUNDS):
        left = _run_pool(course, left, options, results, bar)
        if not left:
            break
    for assignment, student in left:  # every round's worker died on them
        results.append(Result(assignment, student, [
            ("fault", f"the grading worker died {ROUNDS} times while grading "
                      "it; no grade was recorded")]))
        advance(bar, results[-1])


def grade_all(course, found, options=Options(), progress=False, scheduler=None):
    """Grade every ``{assignment: [students]}`` submission, here or on the Dask
    cluster of ``scheduler`` (an address, :mod:`kit.engine.cluster`); return the
    results."""
    prepare_gradebook(course, found)
    jobs = [(a, s) for a, students in found.items() for s in students]
    results = []
    bar = tqdm(total=len(jobs), unit="submission", disable=not progress,
               desc="grading")
    with bar:
        if scheduler:
            from kit.engine import cluster  # imports this module

            cluster.run(course, jobs, options, results, bar, scheduler)
        else:
            _run_local(course, jobs, options, results, bar)
    for folder in (staging.STAGED, JOBS, NOTES):
        shutil.rmtree(course.root / folder, ignore_errors=True)
    order = {job: i for i, job in enumerate(jobs)}
    return sorted(results, key=lambda r: order[(r.assignment, r.student)])
