"""A throwaway PostgreSQL server on loopback, for tests of a shared gradebook.

Examples
--------
    with pgserver.cluster() as pg:
        url = pg.create_database("gradebook")   # postgresql://grader@127.0.0.1:.../

    python tests/pgserver.py    # start one, print its URL, stop it on Ctrl-C

The cluster lives in a temporary folder: ``initdb`` makes it, ``pg_ctl`` starts
``postgres`` listening on 127.0.0.1 only (a free port, no Unix socket, trust
authentication), and it is stopped and deleted on exit. Durability is switched off
(``fsync``): nothing here outlives the test. PostgreSQL refuses to run as root, so
as root the server programs run as the ``postgres`` user of Debian's package.
"""

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

# The role that owns the gradebook databases: an ordinary login role, as in a
# course, so that tests show nbgrader needs no superuser.
ROLE = "grader"
DEBIAN_BINDIRS = "/usr/lib/postgresql/*/bin"


class PostgresMissing(RuntimeError):
    """No PostgreSQL server programs on this machine."""


def bindir():
    """The folder of ``initdb``, ``pg_ctl`` and ``postgres``: the newest of Debian's
    ``/usr/lib/postgresql/<version>/bin``, else the one on PATH."""
    debian = sorted(glob.glob(f"{DEBIAN_BINDIRS}/initdb"),
                    key=lambda p: int(Path(p).parts[-3]))
    found = debian[-1] if debian else shutil.which("initdb")
    if not found:
        raise PostgresMissing(
            "PostgreSQL server programs (initdb, pg_ctl) not found: install Debian's "
            "postgresql (`make postgres` does it as root) or put them on PATH.")
    return Path(found).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """A running server: ``create_database`` hands out gradebook URLs."""

    host: str
    port: int

    def connect(self, dbname="postgres"):
        conn = psycopg2.connect(host=self.host, port=self.port, user="postgres",
                                dbname=dbname)
        conn.autocommit = True  # CREATE DATABASE runs outside a transaction
        return conn

    def create_database(self, name):
        """Create database ``name`` owned by the ``grader`` role; return its URL."""
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(ROLE)))
        return f"postgresql+psycopg2://{ROLE}@{self.host}:{self.port}/{name}"


def server_user():
    """``runuser`` prefix that runs a command as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return [], None
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresMissing("running as root, and there is no `postgres` user to "
                              "run the server as") from None
    return ["runuser", "-u", "postgres", "--"], owner


@contextlib.contextmanager
def cluster():
    """Start a throwaway server; yield a :class:`Cluster`; stop and delete it."""
    programs = bindir()
    prefix, owner = server_user()
    top = Path(tempfile.mkdtemp(prefix="kit-postgres-"))
    data, log = top / "data", top / "server.log"

    def run(program, *args):
        cmd = [*prefix, str(programs / program), *map(str, args)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            tail = log.read_text()[-3000:] if log.is_file() else ""
            raise RuntimeError(f"`{program} {' '.join(map(str, args))}` failed (exit "
                               f"{proc.returncode}):\n{proc.stdout}{proc.stderr}{tail}")

    try:
        if owner:
            os.chown(top, owner.pw_uid, owner.pw_gid)
        run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
            "--locale=C", "--no-sync")
        port = free_port()
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} "
                   "-c unix_socket_directories='' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        run("pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "start")
        try:
            pg = Cluster("127.0.0.1", port)
            with contextlib.closing(pg.connect()) as conn, conn.cursor() as cur:
                cur.execute(sql.SQL("CREATE ROLE {} LOGIN").format(
                    sql.Identifier(ROLE)))
            yield pg
        finally:
            run("pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    with cluster() as pg:
        print(pg.create_database("gradebook"), flush=True)
        try:
            input("Running; press Enter or Ctrl-C to stop.\n")
        except (KeyboardInterrupt, EOFError):
            pass
