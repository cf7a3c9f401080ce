"""Grading on a real Dask cluster: a scheduler and two workers started with Dask's
own commands, as processes of their own on loopback, sharing a PostgreSQL
gradebook. One worker is killed while it grades a submission; every submission is
still graded, once, with the scores the demo submissions earn, and no flag."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import adversarial as adv
import pytest
from conftest import REPO
from nbgrader.api import Gradebook

from kit.commands import build, grade
from kit.course import copy_course, demo, tool_env
from kit.engine import autograde

ASSIGNMENT = adv.ASSIGNMENT
URL_VARIABLE = "KIT_GRADEBOOK_URL"
DASK = str(Path(sys.executable).parent / "dask")


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(address, {name: worker process})``: a scheduler and two workers."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    env = tool_env()
    env.pop(URL_VARIABLE, None)  # the engine sends it with each task
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file",
                               str(scheduler_file)],
                              env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        wait_for(scheduler_file.exists, 60, "the scheduler")
        address = json.loads(scheduler_file.read_text())["address"]
        workers = {}
        for name in ("w1", "w2"):
            workers[name] = subprocess.Popen(
                [DASK, "worker", address, "--name", name, "--nworkers", "1",
                 "--nthreads", "1", "--no-dashboard"],
                env=env, start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(workers[name])
        from distributed import Client
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address, workers
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def descends_from(pid, ancestor):
    """Whether process ``pid`` runs under process ``ancestor``."""
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        if pid == ancestor:
            return True
    return False


def test_a_cluster_grades_every_submission_once_when_a_worker_dies(
        cluster, pg, tmp_path):
    address, workers = cluster
    url = pg.create_database("cluster")
    course = copy_course(REPO, tmp_path / "course", submissions=False,
                         assignments=[ASSIGNMENT])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(URL_VARIABLE, url)
        build.build(course, log=adv.quiet)
        adv.write_demos(course)
        lines, failure = [], []

        def grading():
            try:
                grade.run(course, log=lines.append, scheduler=address)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failure.append(exc)

        thread = threading.Thread(target=grading)
        thread.start()
        victim = workers["w1"]

        def victims_job():
            jobs = course.root / autograde.JOBS
            for pidfile in jobs.glob("*/*") if jobs.is_dir() else []:
                try:
                    pid = int(pidfile.read_text())
                except (OSError, ValueError):
                    continue
                if descends_from(pid, victim.pid):
                    return pid
            return None

        wait_for(lambda: failure or victims_job(), 300, "a job on worker w1")
        assert not failure, failure
        os.killpg(victim.pid, signal.SIGKILL)
        thread.join(timeout=900)
        assert not thread.is_alive() and not failure, failure

    assert any("graded in" in line and f"on the cluster of {address}" in line
               for line in lines), lines
    flags = (course.reports / "flags.csv").read_text().strip().splitlines()
    assert flags == ["student,assignment,kind,reason"], flags
    expected = adv.demo_scores(course)
    with Gradebook(url) as gb:
        submissions = gb.find_assignment(ASSIGNMENT).submissions
        assert sorted(s.student.id for s in submissions) == sorted(expected)
        for submission in submissions:
            scores = {g.name.removeprefix("test_"): g.score
                      for nb in submission.notebooks for g in nb.grades
                      if g.max_score and g.cell_type == "code"}
            assert scores == expected[submission.student.id], submission.student.id
    assert sorted(demo.demo_notebooks(course, ASSIGNMENT)) == sorted(expected)


def test_a_scheduler_that_cannot_be_reached_is_an_error_not_a_traceback():
    from kit.course import KitError
    from kit.engine import cluster

    with pytest.raises(KitError, match="cannot reach the Dask scheduler at nowhere://"):
        cluster.connect("nowhere://x")
