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


def digest(course, assignment, student):
    """The digest of a submission and of what its grade depends on."""
    h = hashlib.sha256()
    parts = [("submission", course.submitted / student / assignment),
             ("source", course.source / assignment),
             ("release", course.release / assignment),
             ("library", course.root / "lib")]
    for label, folder in parts:
        for path in _files(folder):
            h.update(f"{label}/{path.relative_to(folder)}\0".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    config = course.root / "nbgrader_config.py"
    if config.is_file():
        h.update(config.read_bytes())
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
