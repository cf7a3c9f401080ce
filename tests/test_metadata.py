"""The kit's check of cell metadata gives nbgrader's verdicts (plugins/metadata)."""

import copy
from pathlib import Path

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import CheckCellMetadata as NbgraderCheck

from kit.engine import autograde
from kit.plugins import metadata
from kit.plugins.metadata import CheckCellMetadata, Validator

REPO = Path(__file__).resolve().parents[1]


def verdict(validator, cell_or_nb, whole=False):
    """None when accepted, else the type of the error raised."""
    try:
        (validator.validate_nb if whole else validator.validate_cell)(cell_or_nb)
    except Exception as exc:  # noqa: BLE001 - the verdict is the type
        return type(exc)
    return None


def corrupted(cell):
    """Copies of a graded cell with its nbgrader metadata broken one way each."""
    meta = cell.metadata.nbgrader
    edits = {
        "points as text": lambda m: m.update(points="ten"),
        "no points": lambda m: m.pop("points"),
        "no grade id": lambda m: m.pop("grade_id"),
        "empty grade id": lambda m: m.update(grade_id=""),
        "grade not a bool": lambda m: m.update(grade="yes"),
        "old schema": lambda m: m.update(schema_version=2),
        "new schema": lambda m: m.update(schema_version=4),
        "no schema": lambda m: m.pop("schema_version"),
        "unknown key": lambda m: m.update(secret=1),
        "no locked": lambda m: m.pop("locked"),
        "a task code cell": lambda m: m.update(task=True),
    }
    for name, edit in edits.items():
        broken = copy.deepcopy(cell)
        edit(broken.metadata.nbgrader)
        assert broken.metadata.nbgrader != meta
        yield name, broken


def notebooks():
    return sorted((REPO / "release").glob("*/*.ipynb"))


def test_every_cell_of_the_release_gets_nbgraders_verdict():
    assert notebooks()
    for path in notebooks():
        nb = nbformat.read(path, as_version=4)
        assert verdict(Validator(), nb, whole=True) is None
        for cell in nb.cells:
            assert verdict(Validator(), cell) is verdict(MetadataValidator(), cell)


def test_corrupted_metadata_gets_nbgraders_verdict():
    nb = nbformat.read(notebooks()[0], as_version=4)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    rejected = 0
    for cell in graded[:3]:
        for name, broken in corrupted(cell):
            theirs = verdict(MetadataValidator(), broken)
            assert verdict(Validator(), broken) is theirs, name
            rejected += theirs is not None
    assert rejected >= 3 * 8   # the check can fail: most edits are refused


@pytest.mark.parametrize("duplicate", [False, True])
def test_the_preprocessor_rejects_what_nbgraders_rejects(duplicate):
    nb = nbformat.read(notebooks()[0], as_version=4)
    if duplicate:   # a duplicate grade id: a notebook-wide check
        ids = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")]
        ids[1].metadata.nbgrader.grade_id = ids[0].metadata.nbgrader.grade_id
    outcomes = []
    for check in (NbgraderCheck(), CheckCellMetadata()):
        try:
            check.preprocess(copy.deepcopy(nb), {})
            outcomes.append(None)
        except Exception as exc:  # noqa: BLE001
            outcomes.append((type(exc), str(exc)))
    assert outcomes[0] == outcomes[1]
    assert (outcomes[0] is not None) == duplicate


def test_grading_uses_the_kits_check_in_both_passes(tmp_path):
    from kit.course import Course

    cfg = autograde._config(Course(REPO), autograde.Options(), tmp_path / "notes")
    for name in ("sanitize_preprocessors", "autograde_preprocessors"):
        steps = cfg.Autograde[name]
        assert metadata.CheckCellMetadata in steps
        assert NbgraderCheck not in steps
