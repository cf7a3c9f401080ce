"""Secure execution for nbgrader's autograde: verdicts where student code can't reach.

:class:`SecureExecute` takes the place of nbgrader's ``Execute`` preprocessor in
nbgrader's own list (see :mod:`kit.engine.autograde`). It grades a notebook in two
phases, in a kernel confined to a scratch copy of the submission
(:mod:`kit.sandbox.bubblewrap`):

1. the student's cells run in the kernel, in order; the hidden test cells are held
   back (:meth:`SecureExecute._run_student_cells`);
2. the hidden tests run here, in the grader's process, with each graded function
   standing for the student's function in the kernel (:mod:`kit.sandbox.remote`,
   :meth:`SecureExecute._run_hidden_tests`).

The tests' source comes from the gradebook, never from the submitted notebook, and
only test cells worth points run here: a cell a student adds or relabels runs in the
kernel like any other. A cell that kills or hangs the kernel is left out and the
notebook run again without it, up to :data:`MAX_RERUNS` times.

Each hidden test cell gets the outputs nbgrader scores: nothing on success, an
``error`` output with a one-sentence message on failure, never text the student's
code chose (:func:`_failure`). What went wrong (a dead kernel, a timeout, a refused
reply, a spent time budget) is the :class:`Outcome` of the run, which the
preprocessor hands to the engine as grading notes (:mod:`kit.plugins.notes`). The
submission's time budget (``budget``) bounds every cell's timeout and every remote
call; once it is spent, nothing more runs.
"""

import ast
import builtins
import contextlib
import copy
import io
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client import BlockingKernelClient
from nbclient import NotebookClient
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute, LimitOutput
from traitlets import Integer, Unicode, default

from kit.course import FLAG_ATTRIBUTE, SUBSTITUTE_HOOK, nbgrader_meta
from kit.plugins import notes, testscope
from kit.sandbox import forkserver, remote
from kit.sandbox.bubblewrap import SandboxKernelManager

# Reruns of a notebook whose cells kill or hang the kernel, one cell left out each.
MAX_RERUNS = 3
# Characters of stream output in one cell beyond which a flood is flagged even when
# it comes in few lines (LimitOutput cuts by lines only).
OUTPUT_CHARS = 10000


@dataclass
class Outcome:
    """What running one notebook securely found: grading notes ``(kind, reason)``
    and the cells left out because they killed or hung the kernel."""

    notes: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)   # {cell index: reason}
    dead: tuple = None   # (cell index, reason) of this run's kernel death

    def note(self, kind, reason):
        notes.add(self.notes, kind, reason)


def hidden_tests(resources):
    """``{grade_id: source}`` of the code test cells worth points, from the gradebook,
    and the import statements of the notebook's locked code cells."""
    meta = resources["nbgrader"]
    tests, imports = {}, []
    with Gradebook(meta["db_url"]) as gb:
        notebook = gb.find_notebook(meta["notebook"], meta["assignment"])
        graded = {c.name for c in notebook.grade_cells
                  if c.cell_type == "code" and (c.max_score or 0) > 0}
        for cell in notebook.source_cells:
            if cell.name in graded:
                tests[cell.name] = cell.source
            elif cell.cell_type == "code" and cell.locked:
                with contextlib.suppress(SyntaxError):
                    imports += [node for node in ast.parse(cell.source).body
                                if isinstance(node, (ast.Import, ast.ImportFrom))]
    return tests, ast.Module(body=imports, type_ignores=[])


def error_output(ename, evalue):
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


class SecureExecute(Execute):
    """nbgrader's Execute, with the kernel sandboxed and hidden tests run outside."""

    library = Unicode(
        "", help="Folder of the student library the kernel imports (release/library; "
                 "empty: none, the kernel imports from its environment only)."
    ).tag(config=True)
    memory_mb = Integer(
        4096, help="Address-space limit of a grading kernel, in MB (0: none)."
    ).tag(config=True)
    budget = Integer(
        0, help="Seconds the whole submission may run, its cells and hidden tests "
                "together (0: no limit); what is left when it runs out is not run."
    ).tag(config=True)

    @default("shutdown_kernel")
    def _immediate_shutdown(self):
        # Nothing of a grading kernel is kept once its notebook is done: ending
        # the sandbox at once saves the tenth of a second a graceful shutdown waits.
        return "immediate"

    def preprocess(self, nb, resources=None, km=None):
        """Execute ``nb`` securely; its :class:`Outcome` becomes grading notes, even
        when a kernel cannot start at all (nbgrader then reports the error)."""
        outcome = Outcome()
        try:
            nb = self.run_notebook(nb, resources, outcome, km)
        finally:
            notes.GradingNotes(config=self.config).write(outcome.notes)
        return nb, self.resources

    def run_notebook(self, nb, resources, outcome, km=None):
        """The executed notebook; what went wrong goes into ``outcome``. A cell that
        kills or hangs the kernel is left out and the notebook run again without it,
        so the other cells keep what they earn."""
        self._tests, self._imports = hidden_tests(resources)
        self._deadline = (time.monotonic() + self.budget if self.budget
                          else float("inf"))
        original = copy.deepcopy(nb)
        for _ in range(MAX_RERUNS + 1):
            work = copy.deepcopy(original)
            for index in outcome.skipped:
                work.cells[index].source = ""
            outcome.dead = None
            nb = self._run_once(work, resources, km, outcome)
            if outcome.dead is None:
                break
            outcome.skipped[outcome.dead[0]] = outcome.dead[1]
        for index, reason in outcome.skipped.items():
            nb.cells[index].source = original.cells[index].source
            nb.cells[index].outputs = [error_output("KernelError", reason)]
        return nb

    def _run_once(self, nb, resources, km, outcome):
        """One run of ``nb`` in a fresh sandboxed kernel: its two phases."""
        # The kernel works in a scratch copy of the submission's other files: the
        # autograded folder holds the notebook with its hidden tests restored.
        source = Path(resources["metadata"]["path"])
        # In the job root of this worker's fork server, when it runs.
        self._server = forkserver.running(self.library or None, self.memory_mb or None)
        self._scratch = Path(tempfile.mkdtemp(
            prefix="kit-kernel-", dir=self._server and self._server.root))
        self._workdir = self._scratch / "work"
        self._inbox, self._outbox = self._scratch / "inbox", self._scratch / "outbox"
        # Files the hidden tests make (tempfile) are here, for the kernel to read.
        self._shared = self._scratch / "shared"
        shutil.copytree(source, self._workdir,
                        ignore=shutil.ignore_patterns("*.ipynb", ".*"))
        for folder in (self._inbox, self._outbox, self._shared):
            folder.mkdir()
        # As ExecutePreprocessor.preprocess does, with the cells in two phases.
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        try:
            with self.setup_kernel():
                # The sandbox's client kept the answer it was ready on.
                info = (getattr(self.kc, "kernel_info_reply", None)
                        or self.wait_for_reply(self.kc.kernel_info()))
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                held = self._run_student_cells(outcome)
                if held is not None and not self._out_of_time(outcome):
                    try:
                        self._run_hidden_tests(held, outcome)
                    except Exception as exc:  # noqa: BLE001 - never full marks by accident
                        outcome.note("fault", f"the grader failed on this submission "
                                              f"({type(exc).__name__}: {exc})")
            self.set_widgets_metadata()
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)
        return self.nb

    def create_kernel_manager(self):
        sandbox = dict(memory_mb=self.memory_mb or None,
                       read_only=[self._inbox, self._shared],
                       writable=[self._outbox], config=self.config)
        if self._server is not None:
            self.km = forkserver.ForkKernelManager(
                self._server, self._workdir, self.library or None, **sandbox)
        else:
            self.km = SandboxKernelManager(self._workdir, self.library or None,
                                           **sandbox)
        return self.km

    def _kernel_alive(self):
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return process is not None and process.poll() is None

    def _get_timeout(self, cell):
        """A cell's timeout, shortened to what is left of the submission's budget."""
        timeout = super()._get_timeout(cell)
        left = self._deadline - time.monotonic()
        if left == float("inf"):
            return timeout
        return max(1, int(min(timeout or left, left)))

    def _out_of_time(self, outcome):
        """Whether the submission's time budget is spent (noted once if so)."""
        if time.monotonic() < self._deadline:
            return False
        outcome.note("fault", f"the submission ran longer than its time budget of "
                              f"{self.budget} s; the cells and tests left were not run")
        return True

    def _run_student_cells(self, outcome):
        """Phase 1: every code cell but the hidden tests, in the kernel, in order.
        Return the hidden test cells held back, or None when the kernel died or
        the budget ran out (the tests then keep the zero they are given here)."""
        held, alive = [], True
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code":
                continue
            if nbgrader_meta(cell).get("grade_id") in self._tests:
                # Until it has run and passed, a hidden test scores zero: nbgrader
                # gives full marks to a test cell without an error.
                cell.outputs = [error_output("KernelError", "not run: the kernel had "
                                             "died or stopped responding")]
                held.append(cell)
            elif alive:
                alive = (not self._out_of_time(outcome)
                         and self._run_in_kernel(cell, index, outcome))
        return held if alive else None

    def _run_in_kernel(self, cell, index, outcome):
        """Run one cell in the sandbox; False once the kernel is gone."""
        where = nbgrader_meta(cell).get("grade_id", f"number {index + 1}")
        reason = (f"the kernel died while running cell {where} (the code exited, "
                  "crashed, or hit the memory limit); the notebook was run again "
                  "without that cell")
        try:
            self.execute_cell(cell, index, store_history=True)
        except Exception as exc:  # noqa: BLE001 - a dead or stuck kernel
            if self._kernel_alive():
                reason = (f"the kernel stopped responding in cell {where} "
                          f"({type(exc).__name__}); the notebook was run again "
                          "without that cell")
            dead = True
        else:
            dead = not self._kernel_alive()
        if dead:
            outcome.note("fault", reason)
            outcome.dead = (index, reason)
            return False
        errors = {o.get("ename") for o in cell.get("outputs", [])
                  if o.get("output_type") == "error"}
        if "CellTimeoutError" in errors:
            outcome.note("fault", f"cell {where} ran longer than {self.timeout} s and "
                                  "was stopped")
        if "MemoryError" in errors:
            outcome.note("fault", f"cell {where} ran out of memory: it hit the memory "
                                  f"limit of {self.memory_mb} MB")
        text = "".join(o.get("text", "") for o in cell.get("outputs", [])
                       if o.get("output_type") == "stream")
        max_lines = LimitOutput(config=self.config).max_lines
        if len(text) > OUTPUT_CHARS or text.count("\n") > max_lines >= 0:
            outcome.note("fault", f"cell {where} printed {text.count(chr(10)) + 1} "
                                  f"lines ({len(text):,} characters) of output; only "
                                  "the start of its output was kept")
        return True

    def _run_hidden_tests(self, cells, outcome):
        """Phase 2: the hidden tests, here, calling into the kernel."""
        if not cells:
            return
        kc = BlockingKernelClient()
        kc.load_connection_info(self.km.get_connection_info())
        kc.start_channels(iopub=False, hb=False, control=False)
        saved_tempdir = tempfile.tempdir
        session = None
        try:
            session = remote.Session(kc, self._inbox, self._outbox,
                                     self._kernel_alive, timeout=self.timeout or 120,
                                     deadline=self._deadline)
            namespace = {"__name__": "__main__", "__builtins__": builtins,
                         SUBSTITUTE_HOOK: session.substitute}
            exec(compile(self._imports, "<notebook imports>", "exec"), namespace)  # noqa: S102
            tempfile.tempdir = str(self._shared)
            for cell in cells:
                grade_id = nbgrader_meta(cell)["grade_id"]
                cell.outputs = run_test(self._tests[grade_id], grade_id, namespace,
                                        session, outcome)
                cell.execution_count = None
        except remote.KernelGone as exc:  # the agent could not be set up
            outcome.note("fault", f"the hidden tests could not run: {exc}")
            for cell in cells:
                cell.outputs = [error_output("KernelError", str(exc))]
            return
        finally:
            tempfile.tempdir = saved_tempdir
            if session is not None:
                session.close()
            kc.stop_channels()
        if session.broken:
            outcome.note("fault", session.broken)


def _failure(exc, grade_id, outcome):
    """The error output of a hidden test that failed on ``exc``, noting what the
    report must show; never text the student's code chose."""
    if isinstance(exc, remote.KernelGone):
        return error_output("KernelError", str(exc))
    if isinstance(exc, remote.ReplyRefused):
        outcome.note("fault", f"{grade_id}: the grader refused a reply of the "
                              "submission "
                      f"({exc}); the test failed")
        return error_output("ReplyRefused", "the grader refused what the submission "
                            "sent back (see the grading notes)")
    summary = getattr(exc, "kit_summary", None)  # raised by the student's code
    if summary:
        return error_output(type(exc).__name__, summary)
    if isinstance(exc, MemoryError):
        outcome.note("fault", f"{grade_id}: the grader ran out of memory on what the "
                      "submission sent or asked for; the test failed")
        return error_output("MemoryError", "the grader ran out of memory on what the "
                            "submission sent or asked for")
    # A check's own failure (lib.checks) may flag the submission: the kind is a
    # class attribute of its exception type.
    kind = getattr(type(exc), FLAG_ATTRIBUTE, None)
    if kind in ("fault", "cheat"):
        outcome.note(kind, f"{grade_id}: {exc}")
    if isinstance(exc, (AssertionError, NameError)):  # the test's own words
        return error_output(type(exc).__name__, str(exc))
    # Any other error is the test's own code stopping on a value the submission
    # returned: its message could quote that value, so only its type is shown.
    return error_output(type(exc).__name__, "the hidden test stopped on a value the "
                        f"submission returned ({type(exc).__name__})")


def run_test(source, grade_id, namespace, session, outcome):
    """Run one hidden test cell here; return its outputs for nbgrader to score."""
    tree = ast.parse(source)
    code = compile(tree, f"<hidden test {grade_id}>", "exec")
    known = session.student_globals
    stdout, stderr = io.StringIO(), io.StringIO()
    outputs = []
    with (warnings.catch_warnings(record=True) as caught,
          contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr)):
        try:
            testscope.bind_student_globals(namespace, session,
                                           testscope.student_names(tree), known)
            # The course's own hidden test.
            exec(code, namespace,  # noqa: S102
                 testscope.TestScope(namespace, session, known))
            failure = None
        except Exception as exc:  # noqa: BLE001 - every failure scores zero
            failure = _failure(exc, grade_id, outcome)
    if stdout.getvalue():
        outputs.append(NotebookNode(output_type="stream", name="stdout",
                                    text=stdout.getvalue()[-5000:]))
    # As in a kernel, a warning or other text on stderr costs the cell its points.
    text = stderr.getvalue() + "".join(
        f"{w.category.__name__}: {w.message}\n" for w in caught)
    if text:
        outputs.append(NotebookNode(output_type="stream", name="stderr",
                                    text=text[-5000:]))
    if failure is not None:
        outputs.append(failure)
    return outputs
