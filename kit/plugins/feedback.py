"""Feedback for students without hidden tests: a preprocessor for generate_feedback.

nbgrader's ``generate_feedback`` renders autograded notebooks to HTML. Autograded
notebooks hold the full source of every test cell (autograde restores test cells
from the gradebook, hidden tests included), and IPython tracebacks quote the lines
that failed, so nbgrader's feedback shows students the hidden tests.

``HideHiddenTests`` runs in ``generate_feedback`` only (nbgrader_config.py adds it
to ``GenerateFeedback.preprocessors``, which the formgrader's feedback uses too):

- a test cell whose source cell (as saved in the gradebook when the assignment was
  generated) has a ``### BEGIN HIDDEN TESTS`` region shows its public part, as in
  the release, and a one-line note;
- the error outputs of graded cells show ``ename: evalue`` (the check's message),
  not the traceback, and their stderr loses the indented lines in which warnings
  and tracebacks quote source code.

Scores per cell (nbgrader's feedback template) and plots are left as they are.

``FeedbackExporter`` (``GenerateFeedback.exporter_class``) renders the pages as
nbconvert's HTML exporter does, without its last step: that parses the whole page
again with BeautifulSoup to give ``<img>`` tags without one an alternative text
(and lab-template cells a ``tabindex``, of which the classic feedback template has
none), and took half of each page's time. The alternative texts are given by a scan
of the page's tags instead. Its templates are compiled once per process and the
processes forked from it (a worker and its jobs), into :func:`template_cache`,
rather than in every job.
"""

import atexit
import os
import re
import shutil
import tempfile
import textwrap

from jinja2 import FileSystemBytecodeCache
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

from kit.course import HIDDEN_REGION

HIDDEN_NOTE = "# Hidden tests ran here when the notebook was graded (not shown)."
HIDDEN_MARKER = re.compile(r"(BEGIN|END) HIDDEN TESTS")


def public_source(source):
    """The source of a test cell as students see it: hidden regions removed, a
    note in their place.

    Parameters
    ----------
    source : str
        The source of a test cell as written by the instructor.

    Returns
    -------
    str
        ``source`` without its hidden-test regions, followed by ``HIDDEN_NOTE``.
        A marker left unmatched (a region never closed) hides the whole cell.
    """
    public = HIDDEN_REGION.sub("", source)
    if HIDDEN_MARKER.search(public):
        public = ""
    public = public.rstrip()
    return f"{public}\n{HIDDEN_NOTE}" if public else HIDDEN_NOTE


def short_error(output, width=100):
    """An error output reduced to ``ename: evalue``, without traceback; the line is
    wrapped at ``width`` characters (notebook HTML does not wrap outputs)."""
    message = f"{output.ename}: {output.evalue}" if output.evalue else output.ename
    output.traceback = ["\n".join(
        textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False)
        for line in message.splitlines())]
    return output


def without_quoted_source(text):
    """Stderr text without the indented lines in which Python quotes source code
    (warnings and tracebacks indent them; their headline is not indented)."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if not line[:1].isspace())


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests and source-quoting tracebacks from feedback notebooks."""

    def preprocess(self, nb, resources):
        self.sources = self._source_cells(resources.get("nbgrader", {}))
        return super().preprocess(nb, resources)

    def _source_cells(self, info):
        """``{grade_id: source}`` of the notebook's cells in the gradebook."""
        if not info.get("db_url"):
            return {}
        with Gradebook(info["db_url"]) as gb:
            try:
                notebook = gb.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return {}
            return {cell.name: cell.source for cell in notebook.source_cells}

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        # The gradebook's copy is what the instructor wrote; the notebook's own
        # source is checked too, whatever a submission did to its cells.
        original = self.sources.get(grade_id, "") if grade_id else ""
        if HIDDEN_MARKER.search(original):
            cell.source = public_source(original)
        elif HIDDEN_MARKER.search(cell.source):
            cell.source = public_source(cell.source)
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    short_error(output)
                elif output.output_type == "stream" and output.name == "stderr":
                    output.text = without_quoted_source(output.text)
        return cell, resources


# nbconvert's text for an image without one.
MISSING_ALT = "No description has been provided for this image"
# Where an <img> tag may be: outside comments and the raw text of scripts and
# styles (as html.parser reads them), its quoted values may hold a ">".
_IMG_OR_RAW = re.compile(
    r"""(?P<raw><!--.*?-->|<(?P<el>script|style)\b.*?</(?P=el)\s*>)"""
    r"""|<img\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE | re.DOTALL)
_QUOTED = re.compile(r"""=\s*(?:"[^"]*"|'[^']*')""")
_ALT = re.compile(r"[\s/]alt(?=[\s=/>])", re.IGNORECASE)


def with_alt_texts(html):
    """``html`` with ``MISSING_ALT`` as the alternative text of every ``<img>`` tag
    that has none (what nbconvert's HTML exporter gives them)."""
    def fill(match):
        tag = match.group(0)
        if match.group("raw") or _ALT.search(_QUOTED.sub("=", tag)):
            return tag
        return f'{tag[:4]} alt="{MISSING_ALT}"{tag[4:]}'

    return _IMG_OR_RAW.sub(fill, html)


_template_cache = None


def template_cache():
    """Jinja's bytecode cache of the feedback templates, in a folder of this
    process's own (mode 0700), removed when it exits: a worker that calls this
    before it forks its jobs has each template compiled once, by its first job.

    Jinja keys each template by its name, file and source, not by the settings of
    the environment that compiled it: only :class:`FeedbackExporter`, whose settings
    are the course's for the whole process, uses this cache."""
    global _template_cache
    if _template_cache is None:
        folder = tempfile.mkdtemp(prefix="kit-templates-")
        atexit.register(_remove_if_owner, folder, os.getpid())
        _template_cache = FileSystemBytecodeCache(folder)
    return _template_cache


def _remove_if_owner(folder, pid):
    if os.getpid() == pid:   # not a forked job that exits the normal way
        shutil.rmtree(folder, ignore_errors=True)


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML export, with the alternative texts of images given without
    parsing the page again, and its templates compiled once per process (see the
    module docstring)."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = template_cache()
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        # The filters nbconvert's HTMLExporter registers for each notebook.
        info = nb.metadata.get("language_info", {})
        lexer = info.get("pygments_lexer", info.get("name"))
        resources = self._init_resources(resources)
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources,
                                                              **kw)
        return with_alt_texts(html), resources
