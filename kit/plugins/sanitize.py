"""What a student's notebook shows the people who read it: harmless and small.

nbgrader renders the autograded notebook twice for a person: as the student's
feedback (``generate_feedback``) and as the page an instructor grades in the
formgrader, both with nbconvert's ``HTMLExporter`` and neither sanitized. Whatever
HTML a student writes in a markdown cell, or makes a code cell display, runs there
with the instructor's Jupyter session: ``<script>``, ``<img onerror=...>``, a
``javascript:`` link, an ``application/javascript`` output, a widget. Cleaning the
autograded notebook itself keeps both pages and any later export clean. Two steps:

- :func:`clean_markdown`, run while staging
  (:func:`kit.engine.staging.stage_notebook`), on every
  markdown or raw cell whose source is not that of a cell of the release, that is
  everything a student wrote, written answers included. The markdown is rendered to
  HTML by nbconvert's own renderer, then cleaned by bleach (the sanitizer behind
  nbconvert's ``SanitizeHTML``) down to formatting tags (:data:`TAGS`) and
  ``http``/``https`` links, and written back as one HTML block: it renders the
  same, maths included (``$a < b$`` survives, which it would not if the markdown
  itself went through bleach), and nothing in it is read as markdown again. Such
  raw cells go through bleach alone. The instructor's cells, identical to the
  release, are left alone.
- :class:`SanitizeOutputs`, an autograde preprocessor run right after execution
  (:func:`kit.engine.autograde._config`), on the outputs of every code cell. Rich
  outputs
  keep only what is safe to show: ``text/plain`` and ``text/latex`` (nbconvert
  escapes them), ``image/png`` and ``image/jpeg`` whose payload is base64,
  ``text/html`` and ``text/markdown`` through bleach; every other type
  (JavaScript, SVG, widgets, PDF, JSON, ...) is dropped, and so is the notebook's
  widget state. A ``text/html`` output
  that is a bare ``<svg>`` element, the course's lets-plot plots (:mod:`lib.plots`),
  becomes an ``<img>`` whose source is that SVG in base64: a browser never runs a
  script of an SVG shown as an image, and base64 cannot close the attribute. It
  also bounds sizes, which nbgrader's ``LimitOutput`` counts in lines only: a cell
  keeps at most :data:`kit.plugins.secure.OUTPUT_CHARS` characters of stream output
  and a
  one-line note that the rest was cut; any other output larger than
  :data:`MAX_OUTPUT_CHARS` is replaced by a note, and flagged. Error outputs and
  stderr streams are shortened, never removed: they decide a test cell's score.
"""

import base64
import binascii
import re

import bleach
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.preprocessors.sanitize import SanitizeHTML
from traitlets import Bool

from kit.course import nbgrader_meta
from kit.plugins import notes
from kit.plugins.secure import OUTPUT_CHARS

# Formatting a written answer may use; anything else is shown as text.
TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
ATTRIBUTES = {"a": ["href", "title"], "abbr": ["title"]}
PROTOCOLS = frozenset({"http", "https"})
CLEANER = bleach.Cleaner(tags=TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS,
                         strip=False, strip_comments=True)

# Output types shown as they are: nbconvert escapes them, and MathJax (loaded with
# its Safe extension) typesets the LaTeX.
PLAIN = ("text/plain", "text/latex")
IMAGES = ("image/png", "image/jpeg")
CLEANED = ("text/html", "text/markdown")
# One output (a plot, an image, a table) larger than this many characters is
# replaced by a note. The course's largest output, a lets-plot SVG, is under 200 kB;
# a few MB leave room for any plot a student makes and keep a notebook that feedback
# and the formgrader can open.
MAX_OUTPUT_CHARS = 3_000_000
# A line that ends a stream output cut to OUTPUT_CHARS characters.
CUT = "\n[output cut here: {total:,} characters in all, only the first {kept:,} kept]\n"
# The start of the HTML block that clean_markdown writes.
BLOCK = '<div class="kit-student-markdown">'
# A newline that begins a blank line (which would end an HTML block in markdown).
BLANK_LINE = re.compile(r"\n(?=[ \t]*\n)")


def clean_html(html):
    """``html`` with only the tags of :data:`TAGS`; other markup shown as text."""
    return CLEANER.clean(html)


def one_block(html):
    """``html`` as a single markdown HTML block: no blank line ends it, so no part
    of it is parsed as markdown again (a newline before a blank line becomes
    ``&#10;``, the same character)."""
    html = BLANK_LINE.sub("&#10;", html.strip())
    return f"{BLOCK}\n{html}\n</div>" if html else ""


def clean_markdown(source):
    """Markdown a student wrote, as harmless HTML that renders the same.

    Parameters
    ----------
    source : str
        The source of a markdown cell (or a ``text/markdown`` output).

    Returns
    -------
    str
        The markdown rendered by nbconvert, cleaned by :func:`clean_html`, as one
        HTML block (:func:`one_block`).
    """
    return one_block(clean_html(markdown2html_mistune(source)))


def is_base64(data):
    """Whether ``data`` (a string, line breaks allowed) is base64 and nothing else."""
    try:
        base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def svg_image(html):
    """A bare ``<svg>`` element as an ``<img>`` showing it, or None for other HTML."""
    text = html.strip()
    if not (text.startswith("<svg") and text.endswith("</svg>")):
        return None
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{payload}">'


def clean_data(data):
    """The output types of ``data`` safe to show, cleaned; and the names of those
    dropped."""
    kept, dropped = {}, []
    for mimetype, value in data.items():
        if isinstance(value, list):  # lines, as in a notebook file
            value = "".join(map(str, value))
        if not isinstance(value, str):
            dropped.append(mimetype)
        elif mimetype in PLAIN or (mimetype in IMAGES and is_base64(value)):
            kept[mimetype] = value
        elif mimetype == "text/html":
            kept[mimetype] = svg_image(value) or clean_html(value)
        elif mimetype == "text/markdown":
            kept[mimetype] = clean_markdown(value)
        else:
            dropped.append(mimetype)
    if not kept:
        kept["text/plain"] = f"[not shown here: {', '.join(dropped)} output]"
    return kept, dropped


def cut(text, limit):
    """``text`` cut to ``limit`` characters and a line saying so, if longer."""
    if len(text) <= limit:
        return text
    return text[:limit] + CUT.format(total=len(text), kept=limit)


def output_size(output):
    return sum(len(str(value)) for value in output.get("data", {}).values())


def placeholder(output, message):
    """``output`` (same type, so a score reads it the same) holding ``message``."""
    output.data = {"text/plain": message}
    output.metadata = {}
    return output


class SanitizeOutputs(SanitizeHTML):
    """Make the outputs of code cells harmless and small (see the module notes).

    nbconvert's ``SanitizeHTML`` with the course's bleach settings
    (:func:`clean_html`) and rules for each output type. Markdown and raw cells are
    left alone: they are cleaned while staging, where the release tells the
    instructor's cells from the student's.
    """

    # nbconvert's preprocessors are off unless enabled; this one is meant to run.
    enabled = Bool(True, help="Clean and bound the outputs of code cells."
                   ).tag(config=True)

    def sanitize_html_tags(self, html_str):
        return clean_html(html_str)

    def preprocess(self, nb, resources):
        self.notebook = resources.get("nbgrader", {}).get("notebook", "notebook")
        # Widget state is rendered by a widget manager the exported page loads.
        nb.metadata.pop("widgets", None)
        self.notes = []
        nb, resources = super().preprocess(nb, resources)
        notes.GradingNotes(config=self.config).write(self.notes)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            where = nbgrader_meta(cell).get("grade_id", f"number {index + 1}")
            self.cut_streams(cell.outputs)
            cell.outputs = [self.clean_output(output, where)
                            for output in cell.outputs]
        return cell, resources

    def cut_streams(self, outputs):
        """At most OUTPUT_CHARS characters of stream text in one cell; a stream cut
        to nothing keeps the line saying so (stderr costs a test its points)."""
        room = OUTPUT_CHARS
        for output in outputs:
            if output.output_type == "stream":
                text = output.text if isinstance(output.text, str) else "".join(
                    output.text)
                output.text = cut(text, room)
                room = max(0, room - len(text))

    def clean_output(self, output, where):
        if output.output_type == "error":
            output.evalue = cut(output.get("evalue", ""), OUTPUT_CHARS)
            output.traceback = [cut(line, OUTPUT_CHARS)
                                for line in output.get("traceback", [])]
            return output
        if "data" not in output:
            return output
        size = output_size(output)
        if size > MAX_OUTPUT_CHARS:
            reason = (f"{self.notebook}: cell {where} displayed an output of "
                      f"{size / 1e6:.0f} MB; it was removed (at most "
                      f"{MAX_OUTPUT_CHARS / 1e6:.0f} MB are kept)")
            notes.add(self.notes, "fault", reason)
            return placeholder(output, f"[output removed: {size / 1e6:.0f} MB, more "
                                       "than the grader keeps]")
        output.data, dropped = clean_data(output.data)
        for mimetype in dropped:
            output.get("metadata", {}).pop(mimetype, None)
        return output


def student_cell(cell, release_sources):
    """Whether a markdown or raw cell holds text that is not the instructor's."""
    return (cell.cell_type in ("markdown", "raw")
            and cell.source not in release_sources.get(cell.cell_type, ()))


def clean_student_cells(nb, release_nb):
    """Clean, in place, every markdown and raw cell of ``nb`` whose source is not
    the source of a cell of the same type in ``release_nb``; return their count."""
    release_sources = {}
    for ref in release_nb.cells:
        release_sources.setdefault(ref.cell_type, set()).add(ref.source)
    cleaned = 0
    for cell in nb.cells:
        if student_cell(cell, release_sources):
            cell.source = (clean_markdown(cell.source) if cell.cell_type == "markdown"
                           else clean_html(cell.source))
            cell.pop("attachments", None)
            cleaned += 1
    return cleaned
