"""Right and wrong answers to the graded functions of gradient_checker.

A function named ``<graded function>__correct_<how>`` is a correct answer written
differently from the reference: the hidden tests must give it every point. One named
``<graded function>__wrong_<mistake>`` is a plausible student mistake: the hidden
tests must give it none. Each is pasted, renamed, into the answer cell of a release
notebook and graded by nbgrader (tests/test_grading.py). Bodies use only what the
notebook defines (``np``, ``expit``, ``softmax``, the given cells) and the other
graded functions by name.

``DEMO`` names the mistaken demo submissions that ``python -m kit submissions``
writes into submitted/: student id -> the variants it uses.
"""

import numpy as np
from scipy.special import expit, softmax

# Names the variants call, as they exist in the notebook's namespace.
from lib.gradcheck import gradient_checker, numerical_gradient, relative_error

DEMO = {
    "forward-as-central": ["numerical_gradient__wrong_forward_labelled_central"],
    "flat-worst-index": ["gradient_checker__wrong_flat_index"],
    "softmax-columns": ["softmax_grad__wrong_subtracts_columns"],
}


# --- numerical_gradient

def numerical_gradient__correct_in_place_nditer(f, theta, eps=1e-5, method="central"):
    # Perturb theta itself and put each saved value back (CS231n's loop).
    if method not in ("forward", "backward", "central"):
        raise ValueError(f"unknown method: {method}")
    if np.ndim(theta) == 0:
        x = float(theta)
        diffs = {"central": (f(x + eps) - f(x - eps)) / (2 * eps),
                 "forward": (f(x + eps) - f(x)) / eps,
                 "backward": (f(x) - f(x - eps)) / eps}
        return float(diffs[method])
    fx = f(theta)
    grad = np.zeros(theta.shape)
    it = np.nditer(theta, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = theta[i]
        theta[i] = old + eps
        up = f(theta)
        theta[i] = old - eps
        down = f(theta)
        theta[i] = old
        if method == "central":
            grad[i] = (up - down) / (2 * eps)
        elif method == "forward":
            grad[i] = (up - fx) / eps
        else:
            grad[i] = (fx - down) / eps
        it.iternext()
    return grad


def numerical_gradient__correct_flat_basis(f, theta, eps=1e-5, method="central"):
    # Step along basis vectors of the flattened parameter, reshaped for f.
    x = np.asarray(theta, dtype=float)
    flat = x.ravel()
    grad = np.zeros(flat.size)
    fx = f(x[()])
    for k in range(flat.size):
        step = np.zeros(flat.size)
        step[k] = eps
        plus = (flat + step).reshape(x.shape)[()]  # a float when theta is one
        minus = (flat - step).reshape(x.shape)[()]
        if method == "central":
            grad[k] = (f(plus) - f(minus)) / (2 * eps)
        elif method == "forward":
            grad[k] = (f(plus) - fx) / eps
        elif method == "backward":
            grad[k] = (fx - f(minus)) / eps
        else:
            raise ValueError("method should be forward, backward or central, not "
                             + str(method))
    if x.ndim == 0:
        return float(grad[0])
    return grad.reshape(x.shape)


def numerical_gradient__correct_actual_step(f, theta, eps=1e-5, method="central"):
    # Divide by the step actually taken in floating point, (x + eps) - (x - eps).
    if method not in ("forward", "backward", "central"):
        raise ValueError(f"method {method!r} is not supported")
    x = np.array(theta, dtype=float)

    def value(point):
        return f(point if point.ndim else point[()])

    grad = np.empty(x.shape)
    for i in np.ndindex(*x.shape):
        hi, lo = x.copy(), x.copy()
        if method != "backward":
            hi[i] = x[i] + eps
        if method != "forward":
            lo[i] = x[i] - eps
        grad[i] = (value(hi) - value(lo)) / (hi[i] - lo[i])
    return grad if x.ndim else float(grad)


def numerical_gradient__wrong_forward_labelled_central(f, theta, eps=1e-5,
                                                       method="central"):
    x = np.array(theta, dtype=float)
    fx = f(x)
    grad = np.empty(x.shape)
    for i in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[i] = eps
        if method == "backward":
            grad[i] = (fx - f(x - step)) / eps
        elif method in ("forward", "central"):
            grad[i] = (f(x + step) - fx) / eps
        else:
            raise ValueError(f"unknown method {method!r}")
    return grad if x.ndim else float(grad)


def numerical_gradient__wrong_divides_by_eps(f, theta, eps=1e-5, method="central"):
    if method not in ("forward", "backward", "central"):
        raise ValueError(f"unknown method {method!r}")
    x = np.array(theta, dtype=float)
    grad = np.empty(x.shape)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        if method != "backward":
            up[i] += eps
        if method != "forward":
            down[i] -= eps
        grad[i] = (f(up) - f(down)) / eps
    return grad if x.ndim else float(grad)


def numerical_gradient__wrong_mutates_theta(f, theta, eps=1e-5, method="central"):
    if method not in ("forward", "backward", "central"):
        raise ValueError(f"unknown method {method!r}")
    theta = np.asarray(theta, dtype=float)  # the caller's array, not a copy
    fx = f(theta)
    grad = np.empty(theta.shape)
    for i in np.ndindex(theta.shape):
        theta[i] += eps
        up = f(theta)
        theta[i] -= 2 * eps
        down = f(theta)
        grad[i] = {"central": (up - down) / (2 * eps), "forward": (up - fx) / eps,
                   "backward": (fx - down) / eps}[method]
    return grad if theta.ndim else float(grad)


def numerical_gradient__wrong_restores_by_subtraction(f, theta, eps=1e-5,
                                                      method="central"):
    if method not in ("forward", "backward", "central"):
        raise ValueError(f"unknown method {method!r}")
    theta = np.asarray(theta, dtype=float)
    fx = f(theta)
    grad = np.empty(theta.shape)
    for i in np.ndindex(theta.shape):
        theta[i] += eps
        up = f(theta)
        theta[i] -= 2 * eps
        down = f(theta)
        theta[i] += eps  # back where it was, up to rounding
        grad[i] = {"central": (up - down) / (2 * eps), "forward": (up - fx) / eps,
                   "backward": (fx - down) / eps}[method]
    return grad if theta.ndim else float(grad)


def numerical_gradient__wrong_flat_output(f, theta, eps=1e-5, method="central"):
    if method not in ("forward", "backward", "central"):
        raise ValueError(f"unknown method {method!r}")
    x = np.array(theta, dtype=float)
    fx = f(x)
    grad = []
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad.append({"central": (f(up) - f(down)) / (2 * eps),
                     "forward": (f(up) - fx) / eps,
                     "backward": (fx - f(down)) / eps}[method])
    return np.array(grad) if x.ndim else float(grad[0])


# --- relative_error

def relative_error__correct_loop(a, b):
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        worst = max(worst, abs(x - y) / max(1e-8, abs(x) + abs(y)))
    return worst


def relative_error__correct_fmax(a, b):
    diff = np.abs(np.subtract(a, b, dtype=float))
    return np.max(diff / np.fmax(np.abs(a) + np.abs(b), 1e-8))


def relative_error__wrong_no_floor(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


def relative_error__wrong_mean(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def relative_error__wrong_norm_ratio(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b)
                 / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b)))


def relative_error__wrong_max_not_sum(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)
                        / np.maximum(1e-8, np.maximum(np.abs(a), np.abs(b)))))


# --- gradient_checker

def gradient_checker__correct_loop_over_entries(J, grad_J, theta, eps=1e-5, rtol=1e-6):
    analytic = np.asarray(grad_J(theta), dtype=float)
    numeric = np.asarray(numerical_gradient(J, theta, eps=eps, method="central"))
    worst_index, worst_error = (), -1.0
    for i in np.ndindex(analytic.shape):
        error = relative_error(analytic[i], numeric[i])
        if error > worst_error:
            worst_index, worst_error = i, error
    return bool(worst_error <= rtol), worst_index, worst_error


def gradient_checker__correct_own_differences(J, grad_J, theta, eps=1e-5, rtol=1e-6):
    # Central differences written out with np.nditer instead of numerical_gradient.
    x = np.array(theta, dtype=float)
    analytic = np.asarray(grad_J(theta), dtype=float).reshape(x.shape)
    errors = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        if x.ndim:
            n = (J(up) - J(down)) / (2 * eps)
        else:
            n = (J(float(up)) - J(float(down))) / (2 * eps)
        errors[i] = abs(analytic[i] - n) / max(1e-8, abs(analytic[i]) + abs(n))
    index = np.unravel_index(int(np.argmax(errors)), x.shape)
    return errors[index] <= rtol, index, float(errors[index])


def gradient_checker__wrong_flat_index(J, grad_J, theta, eps=1e-5, rtol=1e-6):
    analytic = np.asarray(grad_J(theta), dtype=float)
    numeric = np.asarray(numerical_gradient(J, theta, eps))
    errors = np.abs(analytic - numeric) / np.maximum(
        1e-8, np.abs(analytic) + np.abs(numeric))
    worst = int(np.argmax(errors))
    worst_error = float(errors.ravel()[worst])
    return worst_error <= rtol, worst, worst_error


def gradient_checker__wrong_forward_differences(J, grad_J, theta, eps=1e-5, rtol=1e-6):
    analytic = np.asarray(grad_J(theta), dtype=float)
    numeric = np.asarray(numerical_gradient(J, theta, eps, method="forward"))
    errors = np.abs(analytic - numeric) / np.maximum(
        1e-8, np.abs(analytic) + np.abs(numeric))
    index = np.unravel_index(np.argmax(errors), errors.shape)
    return bool(errors[index] <= rtol), tuple(index), float(errors[index])


def gradient_checker__wrong_absolute_error(J, grad_J, theta, eps=1e-5, rtol=1e-6):
    analytic = np.asarray(grad_J(theta), dtype=float)
    numeric = np.asarray(numerical_gradient(J, theta, eps))
    errors = np.abs(analytic - numeric)
    index = np.unravel_index(np.argmax(errors), errors.shape)
    return bool(errors[index] <= rtol), tuple(index), float(errors[index])


def gradient_checker__wrong_ignores_eps(J, grad_J, theta, eps=1e-5, rtol=1e-6):
    analytic = np.asarray(grad_J(theta), dtype=float)
    numeric = np.asarray(numerical_gradient(J, theta))
    errors = np.abs(analytic - numeric) / np.maximum(
        1e-8, np.abs(analytic) + np.abs(numeric))
    index = np.unravel_index(np.argmax(errors), errors.shape)
    return bool(errors[index] <= rtol), tuple(index), float(errors[index])


def gradient_checker__wrong_ignores_rtol(J, grad_J, theta, eps=1e-5, rtol=1e-6):
    analytic = np.asarray(grad_J(theta), dtype=float)
    numeric = np.asarray(numerical_gradient(J, theta, eps))
    errors = np.abs(analytic - numeric) / np.maximum(
        1e-8, np.abs(analytic) + np.abs(numeric))
    index = np.unravel_index(np.argmax(errors), errors.shape)
    return bool(errors[index] <= 1e-6), tuple(index), float(errors[index])


# --- check_sparse

def check_sparse__correct_flat_choice(J, grad_J, theta, num_checks=10, rng=None):
    gen = np.random.default_rng(rng)
    x = np.array(theta, dtype=float)
    analytic = np.asarray(grad_J(theta), dtype=float)
    worst_index, worst_error = None, -1.0
    for flat in gen.choice(x.size, size=num_checks):  # with replacement
        i = np.unravel_index(flat, x.shape)
        old = x[i]
        x[i] = old + 1e-5
        up = J(x if x.ndim else float(x))
        x[i] = old - 1e-5
        down = J(x if x.ndim else float(x))
        x[i] = old
        error = relative_error(analytic[i], (up - down) / 2e-5)
        if error > worst_error:
            worst_index, worst_error = tuple(int(k) for k in i), error
    return worst_error <= 1e-6, worst_index, worst_error


def check_sparse__correct_unique_coordinates(J, grad_J, theta, num_checks=10,
                                             rng=None):
    # Each drawn coordinate is checked once, even when it is drawn twice.
    rng = np.random.default_rng(rng)
    x = np.asarray(theta, dtype=float)
    analytic = np.asarray(grad_J(theta), dtype=float)
    flats = np.unique(rng.integers(0, x.size, size=num_checks))
    results = []
    for flat in flats:
        i = np.unravel_index(flat, x.shape)
        step = np.zeros(x.shape)
        step[i] = 1e-5
        numeric = (J(x + step) - J(x - step)) / (2 * 1e-5)
        a = analytic[i]
        results.append((abs(a - numeric) / max(1e-8, abs(a) + abs(numeric)), i))
    error, index = max(results, key=lambda r: r[0])
    return bool(error <= 1e-6), tuple(index), float(error)


def check_sparse__wrong_full_gradient(J, grad_J, theta, num_checks=10, rng=None):
    rng = np.random.default_rng(rng)
    analytic = np.asarray(grad_J(theta), dtype=float)
    numeric = np.asarray(numerical_gradient(J, theta))
    worst_index, worst_error = (), -1.0
    for flat in rng.integers(0, analytic.size, size=num_checks):
        i = np.unravel_index(flat, analytic.shape)
        error = relative_error(analytic[i], numeric[i])
        if error > worst_error:
            worst_index, worst_error = tuple(i), error
    return worst_error <= 1e-6, worst_index, worst_error


def check_sparse__wrong_ignores_rng(J, grad_J, theta, num_checks=10, rng=None):
    gen = np.random.default_rng()
    x = np.array(theta, dtype=float)
    analytic = np.asarray(grad_J(theta), dtype=float)
    worst_index, worst_error = (), -1.0
    for _ in range(num_checks):
        i = tuple(int(gen.integers(n)) for n in x.shape)
        up, down = x.copy(), x.copy()
        up[i] += 1e-5
        down[i] -= 1e-5
        error = relative_error(analytic[i], (J(up) - J(down)) / 2e-5)
        if error > worst_error:
            worst_index, worst_error = i, error
    return worst_error <= 1e-6, worst_index, worst_error


def check_sparse__wrong_reseeds_in_loop(J, grad_J, theta, num_checks=10, rng=None):
    x = np.array(theta, dtype=float)
    analytic = np.asarray(grad_J(theta), dtype=float)
    worst_index, worst_error = (), -1.0
    for _ in range(num_checks):
        flat = np.random.default_rng(rng).integers(x.size)
        i = np.unravel_index(flat, x.shape)
        up, down = x.copy(), x.copy()
        up[i] += 1e-5
        down[i] -= 1e-5
        error = relative_error(analytic[i], (J(up) - J(down)) / 2e-5)
        if error > worst_error:
            worst_index, worst_error = tuple(int(k) for k in i), error
    return worst_error <= 1e-6, worst_index, worst_error


def check_sparse__wrong_fixed_coordinates(J, grad_J, theta, num_checks=10, rng=None):
    x = np.array(theta, dtype=float)
    analytic = np.asarray(grad_J(theta), dtype=float)
    worst_index, worst_error = (), -1.0
    for k in range(num_checks):
        i = np.unravel_index(k % x.size, x.shape)
        up, down = x.copy(), x.copy()
        up[i] += 1e-5
        down[i] -= 1e-5
        error = relative_error(analytic[i], (J(up) - J(down)) / 2e-5)
        if error > worst_error:
            worst_index, worst_error = tuple(int(j) for j in i), error
    return worst_error <= 1e-6, worst_index, worst_error


def check_sparse__wrong_forward_differences(J, grad_J, theta, num_checks=10,
                                            rng=None):
    rng = np.random.default_rng(rng)
    x = np.array(theta, dtype=float)
    analytic = np.asarray(grad_J(theta), dtype=float)
    fx = J(x)
    worst_index, worst_error = (), -1.0
    for _ in range(num_checks):
        i = tuple(int(rng.integers(n)) for n in x.shape)
        up = x.copy()
        up[i] += 1e-5
        error = relative_error(analytic[i], (J(up) - fx) / 1e-5)
        if error > worst_error:
            worst_index, worst_error = i, error
    return worst_error <= 1e-6, worst_index, worst_error


# --- sigmoid_grad

def sigmoid_grad__correct_one_minus(z):
    s = expit(z)
    return s * (1 - s)


def sigmoid_grad__correct_tanh(z):
    # g(z) = (1 + tanh(z / 2)) / 2, so g'(z) = (1 - tanh(z / 2)^2) / 4.
    return 0.25 * (1.0 - np.tanh(0.5 * np.asarray(z, dtype=float)) ** 2)


def sigmoid_grad__correct_symmetric_exp(z):
    e = np.exp(-np.abs(z))
    return e / (1.0 + e) ** 2


def sigmoid_grad__wrong_one_minus_z(z):
    return expit(z) * (1 - z)


def sigmoid_grad__wrong_one_minus_square(z):
    return 1 - expit(z) ** 2


def sigmoid_grad__wrong_missing_factor(z):
    return np.exp(-z) / (1 + np.exp(-z))


# --- logistic_grad

def logistic_grad__correct_mean_of_rows(theta, X, y):
    return np.mean((expit(X @ theta) - y)[:, None] * X, axis=0)


def logistic_grad__correct_loop(theta, X, y):
    grad = np.zeros(X.shape[1])
    for x_i, y_i in zip(X, y, strict=True):
        grad += (expit(x_i @ theta) - y_i) * x_i
    return grad / len(y)


def logistic_grad__wrong_sum_not_mean(theta, X, y):
    return X.T @ (expit(X @ theta) - y)


def logistic_grad__wrong_sign(theta, X, y):
    return X.T @ (y - expit(X @ theta)) / len(y)


def logistic_grad__wrong_no_sigmoid(theta, X, y):
    return X.T @ (X @ theta - y) / len(y)


# --- softmax_grad

def softmax_grad__correct_one_hot(W, X, y):
    Y = np.eye(W.shape[1])[y]
    return X.T @ (softmax(X @ W, axis=1) - Y) / len(y)


def softmax_grad__correct_loop(W, X, y):
    grad = np.zeros_like(W)
    for x_i, y_i in zip(X, y, strict=True):
        z = x_i @ W
        p = np.exp(z - z.max())
        p /= p.sum()
        p[y_i] -= 1.0
        grad += np.outer(x_i, p)
    return grad / len(y)


def softmax_grad__wrong_subtracts_columns(W, X, y):
    P = softmax(X @ W, axis=1)
    P[:, y] -= 1.0
    return X.T @ P / len(y)


def softmax_grad__wrong_softmax_over_columns(W, X, y):
    P = softmax(X @ W, axis=0)
    P[np.arange(len(y)), y] -= 1.0
    return X.T @ P / len(y)


def softmax_grad__wrong_sum_not_mean(W, X, y):
    P = softmax(X @ W, axis=1)
    P[np.arange(len(y)), y] -= 1.0
    return X.T @ P


def softmax_grad__wrong_classes_from_labels(W, X, y):
    Y = np.eye(int(np.max(y)) + 1)[y]
    return X.T @ (softmax(X @ W, axis=1) - Y) / len(y)


# --- buggy_blocks

def buggy_blocks__correct_literal():
    return {"W1", "b1"}


def buggy_blocks__correct_sorted_list():
    return ["W1", "b1"]


def buggy_blocks__correct_checker_per_block():
    # Check each block on its own, the other blocks held at theta_net.
    found, start = set(), 0
    for name, shape in BLOCKS.items():  # noqa: F821 (defined in the notebook)
        size = int(np.prod(shape))

        def J_part(v, start=start, size=size):
            theta = theta_net.copy()  # noqa: F821
            theta[start:start + size] = v
            return net_loss(theta)  # noqa: F821

        def grad_part(v, start=start, size=size):
            theta = theta_net.copy()  # noqa: F821
            theta[start:start + size] = v
            return net_grad(theta)[start:start + size]  # noqa: F821

        ok, _, _ = gradient_checker(J_part, grad_part,
                                    theta_net[start:start + size])  # noqa: F821
        if not ok:
            found.add(name)
        start += size
    return found


def buggy_blocks__wrong_worst_coordinate_only():
    return {"b1"}


def buggy_blocks__wrong_blocks_from_the_end():
    return {"W2", "b2"}


def buggy_blocks__wrong_names_in_a_string():
    return "W1 and b1"
