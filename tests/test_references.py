"""Every graded function is written twice: as the reference in ``lib/<module>.py``
(documented, validating its inputs, what hidden tests compare with) and as the
model answer in the solution region of its source notebook. Are the two the same
function?

Each source notebook runs whole (in grading mode, as the build runs it) with every
answer wrapped so that each call the notebook makes (its own code, public checks and
hidden tests) is recorded; at the end, the reference is called on copies of the same
arguments and must give the same result, leave its array arguments the same, and
raise where the answer raises. A graded function with no reference in ``lib/`` (it
is checked against autograd or finite differences instead) is not written twice.
"""

import ast
import json
from pathlib import Path

import nbformat
import pytest
from conftest import REPO
from nbformat.v4 import new_code_cell

from kit.commands import build
from kit.course import Course, graded_function_names


def references(course):
    """``{graded function: lib module}`` of the functions written twice."""
    found = {}
    for path in sorted((course.root / "lib").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef):
                found.setdefault(node.name, []).append(f"lib.{path.stem}")
    return found


def compared(nb, twice):
    """Run ``nb`` with its answers recorded; ``{function: {"calls", "differences"}}``
    of the functions in ``twice`` (``{function: lib module}``)."""
    nb = nbformat.from_dict(nb)
    tests = str(Path(__file__).parent)
    cells = [new_code_cell(f"import sys\nsys.path.insert(0, {tests!r})\n"
                           "from recorder import record as _kit_record, "
                           "report as _kit_report")]
    for cell in nb.cells:
        cells.append(cell)
        names = [n for n in graded_function_names(nbformat.v4.new_notebook(
            cells=[cell])) if n in twice]
        if names:
            cells.append(new_code_cell("\n".join(
                f"{n} = _kit_record({n}, {twice[n]!r})" for n in names)))
    cells.append(new_code_cell("_kit_report()"))
    nb.cells = cells
    build.execute_notebook(nb, REPO)
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    return json.loads(text.strip().splitlines()[-1])


@pytest.mark.parametrize("assignment", Course(REPO).assignments())
def test_the_model_answer_and_the_reference_are_one_function(repo, assignment):
    nb = nbformat.read(repo.source_notebook(assignment), as_version=4)
    defined = references(repo)
    twice = {}
    for name in graded_function_names(nb):
        modules = defined.get(name, [])
        assert len(modules) <= 1, f"{name} is defined in {modules}"
        if modules:
            twice[name] = modules[0]
    if not twice:
        pytest.skip(f"{assignment} has no graded function written twice")
    report = compared(nb, twice)
    for name, found in report.items():
        assert found["calls"] > 0, f"{assignment}: nothing calls {name}"
        assert not found["differences"], (
            f"{assignment}: {name} in the solution region and in {twice[name]} "
            f"differ: {found['differences']}")


def test_a_model_answer_unlike_its_reference_is_caught(repo):
    nb = nbformat.v4.new_notebook(cells=[
        new_code_cell("import numpy as np"),
        new_code_cell("def sigmoid(z):\n    return 1 / (1 + np.exp(-z)) + 1e-3",
                      metadata={"nbgrader": {"grade": False, "grade_id": "sigmoid",
                                             "solution": True, "locked": False}}),
        new_code_cell("sigmoid(np.array([0.0, 1.0]))\nsigmoid(0.5)"),
    ])
    report = compared(nb, {"sigmoid": "lib.logistic"})
    assert report["sigmoid"]["calls"] == 2
    assert report["sigmoid"]["differences"] == ["call 1: results differ",
                                                "call 2: results differ"]
