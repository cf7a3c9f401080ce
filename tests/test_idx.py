"""Tests of the idx format: lib.idx.write_idx and lib.softmax.read_idx."""

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from lib.idx import write_idx
from lib.softmax import read_idx

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared/data/mnist"
DTYPES = ["uint8", "int8", ">i2", "<i2", ">i4", "<i4", ">f4", "<f4", ">f8", "<f8"]


def in_message(path):
    """A regex matching the path where it appears in an error message."""
    return re.escape(str(path))


def sample_array(dtype, shape):
    values = np.arange(np.prod(shape)).reshape(shape) % 100 - 50
    if np.dtype(dtype).kind == "u":
        values = values + 50
    if np.dtype(dtype).kind == "f":
        values = values / 7
    return values.astype(dtype)


def header(code, sizes):
    return bytes([0, 0, code, len(sizes)]) + np.asarray(sizes, ">u4").tobytes()


@pytest.fixture(scope="module")
def t10k_paths():
    images = MNIST_DIR / "t10k-images-idx3-ubyte.gz"
    labels = MNIST_DIR / "t10k-labels-idx1-ubyte.gz"
    if not (images.is_file() and labels.is_file()):
        pytest.skip(
            f"MNIST test set not found at {MNIST_DIR}: see shared/data/mnist/README.md"
        )
    return images, labels


# --- round trips ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_gives_back_the_array(tmp_path, dtype, shape, suffix):
    array = sample_array(dtype, shape)
    path = tmp_path / f"a-idx{len(shape)}{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.shape == shape
    assert back.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(back, array)


def test_read_returns_native_byte_order_and_a_writable_array(tmp_path):
    write_idx(tmp_path / "a", np.arange(6, dtype=">i4").reshape(2, 3))
    back = read_idx(tmp_path / "a")
    assert back.dtype.isnative
    assert back.flags.writeable


def test_round_trip_of_a_non_contiguous_array(tmp_path):
    array = np.arange(24, dtype=np.float32).reshape(4, 6)[:, ::2].T
    write_idx(tmp_path / "t.gz", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "t.gz"), array)


def test_round_trip_of_an_empty_array(tmp_path):
    write_idx(tmp_path / "e", np.zeros((0, 28, 28), dtype=np.uint8))
    assert read_idx(tmp_path / "e").shape == (0, 28, 28)


def test_written_header_is_the_idx_header(tmp_path):
    """Does a uint8 3-d array start with 00 00 08 03 and big-endian sizes?"""
    write_idx(tmp_path / "images", np.zeros((2, 28, 27), dtype=np.uint8))
    raw = (tmp_path / "images").read_bytes()
    assert raw[:16] == bytes.fromhex("00000803 00000002 0000001c 0000001b")
    assert len(raw) == 16 + 2 * 28 * 27


def test_float64_is_written_big_endian(tmp_path):
    write_idx(tmp_path / "f", np.array([1.5], dtype="<f8"))
    raw = (tmp_path / "f").read_bytes()
    assert raw == header(0x0E, [1]) + np.array([1.5], ">f8").tobytes()


def test_gz_suffix_writes_gzip(tmp_path):
    write_idx(tmp_path / "a.gz", np.arange(5, dtype=np.uint8))
    raw = (tmp_path / "a.gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    assert gzip.decompress(raw) == header(0x08, [5]) + bytes(range(5))


def test_gzip_is_detected_by_magic_bytes_not_suffix(tmp_path):
    """Are gzip files without .gz, and raw files with .gz, both read?"""
    array = sample_array(">i2", (3, 4))
    write_idx(tmp_path / "compressed.gz", array)
    (tmp_path / "compressed.gz").rename(tmp_path / "compressed")
    np.testing.assert_array_equal(read_idx(tmp_path / "compressed"), array)

    write_idx(tmp_path / "raw", array)
    (tmp_path / "raw").rename(tmp_path / "raw.gz")
    np.testing.assert_array_equal(read_idx(tmp_path / "raw.gz"), array)


def test_gzip_output_is_reproducible(tmp_path):
    """Does the same array always give the same compressed bytes?"""
    array = sample_array("uint8", (10, 28, 28))
    write_idx(tmp_path / "one.gz", array)
    write_idx(tmp_path / "two.gz", array)
    one = (tmp_path / "one.gz").read_bytes()
    assert one == (tmp_path / "two.gz").read_bytes()
    assert one[4:8] == b"\0\0\0\0"  # gzip time stamp


def test_read_accepts_str_paths(tmp_path):
    write_idx(str(tmp_path / "s.gz"), np.arange(3, dtype=np.int8))
    np.testing.assert_array_equal(read_idx(str(tmp_path / "s.gz")), [0, 1, 2])


# --- writing errors ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["int64", "uint16", "float16", "bool", "complex128"])
def test_write_refuses_dtypes_idx_cannot_store(tmp_path, dtype):
    with pytest.raises(ValueError, match=f"got {dtype} instead"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=dtype))
    assert not (tmp_path / "x").exists()


def test_write_refuses_a_0d_array(tmp_path):
    with pytest.raises(ValueError, match="1 to 255 dimensions .*, got 0 instead"):
        write_idx(tmp_path / "x", np.uint8(3))


# --- reading errors ----------------------------------------------------------------


def test_missing_file_raises_file_not_found_naming_it(tmp_path):
    path = tmp_path / "no-such-images-idx3-ubyte.gz"
    with pytest.raises(FileNotFoundError, match=in_message(path)):
        read_idx(path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x01\x00\x08\x01" + b"\0\0\0\1" + b"\7", "first two bytes are not zero"),
        (b"\x00\x01\x08\x01" + b"\0\0\0\1" + b"\7", "first two bytes are not zero"),
        (b"\x00\x00\x07\x01" + b"\0\0\0\1" + b"\7", "unknown data type code 0x07"),
        (b"\x00\x00\x0a\x01" + b"\0\0\0\1" + b"\7", "unknown data type code 0x0A"),
        (b"\x00\x00\x08\x00", "zero dimensions"),
    ],
)
def test_bad_magic_number_is_reported_with_the_file(tmp_path, content, problem):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(content)
    magic = f"0x{int.from_bytes(content[:4], 'big'):08X}"
    with pytest.raises(ValueError, match=in_message(path)) as info:
        read_idx(path)
    assert f"bad magic number {magic}" in str(info.value)
    assert problem in str(info.value)


def test_text_file_is_not_an_idx_file(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("# MNIST\n")
    with pytest.raises(ValueError, match=in_message(path) + ": bad magic number"):
        read_idx(path)


@pytest.mark.parametrize("content", [b"", b"\0\0\x08"])
def test_file_shorter_than_a_magic_number(tmp_path, content):
    path = tmp_path / "short"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=in_message(path) + ": too short"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(header(0x08, [2, 28, 28])[:10])
    with pytest.raises(
        ValueError,
        match=in_message(path) + r": truncated header: 3 dimensions need a 16-byte "
        r"header, file has 10 bytes",
    ):
        read_idx(path)


def test_truncated_payload(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(header(0x08, [10000, 28, 28]) + bytes(1200))
    with pytest.raises(
        ValueError,
        match=in_message(path)
        + r": truncated: header promises 7840000 bytes of data .*, file has 1200",
    ):
        read_idx(path)


def test_truncated_payload_inside_gzip(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(header(0x0C, [10]) + bytes(12), mtime=0))
    with pytest.raises(
        ValueError,
        match=in_message(path) + r": truncated: header promises 40 bytes of data "
        r"\(shape \(10,\), int32\), decompressed file has 12",
    ):
        read_idx(path)


def test_trailing_bytes(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(header(0x08, [3]) + bytes(5))
    with pytest.raises(
        ValueError, match=in_message(path) + r": 2 unexpected trailing bytes"
    ):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    """Is a download cut short a ValueError naming the file, not an EOFError?"""
    path = tmp_path / "train-images-idx3-ubyte.gz"
    write_idx(path, sample_array("uint8", (5, 28, 28)))
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError, match=in_message(path) + ": corrupt gzip stream"):
        read_idx(path)


@pytest.mark.parametrize(
    "content",
    [
        b"\x1f\x8b" + b"garbage" * 5,
        b"\x1f\x8b",
        gzip.compress(header(0x08, [1]) + b"\1", mtime=0)[:-8] + bytes(8),  # bad CRC
        gzip.compress(header(0x08, [1]) + b"\1", mtime=0) + b"junk",
    ],
    ids=["garbage", "magic-only", "bad-crc", "junk-after-stream"],
)
def test_corrupt_gzip_stream(tmp_path, content):
    path = tmp_path / "labels.gz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=in_message(path) + ": corrupt gzip stream"):
        read_idx(path)


# --- the real MNIST test set ---------------------------------------------------------


def test_reads_real_mnist_test_images(t10k_paths):
    images = read_idx(t10k_paths[0])
    assert images.shape == (10000, 28, 28)
    assert images.dtype == np.uint8
    assert images.max() == 255


def test_reads_real_mnist_test_labels(t10k_paths):
    labels = read_idx(t10k_paths[1])
    assert labels.shape == (10000,)
    assert labels.dtype == np.uint8
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert set(np.unique(labels)) == set(range(10))


def test_rewriting_real_labels_gives_the_same_data(t10k_paths, tmp_path):
    labels = read_idx(t10k_paths[1])
    write_idx(tmp_path / "labels.gz", labels)
    original = gzip.decompress(t10k_paths[1].read_bytes())
    assert gzip.decompress((tmp_path / "labels.gz").read_bytes()) == original
