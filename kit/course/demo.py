"""The demo submissions: course data that shows the grading and proves the hidden tests.

Every assignment gets a ``reference`` submission (the source solutions in the
release notebook), an ``untouched`` one (the release as students receive it) and
one per entry of ``DEMO`` in ``variants/<assignment>.py``: the reference with the
named graded functions replaced by plausible mistakes. The same variant files drive
the tests that check the hidden tests (tests/test_grading.py) and the mutation gate.

A variants file is Python that maintainers lint and review, but the kit never
imports or runs it: it reads the source of each top-level function and the literal
``DEMO`` table (:func:`load_variants`). A function is a variant when its name is
``<graded function>__correct_<how>`` (a right answer written differently from the
reference: every point) or ``<graded function>__wrong_<mistake>`` (a plausible
mistake: no point); :func:`parse_variant_name` is the one reader of that rule.
"""

import ast
import re
import shutil
from dataclasses import dataclass, field

import nbformat

from kit.course import (
    KitError,
    is_answer_cell,
    nbgrader_meta,
    strip_solution_markers,
    write_notebook,
)

#: Folder of the course holding ``<assignment>.py`` of right and wrong answers.
VARIANTS = "variants"
KINDS = ("correct", "wrong")
_NAME = re.compile(
    r"(?P<function>[A-Za-z_]\w*?)__(?P<kind>correct|wrong)_(?P<label>\w+)")


@dataclass(frozen=True)
class VariantName:
    function: str   # the graded function it answers
    kind: str       # "correct" or "wrong"
    label: str      # how it is written, or the mistake


def parse_variant_name(name):
    """The parts of a variant's name, or None for a name that is not one."""
    found = _NAME.fullmatch(name)
    return VariantName(**found.groupdict()) if found else None


@dataclass(frozen=True)
class Variants:
    """The variants of one assignment, as read from its file."""

    path: object
    functions: dict = field(default_factory=dict)  # {variant name: source}
    demo: dict = field(default_factory=dict)       # {student: [variant names]}

    def names(self, function, kind):
        """Names of the ``kind`` variants of ``function``, sorted."""
        return sorted(n for n in self.functions
                      if (v := parse_variant_name(n)) and v.function == function
                      and v.kind == kind)


def read_variants(path):
    """The variants in the file ``path``, read as source (never run)."""
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise KitError(f"{path}: not valid Python ({exc})") from None
    functions, demo = {}, {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and parse_variant_name(node.name):
            functions[node.name] = ast.get_source_segment(text, node) + "\n"
        elif (isinstance(node, ast.Assign)
              and any(getattr(t, "id", None) == "DEMO" for t in node.targets)):
            try:
                demo = ast.literal_eval(node.value)
            except ValueError:
                raise KitError(f"{path}: DEMO must be a literal table of student "
                               "ids and variant names") from None
    unknown = {n for names in demo.values() for n in names} - set(functions)
    if unknown:
        raise KitError(f"{path}: DEMO names variants that are not in the file: "
                       f"{sorted(unknown)}")
    return Variants(path, functions, demo)


def load_variants(course, assignment):
    """The variants of ``assignment`` (``variants/<assignment>.py``), or None if it
    has none."""
    path = course.root / VARIANTS / f"{assignment}.py"
    return read_variants(path) if path.is_file() else None


def variant_source(variants, name):
    """The source of variant ``name``, its ``def`` renamed to the graded function."""
    function = parse_variant_name(name).function
    return re.sub(rf"^def {re.escape(name)}\(", f"def {function}(",
                  variants.functions[name], count=1, flags=re.M)


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
    variants = load_variants(course, assignment)
    for student, names in (variants.demo if variants else {}).items():
        found[student] = with_variants(
            course, assignment,
            {parse_variant_name(name).function: name for name in names})
    return found


def write_submission(course, student, assignment, nb):
    """Write ``nb`` as the only file of ``submitted/<student>/<assignment>/``."""
    folder = course.submitted / student / assignment
    if folder.exists():
        shutil.rmtree(folder)
    write_notebook(nb, folder / f"{assignment}.ipynb")


def with_variants(course, assignment, chosen):
    """The reference submission with graded functions replaced by named variants:
    ``chosen`` maps function names to variant names of variants/."""
    variants = load_variants(course, assignment)
    answers = reference_answers(course, assignment)
    answers.update({f: variant_source(variants, v) for f, v in chosen.items()})
    return fill(release_notebook(course, assignment), answers)


def variant_plan(course, assignment):
    """``{student: {function: variant}}``: submission k uses the k-th correct (or
    wrong) variant of every graded function that has one, the reference elsewhere."""
    variants = load_variants(course, assignment)
    functions = answer_cell_ids(source_notebook(course, assignment))
    plan = {}
    for kind in KINDS:
        per_function = {f: variants.names(f, kind) for f in functions}
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
