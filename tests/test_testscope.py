"""What a hidden test sees of the student's namespace, read from its source.

The behaviour in a real kernel is tested in tests/test_secure.py and, on nbgrader's
documentation course, in tests/test_nbgrader_course.py.
"""

import ast

import nbformat.v4 as v4

from kit.plugins import testscope


def names(source):
    return testscope.student_names(ast.parse(source))


def test_a_test_reads_from_the_student_what_it_reads_and_never_binds():
    assert names("assert squares(1) == [1]") == {"squares"}
    assert names("x = f(2)\nassert x == 4") == {"f"}
    # deleting a name reads it from the student even when the test binds it again
    assert names("orig = squares\ndel squares\nsquares = orig") == {"squares"}
    # builtins, arguments, imports, definitions and handlers are the test's own
    assert names("import numpy as np\ndef g(a):\n    return len(a)\n"
                 "try:\n    g(np)\nexcept ValueError as e:\n    print(e)") == set()


def notebook(*cells):
    """A notebook of ``(source, grade_id or None)`` cells: the named ones are
    hidden tests worth a point, the others the student's code."""
    meta = {"grade": True, "solution": False, "points": 1}
    return v4.new_notebook(cells=[
        v4.new_code_cell(source, metadata={"nbgrader": dict(meta, grade_id=name)}
                         if name else {})
        for source, name in cells])


STUDENT = ("rate = 0.1\ndata = [1]\nanswer = 42\n"
           "def squares(n):\n    return [i * i for i in range(1, n + 1)]\n"
           "def train():\n    return rate * sum(squares(3))\n")


def test_the_build_reports_what_secure_grading_cannot_mean_as_nbgrader_does():
    nb = notebook((STUDENT, None), (
        "rate = 0.5\ndata[0] = 2\ndef squares(n):\n    return []\n"
        "def helper():\n    global answer\n    answer = 1\n", "test_train"))
    found = [what for cell, what in testscope.findings(nb) if cell == "test_train"]
    assert len(found) == 4, found
    assert any(w.startswith("binds `rate`") for w in found)
    assert any(w.startswith("changes `data`") for w in found)
    assert any(w.startswith("defines `squares`") for w in found)
    assert any(w.startswith("declares `global answer`") for w in found)
    assert all("__kit_substitute__" in w for w in found)


def test_what_keeps_its_meaning_is_not_reported():
    nb = notebook((STUDENT, None), (
        # nbgrader's documentation: delete, check, put back
        "orig = squares\ndel squares\ntry:\n    train()\nexcept NameError:\n"
        "    pass\nfinally:\n    squares = orig\n"
        # the test's own names, and a global no function of the student reads
        "_x = [1, 2]\nanswer = 0\nfor i in range(3):\n    assert squares(i) == "
        "[j * j for j in range(1, i + 1)]\n", "test_squares"))
    assert testscope.findings(nb) == []
