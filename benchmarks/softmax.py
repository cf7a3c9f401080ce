"""Benchmark of the softmax_mlp references: epoch times and test errors.

Examples
--------
    python -m benchmarks softmax
    python -m benchmarks softmax --runs 5 --threads 1
    python -m benchmarks.softmax                        # the same, as a module

On 60,000 x 784 random float32 data (seeded) with 10 classes and minibatches of 100,
it times one epoch of ``lib.softmax.softmax_regression_epoch`` and one of
``nn_epoch`` (400 hidden units), and compares each with

- scikit-learn: one ``partial_fit`` pass of ``MLPClassifier`` with plain SGD
  (``solver="sgd"``, ``momentum=0``, ``alpha=0``, ``shuffle=False``, the same
  learning rate and minibatches): ``hidden_layer_sizes=(400,)`` for the network,
  ``()`` for softmax regression (the same algorithm, plus biases);
- the floor: the matrix products of the epoch alone, in the same minibatch loop.

Times are the best of ``--runs`` runs (scikit-learn: of at most 2), the three
interleaved so that a busy machine slows them alike; ``--threads 1`` steadies them
further when other jobs compete for the cores. Then it reports the test error of
both models after ``--epochs`` epochs on the offline 5,000-image MNIST sample and,
when ``MNIST_DIR`` (or ``../shared/data/mnist``) holds the full training set, on
that data set. Run it on an idle machine; the figures are for reports, not for
tests.
"""

import os
import time
from pathlib import Path

import numpy as np

from kit.course import ROOT

N, D, K, HIDDEN, BATCH, LR = 60_000, 784, 10, 400, 100, 0.1

# Targets for the reference network epoch.
FLOOR_RATIO_TARGET = 1.5
SKLEARN_RATIO_TARGET = 1.0


def matmul_floor_regression(X, theta, batch=BATCH):
    """The matrix products of a softmax-regression epoch, nothing else."""
    logits = np.empty((batch, theta.shape[1]), X.dtype)
    grad = np.empty(theta.shape, X.dtype)
    for start in range(0, len(X), batch):
        Xb = X[start : start + batch]
        m = len(Xb)
        np.matmul(Xb, theta, out=logits[:m])
        np.matmul(Xb.T, logits[:m], out=grad)


def matmul_floor_network(X, W1, W2, batch=BATCH):
    """The five matrix products of a network epoch, nothing else."""
    H = np.empty((batch, W1.shape[1]), X.dtype)
    G2 = np.empty((batch, W2.shape[1]), X.dtype)
    G1 = np.empty((batch, W1.shape[1]), X.dtype)
    grad1, grad2 = np.empty(W1.shape, X.dtype), np.empty(W2.shape, X.dtype)
    for start in range(0, len(X), batch):
        Xb = X[start : start + batch]
        m = len(Xb)
        np.matmul(Xb, W1, out=H[:m])
        np.matmul(H[:m], W2, out=G2[:m])
        np.matmul(G2[:m], W2.T, out=G1[:m])
        np.matmul(H[:m].T, G2[:m], out=grad2)
        np.matmul(Xb.T, G1[:m], out=grad1)


def sklearn_epoch(hidden, X, y):
    """A function running one plain-SGD partial_fit pass of MLPClassifier over
    (X, y); the model is initialized beforehand on one minibatch."""
    from sklearn.neural_network import MLPClassifier

    def run():
        model = MLPClassifier(solver="sgd", hidden_layer_sizes=hidden,
                              batch_size=BATCH, learning_rate_init=LR, momentum=0.0,
                              alpha=0.0, max_iter=1, shuffle=False, random_state=0)
        model.partial_fit(X[:BATCH], y[:BATCH], classes=np.arange(K))
        start = time.perf_counter()
        model.partial_fit(X, y)
        return time.perf_counter() - start

    return run


def timed(fn, *args, **kwargs):
    """Seconds that fn(*args, **kwargs) takes."""
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def epoch_times(runs, log=print):
    """Best times of the epochs: {model: {"reference", "sklearn", "floor"}}."""
    from lib import softmax

    rng = np.random.default_rng(0)
    X = rng.random((N, D), dtype=np.float32)
    y = rng.integers(0, K, size=N).astype(np.uint8)
    theta0 = np.zeros((D, K), np.float32)
    W10 = (rng.standard_normal((D, HIDDEN)) / np.sqrt(D)).astype(np.float32)
    W20 = (rng.standard_normal((HIDDEN, K)) / np.sqrt(HIDDEN)).astype(np.float32)

    times = {"softmax regression": {"reference": [], "floor": [], "sklearn": []},
             "network (400 hidden)": {"reference": [], "floor": [], "sklearn": []}}
    regression, net = times["softmax regression"], times["network (400 hidden)"]
    for i in range(runs):  # interleaved, so that a busy machine slows all alike
        theta = theta0.copy()
        W1, W2 = W10.copy(), W20.copy()
        regression["reference"].append(timed(softmax.softmax_regression_epoch, X, y,
                                             theta, lr=LR, batch=BATCH))
        regression["floor"].append(timed(matmul_floor_regression, X, theta))
        if i < 2:
            regression["sklearn"].append(sklearn_epoch((), X, y)())
        net["reference"].append(timed(softmax.nn_epoch, X, y, W1, W2, lr=LR,
                                      batch=BATCH))
        net["floor"].append(timed(matmul_floor_network, X, W1, W2))
        if i < 2:
            net["sklearn"].append(sklearn_epoch((HIDDEN,), X, y)())
    return {model: {k: min(v) for k, v in t.items()} for model, t in times.items()}


def train_and_test(X_train, y_train, X_test, y_test, epochs, lr=LR):
    """Test error rates of both reference models after `epochs` epochs from a
    seeded start."""
    from lib import softmax

    rng = np.random.default_rng(0)
    theta = np.zeros((X_train.shape[1], K), np.float32)
    W1 = (rng.standard_normal((X_train.shape[1], HIDDEN)) / np.sqrt(HIDDEN))
    W2 = (rng.standard_normal((HIDDEN, K)) / np.sqrt(HIDDEN))
    W1, W2 = W1.astype(np.float32), W2.astype(np.float32)
    start = time.perf_counter()
    for _ in range(epochs):
        softmax.softmax_regression_epoch(X_train, y_train, theta, lr=lr)
        softmax.nn_epoch(X_train, y_train, W1, W2, lr=lr)
    seconds = time.perf_counter() - start
    return {
        "softmax regression": softmax.error_rate(X_test @ theta, y_test),
        "network (400 hidden)": softmax.error_rate(
            np.maximum(X_test @ W1, 0) @ W2, y_test),
    }, seconds


def full_mnist_dir():
    """A directory holding the full MNIST training set, or None."""
    candidates = [os.environ.get("MNIST_DIR"), ROOT.parent / "shared/data/mnist"]
    for folder in filter(None, candidates):
        folder = Path(folder)
        if any((folder / f"train-images-idx3-ubyte{s}").is_file() for s in ("", ".gz")):
            return folder
    return None


def main(args, course=None):
    from threadpoolctl import threadpool_limits

    # limits=None leaves the BLAS library's number of threads as it is.
    with threadpool_limits(limits=getattr(args, "threads", None), user_api="blas"):
        run(args)


def run(args):
    """Print the epoch times and the test errors."""
    from threadpoolctl import threadpool_info

    from lib.data import load_mnist, load_mnist_sample, split

    blas = [f"{i['internal_api']} with {i['num_threads']} thread(s)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    print(f"BLAS: {', '.join(blas) or 'unknown'} (--threads to change); load "
          f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    runs = getattr(args, "runs", 3)
    epochs = getattr(args, "epochs", 10)
    start = time.perf_counter()
    print(f"softmax_mlp: one epoch on {N} x {D} random float32 data, {K} classes, "
          f"minibatches of {BATCH}, lr {LR} (best of {runs} runs; sklearn of "
          f"{min(runs, 2)})")
    print(f"{'':22s} {'reference':>10s} {'sklearn':>9s} {'matmul floor':>13s} "
          f"{'ref/sklearn':>12s} {'ref/floor':>10s}")
    times = epoch_times(runs)
    for model, t in times.items():
        print(f"{model:22s} {t['reference']:9.3f}s {t['sklearn']:8.3f}s "
              f"{t['floor']:12.3f}s {t['reference'] / t['sklearn']:12.2f} "
              f"{t['reference'] / t['floor']:10.2f}")
    net = times["network (400 hidden)"]
    met = (net["reference"] <= SKLEARN_RATIO_TARGET * net["sklearn"]
           and net["reference"] <= FLOOR_RATIO_TARGET * net["floor"])
    print(f"targets for the network epoch: no slower than sklearn, within "
          f"{FLOOR_RATIO_TARGET:g}x of the floor: {'met' if met else 'NOT met'}")
    print("sklearn's softmax-regression epoch is MLPClassifier(hidden_layer_sizes=()),"
          " the same SGD with biases added.")

    sample = split(*load_mnist_sample(), 0.2, rng=0)  # 4,000 train / 1,000 test
    errors, seconds = train_and_test(*sample, epochs)
    print(f"test error after {epochs} epochs on the offline MNIST sample "
          f"(4,000 train / 1,000 test, {seconds:.1f} s): "
          + ", ".join(f"{m} {e:.2%}" for m, e in errors.items()))
    folder = full_mnist_dir()
    if folder is None:
        print("full MNIST: skipped (set MNIST_DIR to a folder of MNIST idx files; "
              "../shared/data/mnist holds only the test set)")
    else:
        data = load_mnist(folder)
        errors, seconds = train_and_test(*data, epochs)
        print(f"test error after {epochs} epochs on {folder} ({len(data[1])} train / "
              f"{len(data[3])} test, {seconds:.1f} s): "
              + ", ".join(f"{m} {e:.2%}" for m, e in errors.items()))
    print(f"benchmark time: {time.perf_counter() - start:.0f} s")


def add_arguments(parser):
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of each timed epoch (default: 3)")
    parser.add_argument("--epochs", type=int, default=10,
                        help="training epochs for the test errors (default: 10)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: the library's own choice); 1 "
                             "gives steadier figures on a busy machine")


HELP = "time the softmax_mlp reference epochs against scikit-learn and the floor"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.softmax", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    main(parser.parse_args())
