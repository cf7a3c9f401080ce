"""Right and wrong answers to the graded functions of fgsm.

A function named ``<graded function>__correct_<how>`` is a correct answer written
differently from the reference: the hidden tests must give it every point. One named
``<graded function>__wrong_<mistake>`` is a plausible student mistake: the hidden
tests must give it none. Each is pasted, renamed, into the answer cell of a release
notebook and graded by nbgrader (tests/test_grading.py). Bodies use only what the
notebook has imported (``np``, ``softmax``, ``log_softmax``) and the other graded
functions by name.

``DEMO`` names the mistaken demo submissions that ``python -m kit submissions``
writes into submitted/: student id -> the variants it uses.
"""

import numpy as np
from scipy.special import log_softmax, softmax

# Names the variants call, as they exist in the notebook's namespace.
from lib.fgsm import input_gradient

DEMO = {
    "gradient-without-onehot": ["input_gradient__wrong_no_onehot"],
    "fgsm-without-clipping": ["fgsm__wrong_no_clip"],
    "targeted-ascent": ["targeted_example__wrong_ascent"],
    "blend-by-sum": ["blend__wrong_weighted_sum"],
}


# --- input_gradient

def input_gradient__correct_loop_eye(X, y, W, b):
    n, d = X.shape
    k = W.shape[1]
    out = np.zeros((n, d))
    for i in range(n):
        z = X[i] @ W + b
        p = np.exp(z - z.max())
        p /= p.sum()
        out[i] = W @ (p - np.eye(k)[y[i]])
    return out


def input_gradient__correct_log_softmax(X, y, W, b):
    k = W.shape[1]
    onehot = (np.asarray(y)[:, None] == np.arange(k)).astype(float)
    return (np.exp(log_softmax(X @ W + b, axis=1)) - onehot) @ W.T


def input_gradient__correct_autograd(X, y, W, b):
    import autograd.numpy as anp
    from autograd import grad
    from autograd.scipy.special import logsumexp

    def total_loss(X_):
        Z = anp.dot(X_, W) + b
        return anp.sum(logsumexp(Z, axis=1) - Z[np.arange(len(y)), y])

    return grad(total_loss)(np.asarray(X, dtype=float))


def input_gradient__correct_einsum(X, y, W, b):
    P = softmax(X @ W + b, axis=1)
    # -W[:, y].T is the one-hot part; the probabilities weight all columns.
    return np.einsum("nk,dk->nd", P, W) - W[:, y].T


def input_gradient__wrong_grad_wrt_W(X, y, W, b):
    P = softmax(X @ W + b, axis=1)
    P[np.arange(len(y)), y] -= 1
    return X.T @ P


def input_gradient__wrong_no_onehot(X, y, W, b):
    return softmax(X @ W + b, axis=1) @ W.T


def input_gradient__wrong_sign(X, y, W, b):
    Y = np.eye(W.shape[1])[y]
    return (Y - softmax(X @ W + b, axis=1)) @ W.T


def input_gradient__wrong_mean_over_examples(X, y, W, b):
    P = softmax(X @ W + b, axis=1)
    P[np.arange(len(y)), y] -= 1
    return P @ W.T / len(y)


def input_gradient__wrong_softmax_over_examples(X, y, W, b):
    P = softmax(X @ W + b, axis=0)
    P[np.arange(len(y)), y] -= 1
    return P @ W.T


def input_gradient__wrong_no_bias(X, y, W, b):
    P = softmax(X @ W, axis=1)
    P[np.arange(len(y)), y] -= 1
    return P @ W.T


# --- fgsm

def fgsm__correct_where(X, y, W, b, eps):
    g = input_gradient(X, y, W, b)
    step = np.where(g > 0, eps, np.where(g < 0, -eps, 0.0))
    return np.minimum(np.maximum(X + step, 0.0), 1.0)


def fgsm__correct_inline_gradient_loop(X, y, W, b, eps):
    out = np.array(X, dtype=float)
    for i in range(len(out)):
        p = softmax(out[i] @ W + b)
        p[y[i]] -= 1.0
        out[i] = np.clip(out[i] + eps * np.sign(W @ p), 0, 1)
    return out


def fgsm__correct_copy_in_place(X, y, W, b, eps):
    X_adv = X.copy()
    X_adv += eps * np.sign(input_gradient(X, y, W, b))
    np.clip(X_adv, 0, 1, out=X_adv)
    return X_adv


def fgsm__wrong_no_clip(X, y, W, b, eps):
    return X + eps * np.sign(input_gradient(X, y, W, b))


def fgsm__wrong_without_sign(X, y, W, b, eps):
    return np.clip(X + eps * input_gradient(X, y, W, b), 0, 1)


def fgsm__wrong_descent(X, y, W, b, eps):
    return np.clip(X - eps * np.sign(input_gradient(X, y, W, b)), 0, 1)


def fgsm__wrong_predicted_labels(X, y, W, b, eps):
    predicted = np.argmax(X @ W + b, axis=1)
    return np.clip(X + eps * np.sign(input_gradient(X, predicted, W, b)), 0, 1)


def fgsm__wrong_sign_of_zero_is_one(X, y, W, b, eps):
    g = input_gradient(X, y, W, b)
    return np.clip(X + eps * np.where(g >= 0, 1.0, -1.0), 0, 1)


def fgsm__wrong_modifies_X(X, y, W, b, eps):
    X += eps * np.sign(input_gradient(X, y, W, b))
    np.clip(X, 0, 1, out=X)
    return X


# --- targeted_example

def targeted_example__correct_clipped_normal_noise(target, W, b, eta=0.1, iters=10,
                                                   rng=None):
    rng = np.random.default_rng(rng)
    x = np.clip(rng.normal(0.05, 0.02, size=W.shape[0]), 0.0, 0.1)
    for _ in range(iters):
        p = softmax(x @ W + b)
        p[target] -= 1.0
        x = np.minimum(np.maximum(x - eta * np.sign(W @ p), 0.0), 1.0)
    return x


def targeted_example__correct_batch_of_one(target, W, b, eta=0.1, iters=10, rng=None):
    generator = np.random.default_rng(rng)
    X = 0.01 * generator.random((1, len(W)))
    labels = np.full(1, target)
    for _ in range(iters):
        X = np.clip(X - eta * np.sign(input_gradient(X, labels, W, b)), 0, 1)
    return X.ravel()


def targeted_example__correct_log_softmax(target, W, b, eta=0.1, iters=10, rng=None):
    rng = np.random.default_rng(rng)
    x = rng.uniform(0, 0.1, W.shape[0])
    onehot = np.zeros(W.shape[1])
    onehot[target] = 1.0
    for _ in range(iters):
        g = W @ (np.exp(log_softmax(x @ W + b)) - onehot)
        x = np.clip(x - eta * np.sign(g), 0, 1)
    return x


def targeted_example__wrong_ascent(target, W, b, eta=0.1, iters=10, rng=None):
    rng = np.random.default_rng(rng)
    x = rng.uniform(0, 0.1, W.shape[0])
    for _ in range(iters):
        g = input_gradient(x[None], np.array([target]), W, b)[0]
        x = np.clip(x + eta * np.sign(g), 0, 1)
    return x


def targeted_example__wrong_clip_only_at_the_end(target, W, b, eta=0.1, iters=10,
                                                 rng=None):
    rng = np.random.default_rng(rng)
    x = rng.uniform(0, 0.1, W.shape[0])
    for _ in range(iters):
        x = x - eta * np.sign(input_gradient(x[None], np.array([target]), W, b)[0])
    return np.clip(x, 0, 1)


def targeted_example__wrong_returns_a_batch(target, W, b, eta=0.1, iters=10,
                                            rng=None):
    rng = np.random.default_rng(rng)
    X = rng.uniform(0, 0.1, (1, W.shape[0]))
    for _ in range(iters):
        X = np.clip(X - eta * np.sign(input_gradient(X, np.array([target]), W, b)), 0,
                    1)
    return X


def targeted_example__wrong_global_random_state(target, W, b, eta=0.1, iters=10,
                                                rng=None):
    x = np.random.uniform(0, 0.1, W.shape[0])
    for _ in range(iters):
        g = input_gradient(x[None], np.array([target]), W, b)[0]
        x = np.clip(x - eta * np.sign(g), 0, 1)
    return x


def targeted_example__wrong_ignores_eta(target, W, b, eta=0.1, iters=10, rng=None):
    rng = np.random.default_rng(rng)
    x = rng.uniform(0, 0.1, W.shape[0])
    for _ in range(iters):
        g = input_gradient(x[None], np.array([target]), W, b)[0]
        x = np.clip(x - 0.1 * np.sign(g), 0, 1)
    return x


def targeted_example__wrong_gradient_of_the_predicted_class(target, W, b, eta=0.1,
                                                            iters=10, rng=None):
    # Descends the loss of the class the model currently predicts, not the target.
    rng = np.random.default_rng(rng)
    x = rng.uniform(0, 0.1, W.shape[0])
    for _ in range(iters):
        label = np.argmax(x @ W + b)
        g = input_gradient(x[None], np.array([label]), W, b)[0]
        x = np.clip(x - eta * np.sign(g), 0, 1)
    return x


# --- blend

def blend__correct_loop_where(X, example, alpha):
    out = np.empty(np.shape(X))
    for i in range(len(X)):
        dimmed, drawn = X[i] * (1 - alpha), alpha * example
        out[i] = np.where(dimmed >= drawn, dimmed, drawn)
    return out


def blend__correct_stacked_max(X, example, alpha):
    both = np.stack([(1.0 - alpha) * np.asarray(X, dtype=float),
                     np.broadcast_to(alpha * example, np.shape(X))])
    return both.max(axis=0)


def blend__correct_subtract_then_fmax(X, example, alpha):
    return np.fmax(X - alpha * X, example[None, :] * alpha)


def blend__wrong_minimum(X, example, alpha):
    return np.minimum(X * (1 - alpha), alpha * example)


def blend__wrong_weighted_sum(X, example, alpha):
    return X * (1 - alpha) + alpha * example


def blend__wrong_swapped_weights(X, example, alpha):
    return np.maximum(X * alpha, (1 - alpha) * example)


def blend__wrong_test_image_not_dimmed(X, example, alpha):
    return np.maximum(X, alpha * example)


def blend__wrong_in_place(X, example, alpha):
    X *= 1 - alpha
    np.maximum(X, alpha * example, out=X)
    return X
