"""`python -m kit submissions`: write the demo submissions in submitted/.

Examples
--------
    python -m kit submissions

Every assignment gets a ``reference`` submission, an ``untouched`` one and one per
entry of ``DEMO`` in ``variants/<assignment>.py`` (see :mod:`kit.course.demo`).
This command overwrites ``submitted/<demo student>/<assignment>/`` only for the demo
students it knows; real submissions of other students are left alone.
"""

from kit.course import demo


def main(args, course):
    demo.write_submissions(course)


def add_arguments(parser):
    pass


HELP = "write the demo submissions in submitted/ from variants/"
