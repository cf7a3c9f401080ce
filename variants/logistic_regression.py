"""Right and wrong answers to the graded functions of logistic_regression.

A function named ``<graded function>__correct_<how>`` is a correct answer written
differently from the reference: the hidden tests must give it every point. One named
``<graded function>__wrong_<mistake>`` is a plausible student mistake: the hidden
tests must give it none. Each is pasted, renamed, into the answer cell of a release
notebook and graded by nbgrader (tests/test_grading.py). Bodies use only what the
notebook has imported (``np``) and the other graded functions by name.

``DEMO`` names the mistaken demo submissions that ``python -m kit submissions``
writes into submitted/: student id -> the variants it uses.
"""

import numpy as np
import pandas as pd

# Names the variants call, as they exist in the notebook's namespace.
from lib.data import add_intercept
from lib.logistic import binary_cross_entropy, loss, loss_grad, predict, sigmoid

DEMO = {
    "overflowing-sigmoid": ["sigmoid__wrong_overflow"],
    "regularized-bias": ["loss_grad__wrong_regularized_bias"],
    "gradient-sum": ["loss_grad__wrong_sum_not_mean"],
    "loss-before-step": ["logistic_regression__wrong_loss_before_step"],
    "logit-gradient": ["bce_output_grad__wrong_logit_gradient"],
    "stale-best-theta": ["train_early_stopping__wrong_best_not_copied"],
}


# --- sigmoid

def sigmoid__correct_tanh(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def sigmoid__correct_clipped_loop(z):
    import math

    z = np.asarray(z, dtype=float)
    out = np.empty(z.shape)
    for i, v in np.ndenumerate(z):
        v = min(max(v, -700.0), 700.0)
        out[i] = 1.0 / (1.0 + math.exp(-v))
    return out if out.ndim else float(out)


def sigmoid__wrong_overflow(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid__wrong_where_both_branches(z):
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-z)), np.exp(z) / (1.0 + np.exp(z)))


def sigmoid__wrong_sign(z):
    z = np.clip(np.asarray(z, dtype=float), -500, 500)
    return 1.0 / (1.0 + np.exp(z))


# --- binary_cross_entropy

def binary_cross_entropy__correct_loop(output, target, eps=1e-15):
    import math

    total = 0.0
    for p, t in zip(np.ravel(output), np.ravel(target), strict=True):
        p = min(max(p, eps), 1 - eps)
        total -= math.log(p) if t == 1 else math.log(1 - p)
    return total / np.size(target)


def binary_cross_entropy__correct_add_eps(output, target, eps=1e-15):
    output = np.asarray(output, dtype=float)
    return -np.mean(target * np.log(output + eps) + (1 - target) * np.log(1 - output
                                                                         + eps))


def binary_cross_entropy__wrong_no_eps(output, target, eps=1e-15):
    return -np.mean(target * np.log(output) + (1 - target) * np.log(1 - output))


def binary_cross_entropy__wrong_sum(output, target, eps=1e-15):
    p = np.clip(output, eps, 1 - eps)
    return -np.sum(target * np.log(p) + (1 - target) * np.log(1 - p))


def binary_cross_entropy__wrong_sign(output, target, eps=1e-15):
    p = np.clip(output, eps, 1 - eps)
    return np.mean(target * np.log(p) + (1 - target) * np.log(1 - p))


def binary_cross_entropy__wrong_ignores_eps(output, target, eps=1e-15):
    p = np.clip(output, 1e-15, 1 - 1e-15)
    return -np.mean(target * np.log(p) + (1 - target) * np.log(1 - p))


# --- loss_grad

def loss_grad__correct_loop(theta, X, y, alpha=0.0):
    n, d = X.shape
    grad = np.zeros(d)
    for i in range(n):
        grad += (sigmoid(X[i] @ theta) - y[i]) * X[i]
    grad /= n
    for j in range(1, d):
        grad[j] += alpha * theta[j]
    return grad


def loss_grad__correct_mask(theta, X, y, alpha=0.0):
    mask = np.ones_like(theta)
    mask[0] = 0.0
    return np.mean((sigmoid(X @ theta) - y)[:, None] * X, axis=0) + alpha * mask * theta


def loss_grad__wrong_regularized_bias(theta, X, y, alpha=0.0):
    return X.T @ (sigmoid(X @ theta) - y) / len(y) + alpha * theta


def loss_grad__wrong_sign(theta, X, y, alpha=0.0):
    grad = X.T @ (y - sigmoid(X @ theta)) / len(y)
    grad[1:] += alpha * theta[1:]
    return grad


def loss_grad__wrong_sum_not_mean(theta, X, y, alpha=0.0):
    grad = X.T @ (sigmoid(X @ theta) - y)
    grad[1:] += alpha * theta[1:]
    return grad


def loss_grad__wrong_mutates_theta(theta, X, y, alpha=0.0):
    reg = theta
    reg[0] = 0.0
    return X.T @ (sigmoid(X @ theta) - y) / len(y) + alpha * reg


# --- logistic_regression

def logistic_regression__correct_list(X, y, eta=0.1, iters=1000, alpha=0.0):
    theta = np.zeros(X.shape[1])
    losses = []
    for _ in range(iters):
        theta -= eta * loss_grad(theta, X, y, alpha)
        losses.append(loss(theta, X, y, alpha))
    return theta, np.array(losses)


def logistic_regression__correct_inline_loss(X, y, eta=0.1, iters=1000, alpha=0.0):
    theta = np.zeros(X.shape[1])
    losses = np.zeros(iters)
    for i in range(iters):
        theta = theta - eta * loss_grad(theta, X, y, alpha)
        p = sigmoid(X @ theta)
        losses[i] = (binary_cross_entropy(p, y)
                     + alpha / 2 * np.dot(theta[1:], theta[1:]))
    return theta, losses


def logistic_regression__wrong_loss_before_step(X, y, eta=0.1, iters=1000, alpha=0.0):
    theta = np.zeros(X.shape[1])
    losses = np.zeros(iters)
    for i in range(iters):
        losses[i] = loss(theta, X, y, alpha)
        theta = theta - eta * loss_grad(theta, X, y, alpha)
    return theta, losses


def logistic_regression__wrong_ignores_alpha(X, y, eta=0.1, iters=1000, alpha=0.0):
    theta = np.zeros(X.shape[1])
    losses = np.zeros(iters)
    for i in range(iters):
        theta = theta - eta * loss_grad(theta, X, y)
        losses[i] = loss(theta, X, y)
    return theta, losses


def logistic_regression__wrong_ascent(X, y, eta=0.1, iters=1000, alpha=0.0):
    theta = np.zeros(X.shape[1])
    losses = np.zeros(iters)
    for i in range(iters):
        theta = theta + eta * loss_grad(theta, X, y, alpha)
        losses[i] = loss(theta, X, y, alpha)
    return theta, losses


# --- predict

def predict__correct_probability(X, theta):
    return np.where(sigmoid(X @ theta) >= 0.5, 1, 0)


def predict__correct_loop(X, theta):
    return np.array([1 if x @ theta >= 0 else 0 for x in X], dtype=np.int64)


def predict__wrong_strict(X, theta):
    return (X @ theta > 0).astype(int)


def predict__wrong_probabilities(X, theta):
    return sigmoid(X @ theta)


def predict__wrong_threshold_on_logits(X, theta):
    return (X @ theta >= 0.5).astype(int)


# --- decision_boundary

def decision_boundary__correct_tuple_of_arrays(theta):
    a = -theta[0] / theta[2]
    b = -theta[1] / theta[2]
    return np.array([a, b])


def decision_boundary__correct_two_points(theta):
    # Two points on the line, then its intercept and slope.
    x1 = np.array([0.0, 1.0])
    x2 = -(theta[0] + theta[1] * x1) / theta[2]
    return x2[0], x2[1] - x2[0]


def decision_boundary__wrong_sign(theta):
    return theta[0] / theta[2], theta[1] / theta[2]


def decision_boundary__wrong_swapped(theta):
    return -theta[1] / theta[2], -theta[0] / theta[2]


def decision_boundary__wrong_divides_by_theta1(theta):
    return -theta[0] / theta[1], -theta[2] / theta[1]


# --- preprocess_images

def preprocess_images__correct_add_intercept(X):
    X = np.asarray(X)
    if X.shape[1:] != (784,) or X.ndim != 2:
        raise ValueError(f"preprocess_images: X has shape {X.shape}, not (n, 784)")
    return add_intercept(X.astype(np.float64) / 255.0)


def preprocess_images__correct_loop(X):
    shape = np.shape(X)
    if len(shape) != 2 or shape[1] != 784:
        raise ValueError("wrong shape " + str(shape))
    out = np.ones((shape[0], 785))
    for i in range(shape[0]):
        for j in range(784):
            out[i, j + 1] = float(X[i][j]) / 255
    return out


def preprocess_images__correct_insert(X):
    X = np.array(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 784:
        raise ValueError(f"got {X.shape}")
    return np.insert(X / 255, 0, 1.0, axis=1)


def preprocess_images__wrong_no_scaling(X):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 784:
        raise ValueError(f"got shape {X.shape}")
    return np.hstack([np.ones((len(X), 1)), X])


def preprocess_images__wrong_bias_last(X):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 784:
        raise ValueError(f"got shape {X.shape}")
    return np.hstack([X / 255, np.ones((len(X), 1))])


def preprocess_images__wrong_no_shape_check(X):
    X = np.asarray(X, dtype=float).reshape(len(X), -1)
    return np.hstack([np.ones((len(X), 1)), X / 255])


def preprocess_images__wrong_message_without_shape(X):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 784:
        raise ValueError("X must have 784 columns")
    return np.hstack([np.ones((len(X), 1)), X / 255])


def preprocess_images__wrong_integer_division(X):
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 784:
        raise ValueError(f"got shape {X.shape}")
    return np.hstack([np.ones((len(X), 1)), X // 255]).astype(float)


# --- bce_output_grad

def bce_output_grad__correct_two_terms(output, target):
    return -target / output + (1 - target) / (1 - output)


def bce_output_grad__correct_where(output, target):
    return np.where(target == 1, -1.0 / output, 1.0 / (1.0 - output))


def bce_output_grad__correct_loop(output, target):
    output = np.asarray(output, dtype=float)
    out = np.empty(output.shape)
    for i, p in np.ndenumerate(output):
        t = np.asarray(target)[i]
        out[i] = -1 / p if t == 1 else 1 / (1 - p)
    return out


def bce_output_grad__wrong_logit_gradient(output, target):
    return output - target


def bce_output_grad__wrong_mean(output, target):
    return (output - target) / (output * (1 - output)) / np.size(output)


def bce_output_grad__wrong_sign(output, target):
    return (target - output) / (output * (1 - output))


def bce_output_grad__wrong_precedence(output, target):
    return (output - target) / output * (1 - output)


def bce_output_grad__wrong_second_term_sign(output, target):
    return -target / output - (1 - target) / (1 - output)


# --- train_early_stopping

def train_early_stopping__correct_loss_list(X, y, X_val, y_val, eta=0.1, batch=16,
                                            epochs=50, alpha=0.0, patience=10,
                                            checks_per_epoch=5):
    m = len(y) // batch
    every = max(1, m // checks_per_epoch)
    theta = np.zeros(X.shape[1])
    history = {"step": [], "train_loss": [], "val_loss": [], "val_accuracy": []}
    thetas = []
    step = 0
    for _ in range(epochs):
        for k in range(m):
            Xb, yb = X[k * batch:(k + 1) * batch], y[k * batch:(k + 1) * batch]
            theta -= eta * loss_grad(theta, Xb, yb, alpha)
            step += 1
            if step % every == 0:
                history["step"].append(step)
                history["train_loss"].append(loss(theta, X, y, 0.0))
                history["val_loss"].append(loss(theta, X_val, y_val, 0.0))
                history["val_accuracy"].append((predict(X_val, theta) == y_val).mean())
                thetas.append(theta.copy())
                losses = history["val_loss"]
                if len(losses) - 1 - int(np.argmin(losses)) >= patience:
                    return thetas[int(np.argmin(losses))], pd.DataFrame(history)
    if not thetas:
        return theta, pd.DataFrame(history)
    return thetas[int(np.argmin(history["val_loss"]))], pd.DataFrame(history)


def train_early_stopping__correct_flat_steps(X, y, X_val, y_val, eta=0.1, batch=16,
                                             epochs=50, alpha=0.0, patience=10,
                                             checks_per_epoch=5):
    per_epoch = X.shape[0] // batch
    every = max(per_epoch // checks_per_epoch, 1)
    theta = np.zeros(X.shape[1])
    best, best_theta, waited, rows = float("inf"), theta.copy(), 0, []
    for step in range(1, epochs * per_epoch + 1):
        i = (step - 1) % per_epoch
        theta = theta - eta * loss_grad(theta, X[i * batch:i * batch + batch],
                                        y[i * batch:i * batch + batch], alpha)
        if step % every != 0:
            continue
        val = binary_cross_entropy(sigmoid(X_val @ theta), y_val)
        rows.append((step, binary_cross_entropy(sigmoid(X @ theta), y), val,
                     float(np.sum(predict(X_val, theta) == y_val)) / len(y_val)))
        if val < best:
            best, best_theta, waited = val, theta.copy(), 0
        else:
            waited += 1
        if waited >= patience:
            break
    return best_theta, pd.DataFrame(rows, columns=["step", "train_loss", "val_loss",
                                                   "val_accuracy"])


def train_early_stopping__wrong_last_theta(X, y, X_val, y_val, eta=0.1, batch=16,
                                           epochs=50, alpha=0.0, patience=10,
                                           checks_per_epoch=5):
    # Stops at the right check, but returns the theta of the last check.
    m = len(y) // batch
    every = max(1, m // checks_per_epoch)
    theta, best, stale, rows = np.zeros(X.shape[1]), np.inf, 0, []
    for step in range(1, epochs * m + 1):
        b = (step - 1) % m
        theta = theta - eta * loss_grad(theta, X[b * batch:(b + 1) * batch],
                                        y[b * batch:(b + 1) * batch], alpha)
        if step % every == 0:
            val = binary_cross_entropy(sigmoid(X_val @ theta), y_val)
            rows.append([step, binary_cross_entropy(sigmoid(X @ theta), y), val,
                         np.mean(predict(X_val, theta) == y_val)])
            best, stale = (val, 0) if val < best else (best, stale + 1)
            if stale == patience:
                break
    return theta, pd.DataFrame(rows, columns=["step", "train_loss", "val_loss",
                                              "val_accuracy"])


def train_early_stopping__wrong_best_not_copied(X, y, X_val, y_val, eta=0.1, batch=16,
                                                epochs=50, alpha=0.0, patience=10,
                                                checks_per_epoch=5):
    # theta is updated in place, so best_theta follows it to the last step.
    theta = np.zeros(X.shape[1])
    best_theta, best_val, bad = theta, np.inf, 0
    history = {"step": [], "train_loss": [], "val_loss": [], "val_accuracy": []}
    per_epoch = len(y) // batch
    interval = max(1, per_epoch // checks_per_epoch)
    step = 0
    for _epoch in range(epochs):
        for i in range(per_epoch):
            theta -= eta * loss_grad(theta, X[i * batch:(i + 1) * batch],
                                     y[i * batch:(i + 1) * batch], alpha)
            step += 1
            if step % interval != 0:
                continue
            val = loss(theta, X_val, y_val)
            accuracy = np.mean(predict(X_val, theta) == y_val)
            for key, value in (("step", step), ("train_loss", loss(theta, X, y)),
                               ("val_loss", val), ("val_accuracy", accuracy)):
                history[key].append(value)
            if val < best_val:
                best_theta, best_val, bad = theta, val, 0
            else:
                bad += 1
                if bad >= patience:
                    return best_theta, pd.DataFrame(history)
    return best_theta, pd.DataFrame(history)


def train_early_stopping__wrong_minibatch_train_loss(X, y, X_val, y_val, eta=0.1,
                                                     batch=16, epochs=50, alpha=0.0,
                                                     patience=10, checks_per_epoch=5):
    # train_loss is the loss of the current minibatch, not of the training set.
    n_batches = len(y) // batch
    check_every = max(1, n_batches // checks_per_epoch)
    theta = np.zeros(X.shape[1])
    records, thetas, steps = [], [], 0
    for _ in range(epochs):
        for start in range(0, n_batches * batch, batch):
            Xb, yb = X[start:start + batch], y[start:start + batch]
            theta = theta - eta * loss_grad(theta, Xb, yb, alpha)
            steps += 1
            if steps % check_every:
                continue
            records.append({"step": steps,
                            "train_loss": binary_cross_entropy(sigmoid(Xb @ theta), yb),
                            "val_loss": binary_cross_entropy(sigmoid(X_val @ theta),
                                                             y_val),
                            "val_accuracy": np.mean(predict(X_val, theta) == y_val)})
            thetas.append(theta)
            val_losses = [r["val_loss"] for r in records]
            if len(val_losses) - 1 - int(np.argmin(val_losses)) == patience:
                return thetas[int(np.argmin(val_losses))], pd.DataFrame(records)
    val_losses = [r["val_loss"] for r in records]
    return thetas[int(np.argmin(val_losses))], pd.DataFrame(records)


def train_early_stopping__wrong_partial_minibatch(X, y, X_val, y_val, eta=0.1,
                                                  batch=16, epochs=50, alpha=0.0,
                                                  patience=10, checks_per_epoch=5):
    # Also steps on the last, shorter minibatch of every epoch.
    every = max(1, (len(y) // batch) // checks_per_epoch)
    theta = np.zeros(X.shape[1])
    best, best_theta, since, count, log = np.inf, theta, 0, 0, []
    for _ in range(epochs):
        for Xb, yb in zip(np.array_split(X, range(batch, len(y), batch)),
                          np.array_split(y, range(batch, len(y), batch)), strict=True):
            theta = theta - eta * loss_grad(theta, Xb, yb, alpha)
            count += 1
            if count % every:
                continue
            val = binary_cross_entropy(sigmoid(X_val @ theta), y_val)
            log.append((count, binary_cross_entropy(sigmoid(X @ theta), y), val,
                        np.mean(predict(X_val, theta) == y_val)))
            if val < best:
                best, best_theta, since = val, theta, 0
            else:
                since += 1
                if since == patience:
                    return best_theta, pd.DataFrame(log, columns=[
                        "step", "train_loss", "val_loss", "val_accuracy"])
    return best_theta, pd.DataFrame(log, columns=["step", "train_loss", "val_loss",
                                                  "val_accuracy"])
