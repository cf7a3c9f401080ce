"""Kernels confined to one submission: a bubblewrap sandbox per grading kernel.

The kernel sees, read-only, the system (/usr, /etc), this Python and its environment,
and the student library (``release/library``, put first on ``sys.path``, so ``import
lib`` finds the stubs, never the references); read-write, only a scratch copy of the
submission. It has no network (its own network namespace, with only loopback), its
own process namespace (every process it starts dies with it), a limit on its
address space, and no capability, even when the grader runs as root (so what it is
lent read-only stays read-only). The course directory, source/, solutions/, the
gradebook and the full ``lib`` are not in its file system at all.

The kernel loads the grader's agent (:mod:`kit.sandbox.kernel.agent`; the folder
:mod:`kit.sandbox.kernel` is mounted alone as the package ``kit_agent``) when it
starts, before any cell of the submission runs.

The grader talks to the kernel over Unix sockets in the scratch folder (ZeroMQ's
``ipc`` transport), since TCP cannot cross the network namespace.
"""

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from queue import Empty

import zmq
from jupyter_client import AsyncKernelClient, BlockingKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import Type

from kit.course import GRADING_ENV, KitError, last_message
from kit.sandbox import kernel
from kit.sandbox.kernel import protocol

BWRAP = "bwrap"


def available():
    """Why secure grading cannot run here, or None when it can."""
    if shutil.which(BWRAP) is None:
        return ("bubblewrap (`bwrap`) is not installed: `make setup` installs Debian's "
                "bubblewrap when run as root; elsewhere install it, or grade with "
                "--insecure")
    return None


def _python_roots():
    """Folders this interpreter and its environment need, outermost first."""
    roots = {Path(sys.prefix), Path(sys.base_prefix),
             Path(sysconfig.get_paths()["stdlib"]).parents[1]}
    return sorted({r.resolve() for r in roots} | roots)


def command(argv, workdir, library, memory_mb=None, read_only=(), writable=(),
            capabilities=()):
    """The bubblewrap command line that runs ``argv`` confined to ``workdir``, with
    the student library ``library`` (None: none) first on its path; folders in
    ``read_only`` and ``writable`` appear at the same paths inside. ``capabilities``
    are kept (the fork server's, :mod:`kit.sandbox.forkserver`): none by default."""
    problem = available()
    if problem:
        raise KitError(problem)
    workdir = Path(workdir)
    cmd = []
    if memory_mb:
        # prlimit applies to bwrap and is inherited by everything in the sandbox.
        cmd += ["prlimit", f"--as={int(memory_mb) * 2**20}", "--"]
    # No capabilities, even in the sandbox's own user namespace: bubblewrap keeps
    # them all when started by root, and with them a kernel remounts what it reads
    # (the environment, /usr) writable.
    cmd += [BWRAP, "--unshare-all", "--cap-drop", "ALL"]
    for capability in capabilities:
        cmd += ["--cap-add", capability]
    cmd += ["--die-with-parent", "--new-session",
            "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/", link)
        if target.is_symlink():
            cmd += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            cmd += ["--ro-bind", str(target), str(target)]
    # The kernel's own /tmp first: what is bound below stays visible through it
    # wherever it lives, /tmp included (a course or an environment under /tmp).
    cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            "--tmpfs", "/dev/shm"]
    for root in _python_roots():
        if not str(root).startswith("/usr/"):
            cmd += ["--ro-bind", str(root), str(root)]
    inner_library, inner_agent = "/opt/kit/library", "/opt/kit/agent"
    paths = [inner_agent]
    if library:  # a course without a student library: the environment's own
        cmd += ["--ro-bind", str(Path(library).resolve()), inner_library]
        paths.insert(0, inner_library)
    cmd += ["--ro-bind", str(Path(kernel.__file__).parent),
            f"{inner_agent}/{protocol.PACKAGE}",
            "--bind", str(workdir), str(workdir)]
    for folder in read_only:
        cmd += ["--ro-bind", str(folder), str(folder)]
    for folder in writable:
        cmd += ["--bind", str(folder), str(folder)]
    cmd += ["--chdir", str(workdir), "--clearenv"]
    env = dict(GRADING_ENV, HOME=str(workdir),
               PYTHONPATH=os.pathsep.join(paths),
               IPYTHONDIR="/tmp/ipython", MPLCONFIGDIR="/tmp/mpl",
               PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                     "/usr/local/bin", "/usr/bin", "/bin"]),
               PYTHONDONTWRITEBYTECODE="1", LANG="C.UTF-8",
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    for key, value in sorted(env.items()):
        cmd += ["--setenv", key, value]
    return cmd + ["--", *argv]


RECONNECT_MS = 10


class SandboxKernelClient(AsyncKernelClient):
    """The client of a sandboxed kernel, ready as soon as the kernel is.

    jupyter_client's client is ready once the kernel has answered a kernel_info
    request and then IOPub has been silent for 0.2 s, to drain what the kernel
    published before; and when IOPub was not yet connected as the kernel answered,
    it asks again only a second later. A fifth of a second to a second of every
    grading kernel's start went there. This one is ready when IOPub brings the idle
    status of the request answered, which comes after everything published before
    it; it asks again at once when IOPub says it has just connected (the kernel's
    ``iopub_welcome``), or else after a second.
    """

    kernel_info_reply = None   # the kernel's answer, kept for its language_info

    def _context_default(self):
        # The client connects as the kernel starts, before the kernel's sockets
        # exist: ZeroMQ then tries again after 10 ms rather than its default 100.
        context = super()._context_default()
        context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
        return context

    async def _async_wait_for_ready(self, timeout=None):
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            if await self._answered(self.kernel_info(),
                                    min(1, deadline - time.monotonic())):
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} s")

    wait_for_ready = _async_wait_for_ready

    async def _answered(self, msg_id, seconds):
        """Whether the kernel answers request ``msg_id`` on shell and then shows its
        idle status on IOPub, within ``seconds``; False as soon as it is clear
        that the status was published before IOPub was connected."""
        until = time.monotonic() + max(seconds, 0.1)

        def left():  # never negative: ZeroMQ would wait for ever
            return max(until - time.monotonic(), 0)

        reply = None
        try:
            while reply is None:
                msg = await self.get_shell_msg(timeout=left())
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg
            while True:
                msg = await self.get_iopub_msg(timeout=left())
                if msg["msg_type"] == "iopub_welcome":
                    return False
                if (msg["parent_header"].get("msg_id") == msg_id
                        and msg["msg_type"] == "status"
                        and msg["content"]["execution_state"] == "idle"):
                    break
        except Empty:
            return False
        self._handle_kernel_info_reply(reply)
        self.kernel_info_reply = reply
        return True


class SandboxKernelManager(AsyncKernelManager):
    """An IPython kernel started inside the sandbox of one scratch folder."""

    client_factory = Type(SandboxKernelClient, klass=AsyncKernelClient)

    def __init__(self, workdir, library, memory_mb=None, read_only=(), writable=(),
                 **kwargs):
        workdir = Path(workdir)
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("ip", str(workdir / ".kernel"))
        super().__init__(kernel_name="python3", **kwargs)
        self.connection_file = str(workdir / ".kernel.json")
        # A SIGINT to the process would reach bubblewrap and end the sandbox; an
        # interrupt_request makes the kernel interrupt itself inside it.
        self.kernel_spec.interrupt_mode = "message"
        self._sandbox = dict(workdir=workdir, library=library and Path(library),
                             memory_mb=memory_mb, read_only=read_only,
                             writable=writable)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # The kernel's own start-up chatter is not the submission's output.
        kw.update(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    def format_kernel_cmd(self, extra_arguments=None):
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file,
                f"--IPKernelApp.extensions={protocol.AGENT_MODULE}",
                *(extra_arguments or [])]
        return command(argv, **self._sandbox)


# Seconds the check before a batch waits for a sandboxed Python, then a kernel.
PREFLIGHT_SECONDS = 120


def preflight(library, memory_mb=None):
    """Why no grading kernel can start here, in one sentence, or None when one can.

    Run before a batch, so that a cause all submissions share (bubblewrap refused, a
    folder the sandbox needs missing, the environment out of sight) stops it at once
    instead of failing every submission: a sandboxed Python first (its error is
    bubblewrap's or Python's own message), then a sandboxed kernel running a cell.
    """
    problem = available()
    if problem:
        return problem
    with tempfile.TemporaryDirectory(prefix="kit-preflight-") as tmp:
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        argv = [sys.executable, "-c",
                f"import ipykernel, {protocol.AGENT_MODULE}; print('ready')"]
        try:
            proc = subprocess.run(command(argv, workdir, library, memory_mb),
                                  capture_output=True, text=True,
                                  timeout=PREFLIGHT_SECONDS)
        except subprocess.TimeoutExpired:
            return f"a sandboxed Python did not start within {PREFLIGHT_SECONDS} s"
        if proc.returncode != 0 or "ready" not in proc.stdout:
            return ("a sandboxed Python could not start: "
                    + last_message(proc.stderr or proc.stdout))
        try:
            # In a thread of its own: the caller may be running an event loop (a
            # Dask worker runs this on its own).
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                return pool.submit(asyncio.run, _kernel_check(
                    workdir, library, memory_mb)).result()
        except Exception as exc:  # noqa: BLE001 - whatever stops a kernel is the cause
            return f"a sandboxed kernel could not start: {type(exc).__name__}: {exc}"


async def _kernel_check(workdir, library, memory_mb):
    km = SandboxKernelManager(workdir, library, memory_mb=memory_mb)
    await km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=PREFLIGHT_SECONDS)
        reply = await kc.execute_interactive("1 + 1", timeout=PREFLIGHT_SECONDS,
                                             output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            return "a sandboxed kernel could not run a cell of 1 + 1"
        return None
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)


@contextlib.contextmanager
def blocking_kernel(workdir, library, manager=SandboxKernelManager, **kwargs):
    """A sandboxed kernel started and ready, with a blocking client on its channels
    (for code outside an event loop: tests and benchmarks); ``(km, kc)``."""
    km = manager(workdir, library, **kwargs)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(km.start_kernel())
    kc = BlockingKernelClient()
    kc.load_connection_info(km.get_connection_info())
    kc.start_channels(hb=False)
    try:
        kc.wait_for_ready(timeout=PREFLIGHT_SECONDS)
        yield km, kc
    finally:
        kc.stop_channels()
        loop.run_until_complete(km.shutdown_kernel(now=True))
        loop.close()
