"""The mutation gate (`python -m kit mutants`): the mutant generator on small
functions, the judging of graded mutants, and one run through the real grading
path in a scratch course whose hidden test of ``predict`` is weakened on purpose.
"""

import ast
import textwrap

import pandas as pd
import pytest

from kit.commands import mutants
from kit.course import copy_course


def quiet(*args, **kwargs):
    pass


def changes(source):
    """``{(original line, changed line)}`` of every mutant of ``source``."""
    return {(m.original, m.changed) for m in mutants.mutants(textwrap.dedent(source))}


def test_each_operator_makes_its_mutant():
    found = changes('''
        def f(x, y, scale=0.5, flag=True, n=2):
            """Docstring 1 + 2 stays as it is."""
            z = np.abs(x - y) / np.maximum(1e-8, x.T @ y)  # ≥ 0
            z += n ** 2
            if z.max(axis=0, keepdims=True) >= 0 and not flag:
                return -z
            for i in range(n):
                break
            return z if z < 1 else scale
    ''')
    expected = {
        ("z = np.abs(x - y) / np.maximum(1e-8, x.T @ y)  # ≥ 0",
         "z = np.abs(x + y) / np.maximum(1e-8, x.T @ y)  # ≥ 0"),
        ("z = np.abs(x - y) / np.maximum(1e-8, x.T @ y)  # ≥ 0",
         "z = np.abs(x - y) * np.maximum(1e-8, x.T @ y)  # ≥ 0"),
        ("z = np.abs(x - y) / np.maximum(1e-8, x.T @ y)  # ≥ 0",
         "z = (x - y) / np.maximum(1e-8, x.T @ y)  # ≥ 0"),
        ("z = np.abs(x - y) / np.maximum(1e-8, x.T @ y)  # ≥ 0",
         "z = np.abs(x - y) / np.minimum(1e-8, x.T @ y)  # ≥ 0"),
        ("z = np.abs(x - y) / np.maximum(1e-8, x.T @ y)  # ≥ 0",
         "z = np.abs(x - y) / np.maximum(-1e-08, x.T @ y)  # ≥ 0"),
        ("z = np.abs(x - y) / np.maximum(1e-8, x.T @ y)  # ≥ 0",
         "z = np.abs(x - y) / np.maximum(1e-8, x @ y)  # ≥ 0"),
        ("z += n ** 2", "z -= n ** 2"),
        ("z += n ** 2", "z += n * 2"),
        ("z += n ** 2", "z += n ** 3"),
        ("if z.max(axis=0, keepdims=True) >= 0 and not flag:",
         "if z.max(axis=0, keepdims=True) > 0 and not flag:"),
        ("if z.max(axis=0, keepdims=True) >= 0 and not flag:",
         "if z.max(axis=0, keepdims=True) >= 0 or not flag:"),
        ("if z.max(axis=0, keepdims=True) >= 0 and not flag:",
         "if z.max(axis=0, keepdims=True) >= 0 and flag:"),
        ("if z.max(axis=0, keepdims=True) >= 0 and not flag:",
         "if z.min(axis=0, keepdims=True) >= 0 and not flag:"),
        ("if z.max(axis=0, keepdims=True) >= 0 and not flag:",
         "if z.max(axis=1, keepdims=True) >= 0 and not flag:"),
        ("if z.max(axis=0, keepdims=True) >= 0 and not flag:",
         "if z.max(keepdims=True) >= 0 and not flag:"),
        ("if z.max(axis=0, keepdims=True) >= 0 and not flag:",
         "if z.max(axis=0) >= 0 and not flag:"),
        ("if z.max(axis=0, keepdims=True) >= 0 and not flag:",
         "if z.max(axis=0, keepdims=False) >= 0 and not flag:"),
        ("if z.max(axis=0, keepdims=True) >= 0 and not flag:",
         "if not (z.max(axis=0, keepdims=True) >= 0 and not flag):"),
        ("return -z", "return z"),
        ("for i in range(n):", "for i in []:"),
        ("break", "continue"),
        ("return z if z < 1 else scale", "return z if z <= 1 else scale"),
        ("return z if z < 1 else scale", "return z if z < 2 else scale"),
        ("return z if z < 1 else scale", "return z if not (z < 1) else scale"),
        ("def f(x, y, scale=0.5, flag=True, n=2):",
         "def f(x, y, scale=-0.5, flag=True, n=2):"),
        ("def f(x, y, scale=0.5, flag=True, n=2):",
         "def f(x, y, scale=1.0, flag=True, n=2):"),
        ("def f(x, y, scale=0.5, flag=True, n=2):",
         "def f(x, y, scale=0.5, flag=False, n=2):"),
        ("def f(x, y, scale=0.5, flag=True, n=2):",
         "def f(x, y, scale=0.5, flag=True, n=3):"),
        ("def f(x, y, scale=0.5, flag=True, n=2):",
         "def f(x, y, scale=0.5, flag=True, n=1):"),
    }
    assert expected <= found, sorted(expected - found)
    assert not any("Docstring" in changed for _, changed in found)


def test_mutants_are_distinct_valid_and_keep_their_lines():
    source = textwrap.dedent('''
        def g(a, b):
            # a comment with 1 + 2
            s = "1 + 2"
            return (a -
                    b) * 0 + 0
    ''')
    found = mutants.mutants(source)
    assert len({m.source for m in found}) == len(found) > 0
    for m in found:
        ast.parse(m.source)
        assert m.source.count("\n") == source.count("\n")
        assert m.source.splitlines()[m.line - 1].strip() == m.changed
        assert source.splitlines()[m.line - 1].strip() == m.original
        assert m.original != m.changed
        assert '"1 + 2"' in m.source and "# a comment with 1 + 2" in m.source
    assert ("b) * 0 + 0", "b) * 0 - 0") in {(m.original, m.changed) for m in found}


def results_of(*rows):
    return pd.DataFrame([dict(zip(("assignment", "function", "original", "mutant",
                                   "killed"), row, strict=True)) for row in rows])


def test_judge_subtracts_equivalents_and_reports_what_is_wrong():
    results = results_of(*[("a", "f", "x = 1", f"x = {i}", True) for i in range(99)],
                         ("a", "f", "x = 1", "x = eq", False),
                         ("a", "g", "y = 1", "y = 2", False),
                         ("b", "h", "z = 1", "z = 2", True))
    equivalents = {("a", "f", "x = 1", "x = eq"): "why",
                   ("b", "h", "z = 1", "z = 2"): "why",
                   ("b", "h", "z = 1", "z = gone"): "why",
                   ("c", "k", "w = 1", "w = 2"): "not graded in this run"}
    results, table, problems = mutants.judge(results, equivalents)
    assert results.equivalent.tolist() == [False] * 99 + [True, False, True]
    assert table.loc[("a", "f")].tolist() == [100, 1, 99, 0]
    assert table.loc[("a", "g")].tolist() == [1, 0, 0, 1]
    assert problems == ["b.h: listed as equivalent but killed: z = 2",
                        "b.h: listed as equivalent but no longer made: z = gone"]
    passing = results_of(*[("a", "f", "x = 1", f"x = {i}", True) for i in range(99)],
                         ("a", "f", "x = 1", "x = 100", False))
    assert mutants.judge(passing, {})[2] == []
    failing = passing.assign(killed=[True] * 98 + [False, False])
    assert mutants.judge(failing, {})[2] == [
        "a: 98 of 100 mutants killed (98.0%), below 99%"]


def write_equivalent(course, **entry):
    """Write an equivalent_mutants.toml of one entry into ``course``."""
    lines = ["[[equivalent]]"] + [f"{key} = {value!r}" for key, value in entry.items()]
    (course.root / mutants.EQUIVALENTS).write_text("\n".join(lines) + "\n")


def test_equivalents_file_is_read_and_checked(tmp_path, repo):
    course = copy_course(repo.root, tmp_path, submissions=False, assignments=[])
    write_equivalent(course, assignment="a", function="f", line="  x = 1  ",
                     mutant="x = 2", why="x is never read")
    assert mutants.read_equivalents(course) == {("a", "f", "x = 1", "x = 2"):
                                                "x is never read"}
    (course.root / mutants.EQUIVALENTS).write_text('[[equivalent]]\nassignment = "a"\n')
    with pytest.raises(mutants.KitError, match="entry 1 lacks function, line, mutant"):
        mutants.read_equivalents(course)


def test_repository_equivalents_name_mutants_that_are_made(repo):
    """Every listed equivalent mutant is one the generator makes today."""
    for (assignment, function, line, changed) in mutants.read_equivalents(repo):
        chosen = mutants.plan(repo, [assignment], [function])
        made = {(a, f, m.original, m.changed) for a, f, _, m in chosen}
        assert (assignment, function, line, changed) in made


def test_a_weak_hidden_test_lets_mutants_survive(tmp_path, repo):
    """Through the real grading path: with the hidden test of predict reduced to
    inputs far from the boundary, both mutants of its threshold keep full marks;
    the one listed as equivalent is subtracted, the other fails the gate."""
    course = copy_course(repo.root, tmp_path / "a course", submissions=False,
                         assignments=["logistic_regression"])
    text = course.source_text("logistic_regression")
    source = text.read_text()
    start = source.index("### BEGIN HIDDEN TESTS", source.index('"test_predict"'))
    end = source.index("### END HIDDEN TESTS", start)
    text.write_text(source[:start] + textwrap.dedent('''\
        ### BEGIN HIDDEN TESTS
        checks.check_equal(checks.call(predict, np.array([[1.0, 5.0], [1.0, -5.0]]),
                                       np.array([0.0, 1.0])), [1, 0],
                           what="predict far from the boundary")
        ''') + source[end:])
    write_equivalent(course, assignment="logistic_regression", function="predict",
                     line="return (X @ theta >= 0).astype(int)",
                     mutant="return (X @ theta > 0).astype(int)",
                     why="stated here for the test only: it is not equivalent")
    results, table, problems = mutants.run(course, ["logistic_regression"],
                                           ["predict"], log=quiet, workers=2)
    assert set(results.mutant) == {"return (X @ theta > 0).astype(int)",
                                   "return (X @ theta >= 1).astype(int)"}
    assert not results.killed.any()
    assert table.loc[("logistic_regression", "predict")].tolist() == [2, 1, 0, 1]
    assert problems == ["logistic_regression: 0 of 1 mutants killed (0.0%), "
                        "below 99%"]
    report = mutants.describe(results, table, problems)
    assert "-> return (X @ theta >= 1).astype(int)" in report
    assert "-> return (X @ theta > 0).astype(int)" not in report
