"""Fixtures shared by the pipeline tests: a scratch course, built and graded once."""

import os
import subprocess
import sys
from pathlib import Path

import pgserver
import pytest

from kit.commands import build, grade
from kit.course import Course, copy_course, demo, tool_env

REPO = Path(__file__).resolve().parents[1]
# Scratch courses grade into their own SQLite gradebook even where the shell names a
# course's shared one (test_postgres.py sets the variable where it needs it).
os.environ.pop("KIT_GRADEBOOK_URL", None)


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


@pytest.fixture(scope="session")
def graded_one(tmp_path_factory):
    """A scratch course of one assignment (logistic_regression): built and given
    its demo submissions by the kit's commands, then graded by ``grade.run``.

    Returns ``(course, scores)``.
    """
    course = copy_course(REPO, tmp_path_factory.mktemp("one"), submissions=False,
                         assignments=["logistic_regression"])
    for command in ("build", "submissions"):
        subprocess.run([sys.executable, "-m", "kit", "--course", str(course.root),
                        command], check=True, capture_output=True, env=tool_env())
    return course, grade.run(course, log=quiet)


@pytest.fixture(scope="module")
def pg():
    """A PostgreSQL server of its own for the test module (tests/pgserver.py)."""
    try:
        with pgserver.cluster() as cluster:
            yield cluster
    except pgserver.PostgresMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, headless, driven by Playwright (tests/browser.py)."""
    import browser
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chrome = browser.launch_chromium(playwright)
        yield chrome
        chrome.close()
