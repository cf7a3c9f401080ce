"""Benchmarks: ``python -m benchmarks [--course DIR] <name>`` (see ``make bench``)."""

import sys

from benchmarks import breakdown, calls, grading, notebooks, softmax
from kit.commands import run

BENCHMARKS = {"notebooks": notebooks, "softmax": softmax, "grading": grading,
              "breakdown": breakdown, "calls": calls}

if __name__ == "__main__":
    sys.exit(run(BENCHMARKS, prog="python -m benchmarks", description=__doc__))
