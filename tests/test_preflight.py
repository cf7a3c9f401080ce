"""A cause every submission shares stops the batch before it starts, with the cause
in one sentence and exit status 2; and the course may live anywhere, /tmp included."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO

from kit.course import copy_course, last_message
from kit.sandbox import bubblewrap


def test_a_sandboxed_kernel_starts_here(repo):
    assert bubblewrap.preflight(repo.release / "library") is None


def test_grading_without_a_student_library_stops_at_once_with_the_cause(tmp_path):
    """A course with lib/ whose release/library is missing (never built) fails no
    submission one by one: the command stops first and says why; and a folder the
    sandbox cannot find stops the check with what bubblewrap said."""
    course = copy_course(REPO, tmp_path / "course", assignments=["logistic_regression"])
    proc = subprocess.run([sys.executable, "-m", "kit", "--course", str(course.root),
                           "grade"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.startswith(f"error: {course.release / 'library'}: missing; "
                                  "the student library is built from lib/")
    assert not (course.root / "autograded").exists()
    problem = bubblewrap.preflight(course.release / "library")
    assert problem.startswith("a sandboxed Python could not start: bwrap: Can't find "
                              f"source path {course.release / 'library'}")


def test_an_environment_under_tmp_is_visible_in_the_sandbox(repo, tmp_path):
    """The kernel's private /tmp must not hide the Python it runs: reached through
    a path under /tmp, as a clone under /tmp has it, the environment still starts."""
    venv = Path(tmp_path) / "clone" / ".venv"
    venv.parent.mkdir()
    venv.symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    assert str(venv).startswith("/tmp/")
    code = ("import sys\nfrom kit.sandbox import bubblewrap\n"
            "print(sys.prefix, bubblewrap.preflight("
            f"{str(repo.release / 'library')!r}))")
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", code],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.stdout.split() == [str(venv), "None"], proc.stdout + proc.stderr


def test_the_cause_of_a_failure_is_the_line_that_names_it():
    log = ("[AutogradeApp | ERROR] There was an error processing assignment\n"
           "Traceback (most recent call last):\n  File \"x.py\", line 1\n"
           "RuntimeError: Kernel died before replying to kernel_info\n"
           "[AutogradeApp | ERROR] Please see the above traceback for details.\n")
    assert last_message(log) == ("RuntimeError: Kernel died before replying to "
                                 "kernel_info")
    assert last_message("bwrap: Can't mount proc\n") == "bwrap: Can't mount proc"
    assert last_message("") == "no message"
