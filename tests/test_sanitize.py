"""Script for the instructor: what a student writes or displays runs in no page.

nbgrader's feedback and the formgrader's page of a submission are nbconvert HTML of
the autograded notebook, unsanitized. The first tests here clean small hand-made
notebooks (kit/plugins/sanitize.py); the last ones grade a right submission whose
written answer and outputs hold script (tests/adversarial.py ``hostile_html``):
under plain nbgrader that script is live in its feedback and formgrader page, under
the kit it is only text, and the answers keep their points and the plots their
place.
"""

import base64
import copy
import re
from html.parser import HTMLParser

import adversarial as adv
import nbformat
import pytest
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbformat.v4 import (
    new_code_cell,
    new_markdown_cell,
    new_notebook,
    new_output,
    new_raw_cell,
)
from traitlets.config import Config

from kit.plugins import notes
from kit.plugins.sanitize import (
    MAX_OUTPUT_CHARS,
    SanitizeOutputs,
    clean_markdown,
    clean_student_cells,
)
from kit.plugins.secure import OUTPUT_CHARS

XSS = adv.XSS
SVG_PLOT = ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">'
            '<style>.a {fill: red;}</style><circle class="a" cx="25" cy="25" r="20"/>'
            '</svg>')
# The source of an SVG shown as an image; the group is its base64.
SVG_DATA = r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(64))).decode() + "\n"


class ActiveContent(HTMLParser):
    """What a page would run: the text of its scripts, its event-handler
    attributes (``on...=``) and its ``javascript:`` URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts, self.handlers, self.urls = [], [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}={value}>")
            elif re.sub(r"\s", "", value or "").lower().startswith("javascript:"):
                self.urls.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.scripts.append(data)


def active(page, marked=True):
    """``(scripts, handlers, urls)`` of an HTML page; with ``marked``, only the
    scripts that call the student's marker (a page's own scripts load MathJax)."""
    parser = ActiveContent()
    parser.feed(page)
    scripts = [s for s in parser.scripts if XSS in s or not marked]
    return scripts, parser.handlers, parser.urls


def render(nb):
    return HTMLExporter().from_notebook_node(nb)[0]


def display(data, output_type="display_data"):
    extra = {"execution_count": 1} if output_type == "execute_result" else {}
    return new_output(output_type, data=data, **extra)


def clean_outputs(outputs, name="cell", notes_path=None):
    """A notebook of one code cell with a copy of ``outputs``, cleaned; its grading
    notes go to ``notes_path``."""
    nb = new_notebook(cells=[new_code_cell("x", outputs=copy.deepcopy(outputs),
                                           metadata={"nbgrader": {"grade_id": name}})])
    config = Config()
    config.GradingNotes.path = str(notes_path or "")
    nb, _ = SanitizeOutputs(config=config).preprocess(
        nb, {"nbgrader": {"notebook": "nb"}})
    return nb


# --- markdown a student wrote


def test_script_image_handlers_and_javascript_links_become_text():
    html = markdown2html_mistune(clean_markdown(adv.XSS_ANSWER))
    assert active(html) == ([], [], [])
    assert active(markdown2html_mistune(adv.XSS_ANSWER)) != ([], [], [])
    assert "The gradient vanishes." in html
    assert "&lt;script&gt;" in html  # shown to the grader, as text


def test_student_markdown_keeps_its_formatting_and_maths():
    source = ("# Answer\n\n**Yes**, *because* $p(y \\mid x) < 1$ and $a \\& b$:\n\n"
              "- one `x<y`\n- two\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
              "[paper](https://example.org/a.pdf)\n\n$$\\begin{aligned} a &= b \\\\ "
              "c &< d\\end{aligned}$$\n")
    html = markdown2html_mistune(clean_markdown(source))
    for part in ("<h1>Answer", "<strong>Yes</strong>", "<em>because</em>",
                 "$p(y \\mid x) &lt; 1$", "<li>one <code>x&lt;y</code></li>",
                 "<blockquote>", "<td>1</td>", 'href="https://example.org/a.pdf"',
                 "a &amp;= b", "&lt; d"):
        assert part in html, part
    # The maths is escaped exactly as nbconvert escapes the original markdown.
    original = markdown2html_mistune(source)
    assert "$p(y \\mid x) &lt; 1$" in original and "a &amp;= b" in original


def test_cleaned_markdown_is_not_read_as_markdown_again():
    """Text the first rendering shows literally (a code block with a blank line,
    escaped brackets) stays text: the cleaned source is one HTML block."""
    source = ("```\nx = 1\n\n[a](javascript:alert(1))\n```\n\n"
              "\\[b\\](javascript:alert(2)) <http://example.org>\n")
    html = markdown2html_mistune(clean_markdown(source))
    assert active(html) == ([], [], [])
    assert "[a](javascript:alert(1))" in html
    assert "\n\n" not in clean_markdown(source)


def test_only_cells_that_differ_from_the_release_are_cleaned():
    maths = "The loss is $\\sum_i y_i < n$ <b onclick='instructor()'>bold</b>"
    release = new_notebook(cells=[new_markdown_cell(maths),
                                  new_markdown_cell("YOUR ANSWER HERE")])
    nb = new_notebook(cells=[
        new_markdown_cell(maths),
        new_markdown_cell(f"My answer <script>{XSS}()</script>"),
        new_markdown_cell(maths + " (edited)"),
        new_raw_cell(f"<script>{XSS}()</script>",
                     metadata={"raw_mimetype": "text/html"}),
        new_code_cell(f"print('<script>{XSS}()</script>')"),
    ])
    assert clean_student_cells(nb, release) == 3
    assert nb.cells[0].source == maths
    assert "<script>" not in nb.cells[1].source and "My answer" in nb.cells[1].source
    assert "onclick" not in nb.cells[2].source
    assert nb.cells[3].source == f"&lt;script&gt;{XSS}()&lt;/script&gt;"
    assert nb.cells[4].source == f"print('<script>{XSS}()</script>')"


# --- outputs


# nbconvert warns that it cannot show the raw outputs rendered for comparison.
@pytest.mark.filterwarnings("ignore:Your element with mimetype")
def test_every_output_type_is_cleaned_kept_or_dropped():
    outputs = [
        display({"text/html": f"<script>{XSS}()</script><b onclick='{XSS}()'>b</b>",
                 "text/plain": "<HTML>"}),
        display({"application/javascript": f"{XSS}()"}),
        display({"text/markdown": f"<img src=x onerror={XSS}()> [x](javascript:x)"}),
        display({"text/latex": f"$x$ <script>{XSS}()</script>"}),
        display({"image/svg+xml": f"<svg><script>{XSS}()</script></svg>"}),
        display({"image/png": PNG, "image/jpeg": PNG}),
        display({"image/png": f'AAAA"><script>{XSS}()</script>'}),
        display({"application/vnd.jupyter.widget-view+json": {"model_id": "m"},
                 "application/json": {"a": 1}, "application/pdf": PNG}),
        display({"text/plain": f"<script>{XSS}()</script>"}, "execute_result"),
    ]
    cells = clean_outputs(outputs).cells[0].outputs
    kept = [sorted(o.data) for o in cells]
    assert kept == [["text/html", "text/plain"], ["text/plain"], ["text/markdown"],
                    ["text/latex"], ["text/plain"], ["image/jpeg", "image/png"],
                    ["text/plain"], ["text/plain"], ["text/plain"]]
    assert cells[0].data["text/html"] == f"&lt;script&gt;{XSS}()&lt;/script&gt;<b>b</b>"
    assert cells[1].data["text/plain"] == (
        "[not shown here: application/javascript output]")
    assert cells[5].data["image/png"] == PNG
    assert [o.output_type for o in cells] == [o.output_type for o in outputs]
    nb = new_notebook(cells=[new_code_cell("x", outputs=cells)])
    assert active(render(nb)) == ([], [], [])
    assert active(render(new_notebook(cells=[new_code_cell("x", outputs=outputs)])))


def test_text_outputs_are_escaped_by_nbconvert():
    """Kept as they are: text/plain, text/latex, streams and errors are escaped."""
    payload = f"<script>{XSS}()</script><img src=x onerror={XSS}()>"
    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        new_output("stream", name="stdout", text=payload),
        new_output("stream", name="stderr", text=payload),
        display({"text/plain": payload}, "execute_result"),
        display({"text/latex": payload}),
        new_output("error", ename="ValueError", evalue=payload, traceback=[payload]),
    ])])
    page = render(nb)
    assert active(page) == ([], [], [])
    assert page.count(f"&lt;script&gt;{XSS}()") >= 5


def test_a_plot_stays_an_image_whose_script_cannot_run():
    hostile = f'<svg onload="{XSS}()"><script>{XSS}()</script></svg>'
    cells = clean_outputs([display({"text/html": SVG_PLOT, "text/plain": "plot"}),
                           display({"text/html": "\n" + hostile + "\n"})]).cells[0]
    for output, svg in zip(cells.outputs, (SVG_PLOT, hostile), strict=True):
        image = output.data["text/html"]
        found = re.fullmatch(f'<img src="{SVG_DATA}">', image)
        assert found, image
        assert base64.b64decode(found[1]).decode() == svg
    assert active(render(new_notebook(cells=[cells]))) == ([], [], [])


def test_widget_state_is_dropped():
    nb = new_notebook(cells=[], metadata={"widgets": {"state": {}}})
    nb, _ = SanitizeOutputs().preprocess(nb, {})
    assert "widgets" not in nb.metadata


def test_stream_output_is_cut_to_its_limit_and_stderr_is_kept():
    cells = clean_outputs([
        new_output("stream", name="stdout", text="x" * 50_000 + "\n"),
        new_output("stream", name="stderr", text="warning\n"),
        new_output("error", ename="ValueError", evalue="v" * 50_000, traceback=[]),
    ]).cells[0]
    stdout, stderr, error = cells.outputs
    kept = OUTPUT_CHARS
    assert stdout.text.startswith("x" * kept) and stdout.text.count("x") == kept
    assert stdout.text.splitlines()[-1] == (
        f"[output cut here: 50,001 characters in all, only the first {kept:,} kept]")
    # Past the limit of the cell, stderr still says it was there: it costs a test
    # cell its points.
    assert stderr.name == "stderr" and "8 characters in all" in stderr.text
    assert len(error.evalue) < kept + 100


def test_an_output_too_large_is_replaced_and_flagged(tmp_path):
    big = "<b>x</b>" * (MAX_OUTPUT_CHARS // 8 + 1)
    cells = clean_outputs([display({"text/html": big}, "execute_result"),
                           display({"image/png": PNG})], name="plots",
                          notes_path=tmp_path / "notes").cells[0]
    assert cells.outputs[0].output_type == "execute_result"
    assert list(cells.outputs[0].data) == ["text/plain"]
    assert "output removed: 3 MB" in cells.outputs[0].data["text/plain"]
    assert cells.outputs[1].data["image/png"] == PNG
    assert notes.read(tmp_path / "notes") == [
        ("fault", "nb: cell plots displayed an output of 3 MB; it was removed (at most "
                  "3 MB are kept)")]


# --- graded: plain nbgrader against the kit


def feedback_page(course, student=adv.XSS_STUDENT):
    return (course.root / "feedback" / student / adv.ASSIGNMENT
            / f"{adv.ASSIGNMENT}.html").read_text(encoding="utf-8")


def formgrader_page(course, student=adv.XSS_STUDENT):
    """The page the formgrader shows an instructor grading this submission: its
    HTMLExporter and template, on the autograded notebook."""
    from nbgrader.server_extensions.formgrader import handlers

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    path = course.root / "autograded" / student / adv.ASSIGNMENT / adv.NOTEBOOK
    resources = {"assignment_id": adv.ASSIGNMENT, "notebook_id": adv.ASSIGNMENT,
                 "submission_id": "1", "index": 0, "total": 1, "base_url": "",
                 "student": student, "last_name": None, "first_name": None,
                 "notebook_path": str(path)}
    return HTMLExporter(config=config).from_filename(str(path),
                                                     resources=resources)[0]


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return adv.plain_graded(tmp_path_factory)[0]


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    return adv.graded(tmp_path_factory)


@pytest.mark.parametrize("page", [feedback_page, formgrader_page])
def test_script_runs_in_the_page_under_plain_nbgrader(plain, page):
    scripts, handlers, urls = active(page(plain))
    assert (scripts, handlers, urls) != active(page(plain, "reference"))
    # The written answer and the HTML and JavaScript outputs, all live.
    assert any(f"{XSS}(1)" in s for s in scripts), scripts
    assert any(f"{XSS}(4)" in s for s in scripts), scripts
    assert any(f"{XSS}(7)" in s for s in scripts), scripts
    assert any("/api/kernels" in h for h in handlers), handlers
    assert any(f"{XSS}(3)" in u for u in urls), urls


@pytest.mark.parametrize("page", [feedback_page, formgrader_page])
def test_no_script_of_the_student_runs_in_the_page_under_the_kit(run, page):
    """The page runs what the same page of the reference submission runs: the
    template's own scripts and handlers, nothing of the student's."""
    html = page(run.course)
    assert active(html, marked=False) == active(page(run.course, "reference"),
                                                marked=False)
    assert active(html)[0] == []
    # The student's answer is still there for the grader to read, as text.
    assert "The gradient vanishes." in html
    assert f"&lt;script&gt;{XSS}(1)&lt;/script&gt;" in html


def test_hostile_submission_keeps_its_points_and_raises_no_flag(run):
    assert adv.points(run.scores, adv.XSS_STUDENT) == adv.max_points(run.course)
    assert not adv.flags_of(run.flags, adv.XSS_STUDENT)


def test_plots_are_kept_as_images_in_feedback(run):
    page = feedback_page(run.course, "reference")
    # nbconvert adds an alt text to images, before their src.
    images = re.findall(f'<img [^>]*src="{SVG_DATA}"', page)
    assert len(images) >= 2
    assert all(base64.b64decode(i).decode().startswith("<svg") for i in images)
    assert "<svg" not in page


def test_the_autograded_notebook_itself_is_clean(run):
    path = (run.course.root / "autograded" / adv.XSS_STUDENT / adv.ASSIGNMENT
            / adv.NOTEBOOK)
    nb = nbformat.read(path, as_version=4)
    mimetypes = {m for c in nb.cells for o in c.get("outputs", [])
                 for m in o.get("data", {})}
    assert mimetypes <= {"text/plain", "text/html", "text/markdown", "text/latex",
                         "image/png", "image/jpeg"}
    written = adv.cell(nb, "written_eps")
    assert "<script" not in written.source and "onerror=" not in re.sub(
        r"&lt;.*?&gt;", "", written.source)
