"""What was graded, from what: one digest per submission, kept in the gradebook.

A run of ``python -m kit grade`` grades only the submissions that are new or whose
digest changed since they were last graded (``--force`` grades them all). The digest
covers the submission folder and what its grade depends on: the assignment's source
and release notebooks (hidden tests included), the course library and
``nbgrader_config.py``. Changing a grading option such as ``--timeout`` changes no
digest: regrade with ``--force``. The digests live in a table of the gradebook's own
database (:data:`TABLE`), so graders sharing a PostgreSQL gradebook share them too;
a submission whose grading failed is not recorded, and is graded again next time.
"""

import hashlib

import sqlalchemy as sa

TABLE = "kit_graded"
_META = sa.MetaData()
_GRADED = sa.Table(
    TABLE, _META,
    sa.Column("assignment", sa.String(128), primary_key=True),
    sa.Column("student", sa.String(128), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
)


def _files(folder):
    if not folder.is_dir():
        return []
    skip = {".ipynb_checkpoints", "__pycache__"}
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not skip & set(p.parts))


def _update(h, label, folder):
    for path in _files(folder):
        h.update(f"{label}/{path.relative_to(folder)}\0".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())


def basis(course, assignment):
    """The digest of what every grade of ``assignment`` depends on: its source and
    release notebooks, the course library and the nbgrader configuration."""
    h = hashlib.sha256()
    _update(h, "source", course.source / assignment)
    _update(h, "release", course.release / assignment)
    _update(h, "library", course.root / "lib")
    config = course.root / "nbgrader_config.py"
    if config.is_file():
        h.update(config.read_bytes())
    return h.hexdigest()


def digest(course, assignment, student, depends=None):
    """The digest of a submission and of what its grade depends on (``depends``:
    :func:`basis` of the assignment, computed once for all its submissions)."""
    h = hashlib.sha256((depends or basis(course, assignment)).encode())
    _update(h, "submission", course.submitted / student / assignment)
    return h.hexdigest()


def _engine(course):
    engine = sa.create_engine(course.gradebook_url)
    _META.create_all(engine)
    return engine


def recorded(course):
    """``{(assignment, student): digest}`` of the submissions graded so far."""
    engine = _engine(course)
    try:
        with engine.connect() as conn:
            return {(r.assignment, r.student): r.digest
                    for r in conn.execute(sa.select(_GRADED))}
    finally:
        engine.dispose()


def record(course, digests):
    """Record ``{(assignment, student): digest}`` as graded (replacing older rows)."""
    if not digests:
        return
    engine = _engine(course)
    try:
        with engine.begin() as conn:
            for (assignment, student), value in digests.items():
                conn.execute(sa.delete(_GRADED).where(
                    (_GRADED.c.assignment == assignment)
                    & (_GRADED.c.student == student)))
                conn.execute(sa.insert(_GRADED).values(
                    assignment=assignment, student=student, digest=value))
    finally:
        engine.dispose()
