"""Grading notes: how the kit's nbgrader plugins tell the engine what went wrong.

A plugin runs inside nbgrader's ``Autograde``, which keeps nothing it could return;
so each plugin appends its notes ``(kind, reason)`` (kind ``"fault"`` or
``"cheat"``) to the file that the engine names in ``c.GradingNotes.path`` for the
submission it grades, and the engine reads them back (:func:`read`) into
``reports/flags.csv``. Without a path (nbgrader run by hand) the notes are logged.
"""

import json
from pathlib import Path

from traitlets import Unicode
from traitlets.config import LoggingConfigurable


def add(notes, kind, reason):
    """Add ``(kind, reason)`` to the list ``notes`` once."""
    if (kind, reason) not in notes:
        notes.append((kind, reason))


class GradingNotes(LoggingConfigurable):
    path = Unicode(
        "", help="File the kit's plugins append grading notes to, one JSON pair per "
                 "line (set by the engine for each submission; empty: log them)."
    ).tag(config=True)

    def write(self, notes):
        if not self.path:
            for kind, reason in notes:
                self.log.warning("%s: %s", kind, reason)
            return
        with open(self.path, "a", encoding="utf-8") as f:
            for kind, reason in notes:
                f.write(json.dumps([kind, reason]) + "\n")


def read(path):
    """The notes in ``path``, in order, each once (none if there is no file)."""
    found = []
    path = Path(path)
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            kind, reason = json.loads(line)
            add(found, kind, reason)
    return found
