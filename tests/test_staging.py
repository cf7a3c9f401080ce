"""Staging, on small hand-made notebooks: repairs of the grading metadata, the
cheating scan and the cleaning of the student's markdown, as pure functions."""

import copy

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from kit.engine import staging

# --- repairs of the nbgrader metadata, on small notebooks


def graded_cell(grade_id, source="", cell_type="code", **meta):
    meta = {"grade": False, "grade_id": grade_id, "locked": False, "solution": False,
            "task": False, "schema_version": 3, **meta}
    new = new_code_cell if cell_type == "code" else new_markdown_cell
    return new(source, metadata={"nbgrader": meta})


def release():
    return new_notebook(cells=[
        graded_cell("answer", "def f():\n    raise NotImplementedError()",
                    solution=True),
        graded_cell("test_f", "assert f() == 1", grade=True, locked=True, points=2),
        graded_cell("written", "YOUR ANSWER HERE", "markdown", grade=True,
                    solution=True, points=1),
    ])


def repaired(edit):
    """The release with its answer written, edited by ``edit``, then repaired;
    returns the notebook and the reasons of the notes."""
    nb = release()
    nb.cells[0].source = "def f():\n    return 1"
    edit(nb)
    edited = copy.deepcopy(nb)
    before = copy.deepcopy(nb)
    nb, notes = staging.repair(before, release(), "nb.ipynb")
    assert before == copy.deepcopy(edited), "repair changed its input"
    assert {kind for kind, _ in notes} <= {"fault"}
    return nb, [reason for _, reason in notes]


def grading(nb):
    """What nbgrader grades in ``nb``: (grade_id, cell type, its metadata, source)
    of every cell with nbgrader metadata, answers apart."""
    return [(c.metadata.nbgrader["grade_id"], c.cell_type, dict(c.metadata.nbgrader),
             c.source)
            for c in nb.cells if "nbgrader" in c.metadata
            and c.metadata.nbgrader["grade_id"] != "answer"]


def test_test_cell_changed_in_every_way_is_restored():
    def edit(nb):
        test = nb.cells[1]
        test.metadata.nbgrader.update(grade=False, points=20, locked=False)
        test.cell_type = "markdown"
        del test["outputs"], test["execution_count"]
        test.source = "pass"

    nb, notes = repaired(edit)
    assert grading(nb) == grading(release())
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None
    assert notes == ["nb.ipynb: cell test_f: its grading metadata was changed and it "
                     "was made a markdown cell and its read-only source was edited; "
                     "it was restored from the release"]


def test_answer_given_points_is_an_answer_again_and_keeps_its_code():
    def edit(nb):
        nb.cells[0].metadata.nbgrader.update(grade=True, points=5)

    nb, notes = repaired(edit)
    assert nb.cells[0].metadata.nbgrader == release().cells[0].metadata.nbgrader
    assert nb.cells[0].source == "def f():\n    return 1"
    assert notes == ["nb.ipynb: cell answer: its grading metadata was changed; it "
                     "was restored from the release"]


def test_cells_unknown_to_the_release_lose_their_metadata():
    def edit(nb):
        nb.cells.append(graded_cell("bonus", "x = 1", grade=True, points=10))
        nb.cells.append(new_code_cell("y = 2", metadata={"nbgrader": "junk"}))
        nb.cells[1].metadata.nbgrader["grade_id"] = "test_f_v2"

    nb, notes = repaired(edit)
    assert grading(nb) == grading(release())
    assert [c.source for c in nb.cells[-2:]] == ["x = 1", "y = 2"]
    assert notes == [
        "nb.ipynb: cell test_f_v2 has grading metadata but is not a cell of the "
        "release; the metadata was removed",
        "nb.ipynb: cell bonus has grading metadata but is not a cell of the release; "
        "the metadata was removed",
        "nb.ipynb: cell number 5 has grading metadata but is not a cell of the "
        "release; the metadata was removed",
        "nb.ipynb: test cell test_f was deleted or lost its metadata; it was put "
        "back and graded"]


def test_a_right_submission_needs_no_repair():
    nb, notes = repaired(lambda nb: None)
    assert notes == [] and grading(nb) == grading(release())


def test_staging_flags_cheating_and_cleans_the_students_markdown():
    nb = release()
    nb.cells[0].source = ("import lib.logistic\n"
                          "def f():\n    return lib.logistic.sigmoid(0) * 2")
    nb.cells.append(new_markdown_cell("<script>alert(1)</script> my working"))
    before = copy.deepcopy(nb)
    staged, notes = staging.stage_notebook(nb, release(), "nb.ipynb")
    assert nb == before
    assert [kind for kind, _ in notes] == ["cheat"]
    assert "nb.ipynb, cell answer" in notes[0][1]
    assert "<script>" not in staged.cells[-1].source
    assert "my working" in staged.cells[-1].source
    # The instructor's own markdown is left as it is.
    assert staged.cells[2].source == release().cells[2].source
