"""Faulty submissions (tests/adversarial.py FAULTS) never stop the batch.

Graded by the kit with every demo submission, each faulty submission gets exactly
the points of the cells that survive its fault, is flagged with the fault in plain
words, and every other student keeps exactly their scores. The command's exit
status says whether a submission needs attention. Plain nbgrader loses the points of
right answers to one slip in a cell's nbgrader metadata, and keeps a 50 MB line of
output whole: the tests marked "plain" show it.
"""

import math
import subprocess
import sys

import adversarial as adv
import nbformat
import pytest

from kit.course import demo

FAULT_IDS = [f.student for f in adv.FAULTS]
BREAKING = [f for f in adv.FAULTS if f.breaks_nbgrader]
HUGE = "fault-huge-line"


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    return adv.graded(tmp_path_factory)


def test_fixtures_name_the_graded_functions_and_variants(repo):
    assert set(adv.max_points(repo)) == adv.ALL
    module = demo.load_variants(repo, adv.ASSIGNMENT)
    for fault in adv.FAULTS:
        assert fault.surviving <= adv.ALL, fault.student
    for cheat in adv.CHEATS:
        assert cheat.problem in adv.ALL, cheat.student
        assert cheat.wrong.startswith(f"{cheat.problem}__wrong_"), cheat.student
        assert cheat.wrong in module.functions, cheat.wrong
    students = [f.student for f in adv.FAULTS] + [c.student for c in adv.CHEATS]
    assert len(set(students)) == len(students)


def test_batch_grades_every_submission(run):
    flagged = set(run.flags.student)
    for student in run.students:
        got = adv.points(run.scores, student)
        assert student in flagged or (got and not any(map(math.isnan, got.values()))), (
            f"{student}: neither graded nor flagged ({got})")


@pytest.mark.parametrize("fault", adv.FAULTS, ids=FAULT_IDS)
def test_faulty_submission_gets_the_points_of_its_surviving_cells(run, fault):
    got = adv.points(run.scores, fault.student)
    for problem, maximum in adv.max_points(run.course).items():
        # No row at all (a notebook that could not be read) counts as zero.
        score = got.get(problem, 0)
        expected = maximum if problem in fault.surviving else 0
        assert score == expected, (
            f"{fault.student}: {problem} scored {score}, expected {expected}")


@pytest.mark.parametrize("fault", adv.FAULTS, ids=FAULT_IDS)
def test_fault_is_named_in_the_report(run, fault):
    adv.assert_flagged(run.flags, fault.student, ("fault",), fault.words)


def test_other_students_keep_their_scores(run):
    adv.assert_demo_scores(run)


def grade_command(course):
    return subprocess.run(
        [sys.executable, "-m", "kit", "--course", str(course.root), "grade",
         "--memory-mb", str(adv.MEMORY_MB), "--timeout", str(adv.TIMEOUT)],
        capture_output=True, text=True)


def test_exit_status_says_whether_a_submission_needs_attention(tmp_path_factory):
    course = adv.copy_of(adv.built(tmp_path_factory),
                         tmp_path_factory.mktemp("adversarial-exit"))
    adv.write(course, "reference", adv.reference(course))
    proc = grade_command(course)
    assert proc.returncode == 0, proc.stderr[-3000:]
    adv.invalid_json(course, "fault-invalid-json")
    proc = grade_command(course)
    assert proc.returncode == 3, proc.stderr[-3000:]


# --- plain nbgrader: the faults cost points


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return adv.plain_graded(tmp_path_factory)


def test_plain_nbgrader_gives_the_reference_full_marks(plain):
    course, scores = plain
    assert adv.points(scores, "reference") == adv.max_points(course)


@pytest.mark.parametrize("fault", BREAKING, ids=[f.student for f in BREAKING])
def test_metadata_slip_costs_points_under_plain_nbgrader(plain, fault):
    course, scores = plain
    got = adv.points(scores, fault.student)
    total = sum(v for v in got.values() if not math.isnan(v))
    assert total < sum(adv.max_points(course).values()), (
        f"{fault.student}: plain nbgrader gave {got}: not a breaking fault")


def autograded_size(course, student):
    return (course.root / "autograded" / student / adv.ASSIGNMENT
            / adv.NOTEBOOK).stat().st_size


def feedback_size(course, student):
    return (course.root / "feedback" / student / adv.ASSIGNMENT
            / f"{adv.ASSIGNMENT}.html").stat().st_size


def test_huge_line_is_kept_whole_under_plain_nbgrader(plain):
    course, _ = plain
    assert autograded_size(course, HUGE) > 50e6
    assert feedback_size(course, HUGE) > 50e6


# --- the kit: cut, flagged, and the answer keeps its points


def test_huge_line_is_cut_in_the_notebook_and_feedback(run):
    # Both hold the course's plots, a few hundred kB.
    assert autograded_size(run.course, HUGE) < 2e6
    assert feedback_size(run.course, HUGE) < 2e6
    nb = nbformat.read(run.course.root / "autograded" / HUGE / adv.ASSIGNMENT
                       / adv.NOTEBOOK, as_version=4)
    text = "".join(o.get("text", "") for o in adv.cell(nb, "sigmoid").outputs)
    assert text.endswith("[output cut here: 50,000,001 characters in all, only the "
                         "first 10,000 kept]\n")


