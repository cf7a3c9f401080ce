"""The grader-kernel protocol on its own: the codec's round trips, every kind of
value it refuses, and the names both halves share (no kernel is started)."""

import ast
import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from kit.sandbox.kernel import agent, protocol
from kit.sandbox.kernel.protocol import Tag


def roundtrip(value, tmp_path):
    protocol.save(tmp_path / "v", value)
    tree, arrays = protocol.load(tmp_path / "v")
    return protocol.decode(tree, arrays)


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
    assert all(isinstance(v, protocol.RemoteObject) for v in back)
    assert back[0] != 1


def test_a_dataframe_of_plain_columns_crosses_as_one(tmp_path):
    """A training history (pandas.DataFrame) comes back as a DataFrame with the same
    columns, dtypes and index; one with a column of objects does not cross."""
    frame = pd.DataFrame({"step": [5, 10], "val_loss": [0.5, 0.25],
                          "name": ["a", "b"]}, index=[3, 7])
    back = roundtrip({"history": frame, "empty": pd.DataFrame()}, tmp_path)
    pd.testing.assert_frame_equal(back["history"], frame)
    assert back["empty"].shape == (0, 0)
    sneaky = pd.DataFrame({"x": [object()]})
    assert isinstance(roundtrip(sneaky, tmp_path), protocol.RemoteObject)


@pytest.mark.parametrize("columns, index, why", [
    ([{"t": "nd", "k": "a0"}], {"t": "nd", "k": "a1"}, "columns of other lengths"),
    ([], {"t": "list", "v": []}, "an index that is not an array"),
    ([{"t": "list", "v": []}], {"t": "nd", "k": "a0"}, "a column that is not one"),
])
def test_a_frame_that_is_not_plain_becomes_opaque(columns, index, why):
    arrays = {"a0": np.arange(3), "a1": np.arange(4)}
    tree = {"t": "df", "c": [{"t": "str", "v": f"c{i}"} for i in range(len(columns))],
            "v": columns, "i": index}
    assert isinstance(protocol.decode(tree, arrays), protocol.RemoteObject), why


def reply_of(tmp_path, arrays=None, tree='{"t": "nd", "k": "a0"}', **zip_options):
    """Write a reply as a hostile kernel could: ``arrays`` {name: bytes of .npy}."""
    with zipfile.ZipFile(tmp_path / "v.npz", "w", **zip_options) as zf:
        for name, data in (arrays or {}).items():
            zf.writestr(f"{name}.npy", data)
    (tmp_path / "v.json").write_text(tree)
    return tmp_path / "v"


def npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def test_a_reply_with_pickles_is_refused(tmp_path):
    base = reply_of(tmp_path, {"a0": npy(np.array([object()], dtype=object))})
    with pytest.raises(protocol.ReplyRefused, match="not numbers or text"):
        protocol.load(base)


@pytest.mark.parametrize("what", ["bomb", "lying header", "structured", "members",
                                  "json size", "json depth", "not a zip"])
def test_a_reply_over_the_limits_is_refused_before_it_is_inflated(tmp_path, what):
    """Is every kind of hostile reply refused, without allocating what it claims?"""
    big = npy(np.zeros(2**20))  # 8 MB of zeros: deflates to a few kB
    header = npy(np.zeros(3))[:-24].replace(b"(3,)", b"(10000000000,)")
    cases = {
        "bomb": lambda: reply_of(tmp_path, {"a0": big},
                                 compression=zipfile.ZIP_DEFLATED),
        "lying header": lambda: reply_of(tmp_path, {"a0": header}),
        "structured": lambda: reply_of(
            tmp_path, {"a0": npy(np.zeros(2, dtype=[("x", "f8"), ("y", "O")]))}),
        "members": lambda: reply_of(tmp_path, {
            f"a{i}": npy(np.zeros(1)) for i in range(protocol.MAX_ARRAYS + 1)}),
        "json size": lambda: reply_of(
            tmp_path,
            tree='{"t": "str", "v": "' + "x" * protocol.MAX_JSON_BYTES + '"}'),
        "json depth": lambda: reply_of(tmp_path, tree="[" * 100_000 + "]" * 100_000),
        "not a zip": lambda: (reply_of(tmp_path).with_suffix(".npz").write_bytes(
            b"PK\x03\x04 not really"), tmp_path / "v")[1],
    }
    with pytest.raises(protocol.ReplyRefused):
        protocol.load(cases[what]())


def test_functions_cross_as_tagged_keys_only_when_exported(tmp_path):
    def student_function(x):
        return x

    exported = []
    protocol.save(tmp_path / "f", [student_function, len],
                  export=lambda f: exported.append(f) or (Tag.KERNEL_FUNCTION, "k0"))
    tree, arrays = protocol.load(tmp_path / "f")
    assert tree["v"][0] == {"t": Tag.KERNEL_FUNCTION, "k": "k0"}
    assert exported[0] is student_function
    # Without a resolver the grader sees an opaque value, never a callable.
    back = protocol.decode(tree, arrays)
    assert isinstance(back[0], protocol.RemoteObject)
    resolved = protocol.decode(tree, arrays, resolve=lambda tag, key: (tag, key))
    assert resolved[0] == (Tag.KERNEL_FUNCTION, "k0")
    # Without an exporter a function is opaque on the kernel's side too.
    assert protocol.encode(student_function, {})["t"] == Tag.OPAQUE


def test_the_agent_exports_grader_callbacks_under_their_own_key():
    def stub():
        pass

    stub._kit_key = "f7"
    assert agent.export(stub) == (Tag.CALLBACK, "f7")
    tag, key = agent.export(print)
    assert tag == Tag.KERNEL_FUNCTION and agent.EXPORTED[key] is print


@pytest.mark.parametrize("tree, why", [
    ({"t": "int", "v": "9" * 6000}, "an integer of thousands of digits"),
    ({"t": "int", "v": 5}, "an integer not written as text"),
    ({"t": "nd", "k": "a9"}, "an array the .npz does not hold"),
    ({"t": "pickle", "v": "gASV"}, "a tag the protocol does not have"),
    ("not a dict", "a tree that is not a tagged value"),
])
def test_values_the_grader_does_not_read_become_opaque(tree, why):
    assert isinstance(protocol.decode(tree, {}), protocol.RemoteObject), why


def test_unhashable_set_members_and_dict_keys_are_left_out():
    member = {"t": "list", "v": []}
    assert protocol.decode({"t": "set", "v": [member, {"t": "int", "v": "1"}]},
                           {}) == {1}
    pair = [member, {"t": "int", "v": "2"}]
    assert protocol.decode({"t": "dict", "v": [pair]}, {}) == {}


def test_nesting_beyond_the_limit_is_opaque(tmp_path):
    deep = []
    for _ in range(protocol.MAX_DEPTH + 5):
        deep = [deep]
    protocol.save(tmp_path / "d", deep)
    back = protocol.decode(*protocol.load(tmp_path / "d"))
    for _ in range(protocol.MAX_DEPTH):
        back = back[0]
    assert isinstance(back[0], protocol.RemoteObject)


def test_strings_are_cut_and_dict_keys_stay_plain():
    tree = protocol.encode({"k" * 5: "x" * (protocol.MAX_STR + 10), (1, 2): 3}, {})
    back = protocol.decode(tree, {})
    assert back[(1, 2)] == 3 and len(back["kkkkk"]) == protocol.MAX_STR


def test_a_missing_reply_is_told_apart_from_a_refused_one(tmp_path):
    with pytest.raises(protocol.ReplyMissing):
        protocol.load(tmp_path / "never-written")


def test_frames_on_the_line_round_trip_and_their_limits_are_kept():
    frame = protocol.pack(protocol.CALLBACK, "f1", [[np.arange(3.0), 2], {"k": "v"}])
    sizes = protocol.frame_sizes(frame[:protocol.FRAME.size])
    head = frame[protocol.FRAME.size:protocol.FRAME.size + sizes[0]]
    npz = frame[protocol.FRAME.size + sizes[0]:]
    assert len(npz) == sizes[1]
    kind, key, tree = protocol.unpack(head)
    assert (kind, key) == (protocol.CALLBACK, "f1")
    args, kwargs = protocol.decode(tree, protocol.read_npz(npz))
    np.testing.assert_array_equal(args[0], np.arange(3.0))
    assert args[1] == 2 and kwargs == {"k": "v"}
    for sizes in [(protocol.MAX_JSON_BYTES + 1, 0), (2, protocol.MAX_REPLY_BYTES + 1),
                  (2**63, 2**63)]:
        with pytest.raises(protocol.ReplyRefused, match="larger than"):
            protocol.frame_sizes(protocol.FRAME.pack(*sizes))
    for head in (b"[1, 2]", b"{not json", b'"text"'):
        with pytest.raises(protocol.ReplyRefused):
            protocol.unpack(head)


def test_markers_are_tuples_of_a_mark_and_a_key():
    assert protocol.marker((protocol.CALLBACK_MARK, "f1")) == (
        protocol.CALLBACK_MARK, "f1")
    assert protocol.marker(["\0kit-callback", "f1"]) is None  # a list is data


def test_the_request_reaches_the_agent_class_by_its_module_name():
    code = protocol.REQUEST.format(inbox="/i", outbox="/o", request="r1")
    ast.parse(code)
    assert repr(protocol.AGENT_MODULE) in code
    assert agent.Agent.__name__ == "Agent"
