"""Cheating submissions (tests/adversarial.py CHEATS) earn nothing and are flagged.

Each cheat attacks one graded function of logistic_regression. Under plain
``nbgrader autograde`` every one of them earns points on the problem it attacks
(the first tests here show it, so none is a straw man); graded by the kit, each
scores zero there, is flagged with the reason, and leaves the gradebook, every
course file and every other student's scores as they were.
"""

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import adversarial as adv
import attacks
import numpy as np
import pytest
from nbgrader.api import Gradebook

from kit.commands import grade
from kit.engine import autograde, report

CHEAT_IDS = [c.student for c in adv.CHEATS]


# --- plain nbgrader: the attacks work


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The cheats and the reference submission (a victim) in a scratch course,
    graded by plain ``nbgrader autograde``.

    Kernels import the course's own lib/ (PYTHONPATH), as they do in a course
    installed in editable mode, so that writes to course files act on this course
    and never on the repository. Returns the course, the scores, the nbgrader
    process and the bytes of the files some cheats write to, before grading.
    """
    course = adv.copy_of(adv.built(tmp_path_factory),
                         tmp_path_factory.mktemp("adversarial-plain"))
    adv.write_demos(course)
    for student in list(course.submitted.iterdir()):
        if student.name != "reference":
            shutil.rmtree(student)
    for cheat in adv.CHEATS:
        cheat.build(course)
    targets = [course.submitted / "reference" / adv.ASSIGNMENT / adv.NOTEBOOK,
               course.root / "lib" / "logistic.py"]
    before = {path: path.read_bytes() for path in targets}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", str(course.root))
        proc = course.nbgrader("autograde", adv.ASSIGNMENT, "--force",
                               f"--Execute.timeout={adv.TIMEOUT}", check=False)
    # The background process acts after autograding; it gives up after 300 s.
    deadline = time.monotonic() + 330
    while adv.processes(adv.DAEMON) and time.monotonic() < deadline:
        time.sleep(1)
    assert not adv.processes(adv.DAEMON), "the background process did not finish"
    return course, report.scores(course), proc, before


@pytest.mark.parametrize("cheat", adv.CHEATS, ids=CHEAT_IDS)
def test_cheat_earns_points_under_plain_nbgrader(plain, cheat):
    course, scores, proc, _ = plain
    score = adv.points(scores, cheat.student).get(cheat.problem)
    assert score is not None and score > 0, (
        f"{cheat.student} earned {score} on {cheat.problem} under plain nbgrader: "
        f"not a working attack.\n{proc.stderr[-3000:]}")


def test_writing_cheats_change_the_course_under_plain_nbgrader(plain):
    course, _, _, before = plain
    for path, content in before.items():
        assert path.read_bytes() != content, f"{path} was not written"
    with Gradebook(course.gradebook_url) as gb:
        assert "ghost-student" in {s.id for s in gb.students}


# --- the kit: the attacks fail and are flagged


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    return adv.graded(tmp_path_factory)


@pytest.mark.parametrize("cheat", adv.CHEATS, ids=CHEAT_IDS)
def test_cheat_scores_zero_on_the_problem_it_attacks(run, cheat):
    got = adv.points(run.scores, cheat.student)
    assert got.get(cheat.problem, 0) == 0, (
        f"{cheat.student} earned {got[cheat.problem]} on {cheat.problem}")


@pytest.mark.parametrize("cheat", adv.CHEATS, ids=CHEAT_IDS)
def test_cheat_is_flagged_with_its_reason(run, cheat):
    adv.assert_flagged(run.flags, cheat.student, cheat.kinds, cheat.words)


def test_honest_submissions_keep_their_scores(run):
    adv.assert_demo_scores(run)


def test_grading_changes_no_course_file(run):
    assert not run.changed, f"grading changed course files: {run.changed}"


def test_gradebook_holds_only_what_grading_wrote(run):
    assert run.gradebook_students <= run.students, (
        f"students nobody submitted: {run.gradebook_students - run.students}")
    assert not run.manual_scores, (
        f"manual scores nobody gave: {run.manual_scores}")


def test_no_process_started_by_a_submission_outlives_grading(run):
    assert not run.strays, f"still running after grading: {run.strays}"


# --- second round (tests/attacks.py): one section per class of attack -------------
#
# | class | plain nbgrader | the kit |
# | 1 inputs the student touched | earns the points (the function reaches the test's
#   arrays through the stack) | 0: the function gets copies; a changed input fails
#   the check |
# | 2 the agent in the namespace | no agent | the grader's requests read, write and
#   delete no student global: honest globals keep their points |
# | 3 lent references do the work | earns the points | 0, flagged as a cheat |
# | 4 hidden inputs in feedback | the feedback shows the hidden tests' source | a
#   builtin type name and a warning category at most |
# | 5 one submission takes others down | not run (no limits: it would hurt this
#   machine) | refused or stopped, flagged; every other submission keeps its grade |


def attack_points(scores, attack):
    rows = scores[(scores.assignment == attack.assignment)
                  & (scores.student == attack.student) & (scores.kind == "auto")
                  & (scores.problem == attack.problem)]
    return rows.score.sum(), rows.max_score.sum()


def attack_flags(flags, student, assignment):
    rows = flags[(flags.student == student) & (flags.assignment == assignment)]
    return list(zip(rows.kind, rows.reason, strict=True))


# The worker grading this job is killed: its jobs are graded again.
WORKER_OF = ("honest", "softmax_mlp")


def _kill_when_started(course, found):
    """Kill the grading process of the KILLED submission, and the worker of the
    WORKER_OF one, once each runs; ``found`` gets what was killed."""
    jobs = course.root / autograde.JOBS
    targets = {attacks.KILLED: "job", WORKER_OF: "worker"}
    deadline = time.monotonic() + 900
    while targets and time.monotonic() < deadline:
        for (student, assignment), what in list(targets.items()):
            pidfile = jobs / assignment / student
            text = pidfile.read_text().strip() if pidfile.exists() else ""
            if not text:
                continue
            time.sleep(2)  # well into its grading
            pid = int(text)
            if what == "worker":  # the job's parent
                pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1]
                          .split()[1])
            os.kill(pid, signal.SIGKILL)
            found.append(what)
            del targets[(student, assignment)]
        time.sleep(0.2)


@pytest.fixture(scope="module")
def second(built, tmp_path_factory):
    """Every second-round attack with the honest submissions, graded by the kit,
    one job's process killed on the way. Returns (course, scores, flags, killed)."""
    course = adv.copy_of(built, tmp_path_factory.mktemp("round-two"))
    attacks.write_all(course)
    killed = []
    killer = threading.Thread(target=_kill_when_started, args=(course, killed))
    killer.start()
    grade.run(course, log=adv.quiet, memory_mb=adv.MEMORY_MB,
              timeout=attacks.TIMEOUT, budget=attacks.BUDGET)
    killer.join()
    return course, report.scores(course), report.read_flags(course), killed


@pytest.fixture(scope="module")
def second_plain(built, tmp_path_factory):
    """The attacks that plain nbgrader can be given, graded by it."""
    course = adv.copy_of(built, tmp_path_factory.mktemp("round-two-plain"))
    attacks.write_only(course, PLAIN)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", str(course.root))
        for assignment in sorted({a.assignment for a in PLAIN}):
            course.nbgrader("autograde", assignment, "--force",
                            f"--Execute.timeout={attacks.TIMEOUT}", check=False)
    return report.scores(course)


PLAIN = [a for a in attacks.ATTACKS if a.plain is not None]


@pytest.mark.parametrize("attack", PLAIN, ids=[a.student for a in PLAIN])
def test_second_round_under_plain_nbgrader(second_plain, attack):
    got, full = attack_points(second_plain, attack)
    assert (got > 0) == attack.plain, (
        f"{attack.student}: {got} of {full} on {attack.problem} under plain nbgrader")


@pytest.mark.parametrize("attack", attacks.ATTACKS,
                         ids=[a.student for a in attacks.ATTACKS])
def test_second_round_under_the_kit(second, attack):
    course, scores, flags, _ = second
    got, full = attack_points(scores, attack)
    assert full > 0, f"{attack.student} was not graded"
    want = full if attack.kit_points else 0
    assert got == want, f"{attack.student}: {got} of {full} on {attack.problem}"
    if attack.words:
        found = attack_flags(flags, attack.student, attack.assignment)
        assert any(kind in attack.kinds
                   and all(w.lower() in reason.lower() for w in attack.words)
                   for kind, reason in found), (attack.student, found)


def test_second_round_honest_submissions_keep_every_point(second):
    course, scores, flags, _ = second
    rows = scores[(scores.student == "honest") & (scores.kind == "auto")]
    assert set(rows.assignment) == set(attacks.ASSIGNMENTS)
    assert (rows.score == rows.max_score).all(), rows[rows.score != rows.max_score]
    assert not len(flags[flags.student == "honest"]), flags[flags.student == "honest"]


def test_second_round_feedback_carries_nothing_the_submission_wrote(second):
    """Class 4: is the feedback free of the student's exception type name and
    warning message, which carried the hidden inputs?"""
    course = second[0]
    page = (course.root / "feedback" / "leak-in-feedback" / "logistic_regression"
            / "logistic_regression.html").read_text(encoding="utf-8")
    assert "sigmoid() raised ValueError." in page
    # The first hidden input of test_sigmoid (its seed is in the source), as the
    # attack writes it: in a type name, and in a warning. The student's own cells,
    # whose outputs the feedback keeps, only ever see the public inputs.
    z = np.random.default_rng(101).normal(scale=30.0, size=(7, 5)).ravel()[:8]
    name = "_".join(f"{v:.3g}" for v in z).replace("-", "m").replace(".", "p")
    leaked = [v for v in (name, repr(float(z[0]))) if v in page]
    assert not leaked, leaked


def test_a_job_whose_process_dies_costs_that_submission_alone(second):
    """Is a job whose process is killed flagged with no grade, while every other
    submission, those of a worker killed meanwhile included, ends graded?"""
    course, scores, flags, killed = second
    student, assignment = attacks.KILLED
    assert sorted(killed) == ["job", "worker"], killed
    found = attack_flags(flags, student, assignment)
    assert any("killed" in reason for _, reason in found), found
    # The gradebook copied with the built course may hold other sessions' students.
    everyone = {d.name for d in course.submitted.iterdir()}
    graded = set(scores[scores.kind == "auto"].dropna(subset=["score"]).student)
    assert graded & everyone == everyone - {student}
