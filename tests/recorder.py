"""The kernel's half of tests/test_references.py: graded answers wrapped so that each
call is judged against the reference of ``lib``, on copies of its arguments."""

import copy
import functools
import importlib
import json

import numpy as np
import pandas as pd

from lib import checks

# Calls judged per function: enough for every kind of input the tests use.
MAX_RECORDS = 60
# {function: {"calls": n, "differences": [...]}}
REPORT = {}


def same(a, b):
    """Whether an outcome of the answer and one of the reference are the same."""
    if isinstance(a, np.random.Generator) and isinstance(b, np.random.Generator):
        return a.bit_generator.state == b.bit_generator.state
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        # Single precision rounds differently with each order of operations.
        single = np.float32 in (a.dtype, b.dtype)
        return (a.shape == b.shape and a.dtype == b.dtype
                and np.allclose(a, b, rtol=1e-4 if single else 1e-6,
                                atol=1e-6 if single else 1e-9, equal_nan=True))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        return (list(a.columns) == list(b.columns) and a.index.equals(b.index)
                and all(same(a[c].to_numpy(), b[c].to_numpy()) if len(a)
                        else a[c].dtype == b[c].dtype for c in a.columns))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float,
                                                                 np.number)):
        return bool(np.isclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True))
    if callable(a) and callable(b):
        return True
    return type(a) is type(b) and a == b


def outcome(fn, args, kwargs):
    """``("value", result)`` or ``("raised", message)`` of a call."""
    try:
        return "value", fn(*args, **kwargs)
    except Exception as exc:
        return "raised", f"{type(exc).__name__}: {exc}"


def plain(value):
    """Whether ``value`` is data a caller of the contract passes (not, say, the
    tracer of an autograd gradient), and whether it holds a function."""
    if isinstance(value, (list, tuple)):
        parts = [plain(v) for v in value]
        return all(p for p, _ in parts), any(f for _, f in parts)
    if isinstance(value, dict):
        return plain(list(value.values()))
    if isinstance(value, (np.ndarray, np.generic, int, float, complex,
                          str, bytes, type(None), np.random.Generator)):
        return True, False
    if hasattr(value, "__fspath__"):
        return True, False
    return callable(value) and not isinstance(value, type), True


def judge(found, call, fn, reference, before):
    """Run the answer and the reference on copies of ``before``; note what differs."""
    answer_args, answer_kwargs = copy.deepcopy(before)
    ref_args, ref_kwargs = copy.deepcopy(before)
    # What the two call of functions a test lent counts against nobody's budget.
    saved = checks._Lent.start(None, "the comparison")
    try:
        mine = outcome(fn, answer_args, answer_kwargs)
        theirs = outcome(reference, ref_args, ref_kwargs)
    finally:
        checks._Lent.stop(saved)
    if mine[0] != theirs[0]:
        why = mine[1] if mine[0] == "raised" else theirs[1]
        found["differences"].append(f"{call}: the answer {mine[0]}, the reference "
                                    f"{theirs[0]} ({why})"[:300])
    elif mine[0] == "value" and not same(mine[1], theirs[1]):
        found["differences"].append(f"{call}: results differ")
    elif mine[0] == "value" and not same((answer_args, answer_kwargs),
                                         (ref_args, ref_kwargs)):
        found["differences"].append(f"{call}: arguments left differently")


# Calls to judge at the end: (report entry, call, answer, reference, arguments).
LATER = []


def record(fn, module):
    """``fn`` with each call judged against ``module``'s function of its name."""
    reference = getattr(importlib.import_module(module), fn.__name__)
    found = REPORT.setdefault(fn.__name__, {"calls": 0, "differences": []})

    @functools.wraps(fn)
    def recorded(*args, **kwargs):
        readable, functions = plain([args, kwargs])
        if readable and found["calls"] < MAX_RECORDS:
            found["calls"] += 1
            call = f"call {found['calls']}"
            before = copy.deepcopy((args, kwargs))
            if functions:
                # Judged at the end: calling the functions it was given now would
                # change what the test counts of them.
                LATER.append((found, call, fn, reference, before))
            else:
                judge(found, call, fn, reference, before)
        return fn(*args, **kwargs)
    return recorded


def report():
    """Judge the calls left for the end; print the report as one line of JSON."""
    for later in LATER:
        judge(*later)
    print(json.dumps(REPORT))
