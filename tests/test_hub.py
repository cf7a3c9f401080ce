"""The course as a course runs it: `python -m kit hub` (JupyterHub from the lock
file, its proxy from npm, nbgrader's exchange) and the whole round trip in headless
Chromium, from release to returned feedback.

The instructor releases with nbgrader; two students log in to the hub, fetch from
the *Assignment List*, complete the notebook (one right, one with a wrong
function, late), validate and submit there; the instructor collects, grades with
`python -m kit grade`, scores a written answer in the formgrader, generates and
returns feedback; each student fetches it in the *Assignment List* and reads their
own scores and hints and no hidden test. Screenshots: test-artifacts/browser/hub-*.
"""

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import browser
import nbformat
import pandas as pd
import pytest
from playwright.sync_api import expect
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from kit.commands import hub as hub_command
from kit.commands.hub import PROXY
from kit.course import HIDDEN_REGION, KitError, copy_course, nbgrader_meta, tool_env

ASSIGNMENT = "logistic_regression"
WRITTEN = "written_eps"
PASSWORD = "kit-hub-test"
# The students of the round trip and the demo submission each one hands in: right,
# and with one wrong function (train_early_stopping returns a stale theta).
STUDENTS = {"ada": "reference", "alan": "stale-best-theta"}
WRONG_FUNCTION = "train_early_stopping"

NEEDS_PROXY = pytest.mark.skipif(
    not PROXY.is_file() and shutil.which("npm") is None,
    reason="Node.js and npm are missing, so JupyterHub's proxy cannot be installed "
           "(`make proxy`)")


class Hub:
    """`python -m kit hub` on a course, for use in a ``with`` block."""

    def __init__(self, course, state):
        self.course, self.state = course, state
        self.port = browser.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = state.parent / "hub.log"
        self.proc = None

    def __enter__(self):
        assert PROXY.is_file(), f"{PROXY}: missing; `make hub` installs it"
        env = dict(tool_env(), KIT_HUB_PASSWORD=PASSWORD)
        cmd = [sys.executable, "-m", "kit", "--course", str(self.course.root), "hub",
               "--state", str(self.state), "--port", str(self.port),
               *[arg for name in STUDENTS for arg in ("--student", name)]]
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the hub exited:\n{self.log_tail()}"
            try:
                with urllib.request.urlopen(f"{self.url}/hub/login", timeout=5):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        self.__exit__()
        raise AssertionError(f"the hub did not answer in 90 s:\n{self.log_tail()}")

    def log_tail(self, chars=4000):
        return self.log.read_text(errors="replace")[-chars:]

    def __exit__(self, *exc):
        # SIGTERM: the hub stops the users' servers, then its proxy.
        browser.stop(self.proc, timeout=60)

    def home(self, user):
        return self.state / "home" / user

    def instructor(self, *args):
        """An nbgrader command as the instructor runs it in a terminal of the hub:
        in the course folder, with the instructor's nbgrader configuration."""
        env = dict(tool_env(), JUPYTER_CONFIG_DIR=str(self.home("instructor")
                                                      / ".jupyter"))
        env.pop("KIT_GRADING")
        proc = subprocess.run([sys.executable, "-m", "nbgrader", *args],
                              cwd=self.course.root, env=env, capture_output=True,
                              text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout + proc.stderr

    def login(self, chromium, user):
        """A fresh browser session of ``user``, logged in, in their JupyterLab."""
        context = chromium.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(60_000)
        page = context.new_page()
        browser.offline(page)
        page.goto(f"{self.url}/hub/login")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", PASSWORD)
        page.locator("[type=submit]").first.click()
        page.wait_for_url(f"**/user/{user}/lab**", timeout=120_000)
        page.locator(".jp-LabShell").wait_for()
        return page


def server_environment(home):
    """The environment of the running single-user server whose home is ``home``."""
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        env = dict(item.decode().split("=", 1) for item in environ if b"=" in item)
        if b"jupyterhub-singleuser" in cmdline and env.get("HOME") == str(home):
            return env
    raise AssertionError(f"no single-user server runs with HOME={home}")


def open_assignment_list(page):
    browser.menu(page, "Nbgrader", "Assignment List")
    panel = page.locator("#released_assignments_list").locator("..")
    panel.wait_for()
    return page


def shot(page, name):
    browser.screenshot(page, f"hub-{name}")



@pytest.fixture
def course(tmp_path):
    """A built course of one assignment in a folder with a space in its path, a
    late penalty configured, and the demo notebooks the students will hand in."""
    course = copy_course(browser.REPO, tmp_path / "course dir", submissions=False,
                         assignments=[ASSIGNMENT])
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write('\n# A late submission scores 0.\n'
                     'c.LateSubmissionPlugin.penalty_method = "zero"\n')
    for command in ("build", "submissions"):
        subprocess.run([sys.executable, "-m", "kit", "--course", str(course.root),
                        command], check=True, capture_output=True, env=tool_env())
    answers = {student: nbformat.read(course.submitted / demo / ASSIGNMENT
                                      / f"{ASSIGNMENT}.ipynb", as_version=4)
               for student, demo in STUDENTS.items()}
    shutil.rmtree(course.submitted)  # what students hand in arrives by collect
    return course, answers


def hidden_lines(course):
    """Lines of the assignment's hidden tests, long enough to be telling, that the
    release (its public checks) does not have too."""
    nb = nbformat.read(course.source_notebook(ASSIGNMENT), as_version=4)
    release = (course.release / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    lines = set()
    for c in nb.cells:
        for region in HIDDEN_REGION.findall(c.source):
            lines |= {line.strip() for line in region.splitlines()
                      if len(line.strip()) > 25 and "HIDDEN TESTS" not in line}
    lines = {line for line in lines if json.dumps(line)[1:-1] not in release}
    assert len(lines) > 10
    return lines


def student_submits(hub, chromium, student, answer):
    """Fetch, complete, validate and submit in the student's JupyterLab."""
    page = hub.login(chromium, student)
    # A student's server has no formgrader (and JupyterLab no menu entry for it).
    assert page.request.get(f"{hub.url}/user/{student}/formgrader").status == 404
    open_assignment_list(page)
    expect(page.locator(".lm-Menu-itemLabel", has_text="Formgrader")).to_have_count(0)
    shot(page, f"{student}-1-released")
    page.locator("#released_assignments_list").get_by_role("button",
                                                           name="Fetch").click()
    downloaded = page.locator("#fetched_assignments_list")
    expect(downloaded).to_contain_text(ASSIGNMENT)
    notebook = hub.home(student) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert notebook.is_file()
    # The student's completed notebook, as JupyterLab would save it.
    nbformat.write(answer, notebook)
    downloaded.locator("a.assignment-notebooks-link", has_text=ASSIGNMENT).click()
    downloaded.get_by_role("button", name="Validate").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Validat", timeout=180_000)
    report = dialog.inner_text()
    shot(page, f"{student}-2-validated")
    dialog.get_by_role("button").last.click()
    downloaded.get_by_role("button", name="Submit").click()
    submitted = page.locator("#submitted_assignments_list")
    expect(submitted).to_contain_text(ASSIGNMENT)
    shot(page, f"{student}-3-submitted")
    page.context.close()
    return report


def student_reads_feedback(hub, chromium, student):
    """Fetch feedback in the Assignment List and open it; return the page's text."""
    page = hub.login(chromium, student)
    open_assignment_list(page)
    submitted = page.locator("#submitted_assignments_list")
    submitted.get_by_role("button", name="Fetch Feedback").click()
    # "(view feedback)" opens the feedback's folder in the file browser; the
    # student opens the page in a browser tab from there.
    submitted.locator("a", has_text="(view feedback)").click()
    listing = page.locator(".jp-DirListing-content")
    expect(listing).to_contain_text(f"{ASSIGNMENT}.html")
    shot(page, f"{student}-4-feedback-fetched")
    feedback = list((hub.home(student) / ASSIGNMENT / "feedback").glob(
        f"*/{ASSIGNMENT}.html"))
    assert len(feedback) == 1, feedback
    page.goto(f"{hub.url}/user/{student}/files/"
              f"{quote(str(feedback[0].relative_to(hub.home(student))))}")
    page.get_by_text("Score:").first.wait_for()
    shot(page, f"{student}-5-feedback")
    text = page.inner_text("body")
    page.context.close()
    return text


def instructor_grades_written_answer(hub, chromium, points):
    """Score the right student's written answer in the formgrader, on the hub."""
    page = hub.login(chromium, "instructor")
    browser.formgrader_submission(page, f"{hub.url}/user/instructor/formgrader",
                                  ASSIGNMENT, "ada",
                                  shot="hub-instructor-1-submissions")
    # The mathematics is typeset by the MathJax of the instructor's own server,
    # found below the hub's /user/instructor/ prefix, with no network.
    assert browser.wait_mathematics(page) > 20
    browser.formgrader_score(page, WRITTEN, points)
    shot(page, "instructor-2-written-score")
    assert not page.refused, page.refused
    page.context.close()


@NEEDS_PROXY
def test_each_user_gets_their_part_of_nbgrader(tmp_path):
    """The configuration `python -m kit hub` writes: the instructor's server knows
    the course root, students' servers name their student and have no formgrader,
    and every user shares one exchange."""
    course = copy_course(browser.REPO, tmp_path / "course dir", submissions=False,
                         assignments=[ASSIGNMENT])
    state = tmp_path / "state"
    with pytest.raises(KitError, match="release/library: missing"):
        hub_command.prepare(course, state, "instructor", ["ada"], 8000)
    shutil.copytree(browser.REPO / "release" / "library", course.release / "library")
    with pytest.raises(KitError, match="a name of their own"):
        hub_command.prepare(course, state, "ada", ["ada"], 8000)
    settings = hub_command.prepare(course, state, "instructor", ["ada", "alan"], 8000)

    def nbgrader_config(user):
        home = state / "home" / user / ".jupyter"
        config = PyFileConfigLoader("nbgrader_config.py", str(home)).load_config()
        server = json.loads((home / "jupyter_server_config.json").read_text())
        page = json.loads((home / "labconfig" / "page_config.json").read_text())
        formgrader = server["ServerApp"]["jpserver_extensions"][
            "nbgrader.server_extensions.formgrader"]
        return config, formgrader, page["disabledExtensions"]

    config, formgrader, disabled = nbgrader_config("instructor")
    assert config.CourseDirectory.root == str(course.root)
    assert "student_id" not in config.CourseDirectory
    assert formgrader and not any(disabled.values())
    for student in ("ada", "alan"):
        config, formgrader, disabled = nbgrader_config(student)
        assert config.CourseDirectory.student_id == student
        assert config.Exchange.root == str(state / "exchange")
        assert config.CourseDirectory.course_id == hub_command.course_id(course)
        assert not formgrader and disabled["@jupyter/nbgrader:formgrader"]
    assert (state / "exchange").stat().st_mode & 0o777 == 0o777

    c = Config()
    hub_command.configure(c, settings)
    assert c.JupyterHub.ip == "127.0.0.1" and c.JupyterHub.hub_ip == "127.0.0.1"
    assert c.Authenticator.admin_users == {"instructor"}
    assert c.ConfigurableHTTPProxy.command == [str(PROXY)]


@browser.NEEDS_CHROMIUM
@NEEDS_PROXY
def test_round_trip_on_jupyterhub(course, tmp_path, chromium):
    course, answers = course
    nb = nbformat.read(course.source_notebook(ASSIGNMENT), as_version=4)
    points = float(next(nbgrader_meta(c)["points"] for c in nb.cells
                        if nbgrader_meta(c).get("grade_id") == WRITTEN))
    with Hub(course, tmp_path / "hub state") as hub:
        # The instructor releases the assignment to the exchange.
        hub.instructor("release_assignment", ASSIGNMENT)
        ada = student_submits(hub, chromium, "ada", answers["ada"])
        # Her server's kernels import the student library, not the course's lib/.
        assert server_environment(hub.home("ada"))["PYTHONPATH"] == str(course.library)
        assert "Success" in ada or "passes" in ada, ada
        # The due date passes between the two submissions: alan's is late. (It is
        # kept to the second: a full second after ada's submission.)
        time.sleep(1.5)
        due = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        hub.instructor("db", "assignment", "add", ASSIGNMENT, f"--duedate={due}")
        time.sleep(1.5)
        alan = student_submits(hub, chromium, "alan", answers["alan"])
        assert f"Does {WRONG_FUNCTION}" in alan, alan  # its public check fails

        # The instructor collects and grades with the kit.
        hub.instructor("collect", ASSIGNMENT)
        for student in STUDENTS:
            assert (course.submitted / student / ASSIGNMENT / "timestamp.txt").is_file()
        graded = subprocess.run(
            [sys.executable, "-m", "kit", "--course", str(course.root), "grade",
             "--assignment", ASSIGNMENT], capture_output=True, text=True,
            env=tool_env())
        assert graded.returncode in (0, 3), graded.stdout + graded.stderr

        instructor_grades_written_answer(hub, chromium, points)
        hub.instructor("generate_feedback", ASSIGNMENT, "--force")
        hub.instructor("release_feedback", ASSIGNMENT)

        pages = {student: student_reads_feedback(hub, chromium, student)
                 for student in STUDENTS}

    grades = export(course, tmp_path / "grades.csv")
    ada, alan = grades.loc["ada"], grades.loc["alan"]
    # ada: on time, every function right, and the written answer scored by hand.
    assert ada.late_submission_penalty == 0
    assert ada.score == ada.raw_score
    # alan: the wrong function costs its points; late, the penalty takes the rest.
    assert alan.raw_score < ada.raw_score - points
    assert alan.late_submission_penalty == alan.raw_score > 0
    assert alan.score == 0

    hidden = hidden_lines(course)
    for student, text in pages.items():
        row = grades.loc[student]
        # Their own total, as the gradebook has it after the manual score and the
        # late penalty, and their own result for the function alan got wrong.
        assert f"{ASSIGNMENT} (Score: {row.score:.1f} / {row.max_score:.1f})" in text
        test = graded_cell(text, f"test_{WRONG_FUNCTION}")
        shown = [line for line in hidden if line in text]
        assert not shown, f"hidden tests in {student}'s feedback: {shown[:3]}"
        if student == "alan":
            assert "Score: 0.0 / 3.0" in test and "AssertionError: " in test, test
            assert f"Late submission penalty (Score: -{row.raw_score:.1f})" in text
        else:
            assert "Score: 3.0 / 3.0" in test and "Error: " not in test, test


def graded_cell(text, grade_id):
    """The part of a feedback page's text from grade cell ``grade_id`` to the next."""
    assert f"Grade cell: {grade_id}" in text, grade_id
    return text.split(f"Grade cell: {grade_id}", 1)[1].split("Grade cell:", 1)[0]


def export(course, path):
    """nbgrader's export of the gradebook, one row per student."""
    env = dict(tool_env())
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to",
                           str(path)], cwd=course.root, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    grades = pd.read_csv(path)
    return grades[grades.assignment == ASSIGNMENT].set_index("student_id")
