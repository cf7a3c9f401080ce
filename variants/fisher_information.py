"""Right and wrong answers to the graded functions of fisher_information.

A function named ``<graded function>__correct_<how>`` is a correct answer written
differently from the reference: the hidden tests must give it every point. One named
``<graded function>__wrong_<mistake>`` is a plausible student mistake: the hidden
tests must give it none. Each is pasted, renamed, into the answer cell of a release
notebook and graded by nbgrader (tests/test_grading.py). Bodies use only what the
notebook's setup cell imports (``np``, ``anp``, ``grad``, ``expit``) and the other
graded functions by name.

``DEMO`` names the mistaken demo submissions that ``python -m kit submissions``
writes into submitted/: student id -> the variants it uses.
"""

import autograd.numpy as anp
import numpy as np
from autograd import grad
from scipy.special import expit

# Names the variants call, as they exist in the notebook's namespace.
from lib.fisher import logistic_fisher

DEMO = {
    "fisher-is-variance": ["bernoulli_fisher__wrong_variance_not_information"],
    "centred-scores": ["empirical_fisher__wrong_subtracts_mean_score"],
    "inverted-diagonal": ["standard_errors__wrong_inverse_of_diagonal"],
}


# --- bernoulli_score

def bernoulli_score__correct_residual_form(theta, x):
    return (np.asarray(x, dtype=float) - theta) / (theta * (1 - theta))


def bernoulli_score__correct_autograd(theta, x):
    def loglik(t, obs):
        return obs * anp.log(t) + (1 - obs) * anp.log(1 - t)

    d = grad(loglik)
    x = np.asarray(x, dtype=float)
    out = np.array([d(float(theta), float(v)) for v in x.ravel()]).reshape(x.shape)
    return float(out) if out.ndim == 0 else out


def bernoulli_score__correct_where(theta, x):
    return np.where(np.asarray(x) == 1, 1 / theta, -1 / (1 - theta))[()]


def bernoulli_score__wrong_sign_of_second_term(theta, x):
    return x / theta + (1 - x) / (1 - theta)


def bernoulli_score__wrong_natural_parameter(theta, x):
    # The derivative with respect to the log-odds, not theta.
    return np.asarray(x, dtype=float) - theta


def bernoulli_score__wrong_same_denominator(theta, x):
    return x / theta - (1 - x) / theta


def bernoulli_score__wrong_log_likelihood(theta, x):
    return x * np.log(theta) + (1 - x) * np.log(1 - theta)


# --- bernoulli_fisher

def bernoulli_fisher__correct_sum_of_inverses(theta):
    return 1 / theta + 1 / (1 - theta)


def bernoulli_fisher__correct_expected_squared_score(theta):
    theta = np.asarray(theta, dtype=float)
    return theta * (1 / theta) ** 2 + (1 - theta) * (1 / (1 - theta)) ** 2


def bernoulli_fisher__wrong_variance_not_information(theta):
    return theta * (1 - theta)


def bernoulli_fisher__wrong_unweighted_squares(theta):
    # Squared scores of x = 1 and x = 0 added without their probabilities.
    return 1 / theta**2 + 1 / (1 - theta) ** 2


def bernoulli_fisher__wrong_sign_slip(theta):
    return 1 / theta - 1 / (1 - theta)


def bernoulli_fisher__wrong_square_root(theta):
    return 1 / np.sqrt(theta * (1 - theta))


# --- empirical_fisher

def empirical_fisher__correct_loop_of_outer_products(score, samples, theta):
    total = None
    for x in samples:
        s = np.atleast_1d(score(theta, x))
        term = np.outer(s, s)
        total = term if total is None else total + term
    return total / len(samples)


def empirical_fisher__correct_einsum(score, samples, theta):
    S = np.array([score(theta, x) for x in samples], dtype=float)
    S = S.reshape(len(samples), -1)
    return np.einsum("ni,nj->ij", S, S) / S.shape[0]


def empirical_fisher__correct_mean_of_stack(score, samples, theta):
    outers = [np.outer(score(theta, x), score(theta, x)) for x in samples]
    return np.mean(outers, axis=0)


def empirical_fisher__wrong_inner_product(score, samples, theta):
    return np.mean([np.inner(score(theta, x), score(theta, x)) for x in samples],
                   axis=0)


def empirical_fisher__wrong_subtracts_mean_score(score, samples, theta):
    S = np.array([np.atleast_1d(score(theta, x)) for x in samples])
    S = S - S.mean(axis=0)
    return S.T @ S / len(S)


def empirical_fisher__wrong_sum_not_mean(score, samples, theta):
    S = np.array([np.atleast_1d(score(theta, x)) for x in samples])
    return S.T @ S


def empirical_fisher__wrong_outer_of_mean_score(score, samples, theta):
    m = np.mean([np.atleast_1d(score(theta, x)) for x in samples], axis=0)
    return np.outer(m, m)


def empirical_fisher__wrong_diagonal_only(score, samples, theta):
    S = np.array([np.atleast_1d(score(theta, x)) for x in samples])
    return np.diag(np.mean(S**2, axis=0))


# --- logistic_fisher

def logistic_fisher__correct_loop(X, theta):
    d = X.shape[1]
    F = np.zeros((d, d))
    for x in X:
        p = 1.0 / (1.0 + np.exp(-(x @ theta)))
        F += p * (1 - p) * np.outer(x, x)
    return F


def logistic_fisher__correct_explicit_diagonal(X, theta):
    p = expit(X @ theta)
    return X.T @ np.diag(p * (1 - p)) @ X


def logistic_fisher__correct_einsum(X, theta):
    p = expit(X @ theta)
    return np.einsum("n,ni,nj->ij", p * (1 - p), X, X)


def logistic_fisher__wrong_averaged(X, theta):
    p = expit(X @ theta)
    return X.T @ np.diag(p * (1 - p)) @ X / len(X)


def logistic_fisher__wrong_p_not_variance(X, theta):
    p = expit(X @ theta)
    return X.T @ np.diag(p) @ X


def logistic_fisher__wrong_weight_squared(X, theta):
    p = expit(X @ theta)
    W = X * (p * (1 - p))[:, None]
    return W.T @ W


def logistic_fisher__wrong_n_by_n(X, theta):
    p = expit(X @ theta)
    return X @ X.T * (p * (1 - p))


# --- standard_errors

def standard_errors__correct_solve(X, theta):
    F = logistic_fisher(X, theta)
    return np.sqrt(np.diag(np.linalg.solve(F, np.eye(len(F)))))


def standard_errors__correct_cholesky(X, theta):
    L = np.linalg.cholesky(logistic_fisher(X, theta))
    L_inv = np.linalg.inv(L)  # F^-1 = L^-T L^-1
    return np.sqrt(np.sum(L_inv**2, axis=0))


def standard_errors__correct_mean_information(X, theta):
    n = X.shape[0]
    per_example = logistic_fisher(X, theta) / n
    return np.sqrt(np.diag(np.linalg.pinv(per_example)) / n)


def standard_errors__wrong_inverse_of_diagonal(X, theta):
    return 1 / np.sqrt(np.diag(logistic_fisher(X, theta)))


def standard_errors__wrong_no_square_root(X, theta):
    return np.diag(np.linalg.inv(logistic_fisher(X, theta)))


def standard_errors__wrong_divides_by_root_n(X, theta):
    F = logistic_fisher(X, theta)
    return np.sqrt(np.diag(np.linalg.inv(F))) / np.sqrt(X.shape[0])


def standard_errors__wrong_inverts_mean_information(X, theta):
    F = logistic_fisher(X, theta) / X.shape[0]
    return np.sqrt(np.diag(np.linalg.inv(F)))
