"""The commands of ``python -m kit``: one module each, with ``HELP``, ``__doc__``,
``add_arguments(parser)`` and ``main(args, course)``."""

import argparse
import sys
from pathlib import Path

from kit.course import ROOT, Course, KitError


def run(commands, argv=None, prog="python -m kit", description=None):
    """Parse ``argv`` and run one of ``commands`` (``{name: module}``) on the course
    of ``--course``; return the exit status (2 for an error the user can fix)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--course", type=Path, default=ROOT,
                        help="the course directory (default: this repository)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in commands.items():
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
    args = parser.parse_args(argv)
    try:
        return commands[args.command].main(args, Course(args.course.resolve())) or 0
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
