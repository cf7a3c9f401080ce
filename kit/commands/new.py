"""`python -m kit new <name>`: start a new assignment from the course template.

Examples
--------
    python -m kit new bias_variance

writes four files from ``kit/templates/``, with the name filled in:

- ``source/<name>/<name>.py``: the notebook as text, one worked example of every
  kind of cell (setup, an answer cell, its public check and hidden test, a plot, a
  written answer, the public-check summary);
- ``lib/<name>.py``: the reference the hidden test compares with;
- ``variants/<name>.py``: right and wrong answers the hidden test must tell
  apart, and the mistaken demo submission;
- ``tests/test_<name>.py``: the reference checked against scikit-learn.

The example grades ``standardize``; replace it with your own functions in all four
files, then run ``make build submissions test``. Existing files are never
overwritten.
"""

import keyword
import re
from pathlib import Path

from kit.commands import build
from kit.course import KitError

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Template file -> where it goes in the course, relative to the course root.
FILES = {
    "source.py.tmpl": "source/{name}/{name}.py",
    "lib.py.tmpl": "lib/{name}.py",
    "variants.py.tmpl": "variants/{name}.py",
    "test.py.tmpl": "tests/test_{name}.py",
}

NAME = re.compile(r"[a-z][a-z0-9_]*")

# Names the course layout already uses: release/library/ is the student library.
RESERVED = {"library"}


def check_name(name):
    """Fail unless ``name`` can name an assignment, a module and a test file."""
    if not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise KitError(f"{name!r} is not a valid assignment name: use a Python "
                       "identifier in lower case, such as bias_variance.")
    if name in RESERVED:
        raise KitError(f"{name!r} is reserved by the course layout: choose another "
                       "name.")


def render(text, name):
    """The template ``text`` with ``{{name}}`` and ``{{title}}`` filled in."""
    title = name.replace("_", " ").capitalize()
    return text.replace("{{name}}", name).replace("{{title}}", title)


def new_assignment(course, name, log=print):
    """Write the files of a new assignment ``name``; return their paths."""
    check_name(name)
    targets = {template: course.root / path.format(name=name)
               for template, path in FILES.items()}
    folder = course.source / name
    others = [p for p in targets.values() if not p.is_relative_to(folder)]
    taken = [p for p in [folder, *others] if p.exists()]
    if taken:
        names = ", ".join(str(p.relative_to(course.root)) for p in taken)
        raise KitError(f"cannot create assignment {name!r}: it would overwrite "
                       f"{names}; choose another name.")
    for template, path in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render((TEMPLATES / template).read_text(encoding="utf-8"), name)
        path.write_text(text, encoding="utf-8")
        log(f"{path.relative_to(course.root)} written")
    # The notebook twin makes the assignment visible to every other command.
    build.sync_source(course, name)
    log(f"{course.source_notebook(name).relative_to(course.root)} written")
    log("Next: replace the example (standardize) in these files with your own, then "
        "`python -m kit build` and `python -m kit submissions`.")
    return [*targets.values(), course.source_notebook(name)]


def main(args, course):
    new_assignment(course, args.name)


def add_arguments(parser):
    parser.add_argument("name", help="the assignment's name, a lower-case Python "
                                     "identifier (also the name of its lib module)")


HELP = "start a new assignment from the course template"
