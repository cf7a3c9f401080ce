"""Staging: a submission made fit for nbgrader, without touching what was submitted.

Before nbgrader sees a submission, each of its notebooks is compared with its
release notebook and repaired (:func:`repair`): whatever would stop or mislead
nbgrader (a test cell deleted or duplicated, nbgrader metadata that differs from the
release, a cell retyped) is put back as the release has it, and each repair is
noted, so that one slip costs at most the cell it touched, never the notebook. Then
the student's code is read for cheating (:mod:`kit.engine.scan`) and the markdown
the student wrote is cleaned (:mod:`kit.plugins.sanitize`): :func:`stage_notebook`.

Both are pure functions of notebooks, with notes ``(kind, reason)`` returned;
:func:`stage` does the files: it copies ``submitted/<student>/<assignment>/`` to the
staging folder that nbgrader grades, with the staged notebooks.
"""

import copy
import shutil

import nbformat

from kit.course import nbgrader_meta, studentlib
from kit.engine import scan
from kit.plugins import notes as grading_notes
from kit.plugins import sanitize

#: Where submissions are staged for nbgrader, in the course folder.
STAGED = ".kit/staged"


def repair(submitted, release, name="notebook"):
    """``(repaired, notes)``: a copy of the notebook ``submitted`` with the grading
    of its release notebook ``release``; ``name`` is the notebook's name in notes.

    Grading metadata naming no release cell is removed; of cells named twice, only
    the first stays graded; a cell named like a release cell takes that cell's
    nbgrader metadata and type, and its source if it is read-only; graded and
    read-only cells that are missing are put back. Each repair is noted.
    """
    nb, notes = copy.deepcopy(submitted), []

    def note(kind, reason):
        grading_notes.add(notes, kind, reason)

    cells = {nbgrader_meta(c)["grade_id"]: c for c in release.cells
             if nbgrader_meta(c).get("grade_id")}
    _drop_foreign_metadata(nb, cells, name, note)
    _unmark_duplicates(nb, name, note)
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        changed = _restore(cell, cells[grade_id]) if grade_id else []
        if changed:
            note("fault", f"{name}: cell {grade_id}: {' and '.join(changed)}; it was "
                          "restored from the release")
    _put_back_missing(nb, release, name, note)
    return nb, notes


def stage_notebook(submitted, release, name="notebook", runtime=frozenset({"lib"})):
    """``(staged, notes)``: :func:`repair`, then the cheating scan of the student's
    cells (``runtime``: the library modules they may import) and the cleaning of the
    markdown they wrote."""
    nb, notes = repair(submitted, release, name)
    for cell, reason in scan.scan(nb, runtime):
        grading_notes.add(notes, "cheat", f"{name}, cell {cell}: {reason}")
    sanitize.clean_student_cells(nb, release)
    return nb, notes


def release_notebooks(course, assignment):
    """``{file name: path}`` of the notebooks of an assignment's release."""
    return {p.name: p for p in sorted((course.release / assignment).glob("*.ipynb"))}


def stage(course, assignment, student):
    """Copy a submission to the staging folder, staged; return its notes."""
    notes = []

    def note(kind, reason):
        grading_notes.add(notes, kind, reason)

    src = course.submitted / student / assignment
    dst = course.root / STAGED / student / assignment
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, symlinks=True)
    for link in [p for p in dst.rglob("*") if p.is_symlink()]:
        link.unlink()
        note("fault", f"the symbolic link {link.relative_to(dst)} was removed")
    expected = release_notebooks(course, assignment)
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
        staged, found = stage_notebook(nb, nbformat.read(release_path, as_version=4),
                                       name, studentlib.runtime_modules(course))
        for kind, reason in found:
            note(kind, reason)
        nbformat.write(staged, path)
    return notes


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
    # Older nbgrader recorded no type: the cell's own then stands for it.
    mine = dict(meta, cell_type=meta.get("cell_type", cell.cell_type))
    theirs = dict(ref_meta, cell_type=ref_meta.get("cell_type", ref.cell_type))
    changed = []
    if any(mine.get(k) != theirs.get(k) for k in GRADING_KEYS):
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
