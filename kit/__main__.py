"""Command line of the course kit: ``python -m kit [--course DIR] <command>``."""

import sys

from kit.commands import build, grade, hub, mutants, new, run, similarity, submissions

COMMANDS = {"build": build, "grade": grade, "submissions": submissions, "new": new,
            "mutants": mutants, "similarity": similarity, "hub": hub}


def main(argv=None):
    return run(COMMANDS, argv, description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
