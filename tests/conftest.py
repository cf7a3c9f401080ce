"""Fixtures shared by the pipeline tests: a scratch course, built and graded once."""

import os
from pathlib import Path

import pytest

from kit import build, demo, grade
from kit.course import Course, copy_course

REPO = Path(__file__).resolve().parents[1]


def quiet(*args, **kwargs):
    pass


@pytest.fixture(scope="session")
def repo():
    """The course in this repository, as committed."""
    return Course(REPO)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """A scratch copy of the course, built from source/ by `python -m kit build`.

    ``KIT_TEST_ASSIGNMENTS=a,b`` restricts it to some assignments, to iterate on
    them with tests/test_grading.py (the sync tests then fail: they need all).
    """
    only = os.environ.get("KIT_TEST_ASSIGNMENTS")
    course = copy_course(REPO, tmp_path_factory.mktemp("course"), submissions=False,
                         assignments=only.split(",") if only else None)
    build.build(course, log=quiet)
    return course


@pytest.fixture(scope="session")
def graded(built):
    """The scratch course with the demo submissions of submitted/ and one submission
    per row of variants, all graded by `python -m kit grade`.

    Returns ``(course, scores, plans)`` where ``plans[assignment][student]`` maps
    graded functions to the variant that submission uses.
    """
    course = built
    plans = {}
    for assignment in course.assignments():
        for student, nb in demo.demo_notebooks(course, assignment).items():
            demo.write_submission(course, student, assignment, nb)
        plans[assignment] = demo.variant_plan(course, assignment)
        for student, chosen in plans[assignment].items():
            nb = demo.with_variants(course, assignment, chosen)
            demo.write_submission(course, student, assignment, nb)
    scores = grade.run(course, log=quiet)
    return course, scores, plans
