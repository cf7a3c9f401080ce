"""Grading on a Dask cluster: the same jobs as on one machine, sent to the workers
of an existing scheduler (``python -m kit grade --scheduler tcp://HOST:PORT``).

Each submission is one Dask task that runs :func:`kit.engine.autograde.
grade_submission` in a worker: the job is forked there as on one machine, with the
same limits, and dies with its worker (``PR_SET_PDEATHSIG``). When a worker dies
the scheduler gives its tasks to another one (up to Dask's
``distributed.scheduler.allowed-failures`` times), so every submission is graded,
and nbgrader's autograde of a submission replaces its grades: graded again, it
leaves one set of rows. The workers share the gradebook (its URL is sent with each
task) and must see the course at the same path (a shared file system, or the same
checkout on each machine), with bubblewrap and the project's environment
(``make setup``).
"""

import os
import uuid

from kit.course import KitError, last_message
from kit.engine import autograde
from kit.sandbox import bubblewrap

# The gradebook's URL travels with each task: a worker may have been started
# without it in its environment.
FORWARDED = ("KIT_GRADEBOOK_URL",)
# Course folders prepared in this worker process (autograde._init_worker).
_PREPARED = set()


def connect(address):
    """A Dask client of the scheduler at ``address``, or a KitError saying why not."""
    from distributed import Client

    try:
        return Client(address, timeout="30s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise KitError(f"cannot reach the Dask scheduler at {address}: "
                       f"{type(exc).__name__}: {last_message(str(exc))}") from None


def _task(root, assignment, student, options, env):
    """Grade one submission in a Dask worker."""
    os.environ.update(env)
    if root not in _PREPARED:
        autograde._init_worker(root)
        _PREPARED.add(root)
    return autograde.grade_submission(root, assignment, student, options)


def run(course, jobs, options, results, bar, address):
    """Grade ``jobs`` on the cluster of the scheduler at ``address``, adding to
    ``results``; a submission the cluster gives up on is a fault, never lost."""
    from distributed import as_completed

    env = {name: os.environ[name] for name in FORWARDED if os.environ.get(name)}
    run_id = uuid.uuid4().hex[:8]
    with connect(address) as client:
        futures = {client.submit(_task, str(course.root), a, s, options, env,
                                 key=f"kit-grade-{run_id}-{a}-{s}", pure=False):
                   (a, s) for a, s in jobs}
        for future in as_completed(futures):
            assignment, student = futures[future]
            try:
                results.append(future.result())
            except Exception as exc:  # noqa: BLE001 - never lose a submission
                results.append(autograde.Result(assignment, student, [
                    ("fault", f"the cluster could not grade it ({type(exc).__name__}: "
                              f"{last_message(str(exc))}); no grade was recorded")]))
            autograde.advance(bar, results[-1])


def preflight(address, library, memory_mb=None):
    """Why some worker of the cluster cannot start a grading kernel (naming the
    worker), or None when every one can; None as well when the cluster has no
    worker yet (its tasks then wait for one)."""
    with connect(address) as client:
        try:
            found = client.run(bubblewrap.preflight, library and str(library),
                               memory_mb)
        except Exception as exc:  # noqa: BLE001 - a worker that cannot even check
            return (f"the workers could not run the check ({type(exc).__name__}: "
                    f"{last_message(str(exc))})")
    problems = [f"worker {worker}: {problem}" for worker, problem in sorted(
        found.items()) if problem]
    return "; ".join(problems) or None
