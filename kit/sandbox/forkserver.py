"""Grading kernels forked from a server that has imported the course's modules once.

A kernel started afresh spends a second or two before the first cell has done
anything: Python and ipykernel start, then the notebook imports NumPy, pandas,
scikit-learn and the student library. A grading worker starts one fork server
(:mod:`kit.sandbox.kernel.zygote`, in a bubblewrap sandbox like a kernel's) that
has paid for those once; each submission's kernel is a fresh copy of it, in
namespaces of its own, confined to its scratch folder as a kernel started by
:mod:`kit.sandbox.bubblewrap` is: the same file system (its folders, the student
library, the environment and the system read-only), no network, its own process
tree, the same memory limit, no capability. See the zygote's docstring for how the
sandbox of each kernel is built.

A kernel dies with the job that asked for it: the job holds a socket to the
kernel's keeper, which kills the kernel when the socket closes. When the server
cannot start, or cannot fork a kernel, the kernel is started by bubblewrap instead
(slower, never less safe), and :data:`failure` says why.
"""

import atexit
import json
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from kit.course import last_message
from kit.sandbox import bubblewrap
from kit.sandbox.kernel import protocol, zygote

# What the server keeps to build each kernel's sandbox; each kernel gives them up.
CAPABILITIES = ("CAP_SYS_ADMIN", "CAP_SETPCAP")
START_SECONDS = 120
KILL_SECONDS = 5
MODULE = f"{protocol.PACKAGE}.zygote"

_servers = {}
_lock = threading.Lock()
failure = None   # why the last fork server could not start or fork, if it could not


class ForkServerError(Exception):
    """The server could not start, or could not fork a kernel."""


class ForkServer:
    """A running fork server for kernels of one student library and memory limit."""

    def __init__(self, library, memory_mb, modules=()):
        self.root = Path(tempfile.mkdtemp(prefix="kit-forks-"))
        self._log = tempfile.TemporaryFile()
        argv = [sys.executable, "-m", MODULE, str(self.root), *modules]
        cmd = bubblewrap.command(argv, self.root, library, memory_mb,
                                 capabilities=CAPABILITIES)
        self._process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=self._log)
        ready, _, _ = select.select([self._process.stdout], [], [], START_SECONDS)
        if not ready or self._process.stdout.readline().strip() != b"ready":
            self._log.seek(0)
            why = last_message(self._log.read().decode(errors="replace")
                               or "no message")
            self.close()
            raise ForkServerError(f"the fork server did not start: {why}")

    def alive(self):
        return self._process.poll() is None

    def spawn(self, workdir, connection_file, read_only=(), writable=()):
        """A kernel forked in its own sandbox on ``workdir``: a :class:`Kernel`."""
        request = dict(workdir=str(workdir), connection_file=str(connection_file),
                       read_only=[str(p) for p in read_only],
                       writable=[str(workdir), *map(str, writable)])
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(START_SECONDS)
        try:
            conn.connect(str(self.root / zygote.CONTROL))
            conn.sendall((json.dumps(request) + "\n").encode())
            with conn.makefile("rb") as lines:
                answer = json.loads(lines.readline() or "{}")
        except (OSError, ValueError) as exc:
            conn.close()
            raise ForkServerError(f"the fork server did not answer "
                                  f"({type(exc).__name__}: {exc})") from None
        if not answer.get("ok"):
            conn.close()
            raise ForkServerError("the fork server could not build a kernel's "
                                  "sandbox: " + answer.get("error", "no answer"))
        return Kernel(conn)

    def close(self):
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()
        self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)


class Kernel:
    """A forked kernel, as much of :class:`subprocess.Popen` as a kernel manager
    uses, through the socket to its keeper."""

    pid = None
    stdin = stdout = stderr = None

    def __init__(self, conn):
        self._conn = conn
        self.returncode = None

    def _receive(self, timeout):
        self._conn.settimeout(timeout)
        try:
            data = self._conn.recv(64)
        except (BlockingIOError, TimeoutError):
            return None
        except OSError:
            data = b""
        self.returncode = int(data) if data.strip() else -signal.SIGKILL
        self._conn.close()
        return self.returncode

    def poll(self):
        if self.returncode is None:
            return self._receive(0)
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None and self._receive(timeout) is None:
            raise subprocess.TimeoutExpired("forked kernel", timeout)
        return self.returncode

    def send_signal(self, signum):
        if self.returncode is None:
            order = b"kill" if signum == signal.SIGKILL else f"signal {signum}".encode()
            try:
                self._conn.sendall(order)
            except OSError:
                pass

    def kill(self):
        # The keeper answers at once with the status: wait for it here rather
        # than in the kernel manager's polls a tenth of a second apart.
        self.send_signal(signal.SIGKILL)
        if self.returncode is None:
            self._receive(KILL_SECONDS)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


class ForkKernelManager(bubblewrap.SandboxKernelManager):
    """A sandboxed kernel forked by ``server``, or started by bubblewrap when the
    server cannot fork it."""

    def __init__(self, server, workdir, library, **kwargs):
        super().__init__(workdir, library, **kwargs)
        self._server = server

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        global failure
        box = self._sandbox
        try:
            process = self._server.spawn(box["workdir"], self.connection_file,
                                         box["read_only"], box["writable"])
        except ForkServerError as exc:
            failure = str(exc)
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        self.provisioner.process = process
        self.provisioner.pid = self.provisioner.pgid = None
        self._reconcile_connection_info(self.provisioner.connection_info)


def start(library, memory_mb=None, modules=()):
    """This process's fork server for ``library`` and ``memory_mb``, started (with
    ``modules`` imported) unless it runs; None when it cannot start (see
    :data:`failure`)."""
    global failure
    key = (library and str(library), memory_mb)
    with _lock:
        server = _servers.get(key)
        if server is not None and server.alive():
            return server
        if server is not None:
            server.close()
        try:
            _servers[key] = server = ForkServer(library, memory_mb, modules)
        except ForkServerError as exc:
            failure, _servers[key] = str(exc), None
            return None
        # When the worker ends (jobs forked from it end with os._exit, not here).
        atexit.register(server.close)
        return server


def running(library, memory_mb=None):
    """The fork server :func:`start` started in this process (or the one it was
    forked from) for ``library`` and ``memory_mb``, or None."""
    server = _servers.get((library and str(library), memory_mb))
    return server if server is not None and server.alive() else None
