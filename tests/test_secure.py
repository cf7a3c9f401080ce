"""The sandboxed kernel and the remote calls that hidden tests make into it.

These tests start real kernels under bubblewrap, with the student library of
release/ on their path, and call functions in them the way kit.secure does.
"""

import asyncio
import warnings

import numpy as np
import pytest
from jupyter_client import BlockingKernelClient

from kit import kernelside, remote, sandbox


def roundtrip(value, tmp_path):
    kernelside.save(tmp_path / "v", value)
    tree, arrays = remote.load(tmp_path / "v")
    return remote.decode(tree, arrays)


def test_values_cross_as_plain_data(tmp_path):
    value = (1.5, 3, True, None, "text", [np.arange(3.0), np.float64(2.5)],
             {"k": np.int32(4)}, np.array(["a", "b"]), 10**30, float("nan"),
             {"W1", "b1"})
    back = roundtrip(value, tmp_path)
    assert isinstance(back, tuple) and back[:5] == (1.5, 3, True, None, "text")
    assert type(back[1]) is int and type(back[2]) is bool
    np.testing.assert_array_equal(back[5][0], np.arange(3.0))
    assert isinstance(back[5][1], np.float64) and back[5][1] == 2.5
    assert isinstance(back[6]["k"], np.int32)
    assert list(back[7]) == ["a", "b"] and back[8] == 10**30 and np.isnan(back[9])
    assert back[10] == {"W1", "b1"}


def test_objects_and_object_arrays_do_not_cross(tmp_path):
    class Sneaky:
        def __eq__(self, other):
            return True

    back = roundtrip([Sneaky(), np.array([Sneaky()], dtype=object)], tmp_path)
    assert all(isinstance(v, remote.RemoteObject) for v in back)
    assert back[0] != 1


def test_a_reply_with_pickles_is_refused(tmp_path):
    np.savez(tmp_path / "v.npz", a0=np.array([object()], dtype=object))
    (tmp_path / "v.json").write_text('{"t": "nd", "k": "a0"}')
    with pytest.raises(ValueError, match="allow_pickle"):
        remote.load(tmp_path / "v")


def test_exceptions_map_to_builtin_types_without_their_message_in_feedback():
    exc = remote._exception({"raised": "ShapeError", "mro": ["ShapeError", "ValueError",
                             "Exception"], "message": "bad file x.gz"}, "parse_mnist")
    assert isinstance(exc, ValueError) and "x.gz" in str(exc)
    assert exc.kit_summary == "parse_mnist() raised ShapeError."
    stop = remote._exception({"raised": "SystemExit", "mro": ["SystemExit",
                              "BaseException"], "message": "0"}, "f")
    assert isinstance(stop, remote.RemoteError)


@pytest.fixture(scope="module")
def kernel(repo, tmp_path_factory):
    """A sandboxed kernel with a few functions defined, and a remote session."""
    if sandbox.available():
        pytest.fail(sandbox.available())
    workdir, inbox, outbox = (tmp_path_factory.mktemp(name)
                              for name in ("work", "inbox", "outbox"))
    km = sandbox.SandboxKernelManager(workdir, repo.release / "library", memory_mb=2048,
                                      read_only=[inbox], writable=[outbox])
    loop = asyncio.new_event_loop()
    loop.run_until_complete(km.start_kernel())
    kc = BlockingKernelClient()
    kc.load_connection_info(km.get_connection_info())
    kc.start_channels(hb=False)
    kc.wait_for_ready(timeout=60)
    kc.execute_interactive("""
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
""", timeout=60)
    session = remote.Session(kc, inbox, outbox,
                             lambda: km.provisioner.process.poll() is None, timeout=30)
    yield km, kc, session, workdir
    kc.stop_channels()
    loop.run_until_complete(km.shutdown_kernel(now=True))
    loop.close()


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
    with pytest.raises(remote.KernelGone, match="not a regular file"):
        remote.load(outbox / "pipe")
    assert precious.read_text() == "keep"


def test_in_place_updates_come_back(kernel):
    session = kernel[2]
    a = np.arange(4.0)
    assert session.call("scale_in_place", (a, 3.0), {}) is None
    np.testing.assert_array_equal(a, [0.0, 3.0, 6.0, 9.0])


def test_functions_passed_in_run_in_the_grader(kernel):
    session = kernel[2]
    calls = []

    def square(x):
        calls.append(x)
        return x * x
    assert session.call("apply", (square, 3.0), {}) == 10.0
    assert calls == [3.0]
    with session.substitute({"helper": lambda x: x + 100}):
        assert session.call("uses_helper", (1,), {}) == 202
    with pytest.raises(NameError):
        session.call("uses_helper", (1,), {})
    # a function of the kernel's passed to one of the grader's runs in the kernel
    assert session.call("lend", (lambda h, x: h(x) + 1, 2), {}) == 7
    # a function of the grader's passed back to the grader is itself again
    assert session.call("hand_back", (square, lambda f, x: f(x) * 10, 4), {}) == 160
    # a grader's function kept by the student's code reaches nothing afterwards
    with pytest.raises(KeyError) as info:
        session.call("use_kept", (1,), {})
    assert info.value.kit_summary == "use_kept() raised KeyError."


def test_output_stays_in_the_kernel_and_warnings_come_back(kernel):
    session = kernel[2]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert session.call("noisy", (5,), {}) == 5
    assert [w.category for w in caught] == [RuntimeWarning]


def test_exceptions_come_back_as_exceptions(kernel):
    session = kernel[2]
    with pytest.raises(ValueError, match="bad magic number in x.gz") as info:
        session.call("fails", ("x.gz",), {})
    assert info.value.kit_summary == "fails() raised ValueError."


def test_a_kernel_that_exits_ends_the_session(kernel):
    session = kernel[2]
    with pytest.raises(remote.KernelGone, match="died"):
        session.call("leave", (), {})
    with pytest.raises(remote.KernelGone):
        session.call("noisy", (1,), {})
