"""Right and wrong answers to the graded functions of dataset_distillation.

A function named ``<graded function>__correct_<how>`` is a correct answer written
differently from the reference: the hidden tests must give it every point. One named
``<graded function>__wrong_<mistake>`` is a plausible student mistake: the hidden
tests must give it none. Each is pasted, renamed, into the answer cell of a release
notebook and graded by nbgrader (tests/test_grading.py). Bodies use only what the
notebook's setup cell imports (``np``, ``softmax``, ``initial_theta``) and the other
graded functions by name; anything else is imported inside the body.

``DEMO`` names the mistaken demo submissions that ``python -m kit submissions``
writes into submitted/: student id -> the variants it uses.
"""

import numpy as np
from scipy.special import softmax

# Names the variants call, as they exist in the notebook's namespace.
from lib.distillation import distill_grads, initial_theta, one_step

DEMO = {
    "softmax-over-images": ["one_step__wrong_softmax_axis0"],
    "direct-path-only": ["distill_grads__wrong_no_softmax_path"],
    "sum-not-mean": ["distill_grads__wrong_outer_sum"],
    "frozen-eta": ["dataset_distill__wrong_never_updates_eta"],
    "macro-f1": ["f1_micro__wrong_macro"],
}


# --- one_step

def one_step__correct_loops(xd, yd, eta, theta0):
    # Image by image: the gradient is a mean of outer products.
    m = len(xd)
    gradient = np.zeros_like(theta0)
    for i in range(m):
        logits = xd[i] @ theta0
        p = np.exp(logits - np.max(logits))
        p = p / np.sum(p)
        p[yd[i]] -= 1.0
        gradient += np.outer(xd[i], p)
    return theta0 - (eta / m) * gradient


def one_step__correct_autograd(xd, yd, eta, theta0):
    # theta0 minus eta times autograd's gradient of the mean cross-entropy.
    import autograd.numpy as anp
    from autograd import grad
    from autograd.scipy.special import logsumexp

    def mean_loss(theta):
        z = anp.dot(xd, theta)
        return anp.mean(logsumexp(z, axis=1) - z[np.arange(len(yd)), yd])

    return theta0 - eta * grad(mean_loss)(theta0)


def one_step__correct_einsum(xd, yd, eta, theta0):
    # One-hot labels by comparison, the product as an einsum, float eta first.
    k = theta0.shape[1]
    one_hot = (np.asarray(yd)[:, None] == np.arange(k)).astype(float)
    step = float(eta) / xd.shape[0]
    return theta0 - step * np.einsum("id,ic->dc", xd, softmax(xd @ theta0, axis=1)
                                     - one_hot)


def one_step__wrong_sign(xd, yd, eta, theta0):
    k = theta0.shape[1]
    residual = softmax(xd @ theta0, axis=1) - np.eye(k)[yd]
    return theta0 + eta * xd.T @ residual / len(xd)


def one_step__wrong_no_divide_m(xd, yd, eta, theta0):
    k = theta0.shape[1]
    return theta0 - eta * xd.T @ (softmax(xd @ theta0, axis=1) - np.eye(k)[yd])


def one_step__wrong_softmax_axis0(xd, yd, eta, theta0):
    k = theta0.shape[1]
    residual = softmax(xd @ theta0, axis=0) - np.eye(k)[yd]
    return theta0 - eta * xd.T @ residual / len(xd)


def one_step__wrong_softmax_whole_array(xd, yd, eta, theta0):
    # scipy's softmax without axis normalises over every entry at once.
    k = theta0.shape[1]
    return theta0 - eta * xd.T @ (softmax(xd @ theta0) - np.eye(k)[yd]) / len(xd)


def one_step__wrong_labels_from_one(xd, yd, eta, theta0):
    # Treats the labels as 1..k: the one-hot rows are shifted by one class.
    k = theta0.shape[1]
    residual = softmax(xd @ theta0, axis=1) - np.eye(k)[yd - 1]
    return theta0 - eta * xd.T @ residual / len(xd)


def one_step__wrong_in_place(xd, yd, eta, theta0):
    # Right values, but theta0 itself is updated.
    k = theta0.shape[1]
    theta0 -= eta * xd.T @ (softmax(xd @ theta0, axis=1) - np.eye(k)[yd]) / len(xd)
    return theta0


# --- distill_grads

def distill_grads__correct_loops(xd, yd, eta, theta0, X, y):
    # Example by example, with the softmax Jacobian written out.
    m, d = xd.shape
    n, k = len(X), theta0.shape[1]
    p0 = np.array([softmax(xd[i] @ theta0) for i in range(m)])
    r0 = p0.copy()
    for i in range(m):
        r0[i, yd[i]] -= 1.0
    g0 = np.zeros((d, k))
    for i in range(m):
        g0 += np.outer(xd[i], r0[i]) / m
    theta1 = theta0 - eta * g0
    loss, a = 0.0, np.zeros((d, k))
    for i in range(n):
        p = softmax(X[i] @ theta1)
        loss -= np.log(p[y[i]]) / n
        p[y[i]] -= 1.0
        a += np.outer(X[i], p) / n
    grad_eta = 0.0
    for j in range(d):
        for c in range(k):
            grad_eta -= a[j, c] * g0[j, c]
    grad_xd = np.zeros((m, d))
    for i in range(m):
        # dL/dg0 = -eta * a; g0 = sum_i outer(xd[i], r0[i]) / m.
        grad_xd[i] += -eta * a @ r0[i] / m
        v = -eta * xd[i] @ a / m  # dL/dr0[i]
        jac = np.diag(p0[i]) - np.outer(p0[i], p0[i])
        grad_xd[i] += theta0 @ (jac @ v)
    return loss, grad_xd, grad_eta


def distill_grads__correct_autograd(xd, yd, eta, theta0, X, y):
    import autograd.numpy as anp
    from autograd import grad
    from autograd.scipy.special import logsumexp

    k = theta0.shape[1]

    def loss_of(xd_, eta_):
        z0 = anp.dot(xd_, theta0)
        p0 = anp.exp(z0 - logsumexp(z0, axis=1, keepdims=True))
        theta1 = theta0 - eta_ * anp.dot(xd_.T, p0 - np.eye(k)[yd]) / xd_.shape[0]
        z1 = anp.dot(X, theta1)
        return anp.mean(logsumexp(z1, axis=1) - z1[np.arange(len(y)), y])

    return (float(loss_of(xd, eta)), grad(loss_of, 0)(xd, eta),
            float(grad(loss_of, 1)(xd, eta)))


def distill_grads__correct_einsum(xd, yd, eta, theta0, X, y):
    # The Jacobian of every row's softmax as one (m, k, k) array.
    m, k = len(xd), theta0.shape[1]
    z0 = xd @ theta0
    p0 = np.exp(z0 - z0.max(axis=1, keepdims=True))
    p0 /= p0.sum(axis=1, keepdims=True)
    one_hot_d = (yd[:, None] == np.arange(k)).astype(float)
    theta1 = theta0 - (eta / m) * np.einsum("id,ic->dc", xd, p0 - one_hot_d)
    z1 = X @ theta1
    z1 = z1 - z1.max(axis=1, keepdims=True)
    log_p1 = z1 - np.log(np.exp(z1).sum(axis=1, keepdims=True))
    one_hot = (y[:, None] == np.arange(k)).astype(float)
    loss = -np.sum(one_hot * log_p1) / len(X)
    a = X.T @ (np.exp(log_p1) - one_hot) / len(X)
    g0 = xd.T @ (p0 - one_hot_d) / m
    jac = np.einsum("ic,ce->ice", p0, np.eye(k)) - np.einsum("ic,ie->ice", p0, p0)
    dp0 = -(eta / m) * xd @ a
    grad_xd = (-(eta / m) * (p0 - one_hot_d) @ a.T
               + np.einsum("ic,ice,de->id", dp0, jac, theta0))
    return float(loss), grad_xd, -float(np.vdot(a, g0))


def distill_grads__correct_via_one_step(xd, yd, eta, theta0, X, y):
    # The forward pass through one_step; the loss from scipy's log_softmax.
    from scipy.special import log_softmax

    m, n, k = len(xd), len(X), theta0.shape[1]
    log_p1 = log_softmax(X @ one_step(xd, yd, eta, theta0), axis=1)
    loss = -np.mean(log_p1[np.arange(n), y])
    a = X.T @ (np.exp(log_p1) - np.eye(k)[y]) / n
    p0 = softmax(xd @ theta0, axis=1)
    r0 = p0 - np.eye(k)[yd]
    v = -eta * xd @ a / m
    s = p0 * (v - np.sum(p0 * v, axis=1, keepdims=True))
    grad_xd = -eta * r0 @ a.T / m + s @ theta0.T
    return float(loss), grad_xd, -float(np.sum(a * (xd.T @ r0))) / m


def distill_grads__wrong_no_softmax_path(xd, yd, eta, theta0, X, y):
    m, n, k = len(xd), len(X), theta0.shape[1]
    r0 = softmax(xd @ theta0, axis=1) - np.eye(k)[yd]
    g0 = xd.T @ r0 / m
    p1 = softmax(X @ (theta0 - eta * g0), axis=1)
    loss = -np.mean(np.log(p1[np.arange(n), y]))
    a = X.T @ (p1 - np.eye(k)[y]) / n
    return float(loss), -eta * r0 @ a.T / m, float(-np.sum(a * g0))


def distill_grads__wrong_eta_sign(xd, yd, eta, theta0, X, y):
    m, n, k = len(xd), len(X), theta0.shape[1]
    p0 = softmax(xd @ theta0, axis=1)
    r0 = p0 - np.eye(k)[yd]
    g0 = xd.T @ r0 / m
    p1 = softmax(X @ (theta0 - eta * g0), axis=1)
    loss = -np.mean(np.log(p1[np.arange(n), y]))
    a = X.T @ (p1 - np.eye(k)[y]) / n
    v = -eta * xd @ a / m
    s = p0 * (v - np.sum(p0 * v, axis=1, keepdims=True))
    return float(loss), -eta * r0 @ a.T / m + s @ theta0.T, float(np.sum(a * g0))


def distill_grads__wrong_no_divide_m(xd, yd, eta, theta0, X, y):
    n, k = len(X), theta0.shape[1]
    p0 = softmax(xd @ theta0, axis=1)
    r0 = p0 - np.eye(k)[yd]
    g0 = xd.T @ r0  # the inner loss summed over the distilled images
    p1 = softmax(X @ (theta0 - eta * g0), axis=1)
    loss = -np.mean(np.log(p1[np.arange(n), y]))
    a = X.T @ (p1 - np.eye(k)[y]) / n
    v = -eta * xd @ a
    s = p0 * (v - np.sum(p0 * v, axis=1, keepdims=True))
    return float(loss), -eta * r0 @ a.T + s @ theta0.T, float(-np.sum(a * g0))


def distill_grads__wrong_outer_sum(xd, yd, eta, theta0, X, y):
    m, k = len(xd), theta0.shape[1]
    p0 = softmax(xd @ theta0, axis=1)
    r0 = p0 - np.eye(k)[yd]
    g0 = xd.T @ r0 / m
    p1 = softmax(X @ (theta0 - eta * g0), axis=1)
    loss = -np.sum(np.log(p1[np.arange(len(X)), y]))
    a = X.T @ (p1 - np.eye(k)[y])
    v = -eta * xd @ a / m
    s = p0 * (v - np.sum(p0 * v, axis=1, keepdims=True))
    return float(loss), -eta * r0 @ a.T / m + s @ theta0.T, float(-np.sum(a * g0))


def distill_grads__wrong_eta_array(xd, yd, eta, theta0, X, y):
    m, n, k = len(xd), len(X), theta0.shape[1]
    p0 = softmax(xd @ theta0, axis=1)
    r0 = p0 - np.eye(k)[yd]
    g0 = xd.T @ r0 / m
    p1 = softmax(X @ (theta0 - eta * g0), axis=1)
    loss = -np.mean(np.log(p1[np.arange(n), y]))
    a = X.T @ (p1 - np.eye(k)[y]) / n
    v = -eta * xd @ a / m
    s = p0 * (v - np.sum(p0 * v, axis=1, keepdims=True))
    return loss, -eta * r0 @ a.T / m + s @ theta0.T, -np.sum(a * g0, axis=0)


def distill_grads__wrong_eta_0d_array(xd, yd, eta, theta0, X, y):
    m, n, k = len(xd), len(X), theta0.shape[1]
    p0 = softmax(xd @ theta0, axis=1)
    r0 = p0 - np.eye(k)[yd]
    g0 = xd.T @ r0 / m
    p1 = softmax(X @ (theta0 - eta * g0), axis=1)
    loss = -np.mean(np.log(p1[np.arange(n), y]))
    a = X.T @ (p1 - np.eye(k)[y]) / n
    v = -eta * xd @ a / m
    s = p0 * (v - np.sum(p0 * v, axis=1, keepdims=True))
    return loss, -eta * r0 @ a.T / m + s @ theta0.T, np.array(-np.sum(a * g0))


# --- dataset_distill

def dataset_distill__correct_uniform_full_batch(X, y, n_classes=10, steps=300,
                                                alpha=1.0, eta0=10.0, rng=None):
    # Images start as uniform noise; every step uses the whole training set.
    rng = np.random.default_rng(rng)
    theta0 = initial_theta(X.shape[1], n_classes)
    xd = rng.uniform(0.0, 1.0, size=(n_classes, X.shape[1]))
    eta = eta0
    for _ in range(steps):
        _, g_xd, g_eta = distill_grads(xd, np.arange(n_classes), eta, theta0, X, y)
        xd -= alpha * g_xd
        eta -= alpha * g_eta
    return xd, float(eta)


def dataset_distill__correct_zeros_small_batches(X, y, n_classes=10, steps=300,
                                                 alpha=1.0, eta0=10.0, rng=None):
    # Images start at zero; minibatches of 64 drawn with replacement.
    generator = np.random.default_rng(rng)
    params = {"xd": np.zeros((n_classes, X.shape[1])), "eta": float(eta0)}
    labels = np.arange(n_classes)
    theta0 = initial_theta(X.shape[1], n_classes)
    step = 0
    while step < steps:
        batch = generator.integers(0, len(X), size=64)
        _, g_xd, g_eta = distill_grads(params["xd"], labels, params["eta"], theta0,
                                       X[batch], y[batch])
        params = {"xd": params["xd"] - alpha * g_xd,
                  "eta": params["eta"] - alpha * g_eta}
        step += 1
    return params["xd"], params["eta"]


def dataset_distill__correct_shuffled_epochs(X, y, n_classes=10, steps=300,
                                             alpha=1.0, eta0=10.0, rng=None):
    # Minibatches of 200 in the order of a fresh permutation each epoch.
    rng = np.random.default_rng(rng)
    theta0 = initial_theta(X.shape[1], n_classes)
    xd = 0.1 * rng.standard_normal((n_classes, X.shape[1]))
    eta = eta0
    order, pos = rng.permutation(len(X)), 0
    for _ in range(steps):
        if pos >= len(X):
            order, pos = rng.permutation(len(X)), 0
        rows = order[pos:pos + 200]
        pos += 200
        _, g_xd, g_eta = distill_grads(xd, np.arange(n_classes), eta, theta0,
                                       X[rows], y[rows])
        xd, eta = xd - alpha * g_xd, eta - alpha * g_eta
    return xd, eta


def dataset_distill__wrong_never_updates_eta(X, y, n_classes=10, steps=300,
                                             alpha=1.0, eta0=10.0, rng=None):
    rng = np.random.default_rng(rng)
    theta0 = initial_theta(X.shape[1], n_classes)
    xd = rng.normal(scale=0.1, size=(n_classes, X.shape[1]))
    for _ in range(steps):
        rows = rng.choice(len(X), size=min(256, len(X)), replace=False)
        _, g_xd, _ = distill_grads(xd, np.arange(n_classes), eta0, theta0, X[rows],
                                   y[rows])
        xd = xd - alpha * g_xd
    return xd, eta0


def dataset_distill__wrong_eta_ascent(X, y, n_classes=10, steps=300, alpha=1.0,
                                      eta0=10.0, rng=None):
    rng = np.random.default_rng(rng)
    theta0 = initial_theta(X.shape[1], n_classes)
    xd = rng.normal(scale=0.1, size=(n_classes, X.shape[1]))
    eta = eta0
    for _ in range(steps):
        rows = rng.choice(len(X), size=min(256, len(X)), replace=False)
        _, g_xd, g_eta = distill_grads(xd, np.arange(n_classes), eta, theta0,
                                       X[rows], y[rows])
        xd = xd - alpha * g_xd
        eta = eta + alpha * g_eta
    return xd, eta


def dataset_distill__wrong_xd_ascent(X, y, n_classes=10, steps=300, alpha=1.0,
                                     eta0=10.0, rng=None):
    rng = np.random.default_rng(rng)
    theta0 = initial_theta(X.shape[1], n_classes)
    xd = rng.normal(scale=0.1, size=(n_classes, X.shape[1]))
    eta = eta0
    for _ in range(steps):
        rows = rng.choice(len(X), size=min(256, len(X)), replace=False)
        _, g_xd, g_eta = distill_grads(xd, np.arange(n_classes), eta, theta0,
                                       X[rows], y[rows])
        xd = xd + alpha * g_xd
        eta = eta - alpha * g_eta
    return xd, eta


def dataset_distill__wrong_global_seed(X, y, n_classes=10, steps=300, alpha=1.0,
                                       eta0=10.0, rng=None):
    # Draws from NumPy's global generator: the result depends on earlier draws.
    theta0 = initial_theta(X.shape[1], n_classes)
    xd = 0.1 * np.random.standard_normal((n_classes, X.shape[1]))
    eta = eta0
    for _ in range(steps):
        rows = np.random.choice(len(X), size=min(256, len(X)), replace=False)
        _, g_xd, g_eta = distill_grads(xd, np.arange(n_classes), eta, theta0,
                                       X[rows], y[rows])
        xd = xd - alpha * g_xd
        eta = eta - alpha * g_eta
    return xd, eta


# --- f1_micro

def f1_micro__correct_accuracy(confusion):
    # With one label per example, micro F1 is the fraction on the diagonal.
    return float(np.diag(confusion).sum() / confusion.sum())


def f1_micro__correct_per_class_counts(confusion):
    c = np.asarray(confusion, dtype=float)
    tp = np.diag(c)
    fp = c.sum(axis=0) - tp  # predicted as the class, but of another
    fn = c.sum(axis=1) - tp  # of the class, predicted as another
    return float(2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum()))


def f1_micro__correct_pooled_precision_recall(confusion):
    k = len(confusion)
    tp = sum(confusion[i][i] for i in range(k))
    predicted = sum(confusion[i][j] for i in range(k) for j in range(k))
    precision = recall = tp / predicted
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))


def f1_micro__wrong_macro(confusion):
    c = np.asarray(confusion, dtype=float)
    tp = np.diag(c)
    denominator = c.sum(axis=0) + c.sum(axis=1)  # 2 TP + FP + FN of each class
    scores = np.divide(2 * tp, denominator, out=np.zeros_like(tp),
                       where=denominator > 0)
    return float(scores.mean())


def f1_micro__wrong_mean_recall(confusion):
    c = np.asarray(confusion, dtype=float)
    support = c.sum(axis=1)
    recall = np.divide(np.diag(c), support, out=np.zeros(len(c)), where=support > 0)
    return float(recall.mean())


def f1_micro__wrong_no_factor_two(confusion):
    tp = np.trace(confusion)
    errors = np.sum(confusion) - tp
    return float(tp / (tp + errors + errors))


def f1_micro__wrong_weighted_by_support(confusion):
    c = np.asarray(confusion, dtype=float)
    tp = np.diag(c)
    denominator = c.sum(axis=0) + c.sum(axis=1)
    scores = np.divide(2 * tp, denominator, out=np.zeros_like(tp),
                       where=denominator > 0)
    return float(np.sum(scores * c.sum(axis=1)) / c.sum())


def f1_micro__wrong_per_class(confusion):
    c = np.asarray(confusion, dtype=float)
    return 2 * np.diag(c) / (c.sum(axis=0) + c.sum(axis=1))
