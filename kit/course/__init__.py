"""The course directory: where things are, and how to read nbgrader cell metadata."""

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[2]

SOLUTION_REGION = re.compile(
    r"^[ \t]*### BEGIN SOLUTION[ \t]*\n.*?^[ \t]*### END SOLUTION[ \t]*\n?",
    re.M | re.S,
)
HIDDEN_REGION = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?",
    re.M | re.S,
)


# What the kit and a course library agree on. The course library cannot import the
# kit (students install it alone), so it spells the same names itself; lib/ does, in
# lib.data and lib.checks, and tests/test_layout.py proves them equal.
#: Environment variable set to "1" in every kernel the kit starts (grading mode).
GRADING_VARIABLE = "KIT_GRADING"
#: Global of the hidden tests' namespace holding the grader's hook that makes a
#: substitution (``lib.checks.substituted``) in the student's kernel as well.
SUBSTITUTE_HOOK = "__kit_substitute__"
#: Method of a student function standing in the grader that returns, with its
#: value, its array arguments as the call left them (``lib.checks.call``).
CALL_HOOK = "kit_call"
#: Class attribute of a check's exception type: "fault" or "cheat" flags the
#: submission in the report when that check fails.
FLAG_ATTRIBUTE = "kit_flag"

# Set in every kernel the kit starts: notebooks run in grading mode (lib.data), and
# BLAS uses one thread: faster on a loaded machine, and the same summation order on
# every run, so a regrade reproduces every digit.
GRADING_ENV = {GRADING_VARIABLE: "1", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class KitError(Exception):
    """An error the user can fix; the command prints it and exits non-zero."""


@dataclass(frozen=True)
class Course:
    """A course directory laid out as the README describes."""

    root: Path = ROOT

    @property
    def source(self):
        return self.root / "source"

    @property
    def release(self):
        return self.root / "release"

    @property
    def solutions(self):
        return self.root / "solutions"

    @property
    def submitted(self):
        return self.root / "submitted"

    @property
    def reports(self):
        return self.root / "reports"

    @property
    def gradebook_url(self):
        """nbgrader's database: ``$KIT_GRADEBOOK_URL`` when set (a PostgreSQL server
        shared by several graders; nbgrader_config.py reads the same variable), else
        the SQLite file gradebook.db in the course folder."""
        return (os.environ.get("KIT_GRADEBOOK_URL")
                or f"sqlite:///{self.root / 'gradebook.db'}")

    @property
    def library(self):
        """The student library (``release/library``, the student build of ``lib/``),
        or None in a course without one: its kernels import from their own
        environment only."""
        folder = self.release / "library"
        return folder if folder.is_dir() else None

    def assignments(self):
        """Names of the assignments: folders of source/ holding notebooks."""
        if not self.source.is_dir():
            raise KitError(f"{self.source}: no source/ folder in this course.")
        return sorted(d.name for d in self.source.iterdir()
                      if d.is_dir() and any(d.glob("*.ipynb")))

    def notebooks(self, assignment):
        """The source notebooks of an assignment (nbgrader's: any number of them)."""
        return sorted((self.source / assignment).glob("*.ipynb"))

    def source_notebook(self, assignment):
        """The notebook named after its assignment, as ``kit new`` writes it."""
        return self.source / assignment / f"{assignment}.ipynb"

    def source_text(self, assignment, notebook=None):
        """The jupytext percent twin of a source notebook (the file to review),
        which the kit's own assignments have; None where there is none."""
        name = Path(notebook).stem if notebook else assignment
        path = self.source / assignment / f"{name}.py"
        return path if path.is_file() else None

    def nbgrader(self, *args, check=True):
        """Run an nbgrader subcommand in the course directory; return the process."""
        cmd = [sys.executable, "-m", "nbgrader", *args]
        proc = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True,
                              env=tool_env())
        if check and proc.returncode != 0:
            raise KitError(
                f"`nbgrader {' '.join(args)}` failed (exit {proc.returncode}):\n"
                + (proc.stdout + proc.stderr)[-3000:]
            )
        return proc


def tool_env():
    """The environment for nbgrader: this interpreter's scripts come first on PATH
    (nbgrader runs ``alembic`` by name, and kernels must import ``lib``)."""
    env = dict(os.environ, **GRADING_ENV)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    return env


def nbgrader_meta(cell):
    """The cell's nbgrader metadata, or an empty dict."""
    return cell.get("metadata", {}).get("nbgrader", {})


def is_answer_cell(cell):
    """An autograded answer: a solution code cell that is not itself graded."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("solution") and not meta.get("grade")


def graded_function_names(nb):
    """Top-level functions defined in the answer cells of a notebook."""
    names = []
    for cell in nb.cells:
        if is_answer_cell(cell):
            tree = ast.parse(cell.source)
            names += [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    return names


def read_text_notebook(path):
    """Read a jupytext percent file as a notebook with deterministic cell ids."""
    nb = jupytext.read(path)
    used = set()
    for i, cell in enumerate(nb.cells):
        cell_id = nbgrader_meta(cell).get("grade_id") or f"cell-{i:03d}"
        assert cell_id not in used, f"{path}: duplicate grade_id {cell_id}"
        used.add(cell_id)
        cell["id"] = cell_id
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def write_notebook(nb, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def strip_solution_markers(source):
    """The code of a solution cell as the reference answer: markers removed."""
    return "".join(
        line for line in source.splitlines(keepends=True)
        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    )


def copy_course(src, dst, submissions=True, assignments=None):
    """Copy what a build and a grading run read (no outputs) into ``dst``.

    Used to build and grade in a scratch directory without touching ``src``;
    ``assignments`` (names) restricts the copy of source/ to those assignments.
    """
    src, dst = Path(src), Path(dst)
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    parts = ["lib", "variants"] + (["submitted"] if submissions else [])
    if not (src / "lib").is_dir():  # an nbgrader course: its release is its build
        parts.append("release")
    parts += [f"source/{a}" for a in assignments or Course(src).assignments()]
    for part in parts:
        if (src / part).is_dir():
            shutil.copytree(src / part, dst / part, ignore=ignore, dirs_exist_ok=True)
        elif (src / part).is_file():
            shutil.copy2(src / part, dst / part)
    shutil.copy2(src / "nbgrader_config.py", dst / "nbgrader_config.py")
    return Course(dst)


def last_message(text):
    """The line of ``text`` that says what went wrong: the last line naming an error,
    else the last line (never "see the above traceback")."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    named = [line for line in lines
             if re.match(r"^(bwrap: |[\w.]*(Error|Exception|Exit)\b)", line)]
    pick = (named or [line for line in lines if "above traceback" not in line]
            or ["no message"])[-1]
    return pick[:300]
