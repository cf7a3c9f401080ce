"""nbgrader's ``SaveAutoGrades``, with one commit per notebook.

nbgrader's preprocessor writes each graded cell's score and each answer's comment
to the gradebook with a commit of its own: with a SQLite gradebook, a write to disk
for each of a notebook's thirty or forty cells, and after each the session reloads
what it holds. Here the same rows are written in one commit after the last cell,
so a notebook's automatic grades are in the gradebook all together or not at all.
"""

from nbgrader.preprocessors import NbGraderPreprocessor, saveautogrades


class _CommitOnce(NbGraderPreprocessor):
    """What nbgrader's ``SaveAutoGrades`` calls to go through the cells, with the
    gradebook open: its commits made flushes, then one commit."""

    def preprocess(self, nb, resources):
        db = self.gradebook.db
        db.commit = db.flush   # shadows the session's method for these cells only
        try:
            nb, resources = super().preprocess(nb, resources)
        finally:
            del db.commit
        db.commit()
        return nb, resources


class SaveAutoGrades(saveautogrades.SaveAutoGrades, _CommitOnce):
    """nbgrader's ``SaveAutoGrades`` (its rows and rules), committed once."""
