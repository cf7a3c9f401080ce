"""Grading at class scale: nbgrader's autograde, one worker process per core.

Each submission is one job: a worker copies it to a staging folder (the submitted
folder itself is never changed), repairs what would stop or mislead nbgrader (a
notebook that is not valid JSON, deleted or duplicated test cells, nbgrader metadata
that differs from the release, an extra notebook), reads the student's code for
cheating (:mod:`kit.scan`), cleans the markdown the student wrote
(:mod:`kit.sanitize`), then runs nbgrader's own ``Autograde`` and
``GenerateFeedback`` for that student, in process, against the course's gradebook.
With ``secure=True`` (the default) nbgrader's ``Execute`` preprocessor is replaced by
:class:`kit.secure.SecureExecute`: the student's code runs in a sandboxed kernel and
hidden tests run in the worker. In both modes the outputs are cleaned and bounded
right after execution (:class:`kit.sanitize.SanitizeOutputs`).

A job that fails cannot stop the others: its faults are returned as notes, and the
batch goes on. Notes become ``reports/flags.csv``.
"""

import copy
import multiprocessing
import os
import shutil
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from tqdm import tqdm

from kit import sanitize, scan, secure
from kit.course import Course, KitError, nbgrader_meta, tool_env

STAGED = ".kit/staged"


@dataclass(frozen=True)
class Options:
    """How to grade: worker count, secure mode and the limits of each kernel."""

    workers: int = 0          # 0: one per core
    secure: bool = True
    memory_mb: int = 4096     # address-space limit of a grading kernel
    timeout: int = 120        # seconds one cell may run

    def worker_count(self, jobs):
        return max(1, min(jobs, self.workers or os.cpu_count() or 1))


@dataclass
class Result:
    """What grading one submission did: the faults and suspicions found."""

    assignment: str
    student: str
    notes: list = field(default_factory=list)   # [(kind, reason)]
    seconds: float = 0.0


def _release_notebooks(course, assignment):
    return {p.name: p for p in sorted((course.release / assignment).glob("*.ipynb"))}


# The nbgrader metadata that makes a cell count in grading, and with its recorded
# type what decides how it is graded. The rest (checksum, schema_version) is put
# back from the release without a note.
GRADING_MARKS = ("grade", "grade_id", "locked", "points", "solution", "task")
GRADING_KEYS = ("cell_type", *GRADING_MARKS)


def _where(cell, index):
    meta = cell.metadata.get("nbgrader")
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id or f"number {index + 1}"


def _drop_foreign_metadata(nb, release, name, note):
    """Unmark the cells whose nbgrader metadata names no cell of the release."""
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if meta is None or (isinstance(meta, dict) and meta.get("grade_id") in release):
            continue
        if not isinstance(meta, dict) or any(meta.get(k) for k in GRADING_MARKS):
            note("fault", f"{name}: cell {_where(cell, i)} has grading metadata but is "
                          "not a cell of the release; the metadata was removed")
        cell.metadata.pop("nbgrader")


def _unmark_duplicates(nb, name, note):
    seen, ids = set(), set()
    for i, cell in enumerate(nb.cells):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id and grade_id in seen:
            note("fault", f"{name}: cell {grade_id} appears more than once; "
                          "only the first copy was graded")
            cell.metadata.pop("nbgrader", None)
        elif grade_id:
            seen.add(grade_id)
        if cell.get("id") in ids:
            cell["id"] = f"copy-{i}"
        ids.add(cell.get("id"))


def _retype(cell, cell_type):
    """Make ``cell`` a cell of ``cell_type``, source kept, as nbformat wants it."""
    cell.cell_type = cell_type
    if cell_type == "code":
        cell.outputs, cell.execution_count = [], None
        cell.pop("attachments", None)
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def _restore(cell, ref):
    """Give ``cell`` the grading of its release cell ``ref``; return what differed."""
    meta, ref_meta = nbgrader_meta(cell), nbgrader_meta(ref)
    changed = []
    if any(meta.get(k) != ref_meta.get(k) for k in GRADING_KEYS):
        changed.append("its grading metadata was changed")
    cell.metadata["nbgrader"] = copy.deepcopy(ref_meta)
    if cell.cell_type != ref.cell_type:
        changed.append(f"it was made a {cell.cell_type} cell")
        _retype(cell, ref.cell_type)
    if ref_meta.get("locked") and cell.source != ref.source:
        changed.append("its read-only source was edited")
        cell.source = ref.source
    return changed


def _put_back_missing(nb, release_nb, name, note):
    position = 0
    for ref in release_nb.cells:
        meta = nbgrader_meta(ref)
        grade_id = meta.get("grade_id")
        if not grade_id:
            continue
        found = [i for i, c in enumerate(nb.cells)
                 if nbgrader_meta(c).get("grade_id") == grade_id]
        if found:
            position = found[0] + 1
        elif meta.get("grade") or meta.get("locked"):
            if meta.get("grade") and ref.cell_type == "code":
                note("fault", f"{name}: test cell {grade_id} was deleted or lost its "
                              "metadata; it was put back and graded")
            restored = copy.deepcopy(ref)
            restored["id"] = f"{grade_id}-restored"
            nb.cells.insert(position, restored)
            position += 1


def _repair(nb, release_nb, name, note):
    """Make the grading of ``nb`` that of its release notebook ``release_nb``.

    Grading metadata naming no release cell is removed; of cells named twice, only
    the first stays graded; a cell named like a release cell takes that cell's
    nbgrader metadata and type, and its source if it is read-only; graded and
    read-only cells that are missing are put back. Each repair is noted: one slip
    costs at most the cell it touched, never the notebook.
    """
    release = {nbgrader_meta(c)["grade_id"]: c for c in release_nb.cells
               if nbgrader_meta(c).get("grade_id")}
    _drop_foreign_metadata(nb, release, name, note)
    _unmark_duplicates(nb, name, note)
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        changed = _restore(cell, release[grade_id]) if grade_id else []
        if changed:
            note("fault", f"{name}: cell {grade_id}: {' and '.join(changed)}; it was "
                          "restored from the release")
    _put_back_missing(nb, release_nb, name, note)


def stage(course, assignment, student):
    """Copy a submission to the staging folder, repaired; return its notes."""
    notes = []

    def note(kind, reason):
        secure.note(kind, reason, notes)

    src = course.submitted / student / assignment
    dst = course.root / STAGED / student / assignment
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, symlinks=True)
    for link in [p for p in dst.rglob("*") if p.is_symlink()]:
        link.unlink()
        note("fault", f"the symbolic link {link.relative_to(dst)} was removed")
    expected = _release_notebooks(course, assignment)
    for path in sorted(dst.glob("*.ipynb")):
        if path.name not in expected:
            note("fault", f"{path.name} is not a notebook of {assignment}; it was not "
                          "graded")
            path.unlink()
    for name, release_path in expected.items():
        path = dst / name
        if not path.exists():
            note("fault", f"{name} is missing: it scores zero")
            continue
        try:
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
        except Exception as exc:  # noqa: BLE001 - any unreadable file
            first = str(exc).strip().splitlines()[0][:150] if str(exc).strip() else ""
            note("fault", f"{name} is not a valid notebook ({type(exc).__name__}: "
                          f"{first}); it scores zero")
            path.unlink()
            continue
        release_nb = nbformat.read(release_path, as_version=4)
        _repair(nb, release_nb, name, note)
        for cell, reason in scan.scan(nb):
            note("cheat", f"{name}, cell {cell}: {reason}")
        sanitize.clean_student_cells(nb, release_nb)
        nbformat.write(nb, path)
    return notes


def _config(course, options):
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        LimitOutput,
        SaveAutoGrades,
    )
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config()
    cfg.CourseDirectory.root = str(course.root)
    cfg.CourseDirectory.submitted_directory = STAGED
    cfg.Execute.timeout = options.timeout
    if options.secure:
        steps = [secure.SecureExecute, LimitOutput, SaveAutoGrades,
                 AssignLatePenalties, CheckCellMetadata]
        cfg.SecureExecute.library = str(course.release / "library")
        cfg.SecureExecute.memory_mb = options.memory_mb
    else:
        steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    # Outputs are made harmless and small as soon as they exist: what is scored,
    # saved and shown is the cleaned notebook (kit/sanitize.py).
    steps.insert(1, sanitize.SanitizeOutputs)
    cfg.Autograde.autograde_preprocessors = steps
    return cfg


def _last_line(text):
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def grade_submission(root, assignment, student, options):
    """Grade one submission in this process (a worker); never raises."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    start = time.perf_counter()
    course = Course(Path(root))
    result = Result(assignment, student)
    secure.NOTES.clear()
    try:
        result.notes += stage(course, assignment, student)
        cfg = _config(course, options)
        api = NbGraderAPI(CourseDirectory(config=cfg), config=cfg)
        graded = api.autograde(assignment, student, force=True, create=True)
        if not graded["success"]:
            why = _last_line(graded.get("error") or graded.get("log"))
            result.notes.append(("fault", f"nbgrader could not grade it: {why}"))
        feedback = api.generate_feedback(assignment, student, force=True)
        if not feedback["success"]:
            result.notes.append(("fault", "no feedback was written: "
                                 + _last_line(feedback.get("error"))))
    except Exception as exc:  # noqa: BLE001 - one submission never stops the batch
        result.notes.append(("fault", f"grading failed: {type(exc).__name__}: "
                                      f"{_last_line(str(exc))}"))
    for kind, reason in secure.NOTES:
        secure.note(kind, reason, result.notes)
    result.seconds = time.perf_counter() - start
    return result


def _init_worker(root):
    os.environ.update(tool_env())
    # Hidden tests import the references of the course being graded, which may be
    # another course than the one installed in the environment.
    sys.path.insert(0, str(root))
    # nbgrader's gradebook code triggers SQLAlchemy 2's cascade warnings on every new
    # submission; they say nothing about the submission, so keep them off the output.
    from sqlalchemy.exc import SAWarning
    warnings.filterwarnings("ignore", category=SAWarning)


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


def grade_all(course, found, options=Options(), progress=False):
    """Grade every ``{assignment: [students]}`` submission; return the results."""
    prepare_gradebook(course, found)
    jobs = [(a, s) for a, students in found.items() for s in students]
    results = []
    workers = options.worker_count(len(jobs))
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                               initargs=(str(course.root),))
    bar = tqdm(total=len(jobs), unit="submission", disable=not progress,
               desc="grading")
    with pool, bar:
        futures = {pool.submit(grade_submission, str(course.root), a, s, options):
                   (a, s) for a, s in jobs}
        for future in as_completed(futures):
            assignment, student = futures[future]
            try:
                results.append(future.result())
            except Exception as exc:  # noqa: BLE001 - a worker that died
                results.append(Result(assignment, student, [
                    ("fault", f"the grading worker died ({type(exc).__name__})")]))
            bar.update()
    shutil.rmtree(course.root / STAGED, ignore_errors=True)
    order = {job: i for i, job in enumerate(jobs)}
    return sorted(results, key=lambda r: order[(r.assignment, r.student)])
