"""Feedback HTML: scores, failure messages and plots, and no hidden test (SPEC R1)."""

import html
import re
import sys
from pathlib import Path

import jinja2
import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbgrader.apps.api import NbGraderAPI
from traitlets.config.loader import PyFileConfigLoader

import kit
from kit.course import HIDDEN_REGION
from kit.engine import report
from kit.plugins.feedback import (
    HIDDEN_NOTE,
    MISSING_ALT,
    HideHiddenTests,
    public_source,
    template_cache,
    with_alt_texts,
)

ASSIGNMENT = "logistic_regression"


def notebook_lines(path):
    """The stripped lines of every cell of a notebook."""
    nb = nbformat.read(path, as_version=4)
    return {line.strip() for cell in nb.cells for line in cell.source.splitlines()}


def hidden_lines(course, assignment):
    """Distinctive lines of the hidden-test regions of a source notebook: long
    enough to mean something, and not also in the release (where they are public)."""
    nb = nbformat.read(course.source_notebook(assignment), as_version=4)
    public = notebook_lines(course.release / assignment / f"{assignment}.ipynb")
    lines = set()
    for cell in nb.cells:
        for region in HIDDEN_REGION.findall(cell.source):
            lines |= {line.strip() for line in region.splitlines()[1:-1]}
    return sorted(line for line in lines if len(line) >= 12 and line not in public)


def page_texts(page):
    """The text of an HTML page (tags removed: highlighted code is split into
    spans) and the whole page, both unescaped."""
    return html.unescape(re.sub(r"<[^>]+>", "", page)), html.unescape(page)


def leaks(page, lines):
    """The ``lines`` that appear in an HTML page."""
    texts = page_texts(page)
    return [line for line in lines if any(line in text for text in texts)]


def feedback_page(course, student):
    path = course.root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
    return path.read_text(encoding="utf-8")


def cell_scores(page):
    """``{grade_id: (score, points)}`` as a feedback page shows them."""
    text, _ = page_texts(page)
    found = re.findall(r"Grade cell:\s*(\S+)\s*Score:\s*([\d.]+)\s*/\s*([\d.]+)", text)
    return {grade_id: (float(s), float(p)) for grade_id, s, p in found}


def squeeze(text):
    return " ".join(text.split())


def test_public_source_keeps_the_public_part_and_says_what_was_hidden():
    source = ('"""Hidden tests of f."""\nx = 1\n### BEGIN HIDDEN TESTS\n'
              'assert f(secret_input) == 42\n### END HIDDEN TESTS\n')
    assert public_source(source) == f'"""Hidden tests of f."""\nx = 1\n{HIDDEN_NOTE}'
    # A region never closed hides the whole cell rather than what follows it.
    assert public_source("y = 2\n### BEGIN HIDDEN TESTS\nsecret()\n") == HIDDEN_NOTE


def test_source_notebook_has_hidden_lines_to_look_for(graded_one):
    course, _ = graded_one
    assert len(hidden_lines(course, ASSIGNMENT)) >= 20


def test_feedback_shows_no_line_of_a_hidden_test(graded_one):
    course, scores = graded_one
    lines = hidden_lines(course, ASSIGNMENT)
    students = sorted(scores.student.unique())
    pages = {s: feedback_page(course, s) for s in students}
    assert len(pages) >= 6
    assert {s: leaks(page, lines) for s, page in pages.items()} == dict.fromkeys(
        students, [])
    for page in pages.values():
        assert HIDDEN_NOTE in page_texts(page)[0]


def test_leak_check_finds_hidden_tests_in_unfiltered_feedback(graded_one):
    """The check above can fail: nbconvert's HTML of an autograded notebook shows
    the hidden tests; the same notebook through HideHiddenTests does not."""
    course, _ = graded_one
    lines = hidden_lines(course, ASSIGNMENT)
    path = (course.root / "autograded" / "overflowing-sigmoid" / ASSIGNMENT
            / f"{ASSIGNMENT}.ipynb")
    nb = nbformat.read(path, as_version=4)
    raw, _ = HTMLExporter().from_notebook_node(nb)
    assert len(leaks(raw, lines)) > len(lines) / 2
    # Without a gradebook, the preprocessor reads the markers in the cells.
    exporter = HTMLExporter()
    exporter.register_preprocessor(HideHiddenTests, enabled=True)
    filtered, _ = exporter.from_notebook_node(nb)
    assert leaks(filtered, lines) == []


def test_feedback_shows_the_score_of_every_problem(graded_one):
    course, scores = graded_one
    auto = scores[scores.kind == "auto"]
    for student, part in auto.groupby("student"):
        shown = cell_scores(feedback_page(course, student))
        expected = {f"test_{row.problem}": (row.score, row.max_score)
                    for row in part.itertuples()}
        assert {k: shown.get(k) for k in expected} == expected, student


def test_feedback_shows_the_failure_message_not_the_traceback(graded_one):
    course, scores = graded_one
    student = "overflowing-sigmoid"
    failed = report.failures(course)
    failed = failed[failed.student == student]
    assert failed.problem.tolist() == ["sigmoid"]
    mine = scores[(scores.student == student) & (scores.problem == "sigmoid")]
    assert mine.score.item() < mine.max_score.item()

    page = feedback_page(course, student)
    text = squeeze(page_texts(page)[0])
    message = failed.message.item()
    assert f"AssertionError: {squeeze(message)}" in text
    assert cell_scores(page)["test_sigmoid"] == (0.0, mine.max_score.item())
    # The hidden test cell of sigmoid: its note, then its one-line error.
    cell = text[text.index("Grade cell: test_sigmoid"):]
    cell = cell[:cell.index("Grade cell:", 1)]
    assert HIDDEN_NOTE in cell and "Traceback" not in cell
    assert "most recent call last" not in cell


@pytest.mark.parametrize("student", ["reference", "overflowing-sigmoid"])
def test_feedback_keeps_the_plots(graded_one, student):
    """As images of their SVG (kit/plugins/sanitize.py): a script in one could not
    run."""
    course, _ = graded_one
    page = feedback_page(course, student)
    assert page.count('src="data:image/svg+xml;base64,') >= 2
    assert "<svg" not in page


def test_feedback_loads_mathjax_from_the_students_server_first(graded_one):
    """The page loads MathJax from the Jupyter server that serves it
    (jupyter-server-mathjax), and nbconvert's CDN only when no server answers.
    tests/test_browser.py checks that the formulas are then drawn with no network."""
    course, scores = graded_one
    page = feedback_page(course, scores.student.iloc[0])
    local = page.index("static/jupyter_server_mathjax/MathJax.js")
    assert "cdnjs.cloudflare.com" not in page[:local]
    assert '<script src="https://cdnjs' not in page


@pytest.mark.parametrize("template", ["formgrade", "feedback"])
def test_installed_mathjax_macro_is_the_kits(template):
    """The package installs the macro beside nbgrader's templates (shared-data);
    a stale environment would still load MathJax from the CDN."""
    name = "mathjax.html.j2"
    source = Path(kit.__file__).parent / "templates" / "nbconvert"
    installed = (Path(sys.prefix) / "share" / "jupyter" / "nbconvert" / "templates"
                 / template / name)
    expected = source / (name if template == "formgrade" else f"{template}_{name}")
    assert installed.read_text() == expected.read_text(), (
        f"{installed} differs from {expected}: run `make setup`")


def soup_of(page):
    return BeautifulSoup(page, features="html.parser")


def nbconvert_alt_texts(page):
    """What nbconvert's HTML exporter does to a page for its images: the oracle."""
    soup = soup_of(page)
    for image in soup.select("img:not([alt])"):
        image.attrs["alt"] = MISSING_ALT
    return str(soup)


def test_images_get_the_alternative_text_nbconvert_gives_them():
    page = """<html><body>
    <img src="a.png"><IMG SRC='b.png' width=3><img src="c.png" alt="a plot">
    <img src="d.png" ALT='upper'><img alt src="e.png"><img src="f.png"/>
    <img title="x alt=y" src="g.png"><img title='a > b' src="h.png">
    <img data-alt="no" src="i.png"><img
      src="j.png">
    <!-- <img src="comment.png"> --><script>var s = '<img src="k.png">';</script>
    <style>/* <img src="l.png"> */</style><p>&lt;img src="m.png"&gt;</p>
    </body></html>"""
    ours = with_alt_texts(page)
    assert str(soup_of(ours)) == nbconvert_alt_texts(page)
    assert ours.count(MISSING_ALT) == 7   # a, b, f, g, h, i, j and nothing else
    assert with_alt_texts(ours) == ours


def test_feedback_pages_are_nbconvert_s_pages(graded_one):
    """The kit's feedback exporter skips nbconvert's second parse of each page: its
    pages, parsed, are nbconvert's own."""
    course, _ = graded_one
    students = ["reference", "overflowing-sigmoid"]
    ours = {s: feedback_page(course, s) for s in students}

    def generate(exporter=None):
        config = PyFileConfigLoader("nbgrader_config.py",
                                    path=str(course.root)).load_config()
        config.CourseDirectory.root = str(course.root)
        if exporter:
            config.GenerateFeedback.exporter_class = exporter
        for student in students:
            api = NbGraderAPI(config=config)
            assert api.generate_feedback(ASSIGNMENT, student, force=True)["success"]
        return {s: feedback_page(course, s) for s in students}

    try:
        theirs = generate(HTMLExporter)
    finally:
        again = generate()   # the course's own pages back, for the other tests
    for student in students:
        assert again[student] == ours[student]
        assert ours[student] != theirs[student]   # not nbconvert's exporter
        assert str(soup_of(ours[student])) == theirs[student], student
        assert ours[student].count(MISSING_ALT) >= 2   # the plots'


def test_feedback_templates_are_compiled_once_per_process(graded_one, monkeypatch):
    """A worker's jobs load the feedback templates its first job compiled: a later
    exporter compiles none of them, and its page is the same."""
    course, _ = graded_one
    config = PyFileConfigLoader("nbgrader_config.py",
                                path=str(course.root)).load_config()
    config.CourseDirectory.root = str(course.root)

    def render():
        assert NbGraderAPI(config=config).generate_feedback(
            ASSIGNMENT, "reference", force=True)["success"]
        return feedback_page(course, "reference")

    first = render()
    compiled, original = [], jinja2.Environment.compile

    def counted(self, source, name=None, *args, **kwargs):
        compiled.append(name)
        return original(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    assert render() == first
    assert not compiled, compiled
    assert list(Path(template_cache().directory).glob("*.cache"))
