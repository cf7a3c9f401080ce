"""`python -m kit similarity`: a submission copied with its variables renamed tops
the list, and submissions written independently stay below the review threshold.

The honest submissions are the reference answers and the two submissions of
correct variants (every graded function written another way, variants/); the copy
is the first of those with every local name renamed and the code laid out anew
(``ast.unparse`` drops comments and changes spacing).
"""

import ast
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from kit.course import copy_course, demo
from kit.engine import report, similarity

HONEST = ("reference", "variant-correct-1", "variant-correct-2")
COPIER = "renamed-copy"


class Rename(ast.NodeTransformer):
    """Rename the arguments and local variables of every function in a cell."""

    def visit_FunctionDef(self, node):
        local = {a.arg for a in node.args.args + node.args.kwonlyargs}
        local |= {n.id for n in ast.walk(node)
                  if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        names = {old: f"v{i}_{old[::-1]}" for i, old in enumerate(sorted(local))}
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id in names:
                n.id = names[n.id]
            elif isinstance(n, ast.arg) and n.arg in names:
                n.arg = names[n.arg]
        return node


def renamed(source):
    return ast.unparse(Rename().visit(ast.parse(source))) + "\n"


@pytest.fixture(scope="module")
def course(built, tmp_path_factory):
    course = copy_course(built.root, tmp_path_factory.mktemp("similar"),
                         submissions=False)
    shutil.copytree(built.release, course.release, dirs_exist_ok=True)
    for assignment in course.assignments():
        plan = demo.variant_plan(course, assignment)
        for student in HONEST:
            demo.write_submission(course, student, assignment, demo.with_variants(
                course, assignment, plan.get(student, {})))
        answers = demo.reference_answers(course, assignment)
        variants = demo.load_variants(course, assignment)
        answers.update({f: demo.variant_source(variants, v)
                        for f, v in plan["variant-correct-1"].items()})
        code = set(demo.answer_cell_ids(demo.source_notebook(course, assignment)))
        copy = demo.fill(demo.release_notebook(course, assignment),
                         {f: renamed(text) if f in code else text
                          for f, text in answers.items()})
        demo.write_submission(course, COPIER, assignment, copy)
    return course


def test_the_renamed_copy_tops_the_list_and_honest_pairs_stay_below(course):
    proc = subprocess.run([sys.executable, "-m", "kit", "--course", str(course.root),
                           "similarity", "--top", "20"],
                          capture_output=True, text=True, check=True)
    table = pd.read_csv(course.reports / "similarity.csv")
    assert set(table.assignment) == set(course.assignments())
    for assignment, pairs in table.groupby("assignment"):
        assert len(pairs) == 6  # every pair of the four submissions
        top = pairs.iloc[0]
        assert {top.student_a, top.student_b} == {COPIER, "variant-correct-1"}, (
            f"{assignment}: the copy is not the most alike pair")
        assert top.similarity >= similarity.THRESHOLD and top.review
        honest = pairs[(pairs.student_a != COPIER) & (pairs.student_b != COPIER)]
        assert (honest.similarity < similarity.THRESHOLD).all(), honest
        assert not honest.review.any()
        line = f"{top.similarity:5.0%}  {top.student_a}  {top.student_b}  review"
        assert line in proc.stdout, proc.stdout


def test_code_every_student_receives_is_not_a_likeness(course):
    """Two untouched notebooks (the release's stubs only) are not alike at all."""
    for student in ("untouched-1", "untouched-2"):
        demo.write_submission(course, student, "fgsm",
                              demo.release_notebook(course, "fgsm"))
    try:
        found = similarity.submissions(course, "fgsm")
        pairs = similarity.pairs(found)
        both = pairs[pairs.student_a.str.startswith("untouched")
                     & pairs.student_b.str.startswith("untouched")]
        assert both.similarity.tolist() == [0.0]
    finally:
        for student in ("untouched-1", "untouched-2"):
            shutil.rmtree(course.submitted / student)


def test_the_report_shows_a_pair_to_review_side_by_side(course):
    table, cells = similarity.most_alike(course, ["logistic_regression"], top=3)
    page = report.similarity_section(table, cells["logistic_regression"])
    assert page.count("<details>") == (table.review).sum() == 1
    copied = cells["logistic_regression"][COPIER]["sigmoid"]
    assert "v3_z" in copied and ast.parse(copied)  # renamed, still Python
    assert "v3_z" in page and "variant-correct-1" in page
    assert "<script" not in page
