"""Right and wrong answers to the graded functions of softmax_mlp.

A function named ``<graded function>__correct_<how>`` is a correct answer written
differently from the reference: the hidden tests must give it every point. One named
``<graded function>__wrong_<mistake>`` is a plausible student mistake: the hidden
tests must give it none. Each is pasted, renamed, into the answer cell of a release
notebook and graded by nbgrader (tests/test_grading.py). Bodies use only what the
notebook has imported (``np``) and the other graded functions by name; anything else
is imported inside the body.

``DEMO`` names the mistaken demo submissions that ``python -m kit submissions``
writes into submitted/: student id -> the variants it uses.
"""

import numpy as np

# Names the variants call, as they exist in the notebook's namespace.
from lib.softmax import one_hot, softmax

DEMO = {
    "overflowing-softmax": ["softmax__wrong_no_max_subtraction"],
    "summed-gradient": ["softmax_regression_epoch__wrong_sum_not_mean"],
    "stale-second-layer": ["nn_epoch__wrong_updates_w2_first"],
    "smallest-direction": ["top_direction__wrong_smallest_eigenvector"],
}


# --- parse_mnist

def parse_mnist__correct_struct(image_filename, label_filename):
    import gzip
    import struct

    with gzip.open(image_filename, "rb") as f:
        raw = f.read()
    if len(raw) < 16:
        raise ValueError(f"{image_filename} is too short for an idx header")
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != 2051:
        raise ValueError(f"{image_filename}: magic {magic} is not 2051")
    if len(raw) - 16 < n * rows * cols:
        raise ValueError(f"{image_filename} is truncated")
    images = np.frombuffer(raw, np.uint8, count=n * rows * cols, offset=16)
    with gzip.open(label_filename, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{label_filename} is too short for an idx header")
    magic, m = struct.unpack(">II", raw[:8])
    if magic != 2049:
        raise ValueError(f"{label_filename}: magic {magic} is not 2049")
    if len(raw) - 8 < m:
        raise ValueError(f"{label_filename} is truncated")
    if m != n:
        raise ValueError(f"{n} images in {image_filename}, {m} labels in "
                         f"{label_filename}")
    X = images.reshape(n, rows * cols) / 255.0
    return X.astype(np.float32), np.frombuffer(raw, np.uint8, count=m, offset=8)


def parse_mnist__correct_header_array(image_filename, label_filename):
    import gzip
    from pathlib import Path

    def load(path, magic):
        data = gzip.decompress(Path(path).read_bytes())
        ndim = 3 if magic == 2051 else 1
        header = np.frombuffer(data[:4 + 4 * ndim], dtype=">u4")
        if len(header) < 1 + ndim or header[0] != magic:
            raise ValueError(f"not an MNIST file (bad magic number): {path}")
        body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
        if body.size < np.prod(header[1:]):
            raise ValueError(f"file cut short: {path}")
        return header[1:].astype(int), body

    (n, r, c), pixels = load(image_filename, 2051)
    (m,), labels = load(label_filename, 2049)
    if n != m:
        raise ValueError(f"count mismatch between {image_filename} and "
                         f"{label_filename}")
    X = np.empty((n, r * c), dtype=np.float32)
    X[:] = pixels[: n * r * c].reshape(n, r * c)
    X /= 255
    return X, labels[:m].astype(np.uint8)


def parse_mnist__wrong_no_checks(image_filename, label_filename):
    import gzip

    with gzip.open(image_filename) as f:
        data = f.read()
    n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    pixels = np.frombuffer(data, np.uint8, offset=16).reshape(n, rows * cols)
    with gzip.open(label_filename) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return pixels.astype(np.float32) / 255, labels


def parse_mnist__wrong_no_scaling(image_filename, label_filename):
    import gzip

    with gzip.open(image_filename) as f:
        data = f.read()
    if int.from_bytes(data[:4], "big") != 2051 or len(data) < 16:
        raise ValueError(f"{image_filename}: bad magic number")
    n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    if len(data) != 16 + n * rows * cols:
        raise ValueError(f"{image_filename}: truncated")
    with gzip.open(label_filename) as f:
        labels = f.read()
    if int.from_bytes(labels[:4], "big") != 2049 or len(labels) != 8 + n:
        raise ValueError(f"{label_filename}: bad magic number, truncated or wrong "
                         f"count for {image_filename}")
    X = np.frombuffer(data, np.uint8, offset=16).reshape(n, rows * cols)
    return X.astype(np.float32), np.frombuffer(labels, np.uint8, offset=8)


def parse_mnist__wrong_message_without_file(image_filename, label_filename):
    import gzip

    with gzip.open(image_filename) as f:
        data = f.read()
    if int.from_bytes(data[:4], "big") != 2051:
        raise ValueError("bad magic number in the image file")
    n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    if len(data) < 16 + n * rows * cols:
        raise ValueError("the image file is truncated")
    with gzip.open(label_filename) as f:
        labels = f.read()
    if int.from_bytes(labels[:4], "big") != 2049:
        raise ValueError("bad magic number in the label file")
    if len(labels) - 8 != n:
        raise ValueError("the numbers of images and labels differ")
    X = np.frombuffer(data, np.uint8, offset=16).reshape(n, rows * cols)
    return X.astype(np.float32) / 255, np.frombuffer(labels, np.uint8, offset=8)


def parse_mnist__wrong_square_28(image_filename, label_filename):
    import gzip

    with gzip.open(image_filename) as f:
        data = f.read()
    if int.from_bytes(data[:4], "big") != 2051:
        raise ValueError(f"{image_filename}: bad magic number")
    n = int.from_bytes(data[4:8], "big")
    if len(data) < 16 + n * 784:
        raise ValueError(f"{image_filename}: truncated")
    with gzip.open(label_filename) as f:
        labels = f.read()
    if int.from_bytes(labels[:4], "big") != 2049 or len(labels) < 8 + n:
        raise ValueError(f"{label_filename}: bad magic number or truncated")
    if int.from_bytes(labels[4:8], "big") != n:
        raise ValueError(f"{image_filename} and {label_filename}: counts differ")
    X = np.frombuffer(data, np.uint8, count=n * 784, offset=16).reshape(n, 784)
    return X.astype(np.float32) / 255, np.frombuffer(labels, np.uint8, offset=8)


def parse_mnist__wrong_float64(image_filename, label_filename):
    import gzip

    with gzip.open(image_filename) as f:
        data = f.read()
    if int.from_bytes(data[:4], "big") != 2051:
        raise ValueError(f"{image_filename}: bad magic number")
    n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    if len(data) < 16 + n * rows * cols:
        raise ValueError(f"{image_filename}: truncated")
    with gzip.open(label_filename) as f:
        labels = f.read()
    if int.from_bytes(labels[:4], "big") != 2049 or len(labels) < 8 + n:
        raise ValueError(f"{label_filename}: bad magic number or truncated")
    if int.from_bytes(labels[4:8], "big") != n:
        raise ValueError(f"{image_filename} and {label_filename}: counts differ")
    X = np.frombuffer(data, np.uint8, offset=16).reshape(n, rows * cols) / 255
    return X, np.frombuffer(labels, np.uint8, offset=8)


def parse_mnist__wrong_header_counts_only(image_filename, label_filename):
    # Compares the counts in the headers, never the bytes actually present.
    import gzip

    with gzip.open(image_filename) as f:
        data = f.read()
    if int.from_bytes(data[:4], "big") != 2051:
        raise ValueError(f"{image_filename}: bad magic number")
    n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    with gzip.open(label_filename) as f:
        labels = f.read()
    if int.from_bytes(labels[:4], "big") != 2049:
        raise ValueError(f"{label_filename}: bad magic number")
    if int.from_bytes(labels[4:8], "big") != n:
        raise ValueError(f"{image_filename} and {label_filename}: counts differ")
    X = np.frombuffer(data, np.uint8, offset=16)[: n * rows * cols]
    return (X.reshape(-1, rows * cols).astype(np.float32) / 255,
            np.frombuffer(labels, np.uint8, offset=8))


# --- one_hot

def one_hot__correct_eye(y, k):
    return np.eye(k)[np.asarray(y)]


def one_hot__correct_loop(y, k):
    Y = np.zeros((len(y), k), dtype=np.float32)
    for i, label in enumerate(y):
        Y[i, int(label)] = 1
    return Y


def one_hot__correct_broadcast(y, k):
    return (np.asarray(y)[:, None] == np.arange(k)).astype(float)


def one_hot__wrong_off_by_one(y, k):
    return np.eye(k)[np.asarray(y, dtype=int) - 1]


def one_hot__wrong_classes_from_labels(y, k):
    return np.eye(int(np.max(y)) + 1)[y]


def one_hot__wrong_transposed(y, k):
    return np.eye(k)[:, y]


def one_hot__wrong_k_plus_one(y, k):
    Y = np.zeros((len(y), k + 1))
    Y[np.arange(len(y)), y] = 1
    return Y


# --- softmax

def softmax__correct_logsumexp(Z):
    from scipy.special import logsumexp

    return np.exp(Z - logsumexp(Z, axis=1, keepdims=True))


def softmax__correct_row_loop(Z):
    P = np.empty(np.shape(Z))
    for i, z in enumerate(np.asarray(Z, dtype=float)):
        e = np.exp(z - z.max())
        P[i] = e / e.sum()
    return P


def softmax__correct_scipy(Z):
    from scipy.special import softmax as scipy_softmax

    return scipy_softmax(Z, axis=1)


def softmax__wrong_no_max_subtraction(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def softmax__wrong_columns(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def softmax__wrong_global_max(Z):
    E = np.exp(Z - np.max(Z))
    return E / E.sum(axis=1, keepdims=True)


def softmax__wrong_total_sum(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum()


def softmax__wrong_max_without_keepdims(Z):
    E = np.exp(Z - Z.max(axis=1))
    return E / E.sum(axis=1, keepdims=True)


# --- softmax_loss

def softmax_loss__correct_logsumexp(Z, y):
    from scipy.special import logsumexp

    return float(np.mean(logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]))


def softmax_loss__correct_log_probabilities(Z, y):
    P = softmax(Z)
    return -np.log(P[np.arange(len(y)), y]).mean()


def softmax_loss__correct_row_loop(Z, y):
    import math

    total = 0.0
    for z, label in zip(np.asarray(Z, dtype=float), y, strict=True):
        m = max(z)
        total += m + math.log(sum(math.exp(v - m) for v in z)) - z[label]
    return total / len(y)


def softmax_loss__wrong_sum(Z, y):
    P = softmax(Z)
    return -np.sum(np.log(P[np.arange(len(y)), y]))


def softmax_loss__wrong_no_normalizer(Z, y):
    return -np.mean(Z[np.arange(len(y)), y])


def softmax_loss__wrong_mean_over_all_entries(Z, y):
    Y = one_hot(y, Z.shape[1])
    return -np.mean(Y * np.log(softmax(Z)))


def softmax_loss__wrong_sign(Z, y):
    P = softmax(Z)
    return np.mean(np.log(P[np.arange(len(y)), y]))


# --- softmax_regression_epoch

def softmax_regression_epoch__correct_example_loop(X, y, theta, lr=0.1, batch=100):
    n = len(y)
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        grad = np.zeros(theta.shape)
        for i in range(start, stop):
            p = softmax(X[i:i + 1] @ theta)[0]
            p[y[i]] -= 1
            grad += np.outer(X[i], p)
        theta -= lr * grad / (stop - start)
    return theta


def softmax_regression_epoch__correct_index_batches(X, y, theta, lr=0.1,
                                                    batch=100):
    k = theta.shape[1]
    for idx in np.array_split(np.arange(len(y)), np.arange(batch, len(y), batch)):
        Z = X[idx] @ theta
        G = (softmax(Z) - one_hot(y[idx], k)) / len(idx)
        np.subtract(theta, lr * X[idx].T @ G, out=theta, casting="unsafe")


def softmax_regression_epoch__wrong_sum_not_mean(X, y, theta, lr=0.1, batch=100):
    k = theta.shape[1]
    for start in range(0, len(y), batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        theta -= lr * Xb.T @ (softmax(Xb @ theta) - one_hot(yb, k))


def softmax_regression_epoch__wrong_shuffled(X, y, theta, lr=0.1, batch=100):
    k = theta.shape[1]
    order = np.random.default_rng(0).permutation(len(y))
    for start in range(0, len(y), batch):
        idx = order[start:start + batch]
        G = softmax(X[idx] @ theta) - one_hot(y[idx], k)
        theta -= lr * X[idx].T @ G / len(idx)


def softmax_regression_epoch__wrong_not_in_place(X, y, theta, lr=0.1, batch=100):
    k = theta.shape[1]
    for start in range(0, len(y), batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        theta = theta - lr * Xb.T @ (softmax(Xb @ theta) - one_hot(yb, k)) / len(yb)
    return theta


def softmax_regression_epoch__wrong_drops_last_batch(X, y, theta, lr=0.1,
                                                     batch=100):
    k = theta.shape[1]
    for b in range(len(y) // batch):
        Xb, yb = X[b * batch:(b + 1) * batch], y[b * batch:(b + 1) * batch]
        theta -= lr * Xb.T @ (softmax(Xb @ theta) - one_hot(yb, k)) / batch


def softmax_regression_epoch__wrong_divides_by_batch(X, y, theta, lr=0.1,
                                                     batch=100):
    k = theta.shape[1]
    for start in range(0, len(y), batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        theta -= lr * Xb.T @ (softmax(Xb @ theta) - one_hot(yb, k)) / batch


def softmax_regression_epoch__wrong_ascent(X, y, theta, lr=0.1, batch=100):
    k = theta.shape[1]
    for start in range(0, len(y), batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        theta += lr * Xb.T @ (softmax(Xb @ theta) - one_hot(yb, k)) / len(yb)


# --- nn_epoch

def nn_epoch__correct_example_loop(X, y, W1, W2, lr=0.1, batch=100):
    n = len(y)
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        g1, g2 = np.zeros(W1.shape), np.zeros(W2.shape)
        for i in range(start, stop):
            a = X[i] @ W1
            h = np.maximum(a, 0)
            d2 = softmax(h[None, :] @ W2)[0]
            d2[y[i]] -= 1
            d1 = (W2 @ d2) * (a > 0)
            g2 += np.outer(h, d2)
            g1 += np.outer(X[i], d1)
        m = stop - start
        W1 -= lr * g1 / m
        W2 -= lr * g2 / m


def nn_epoch__correct_where_float64(X, y, W1, W2, lr=0.1, batch=100):
    k = W2.shape[1]
    for start in range(0, len(y), batch):
        Xb = np.asarray(X[start:start + batch], dtype=np.float64)
        yb = y[start:start + batch]
        A = Xb @ W1
        H = np.where(A >= 0, A, 0.0)
        G2 = (softmax(H @ W2) - one_hot(yb, k)) / len(yb)
        G1 = np.where(A > 0, G2 @ W2.T, 0.0)
        new_W1 = W1 - lr * Xb.T @ G1
        new_W2 = W2 - lr * H.T @ G2
        W1[...] = new_W1
        W2[...] = new_W2


def nn_epoch__correct_relu_function(X, y, W1, W2, lr=0.1, batch=100):
    def relu(a):
        return a * (a > 0)

    batches = range(0, len(y), batch)
    for start in batches:
        sl = slice(start, start + batch)
        H = relu(X[sl] @ W1)
        P = softmax(H @ W2)
        P[np.arange(len(y[sl])), y[sl]] -= 1
        P /= len(y[sl])
        dW2 = H.T @ P
        dW1 = X[sl].T @ ((P @ W2.T) * (H > 0))
        W2 -= lr * dW2
        W1 -= lr * dW1


def nn_epoch__wrong_updates_w2_first(X, y, W1, W2, lr=0.1, batch=100):
    k = W2.shape[1]
    for start in range(0, len(y), batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        A = Xb @ W1
        H = np.maximum(A, 0)
        G2 = (softmax(H @ W2) - one_hot(yb, k)) / len(yb)
        W2 -= lr * H.T @ G2
        G1 = (G2 @ W2.T) * (A > 0)
        W1 -= lr * Xb.T @ G1


def nn_epoch__wrong_no_relu_derivative(X, y, W1, W2, lr=0.1, batch=100):
    k = W2.shape[1]
    for start in range(0, len(y), batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        H = np.maximum(Xb @ W1, 0)
        G2 = (softmax(H @ W2) - one_hot(yb, k)) / len(yb)
        G1 = G2 @ W2.T
        W1 -= lr * Xb.T @ G1
        W2 -= lr * H.T @ G2


def nn_epoch__wrong_relu_derivative_is_activation(X, y, W1, W2, lr=0.1, batch=100):
    k = W2.shape[1]
    for start in range(0, len(y), batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        H = np.maximum(Xb @ W1, 0)
        G2 = (softmax(H @ W2) - one_hot(yb, k)) / len(yb)
        G1 = (G2 @ W2.T) * H
        W1 -= lr * Xb.T @ G1
        W2 -= lr * H.T @ G2


def nn_epoch__wrong_sum_not_mean(X, y, W1, W2, lr=0.1, batch=100):
    k = W2.shape[1]
    for start in range(0, len(y), batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        A = Xb @ W1
        H = np.maximum(A, 0)
        G2 = softmax(H @ W2) - one_hot(yb, k)
        G1 = (G2 @ W2.T) * (A > 0)
        W1 -= lr * Xb.T @ G1
        W2 -= lr * H.T @ G2


def nn_epoch__wrong_w1_gradient_with_new_w1(X, y, W1, W2, lr=0.1, batch=100):
    # Updates W1 first, then recomputes the hidden layer for W2's gradient.
    k = W2.shape[1]
    for start in range(0, len(y), batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        A = Xb @ W1
        G2 = (softmax(np.maximum(A, 0) @ W2) - one_hot(yb, k)) / len(yb)
        W1 -= lr * Xb.T @ ((G2 @ W2.T) * (A > 0))
        W2 -= lr * np.maximum(Xb @ W1, 0).T @ G2


# --- softmax_output_grad

def softmax_output_grad__correct_where(probs, onehot):
    return np.where(onehot == 1, -1.0 / probs, 0.0)


def softmax_output_grad__correct_loop(probs, onehot):
    n, k = probs.shape
    out = np.zeros((n, k))
    for i in range(n):
        for j in range(k):
            if onehot[i, j]:
                out[i, j] = -onehot[i, j] / probs[i, j]
    return out


def softmax_output_grad__correct_reciprocal(probs, onehot):
    return -(onehot * np.reciprocal(probs))


def softmax_output_grad__wrong_logit_gradient(probs, onehot):
    return probs - onehot


def softmax_output_grad__wrong_mean(probs, onehot):
    return -onehot / probs / len(probs)


def softmax_output_grad__wrong_sign(probs, onehot):
    return onehot / probs


def softmax_output_grad__wrong_without_labels(probs, onehot):
    return -1.0 / probs


def softmax_output_grad__wrong_log(probs, onehot):
    return -onehot * np.log(probs)


# --- top_direction

def top_direction__correct_eigh(G):
    _, vectors = np.linalg.eigh(G @ G.T)  # eigenvalues in ascending order
    q = vectors[:, -1]
    i = np.argmax(np.abs(q))
    return -q if q[i] < 0 else q


def top_direction__correct_power_iteration(G):
    q = np.ones(G.shape[0]) / np.sqrt(G.shape[0])
    for _ in range(5000):
        new = G @ (G.T @ q)
        new /= np.linalg.norm(new)
        if np.linalg.norm(new - q) < 1e-13:
            q = new
            break
        q = new
    return q if q[np.argmax(np.abs(q))] > 0 else -q


def top_direction__correct_svd_of_transpose(G):
    from scipy.linalg import svd

    _, _, Vt = svd(G.T, full_matrices=False)
    q = Vt[0] / np.linalg.norm(Vt[0])
    return q * np.sign(q[np.argmax(np.abs(q))])


def top_direction__wrong_no_sign_fix(G):
    return np.linalg.svd(G)[0][:, 0]


def top_direction__wrong_first_entry_sign(G):
    q = np.linalg.svd(G)[0][:, 0]
    return q if q[0] > 0 else -q


def top_direction__wrong_smallest_eigenvector(G):
    _, vectors = np.linalg.eigh(G @ G.T)
    q = vectors[:, 0]
    return q * np.sign(q[np.argmax(np.abs(q))])


def top_direction__wrong_right_singular_vector(G):
    q = np.linalg.svd(G)[2][0]
    return q * np.sign(q[np.argmax(np.abs(q))])


def top_direction__wrong_mean_gradient(G):
    q = np.mean(G, axis=1)
    q = q / np.linalg.norm(q)
    return q * np.sign(q[np.argmax(np.abs(q))])


def top_direction__wrong_scaled_by_singular_value(G):
    U, S, _ = np.linalg.svd(G)
    q = U[:, 0] * S[0]
    return q * np.sign(q[np.argmax(np.abs(q))])
