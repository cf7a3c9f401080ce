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
"""

import re
import textwrap

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
