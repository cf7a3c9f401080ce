"""Cheating submissions (tests/adversarial.py CHEATS) earn nothing and are flagged.

Each cheat attacks one graded function of logistic_regression. Under plain
``nbgrader autograde`` every one of them earns points on the problem it attacks
(the first tests here show it, so none is a straw man); graded by the kit, each
scores zero there, is flagged with the reason, and leaves the gradebook, every
course file and every other student's scores as they were.
"""

import shutil
import time

import adversarial as adv
import pytest
from nbgrader.api import Gradebook

from kit import report

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
