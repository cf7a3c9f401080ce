"""A fork server for grading kernels: the course's modules imported once, a fresh
sandboxed kernel forked for each submission.

Started by :mod:`kit.sandbox.forkserver` in a bubblewrap sandbox of its own, which
sees what a grading kernel sees but, instead of one submission's folder, the worker's
*job root*, in which each kernel's scratch folder is made. The server imports the
modules it is named (the public modules the course's notebooks import: NumPy,
pandas, scikit-learn, the student library's stubs) and ipykernel, and never runs a
line of a submission: it only forks. It keeps the two capabilities it needs to build
a kernel's sandbox (``CAP_SYS_ADMIN`` to mount, ``CAP_SETPCAP`` to give up the
rest), which no kernel keeps.

For each request on its control socket (``.control`` in the job root: one JSON line
naming the kernel's folders and connection file) the server forks a *keeper*, which:

1. enters new mount, PID, network, IPC and UTS namespaces;
2. forks the kernel, PID 1 of its namespace (every process the kernel starts dies
   with it), which builds its own file system: a tmpfs over the job root, so that
   no other job, and not the control socket, is in sight, with its own folders bound
   back (the inbox and the shared folder read-only), a fresh ``/tmp``, ``/dev/shm``
   and ``/proc`` (``/proc/sys`` and the like read-only, as bubblewrap has them);
   then closes every inherited file, gives up every capability (bounding set,
   securebits, ``no_new_privs``: not even an ``execve`` gives one back), checks that
   none is left, and only then starts the kernel;
3. answers the request (``ok``, or why the sandbox could not be built), then stays
   as the kernel's keeper: when the requester closes its end, or sends ``kill``, it
   kills the kernel; when the kernel ends, it sends its exit status.

The kernel of a submission is a copy of the server, never of another kernel: nothing
one submission does reaches the next. Only the standard library here (this folder
is the package ``kit_agent`` inside the sandbox).
"""

import ctypes
import gc
import json
import os
import select
import signal
import socket
import sys
import traceback

CONTROL = ".control"
AGENT = "kit_agent.agent"

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 1, 24, 28
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
# SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP, SECBIT_KEEP_CAPS, SECBIT_NO_CAP_AMBIENT_RAISE,
# each with its lock: uid 0 means nothing to the kernel's capabilities, for good.
SECUREBITS = 0b1110_1111   # every bit and lock but KEEP_CAPS itself
CAPABILITY_VERSION_3 = 0x20080522
# What each kernel gets fresh, and what bubblewrap mounts read-only over a new /proc.
SCRATCH = ("/tmp", "/dev/shm")
PROC_COVERED = ("sys", "sysrq-trigger", "irq", "bus")

_libc = ctypes.CDLL(None, use_errno=True)


def _call(name, *args):
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{args!r}: {os.strerror(errno)}")


def _encode(text):
    return None if text is None else os.fsencode(text)


def _mount(source, target, fstype=None, flags=0, data=None):
    _call("mount", _encode(source), _encode(target), _encode(fstype),
          ctypes.c_ulong(flags), _encode(data))


def _bind(source, target, read_only=False):
    os.makedirs(target, exist_ok=True)
    _mount(source, target, flags=MS_BIND | MS_REC)
    if read_only:
        _mount(None, target, flags=MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID
               | MS_NODEV)


def _unescape(field):
    """A path of /proc/self/mountinfo, where space, tab, newline and backslash are
    written as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"),
                       ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _mounts_under_scratch(root):
    """What the server's sandbox bound under /tmp or /dev/shm, outermost first, with
    whether it is read-only: the environment, when it lives under /tmp. Not the job
    root, which each kernel covers."""
    found = []
    with open("/proc/self/mountinfo") as table:
        for line in table:
            fields = line.split()
            point, read_only = _unescape(fields[4]), "ro" in fields[5].split(",")
            if (any(_inside(point, scratch) and point != scratch
                    for scratch in SCRATCH) and not _inside(point, root)
                    and not any(_inside(point, outer) for outer, _ in found)):
                found.append((point, read_only))
    return found


def _build_sandbox(root, request):
    """In the kernel, PID 1 of its namespaces: its own file system, nothing else."""
    _mount(None, "/", flags=MS_REC | MS_PRIVATE)
    # What must stay in sight, held before it is covered, bound back from the
    # handles: what the server sees under /tmp, then the kernel's own folders.
    folders = _mounts_under_scratch(root)
    folders += [(path, False) for path in request["writable"]]
    folders += [(path, True) for path in request["read_only"]]
    handles = [(os.open(path, os.O_PATH | os.O_DIRECTORY), path, read_only)
               for path, read_only in folders]
    # A fresh /tmp and /dev/shm, then a tmpfs over the job root (which may be under
    # /tmp, or not), then what was held.
    for path in SCRATCH:
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    os.makedirs(root, exist_ok=True)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    for fd, path, read_only in handles:
        _bind(f"/proc/self/fd/{fd}", path, read_only)
        os.close(fd)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_COVERED:
        path = f"/proc/{name}"
        if os.path.exists(path):
            _bind(path, path, read_only=True)


def _drop_capabilities():
    """Give up every capability, for this process and whatever it executes."""
    _call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    _call("prctl", PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0)
    cap = 0
    while _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    _call("prctl", PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _call("capset", header, data)
    with open("/proc/self/status") as status:
        held = [line for line in status if line.startswith(("CapPrm", "CapEff",
                                                            "CapBnd", "CapAmb"))]
    if any(int(line.split()[1], 16) for line in held):
        raise OSError("capabilities were left: " + " ".join(held))


def _kernel(root, request, report):
    """The kernel's own process: build its sandbox, report, then run the kernel."""
    try:
        _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _build_sandbox(root, request)
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, report)
        os.closerange(report + 1, 1 << 16)
        _drop_capabilities()
        workdir = request["workdir"]
        os.chdir(workdir)
        os.environ["HOME"] = workdir
        if "numpy" in sys.modules:  # its global generator, seeded once in the server
            sys.modules["numpy"].random.seed()
    except BaseException as exc:  # noqa: BLE001 - the requester is told why
        os.write(report, f"{type(exc).__name__}: {exc}".encode())
        os._exit(1)
    os.write(report, b"ok")
    os.close(report)
    code = 0
    try:
        from ipykernel import kernelapp
        kernelapp.launch_new_instance(argv=[
            "-f", request["connection_file"], f"--IPKernelApp.extensions={AGENT}"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - its output is /dev/null
        code = 1
    os._exit(code)


def _keeper(root, conn, request):
    """The process between the server and one kernel (see the module docstring)."""
    try:
        _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _call("unshare", CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC
              | CLONE_NEWUTS)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            conn.close()
            _kernel(root, request, write)
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            answer = pipe.read().decode(errors="replace")
    except BaseException as exc:  # noqa: BLE001 - the requester is told why
        answer = f"{type(exc).__name__}: {exc}"
        pid = None
    conn.sendall((json.dumps({"ok": answer == "ok", "error": answer}) + "\n").encode())
    if answer != "ok":
        if pid:
            os.waitpid(pid, 0)
        os._exit(1)
    pidfd = os.pidfd_open(pid)
    while True:
        ready, _, _ = select.select([conn, pidfd], [], [])
        if pidfd in ready:
            break
        order = conn.recv(64)
        if not order or order.startswith(b"kill"):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            break
        if order.startswith(b"signal "):
            signal.pidfd_send_signal(pidfd, int(order.split()[1]))
    _, status = os.waitpid(pid, 0)
    code = (-os.WTERMSIG(status) if os.WIFSIGNALED(status)
            else os.WEXITSTATUS(status))
    try:
        conn.sendall(f"{code}\n".encode())
    except OSError:
        pass
    os._exit(0)


def _preload(modules):
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - left to the notebook, which says why
            pass
    # What a kernel imports as it starts: its debuggers are a fifth of a second.
    import ipykernel.debugger  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import IPython.core.debugger  # noqa: F401
    importlib.import_module(AGENT)


def main(root, modules):
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]   # the job root is no place to import from
    _preload(modules)
    # What is imported lives as long as each kernel: kept out of the collector's
    # rounds, which would otherwise walk (and so copy, page by page) the whole
    # shared heap in every kernel, a tenth of a second each.
    gc.freeze()
    # Forking is safe only from a single thread.
    if len(os.listdir("/proc/self/task")) != 1:
        raise SystemExit("the fork server has more than one thread after its imports")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(os.path.join(root, CONTROL))
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # keepers reap themselves
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        try:
            with conn.makefile("rb") as lines:
                request = json.loads(lines.readline())
        except (OSError, ValueError):
            conn.close()
            continue
        if os.fork() == 0:
            listener.close()
            try:
                _keeper(root, conn, request)
            except BaseException:  # noqa: BLE001
                traceback.print_exc()
            os._exit(1)
        conn.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
