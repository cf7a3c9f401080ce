"""`python -m kit submissions`: write the demo submissions in submitted/.

Examples
--------
    python -m kit submissions

Every assignment gets a ``reference`` submission (the source solutions in the
release notebook), an ``untouched`` one (the release as students receive it) and
one per entry of ``DEMO`` in ``tests/variants/<assignment>.py``: the reference with
the named graded functions replaced by plausible mistakes. The same variant files
drive the tests that check the hidden tests (tests/test_grading.py).

This command overwrites ``submitted/<demo student>/<assignment>/`` only for the demo
students it knows; real submissions of other students are left alone.
"""

import importlib.util
import inspect
import re
import shutil

import nbformat

from kit.course import (
    KitError,
    is_answer_cell,
    nbgrader_meta,
    strip_solution_markers,
    write_notebook,
)


def load_variants(course, assignment):
    """The module ``tests/variants/<assignment>.py``, or None if there is none."""
    path = course.root / "tests" / "variants" / f"{assignment}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"variants_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def variants_of(module, function, kind):
    """Names of the ``<function>__<kind>_*`` variants in a variants module."""
    prefix = f"{function}__{kind}_"
    return sorted(name for name in vars(module) if name.startswith(prefix))


def variant_source(module, name):
    """The source of variant ``name``, its ``def`` renamed to the graded function."""
    function = name.split("__")[0]
    source = inspect.getsource(getattr(module, name))
    return re.sub(rf"^def {re.escape(name)}\(", f"def {function}(", source, count=1,
                  flags=re.M)


def source_notebook(course, assignment):
    return nbformat.read(course.source_notebook(assignment), as_version=4)


def reference_answers(course, assignment):
    """``{grade_id: source}`` of every solution cell of the source notebook."""
    nb = source_notebook(course, assignment)
    return {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source).strip()
            for c in nb.cells if nbgrader_meta(c).get("solution")}


def release_notebook(course, assignment):
    path = course.release / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        raise KitError(f"{path}: missing; run `make build` first.")
    return nbformat.read(path, as_version=4)


def fill(nb, answers):
    """A copy of a release notebook with the solution cells in ``answers`` replaced."""
    nb = nbformat.from_dict(nb)
    nb.metadata.pop("kit", None)
    known = {nbgrader_meta(c).get("grade_id") for c in nb.cells}
    unknown = set(answers) - known
    if unknown:
        raise KitError(f"no cells named {sorted(unknown)} in the notebook.")
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def answer_cell_ids(nb):
    return [nbgrader_meta(c)["grade_id"] for c in nb.cells if is_answer_cell(c)]


def demo_notebooks(course, assignment):
    """``{student: notebook}`` of the demo submissions of one assignment."""
    release = release_notebook(course, assignment)
    found = {"reference": fill(release, reference_answers(course, assignment)),
             "untouched": fill(release, {})}
    module = load_variants(course, assignment)
    for student, names in (getattr(module, "DEMO", {}) if module else {}).items():
        found[student] = with_variants(
            course, assignment, {name.split("__")[0]: name for name in names})
    return found


def write_submission(course, student, assignment, nb):
    """Write ``nb`` as the only file of ``submitted/<student>/<assignment>/``."""
    folder = course.submitted / student / assignment
    if folder.exists():
        shutil.rmtree(folder)
    write_notebook(nb, folder / f"{assignment}.ipynb")


def with_variants(course, assignment, chosen):
    """The reference submission with graded functions replaced by named variants:
    ``chosen`` maps function names to variant names of tests/variants/."""
    module = load_variants(course, assignment)
    answers = reference_answers(course, assignment)
    answers.update({f: variant_source(module, v) for f, v in chosen.items()})
    return fill(release_notebook(course, assignment), answers)


def variant_plan(course, assignment):
    """``{student: {function: variant}}``: submission k uses the k-th correct (or
    wrong) variant of every graded function that has one, the reference elsewhere."""
    module = load_variants(course, assignment)
    functions = answer_cell_ids(source_notebook(course, assignment))
    plan = {}
    for kind in ("correct", "wrong"):
        per_function = {f: variants_of(module, f, kind) for f in functions}
        for k in range(max(len(v) for v in per_function.values())):
            plan[f"variant-{kind}-{k + 1}"] = {
                f: names[k] for f, names in per_function.items() if k < len(names)
            }
    return plan


def write_submissions(course, log=print):
    for assignment in course.assignments():
        for student, nb in demo_notebooks(course, assignment).items():
            write_submission(course, student, assignment, nb)
            log(f"submitted/{student}/{assignment}/ written")


def main(args, course):
    write_submissions(course)


def add_arguments(parser):
    pass


HELP = "write the demo submissions in submitted/ from tests/variants/"
