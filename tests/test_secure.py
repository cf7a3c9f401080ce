"""The sandboxed kernel and the remote calls that hidden tests make into it.

These tests start real kernels under bubblewrap, with the student library of
release/ on their path, and call functions in them the way kit.plugins.secure does.
"""

import asyncio
import contextlib
import functools
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from kit.plugins import secure
from kit.sandbox import bubblewrap, forkserver, remote


def test_exceptions_map_to_builtin_types_without_their_message_in_feedback():
    """Does the feedback show a builtin type at most, never the student's own type
    name (which can be any text, the hidden inputs included)?"""
    exc = remote._exception({"raised": True, "mro": ["ShapeError_0_25_1e3",
                             "ValueError", "Exception"], "message": "bad file x.gz"},
                            "parse_mnist")
    assert isinstance(exc, ValueError) and "x.gz" in str(exc)
    assert exc.kit_summary == "parse_mnist() raised ValueError."
    own = remote._exception({"raised": True, "mro": ["Secret_1_2", "BaseException"],
                             "message": "x"}, "f")
    assert isinstance(own, remote.RemoteError)
    assert own.kit_summary == "f() raised an exception."
    stop = remote._exception({"raised": "SystemExit", "mro": ["SystemExit",
                              "BaseException"], "message": "0"}, "f")
    assert isinstance(stop, remote.RemoteError)


@pytest.fixture(scope="module")
def fork_server(repo):
    """A fork server of kernels with the student library, as a worker starts it."""
    server = forkserver.ForkServer(repo.release / "library", 2048,
                                   ["numpy", "pandas", "lib.checks"])
    yield server
    server.close()


@contextlib.contextmanager
def sandboxed_kernel(repo, tmp_path_factory, server=None):
    """A sandboxed kernel, its client and its scratch folders: started by bubblewrap,
    or forked by ``server``."""
    if bubblewrap.available():
        pytest.fail(bubblewrap.available())
    if server is None:
        folders = [tmp_path_factory.mktemp(name) for name in ("work", "inbox",
                                                              "outbox")]
        manager = bubblewrap.SandboxKernelManager
    else:
        scratch = Path(tempfile.mkdtemp(prefix="kit-kernel-", dir=server.root))
        folders = [scratch / name for name in ("work", "inbox", "outbox")]
        for folder in folders:
            folder.mkdir()
        manager = functools.partial(forkserver.ForkKernelManager, server)
    workdir, inbox, outbox = folders
    with bubblewrap.blocking_kernel(workdir, repo.release / "library", memory_mb=2048,
                                    read_only=[inbox], writable=[outbox],
                                    manager=manager) as (km, kc):
        # Forked indeed, not started by bubblewrap because the server failed.
        forked = isinstance(km.provisioner.process, forkserver.Kernel)
        assert forked == (server is not None), forkserver.failure
        yield km, kc, workdir, inbox, outbox


def new_session(km, kc, inbox, outbox, timeout=30):
    return remote.Session(kc, inbox, outbox,
                          lambda: km.provisioner.process.poll() is None,
                          timeout=timeout)


@pytest.fixture(scope="module", params=["bubblewrap", "forked"])
def kernel(request, repo, tmp_path_factory):
    """A sandboxed kernel with a few functions defined, and a remote session: each
    test runs against a kernel started by bubblewrap and one forked by the server."""
    server = request.getfixturevalue("fork_server") if request.param == "forked" \
        else None
    with sandboxed_kernel(repo, tmp_path_factory, server) as (km, kc, workdir, inbox,
                                                               outbox):
        kc.execute_interactive(STUDENT, timeout=60)
        kc.execute_interactive(SHADOWS, timeout=60)
        session = new_session(km, kc, inbox, outbox)
        yield km, kc, session, workdir
        session.close()


STUDENT = """
import numpy as np
def scale_in_place(a, k):
    a *= k
def apply(f, x):
    return f(x) + 1
def uses_helper(x):
    global kept
    kept = helper
    return helper(x) * 2
def use_kept(x):
    return kept(x)
def doubled_helper(x):
    return helper(x) * 2
def lend(f, x):
    return f(lambda t: t * 3, x)
def hand_back(f, g, x):
    return g(f, x)
def noisy(x):
    print("secret", x)
    import warnings
    warnings.warn("careful", RuntimeWarning)
    return x
def fails(path):
    raise ValueError(f"bad magic number in {path}")
def leave():
    import os
    os._exit(0)
"""
# Globals named as what the agent's requests once looked up.
SHADOWS = ("_s, _t, _m = 's', 't', 'm'\n"
           "def globals():\n    raise RuntimeError('shadowed')\n"
           "def __import__(*args, **kwargs):\n"
           "    raise RuntimeError('shadowed')\n")


def run(kc, code):
    """Run ``code`` in the kernel; return its stdout and error text."""
    out = []

    def hook(msg):
        content = msg["content"]
        out.append(content.get("text") or content.get("evalue") or "")
    kc.execute_interactive(code, output_hook=hook, timeout=60)
    return "".join(out)


def test_the_kernel_sees_only_the_student_library_and_its_folder(kernel, repo):
    km, kc, session, workdir = kernel
    assert "/opt/kit/library/lib/" in run(kc, "import lib; print(lib.__file__)")
    out = run(kc, "from lib import logistic\ntry:\n    logistic.sigmoid(0.0)\n"
                  "except NotImplementedError as e:\n    print('stub:', e)")
    assert out.startswith("stub:")
    for path in [repo.root / "lib" / "logistic.py", repo.root / "gradebook.db",
                 repo.source, repo.solutions, repo.root / "nbgrader_config.py"]:
        assert "No such file" in run(kc, f"open({str(path)!r}, 'rb')"), path
    assert str(workdir) in run(kc, "import os; print(os.getcwd())")


def test_the_kernel_has_no_network_and_a_memory_limit(kernel):
    km, kc, session, workdir = kernel
    out = run(kc, "import socket\ntry:\n    socket.create_connection(('pypi.org', 443),"
                  " timeout=3)\nexcept OSError as e:\n    print('refused', e)")
    assert out.startswith("refused")
    out = run(kc, "try:\n    x = np.ones(2**31)\n"
                  "except MemoryError:\n    print('limit')")
    assert out.strip() == "limit"


# A kernel that keeps capabilities (bubblewrap keeps them all when the grader runs as
# root) remounts the environment it is lent read-only as writable, and plants a .pth
# file that the next Python started from that environment runs: every later kernel
# and the grader's own next run, outside any sandbox.
ATTACK = '''
import ctypes, os, site, sys
libc = ctypes.CDLL(None, use_errno=True)
MS_REMOUNT, MS_BIND = 32, 4096
for line in open("/proc/self/mountinfo"):
    point = line.split()[4].replace("\\\\040", " ")
    if libc.mount(None, point.encode(), None, MS_REMOUNT | MS_BIND, None) == 0:
        print("remounted", point)
for folder in [sys.prefix, *site.getsitepackages(), "/usr/lib"]:
    try:
        with open(os.path.join(folder, "zz-planted.pth"), "w") as f:
            f.write("import os\\n")
        print("planted", folder)
    except OSError:
        pass
'''
# The same again in a process of its own, in a user and mount namespace of its own,
# where it holds every capability.
NESTED = '''
import ctypes, sys
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
if ctypes.CDLL(None).unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
    sys.exit()
for name, text in [("setgroups", "deny"), ("uid_map", "0 0 1"), ("gid_map", "0 0 1")]:
    with open(f"/proc/self/{name}", "w") as f:
        f.write(text)
''' + ATTACK
REMOUNT = ('print("caps", open("/proc/self/status").read()'
           '.split("CapEff:")[1].split()[0])\n' + ATTACK
           + "import subprocess\n"
           f"print(subprocess.run([sys.executable, '-c', {NESTED!r}],"
           " capture_output=True, text=True).stdout)\n")

def test_the_kernel_holds_no_capability_and_cannot_unlock_what_it_reads(kernel):
    km, kc, session, workdir = kernel
    out = run(kc, REMOUNT)
    planted = [*Path(sys.prefix).rglob("zz-planted.pth"),
               Path("/usr/lib/zz-planted.pth")]
    for path in planted:
        path.unlink(missing_ok=True)
    assert "caps 0000000000000000" in out, out
    assert "remounted" not in out and "planted" not in out, out


def test_the_grader_never_follows_links_the_kernel_plants(kernel, tmp_path):
    km, kc, session, workdir = kernel
    precious = tmp_path / "precious.txt"
    precious.write_text("keep")
    inbox, outbox = session.inbox, session.outbox
    out = run(kc, f"import os\ntry:\n    os.symlink({str(precious)!r}, "
                  f"{str(inbox / 'r99.pkl')!r})\nexcept OSError as e:\n"
                  "    print('read-only', e)")
    assert out.startswith("read-only")
    os_link = outbox / "planted.json"
    run(kc, f"import os; os.symlink({str(precious)!r}, {str(os_link)!r})")
    with pytest.raises(remote.KernelGone):
        remote.load(outbox / "planted")
    run(kc, f"import os; os.mkfifo({str(outbox / 'pipe.json')!r})")
    with pytest.raises(remote.ReplyRefused, match="not a regular file"):
        remote.load(outbox / "pipe")
    assert precious.read_text() == "keep"


def call(session, name, *args, **kwargs):
    return remote.RemoteFunction(session, name)(*args, **kwargs)


def test_in_place_updates_are_reported_never_applied(kernel):
    """Does the grader learn what a call did to its arguments, while its own
    arrays stay as they were?"""
    session = kernel[2]
    a = np.arange(4.0)
    value, after, kwafter = session.call("scale_in_place", (a, 3.0), {})
    assert value is None and after[1] is None and kwafter == {}
    np.testing.assert_array_equal(after[0], [0.0, 3.0, 6.0, 9.0])
    np.testing.assert_array_equal(a, [0.0, 1.0, 2.0, 3.0])
    _, _, kwafter = session.call("scale_in_place", (), {"a": a, "k": 2.0})
    np.testing.assert_array_equal(kwafter["a"], [0.0, 2.0, 4.0, 6.0])


def test_the_agent_reads_writes_and_deletes_no_global_of_the_student(kernel):
    """Do the grader's requests work past globals that shadow builtins, and leave
    every global of the student's as it was?"""
    km, kc, session, _ = kernel
    before = run(kc, "print(sorted(k for k in get_ipython().user_ns "
                     "if not k.startswith('_i') and k not in ('_', '__', '___')))")
    assert call(session, "apply", lambda x: x * 2, 1.0) == 3.0
    with session.substitute({"helper": lambda x: x}):
        assert call(session, "doubled_helper", 4) == 8
    assert run(kc, "print(_s, _t, _m)").split() == ["s", "t", "m"]
    after = run(kc, "print(sorted(k for k in get_ipython().user_ns "
                    "if not k.startswith('_i') and k not in ('_', '__', '___')))")
    assert after == before


def test_functions_passed_in_run_in_the_grader(kernel):
    session = kernel[2]
    calls = []

    def square(x):
        calls.append(x)
        return x * x
    assert call(session, "apply", square, 3.0) == 10.0
    assert calls == [3.0]
    with session.substitute({"helper": lambda x: x + 100}):
        assert call(session, "uses_helper", 1) == 202
    with pytest.raises(NameError):
        call(session, "uses_helper", 1)
    # a function of the kernel's passed to one of the grader's runs in the kernel
    assert call(session, "lend", lambda h, x: h(x) + 1, 2) == 7
    # a function of the grader's passed back to the grader is itself again
    assert call(session, "hand_back", square, lambda f, x: f(x) * 10, 4) == 160
    # a grader's function kept by the student's code reaches nothing afterwards
    with pytest.raises(KeyError) as info:
        call(session, "use_kept", 1)
    assert info.value.kit_summary == "use_kept() raised KeyError."
    # what a function of the grader's returns that cannot cross raises there
    with pytest.raises(TypeError) as info:
        call(session, "apply", lambda x: (x for _ in ()), 1)
    assert info.value.kit_summary == "apply() raised TypeError."


def test_output_stays_in_the_kernel_and_warnings_come_back(kernel):
    session = kernel[2]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert call(session, "noisy", 5) == 5
    assert [w.category for w in caught] == [RuntimeWarning]


def test_exceptions_come_back_as_exceptions(kernel):
    session = kernel[2]
    with pytest.raises(ValueError, match="bad magic number in x.gz") as info:
        call(session, "fails", "x.gz")
    assert info.value.kit_summary == "fails() raised ValueError."


def hidden_test(session, namespace, source):
    """Run ``source`` as a hidden test cell; return its outputs (nothing: passed)."""
    return secure.run_test(source, "t", namespace, session, secure.Outcome())


def test_hidden_tests_read_and_delete_the_students_globals_as_in_the_kernel(kernel):
    """nbgrader's tests run in the student's namespace: a test reads the student's
    variables, and deletes a function to see that another one needs it."""
    km, kc, session, _ = kernel
    run(kc, "answer = [42, 'x']\n"
            "def squares(n):\n    return [i * i for i in range(1, n + 1)]\n"
            "def sum_of_squares(n):\n    return sum(squares(n))\n"
            "def own_sum(n):\n    return sum(i * i for i in range(1, n + 1))\n")
    namespace = {"__builtins__": __builtins__}
    assert hidden_test(session, namespace, "assert answer == [42, 'x']") == []
    uses = ("orig = squares\ndel squares\ntry:\n    {f}(1)\nexcept NameError:\n"
            "    pass\nelse:\n    raise AssertionError('does not use squares')\n"
            "finally:\n    squares = orig\n")
    assert hidden_test(session, namespace, uses.format(f="sum_of_squares")) == []
    failed = hidden_test(session, namespace, uses.format(f="own_sum"))
    assert failed[-1].evalue == "does not use squares"
    # put back in the kernel as well, the very function it was
    assert hidden_test(session, namespace, "assert sum_of_squares(3) == 14") == []
    assert run(kc, "print(sum_of_squares(3), squares.__name__)").split() == [
        "14", "squares"]
    # a test that deletes and does not put back leaves the name deleted
    assert hidden_test(session, namespace, "del squares") == []
    assert hidden_test(session, namespace, "squares(2)")[-1].ename == "NameError"
    assert "is not defined" in run(kc, "squares")
    run(kc, "def squares(n):\n    return [i * i for i in range(1, n + 1)]")


def test_a_tests_own_values_never_reach_the_kernel(kernel):
    """A hidden test binding a name the student's code chose (to a hidden input,
    or to a function of its own) binds it in the grader only: the student's code
    could read it there."""
    km, kc, session, _ = kernel
    run(kc, "def expected():\n    return None\nanswer = 1\n"
            "def squares(n):\n    return [i * i for i in range(1, n + 1)]\n"
            "def peek():\n    return expected if not callable(expected) else answer\n")
    namespace = {"__builtins__": __builtins__}
    out = hidden_test(session, namespace,
                      "answer = 99\nexpected = 41\ndef squares(n):\n    return []\n"
                      "assert peek() == 1\nassert squares(3) == []")
    assert out == []
    assert run(kc, "print(answer, callable(expected), squares(2))").split() == [
        "1", "True", "[1,", "4]"]


def test_a_kernel_that_exits_ends_the_session(kernel):
    session = kernel[2]
    with pytest.raises(remote.KernelGone, match="died"):
        call(session, "leave")
    with pytest.raises(remote.KernelGone):
        call(session, "noisy", 1)


LINE_ATTACKS = {
    # a header announcing more than the grader reads
    "too large": ("line.sendall(struct.pack('<QQ', 2**62, 0))",
                  "refused what the kernel sent on its line"),
    # a frame whose head is not an object with a kind and a key
    "not an object": ("line.sendall(struct.pack('<QQ', 6, 0) + b'[1, 2]')",
                      "refused what the kernel sent on its line"),
    # half a frame, then nothing: the grader waits no longer than a call may take
    "stalled": ("line.sendall(struct.pack('<QQ', 100, 0) + b'{')\n"
                "    import time; time.sleep(30)", "did not finish a call within 2 s"),
    "closed": ("line.close()", "closed its line"),
}


@pytest.mark.parametrize("attack", LINE_ATTACKS)
def test_a_kernel_that_breaks_its_line_to_the_grader_is_lost(repo, tmp_path_factory,
                                                              attack):
    """The line for callbacks is the student's code's to write: whatever it sends
    there, the grader gives up on the kernel within the call's time, with the
    reason, and reads nothing it would not read from a file."""
    code, reason = LINE_ATTACKS[attack]
    with sandboxed_kernel(repo, tmp_path_factory) as (km, kc, _, inbox, outbox):
        kc.execute_interactive(
            "import struct, sys\n"
            "def hostile(f):\n"
            "    line = sys.modules['kit_agent.agent'].Agent.line\n"
            f"    {code}\n"
            "    return f(1)\n", timeout=60)
        session = new_session(km, kc, inbox, outbox, timeout=2)
        try:
            with pytest.raises(remote.KernelGone, match=reason):
                call(session, "hostile", lambda x: x)
            with pytest.raises(remote.KernelGone, match=reason):
                call(session, "hostile", lambda x: x)
        finally:
            session.close()


# What a kernel forked by the server sees of the server, of other jobs and of the
# kernel forked before it.
PEEK = '''
import os, sys, numpy
procs = sorted(p for p in os.listdir("/proc") if p.isdigit())
print("pid", os.getpid(), "procs", procs)
print("root", sorted(os.listdir(os.path.dirname(os.path.dirname(os.getcwd())))))
print("tmp", sorted(os.listdir("/tmp")), "mark", getattr(numpy, "kit_mark", None))
numpy.kit_mark = 1
open("/tmp/left-behind", "w").write("x")
'''


def test_a_forked_kernel_sees_no_other_job_nor_the_server_nor_its_forerunner(
        repo, tmp_path_factory, fork_server):
    """Does each forked kernel start from the server, not from the kernel before it,
    alone in its process tree and its job root (no control socket, no other job),
    and die when its job lets go of it?"""
    with sandboxed_kernel(repo, tmp_path_factory, fork_server) as (km, kc, workdir,
                                                                    _, _):
        first = run(kc, PEEK)
        process = km.provisioner.process
        with sandboxed_kernel(repo, tmp_path_factory, fork_server) as (_, kc2, _, _,
                                                                        _):
            second = run(kc2, PEEK)
    for out in (first, second):
        assert "pid 1 procs ['1']" in out, out
        assert "root ['kit-kernel-" in out and ".control" not in out, out
        assert "left-behind" not in out and "mark None" in out, out
    assert workdir.parent.name in first and workdir.parent.name not in second
    assert process.poll() is not None


# A kernel forked from a server whose environment is reached through ``sys.prefix``.
UNDER_TMP = """
import sys, tempfile
from pathlib import Path
from kit.sandbox import bubblewrap, forkserver
bubblewrap.PREFLIGHT_SECONDS = 20
server = forkserver.ForkServer(sys.argv[1], 2048, ["numpy"])
try:
    work = Path(tempfile.mkdtemp(prefix="kit-kernel-", dir=server.root)) / "work"
    work.mkdir()
    manager = lambda *a, **k: forkserver.ForkKernelManager(server, *a, **k)
    with bubblewrap.blocking_kernel(work, sys.argv[1], manager=manager) as (km, kc):
        assert isinstance(km.provisioner.process, forkserver.Kernel), forkserver.failure
        out = []
        kc.execute_interactive(
            "import sys, scipy.special; print(sys.prefix, scipy.special.__file__)",
            output_hook=lambda msg: out.append(msg["content"].get("text", "")),
            timeout=60)
        print("".join(out))
finally:
    server.close()
"""


def test_a_forked_kernel_imports_from_an_environment_under_tmp(repo, tmp_path):
    """Each kernel gets a fresh /tmp: when the course's environment lives under /tmp
    (as a checkout there does), it must still import from it. Here ``sys.prefix`` is
    a link under /tmp, with a space in its name, to the environment."""
    env = tmp_path / "env under tmp"
    env.symlink_to(sys.prefix, target_is_directory=True)
    assert str(env).startswith("/tmp/"), env
    done = subprocess.run(
        [str(env / "bin" / "python"), "-c", UNDER_TMP, str(repo.release / "library")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    # sys.prefix, then where SciPy (not imported by the server) was found.
    assert done.stdout.startswith(f"{env} {env}/lib/"), done.stdout


def _forked():
    """Processes of a fork server, its keepers and kernels (they share its command)."""
    return {p.name for p in Path("/proc").iterdir() if p.name.isdigit()
            and b"kit_agent.zygote" in (p / "cmdline").read_bytes()}


def test_a_forked_kernel_dies_with_the_job_that_holds_it(fork_server):
    before = _forked()
    scratch = Path(tempfile.mkdtemp(prefix="kit-kernel-", dir=fork_server.root))
    (scratch / "work").mkdir()
    kernel = fork_server.spawn(scratch / "work", scratch / "work" / ".kernel.json")
    assert kernel.poll() is None and len(_forked() - before) == 2  # keeper, kernel
    kernel._conn.close()   # the job died: its end of the socket closes
    deadline = time.monotonic() + 10
    while _forked() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _forked() - before, "the kernel and its keeper outlived the job"


@pytest.mark.parametrize("forked", [False, True], ids=["bubblewrap", "forked"])
def test_a_sandboxed_kernel_client_is_ready_with_all_its_channels(
        repo, fork_server, forked):
    """The client of grading kernels is ready sooner than jupyter_client's: it must
    still have IOPub connected, so that not an output of the first cell is lost."""
    async def start_and_print():
        scratch = Path(tempfile.mkdtemp(prefix="kit-kernel-", dir=fork_server.root))
        (scratch / "work").mkdir()
        manager = (functools.partial(forkserver.ForkKernelManager, fork_server)
                   if forked else bubblewrap.SandboxKernelManager)
        km = manager(scratch / "work", repo.release / "library")
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            info = kc.kernel_info_reply["content"]["language_info"]["name"]
            asked = kc.execute("print('first words')")
            text = ""
            while True:
                msg = await kc.get_iopub_msg(timeout=10)
                if msg["parent_header"].get("msg_id") != asked:
                    continue
                text += msg["content"].get("text", "")
                if msg["content"].get("execution_state") == "idle":
                    return info, text
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    assert isinstance(bubblewrap.SandboxKernelManager(".", None).client(),
                      bubblewrap.SandboxKernelClient)
    for _ in range(3):
        assert asyncio.run(start_and_print()) == ("python", "first words\n")
