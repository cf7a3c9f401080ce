"""nbgrader configuration of the course (read by nbgrader and the formgrader)."""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "ml-course"
# The gradebook: the SQLite file gradebook.db in the course folder (nbgrader's default)
# unless KIT_GRADEBOOK_URL names another database, such as a PostgreSQL server shared
# by several graders (see the README). The kit reads the same variable.
if os.environ.get("KIT_GRADEBOOK_URL"):
    c.CourseDirectory.db_url = os.environ["KIT_GRADEBOOK_URL"]
# Files next to a source notebook are copied into the release and into autograded/:
# the jupytext twins (*.py) hold solutions, so they never travel.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py",
]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Seconds one cell may run during autograding before it is interrupted.
c.Execute.timeout = 120
# Feedback shows no hidden tests and no tracebacks quoting them
# (kit/plugins/feedback.py).
c.GenerateFeedback.preprocessors.append("kit.plugins.feedback.HideHiddenTests")
# The same pages, rendered in half the time (kit/plugins/feedback.py).
c.GenerateFeedback.exporter_class = "kit.plugins.feedback.FeedbackExporter"
