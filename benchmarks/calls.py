"""`python -m benchmarks calls`: what one remote call into a sandboxed kernel costs.

Examples
--------
    python -m benchmarks calls                  # 2,000 callbacks, 200 requests
    python -m benchmarks calls --callbacks 500

A sandboxed kernel is started as grading starts one (bubblewrap, the student
library, the grader's agent), and the grader's :class:`kit.sandbox.remote.Session`
calls into it the two ways hidden tests do:

- a *request*: the grader calls one of the student's functions (an order file,
  an ``execute_request`` of one line, the reply's files);
- a *callback*: the student's function calls a function the grader lent it, here
  with the arguments a step of ``train_early_stopping`` hands the lent gradient (a
  16 x 785 minibatch and a 785-vector), and gets a 785-vector back.

Beside them, the floor: the same callback as a plain Python call in this process.
It prints milliseconds per call. Run it on an idle machine; figures are for
reports, not tests.
"""

import tempfile
import time
from pathlib import Path

import numpy as np

from kit.sandbox import bubblewrap, remote

STUDENT = """
import numpy as np
X, theta = np.ones((16, 785)), np.ones(785)

def steps(grad, n):
    for _ in range(n):
        grad(X, theta)
    return n

def nothing():
    return None
"""


def gradient(X, theta):
    return X.T @ (X @ theta) / len(X)


def per_call(function, n):
    """Milliseconds per call of ``function(n)``, which makes ``n`` calls."""
    start = time.perf_counter()
    function(n)
    return (time.perf_counter() - start) / n * 1e3


def measure(session, args):
    """Milliseconds per request, per callback and per plain call."""
    steps, nothing = session.function("steps"), session.function("nothing")
    steps(gradient, 10)  # warm up
    return {
        "request (a call of the student's function)":
            per_call(lambda n: [nothing() for _ in range(n)], args.requests),
        "callback (a call of a lent function)":
            per_call(lambda n: steps(gradient, n), args.callbacks),
        "the same call in this process (floor)":
            per_call(lambda n: [gradient(np.ones((16, 785)), np.ones(785))
                                for _ in range(n)], args.callbacks),
    }


def main(args, course):
    with tempfile.TemporaryDirectory(prefix="kit-calls-") as tmp:
        folders = [Path(tmp) / name for name in ("work", "inbox", "outbox")]
        for folder in folders:
            folder.mkdir()
        workdir, inbox, outbox = folders
        with bubblewrap.blocking_kernel(workdir, course.library or None,
                                        memory_mb=4096, read_only=[inbox],
                                        writable=[outbox]) as (km, kc):
            kc.execute_interactive(STUDENT, timeout=60)
            session = remote.Session(kc, inbox, outbox,
                                     lambda: km.provisioner.process.poll() is None)
            try:
                figures = measure(session, args)
            finally:
                session.close()
    print(f"milliseconds per call ({args.requests} requests, {args.callbacks} "
          "callbacks)")
    for name, ms in figures.items():
        print(f"  {name:46s} {ms:7.3f}")


def add_arguments(parser):
    parser.add_argument("--callbacks", type=int, default=2000,
                        help="callbacks to time (default: 2000)")
    parser.add_argument("--requests", type=int, default=200,
                        help="requests to time (default: 200)")


HELP = "what one remote call into a sandboxed kernel costs, against a plain call"
