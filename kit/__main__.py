"""Command line of the course kit: ``python -m kit [--course DIR] <command>``."""

import argparse
import sys
from pathlib import Path

from kit import bench, bench_grading, bench_softmax, build, demo, grade, mutants, new
from kit.course import ROOT, Course, KitError

COMMANDS = {"build": build, "grade": grade, "submissions": demo, "new": new,
            "bench": bench, "bench-softmax": bench_softmax,
            "bench-grading": bench_grading, "mutants": mutants}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kit", description=__doc__)
    parser.add_argument("--course", type=Path, default=ROOT,
                        help="the course directory (default: this repository)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command].main(args, Course(args.course.resolve())) or 0
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
