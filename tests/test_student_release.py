"""SPEC R1: does anything a student receives hold a solution, a hidden test or the
reference of a graded function?"""

import ast
import re
import textwrap

import nbformat
from nbclient import NotebookClient

from kit.course import (
    GRADING_VARIABLE,
    HIDDEN_REGION,
    SOLUTION_REGION,
    demo,
    graded_function_names,
    nbgrader_meta,
    studentlib,
)
from kit.course.studentlib import graded_names, strip_functions

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def release_texts(repo):
    """``{path: text}`` of every file in release/."""
    return {p: p.read_text(encoding="utf-8") for p in repo.release.rglob("*")
            if p.is_file()}


def secret_lines(repo):
    """Distinctive lines of the solution regions and hidden tests of source/ that
    do not also stand outside them (a public check may share a hint with a hidden
    test)."""
    lines, public = set(), set()
    for assignment in repo.assignments():
        nb = nbformat.read(repo.source_notebook(assignment), as_version=4)
        for cell in nb.cells:
            rest = cell.source
            for region in (SOLUTION_REGION, HIDDEN_REGION):
                for block in region.findall(cell.source):
                    lines.update(line.strip() for line in block.splitlines()
                                 if len(line.strip()) >= 24 and "###" not in line)
                rest = region.sub("", rest)
            public.update(line.strip() for line in rest.splitlines())
    return lines - public


def test_release_has_no_solution_or_hidden_test_markers(repo):
    for path, text in release_texts(repo).items():
        for marker in MARKERS:
            assert marker not in text, f"{path} contains '{marker}'"


def test_release_notebooks_hold_no_line_of_a_solution_or_hidden_test(repo):
    secrets = secret_lines(repo)
    assert len(secrets) > 50  # the check below must have something to look for
    for path in repo.release.glob("*/*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        lines = {line.strip() for c in nb.cells for line in c.source.splitlines()}
        found = lines & secrets
        assert not found, f"{path} contains solution or hidden-test lines: {found}"


def withheld_bodies(repo):
    """Distinctive lines of the bodies of withheld functions in lib/, less the
    lines that also stand in code students legitimately receive."""
    withheld = studentlib.withheld(repo)
    secret, public = set(), set()
    for path in (repo.root / "lib").glob("*.py"):
        text = path.read_text()
        lines = text.splitlines()
        tree = ast.parse(text)
        hidden = withheld[path.stem]
        inside = set()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in hidden:
                inside.update(range(node.body[0].lineno - 1, node.end_lineno))
        for i, line in enumerate(lines):
            (secret if i in inside else public).add(line.strip())
    return {line for line in secret - public if len(line) >= 24}


def test_student_library_holds_no_line_of_a_withheld_body(repo):
    secrets = withheld_bodies(repo)
    assert len(secrets) > 10
    for path in (repo.release / "library").rglob("*.py"):
        found = {line.strip() for line in path.read_text().splitlines()} & secrets
        assert not found, f"{path} contains reference code: {found}"


def test_release_holds_only_notebooks_and_the_student_library(repo):
    for path in release_texts(repo):
        rel = path.relative_to(repo.release)
        assert (rel.suffix == ".ipynb" or rel.parts[0] == "library"
                or rel.name == "README.md"), f"unexpected file in release/: {rel}"


def test_student_library_withholds_every_graded_function(repo):
    names = set(graded_names(repo))
    for assignment in repo.assignments():
        nb = nbformat.read(repo.source_notebook(assignment), as_version=4)
        assert set(graded_function_names(nb)) <= names
    stubs = {}
    for path in (repo.release / "library" / "lib").glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                stubs[node.name] = node
    for name in names | set().union(*studentlib.withheld(repo).values()):
        node = stubs.get(name)
        if node is None:  # graded in a notebook, with no reference in lib/
            continue
        body = node.body
        assert len(body) == 1 and isinstance(body[0], ast.Raise), (
            f"{name} in the student library has a body or a docstring")
        assert ast.unparse(body[0].exc).startswith("NotImplementedError(")


def test_student_library_keeps_everything_else(repo):
    """Are the non-graded helpers the notebooks need still whole?"""
    text = (repo.release / "library" / "lib" / "data.py").read_text()
    assert "def two_gaussians" in text and "NotImplementedError" not in text.split(
        "def two_gaussians")[1].split("\ndef ")[0]
    for module in ("checks", "plots", "data", "idx", "logistic"):
        assert (repo.release / "library" / "lib" / f"{module}.py").is_file()


def test_the_student_runtime_ships_whole_and_the_references_are_stubbed(repo):
    """The build follows from the layout: modules that define a graded function
    withhold every public function but what the notebooks import; the others are
    copied line for line."""
    withheld = studentlib.withheld(repo)
    assert {"checks", "data", "plots", "idx"} <= {m for m, n in withheld.items()
                                                   if not n}
    assert "read_idx" in withheld["softmax"] and "error_rate" not in withheld["softmax"]
    assert "initial_theta" not in withheld["distillation"]
    for module, names in withheld.items():
        built = (repo.release / "library" / "lib" / f"{module}.py").read_text()
        source = (repo.root / "lib" / f"{module}.py").read_text()
        if not names:
            assert built == studentlib.HEADER.format(name=f"{module}.py") + source
        for name in names:
            assert f"{name}() is withheld from the student library" in built, name
    assert studentlib.runtime_modules(repo) == {
        "lib", *(f"lib.{m}" for m, n in withheld.items() if not n and m != "__init__")}


def test_the_student_library_depends_on_what_it_and_the_notebooks_import(repo):
    deps = studentlib.dependencies(repo)
    names = {d.split(">")[0].split("=")[0] for d in deps}
    assert {"numpy", "scipy", "scikit-learn", "lets-plot", "autograd"} <= names
    assert not names & {"nbgrader", "nbclient", "jupytext", "pytest", "ml-course-kit"}
    assert "numpy>=2.0" in deps  # the kit's own bound
    pyproject = (repo.release / "library" / "pyproject.toml").read_text()
    assert all(f'"{d}"' in pyproject for d in deps)


def test_strip_functions_keeps_signature_comments_and_other_code():
    text = textwrap.dedent('''\
        """Module."""

        # a comment that stays
        def graded(a,
                   b=1):
            """Formula: a + b."""
            return a + b  # gone


        def helper(x):
            return 2 * x


        def hidden():
            return 42
    ''')
    out = strip_functions(text, {"graded", "hidden"})
    assert "# a comment that stays" in out
    assert "def graded(a,\n           b=1):" in out
    assert "a + b" not in out and "return 42" not in out
    assert "return 2 * x" in out
    namespace = {}
    exec(out, namespace)
    assert namespace["helper"](2) == 4
    for name in ("graded", "hidden"):
        try:
            namespace[name](1) if name == "graded" else namespace[name]()
        except NotImplementedError as exc:
            assert "withheld from the student library" in str(exc)
        else:
            raise AssertionError(f"{name} did not raise")


def test_a_correct_submission_passes_every_public_check_with_the_student_library(
        repo, monkeypatch):
    """Can a student who writes correct answers work with only what they receive?

    The reference answers run in a kernel that imports the student build of lib/
    (release/library, first on PYTHONPATH) from a folder holding only the release.
    """
    monkeypatch.setenv("PYTHONPATH", str(repo.release / "library"))
    for assignment in repo.assignments():
        nb = demo.demo_notebooks(repo, assignment)["reference"]
        nb.cells.insert(0, nbformat.v4.new_code_cell(
            "import lib\nassert '/release/library/' in lib.__file__, lib.__file__"))
        # Raises CellExecutionError, naming the cell, on the first error.
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={
            "metadata": {"path": str(repo.release / assignment)}}).execute()
        passed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                         for o in c.outputs)
        n = len(demo.answer_cell_ids(nb))
        assert passed.count(": public checks passed.") == n
        assert f"Public checks passed for {n} of {n} functions:" in passed


WAITING = re.compile(r"This cell needs (\w+), which (is not written yet|a cell above "
                     r"could not compute: write ([\w, ]+) first)\.")


def test_run_all_on_an_untouched_release_notebook_reaches_the_summary(repo,
                                                                      monkeypatch):
    """SPEC: *Run All* on a release notebook as a student receives it runs to the
    end. Each given cell that needs a function not written yet says which, in one
    line, and the summary lists every graded function as not written. (Grading mode,
    for speed: the same cells on the small data.)"""
    monkeypatch.setenv("PYTHONPATH", str(repo.release / "library"))
    monkeypatch.setenv(GRADING_VARIABLE, "1")
    for assignment in repo.assignments():
        nb = nbformat.read(repo.release / assignment / f"{assignment}.ipynb", 4)
        graded = set(demo.answer_cell_ids(nb))
        # Raises CellExecutionError, naming the cell, on the first error.
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={
            "metadata": {"path": str(repo.release / assignment)}}).execute()
        waiting = 0
        for cell in nb.cells:
            if cell.cell_type != "code" or nbgrader_meta(cell).get("grade"):
                continue
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert not [o for o in cell.outputs if o.get("name") == "stderr"], (
                f"{assignment}: a given cell wrote to stderr: {text}")
            lines = [line for line in text.splitlines() if "This cell needs" in line]
            assert len(lines) <= 1, f"{assignment}: {lines}"
            for line in lines:
                found = WAITING.fullmatch(line)
                assert found, f"{assignment}: {line!r}"
                named = {found[1]} if found[3] is None else set(found[3].split(", "))
                assert named <= graded, f"{assignment}: {line!r} names no function"
                waiting += 1
        summary = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
        n = len(graded)
        assert f"Public checks passed for 0 of {n} functions:" in summary, assignment
        assert summary.count("not written yet") == n, summary
        print(f"{assignment}: {waiting} given cells waiting on a function")
