"""Which submissions look copied from each other?

Each submission's answer cells (nbgrader's code cells with a solution) are joined
into one text and fingerprinted by copydetect, which tokenizes the code (so renamed
variables and changed comments do not hide a copy) and winnows k-grams of tokens as
MOSS does. The release's own answer cells, the stubs every student receives, are
boilerplate: their fingerprints count for no one. A pair's *similarity* is the
larger of its two shares: the fraction of one submission's fingerprinted tokens
that also stand in the other, so a student who copied a few functions and wrote
nothing else scores high too.

A high score is a reason to read the two submissions side by side, not a verdict:
answers to a short, tightly specified function can be alike by themselves.
"""

import io
import itertools
from dataclasses import dataclass

import nbformat
import pandas as pd
from copydetect import CodeFingerprint, compare_files

from kit.course import nbgrader_meta

#: copydetect's defaults: matches shorter than NOISE tokens are ignored, and every
#: match of GUARANTEE tokens or more is found (its winnowing window is the difference).
NOISE, GUARANTEE = 25, 30
#: Pairs at or above this similarity are marked for review (README, "Which
#: submissions look copied?").
THRESHOLD = 0.5
COLUMNS = ["assignment", "student_a", "student_b", "similarity", "share_a", "share_b",
           "review"]


@dataclass
class Submission:
    student: str
    cells: dict  # grade_id -> source of the answer cell
    fingerprint: CodeFingerprint


def answer_cells(nb):
    """``{grade_id: source}`` of the notebook's code answer cells, in order."""
    return {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells
            if c.cell_type == "code" and nbgrader_meta(c).get("solution")
            and nbgrader_meta(c).get("grade_id")}


def fingerprint(name, text, boilerplate=()):
    return CodeFingerprint(f"{name}.py", NOISE, GUARANTEE - NOISE + 1,
                           boilerplate=list(boilerplate), language="python",
                           fp=io.StringIO(text))


def _cells(notebooks):
    cells = {}
    for path in notebooks:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 - an unreadable notebook has no answers
            continue
        cells.update({f"{path.stem}: {k}" if len(notebooks) > 1 else k: v
                      for k, v in answer_cells(nb).items()})
    return cells


def _text(cells):
    return "\n\n".join(cells.values()) + "\n"


def submissions(course, assignment):
    """The submissions of ``assignment`` in submitted/, fingerprinted, with the
    release's answer cells as boilerplate."""
    release = sorted((course.release / assignment).glob("*.ipynb"))
    stubs = fingerprint("release", _text(_cells(release))).hashes if release else ()
    found = []
    for folder in sorted(course.submitted.glob(f"*/{assignment}")):
        cells = _cells(sorted(folder.glob("*.ipynb")))
        if cells:
            found.append(Submission(folder.parent.name, cells,
                                    fingerprint(folder.parent.name, _text(cells),
                                                stubs)))
    return found


def pairs(found):
    """Every pair of ``found`` (submissions of one assignment), most alike first:
    columns :data:`COLUMNS` but the assignment's."""
    rows = []
    for a, b in itertools.combinations(found, 2):
        _, (share_a, share_b), _ = compare_files(a.fingerprint, b.fingerprint)
        score = max(float(share_a), float(share_b))
        rows.append((a.student, b.student, score, float(share_a), float(share_b),
                     score >= THRESHOLD))
    df = pd.DataFrame(rows, columns=COLUMNS[1:])
    return df.sort_values(["similarity", "student_a", "student_b"],
                          ascending=[False, True, True], ignore_index=True)


def most_alike(course, assignments, top=10):
    """``(table, cells)``: the ``top`` most alike pairs of each assignment (columns
    :data:`COLUMNS`), and ``cells[assignment][student]``, the answer cells of the
    students in it, to show side by side."""
    frames, cells = [], {}
    for assignment in assignments:
        found = submissions(course, assignment)
        table = pairs(found).head(top)
        if table.empty:
            continue
        frames.append(table.assign(assignment=assignment)[COLUMNS])
        named = set(table.student_a) | set(table.student_b)
        cells[assignment] = {s.student: s.cells for s in found if s.student in named}
    table = (pd.concat(frames, ignore_index=True) if frames
             else pd.DataFrame(columns=COLUMNS))
    return table, cells


def side_by_side(a, b):
    """``[(cell, source in a, source in b)]`` for two ``{cell: source}`` mappings."""
    cells = dict.fromkeys([*a, *b])
    return [(cell, a.get(cell, ""), b.get(cell, "")) for cell in cells]
