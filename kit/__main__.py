"""Command line of the course kit: ``python -m kit <command>``."""

import argparse
import sys

from kit import build, demo, grade
from kit.course import KitError

COMMANDS = {"build": build, "grade": grade, "submissions": demo}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command].main(args) or 0
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
