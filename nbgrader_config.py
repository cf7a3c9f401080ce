"""nbgrader configuration of the course (read by nbgrader and the formgrader)."""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "ml-course"
# Files next to a source notebook are copied into the release and into autograded/:
# the jupytext twins (*.py) hold solutions, so they never travel.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py",
]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Seconds one cell may run during autograding before it is interrupted.
c.Execute.timeout = 120
