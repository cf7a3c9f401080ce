"""Static reading of a submission's code for attempts to get credit without earning it.

Secure grading does not depend on this scan: hidden tests run outside the student's
kernel whatever the code does. The scan explains, in the report, why a submission
lost points it seemed to have, and flags it for a person to look at. It reads the
cells a student wrote (answer cells and added cells), never the course's own cells.
"""

import ast
import re

from kit.course import nbgrader_meta

IPYTHON_HOOKS = {"input_transformers_cleanup", "input_transformers_post",
                 "ast_transformers", "showtraceback", "set_custom_exc", "events",
                 "register_magic_function", "run_cell", "run_cell_magic", "kernel",
                 "_showtraceback", "showsyntaxerror", "displayhook", "excepthook"}
PATCHED_MODULES = {"np", "numpy", "math", "checks", "lib", "sys", "builtins",
                   "__builtins__", "testing", "warnings", "os", "IPython"}
MODULE_ROOTS = {"numpy", "math", "lib", "sys", "builtins", "os", "warnings",
                "IPython", "scipy", "sklearn"}
EXITS = {"exit", "quit", "_exit", "abort", "kill", "killpg", "raise_signal"}
STOPPING = {"SystemExit", "KeyboardInterrupt", "GeneratorExit"}
BACKGROUND = {"threading", "_thread", "multiprocessing", "subprocess",
              "concurrent", "asyncio", "sched", "signal", "pty"}
DYNAMIC = {"importlib", "__import__", "exec", "eval", "compile", "runpy", "ctypes",
           "marshal", "pickle", "dill", "sqlite3", "sqlalchemy", "nbformat",
           "inspect", "gc"}
COURSE_PATH = re.compile(r"gradebook|source/|solutions|autograded|submitted|release/|"
                         r"\.ipynb|\.\./|/work/|nbgrader|lib/\w+\.py", re.I)
PASS_TEXT = re.compile(r"\bpass(ed|es)?\b|\btests?\b.*\bok\b|\bcorrect\b", re.I)


def student_cells(nb):
    """Code cells a student wrote: answer cells and cells that are not locked,
    never test cells (nbgrader puts their source back from the release, locked or
    not, and their docstrings often say "correct")."""
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        test = meta.get("grade") and not meta.get("solution")
        if cell.cell_type == "code" and not meta.get("locked") and not test:
            yield meta.get("grade_id") or cell.get("id", "?"), cell.source


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "lib":
            yield from (f"lib.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def findings(source, runtime=frozenset({"lib"})):
    """Reasons, in plain words, why this cell's code needs a person's attention;
    ``runtime`` names the modules of the course library students may import (the
    others hold references: :func:`kit.course.studentlib.runtime_modules`)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    # Names bound to the modules the tests rely on, under any alias.
    patched = set(PATCHED_MODULES)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            base = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
            for alias in node.names:
                module = f"{base}.{alias.name}" if base else alias.name
                if module.split(".")[0] in MODULE_ROOTS:
                    patched.add(alias.asname or alias.name.split(".")[0])
    for module in _imports(tree):
        top = module.split(".")[0]
        if module.startswith("lib.") and module not in runtime:
            found.append(f"imports {module} from the course library, whose graded "
                         "functions are withheld")
        if top in BACKGROUND:
            found.append(f"starts background work or signals ({module})")
        if top in DYNAMIC:
            found.append(f"loads or inspects code at run time ({module})")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in IPYTHON_HOOKS:
            found.append(f"changes how IPython runs cells ({_dotted(node)})")
        elif isinstance(node, ast.Name) and node.id == "get_ipython":
            found.append("uses the IPython shell (get_ipython)")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
            targets = node.targets if hasattr(node, "targets") else [node.target]
            for target in targets:
                name = _dotted(target)
                if isinstance(target, ast.Attribute) and \
                        name.split(".")[0] in patched:
                    found.append(f"replaces {name}, which the tests rely on")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            last = name.rsplit(".", 1)[-1]
            if last in {"setattr", "delattr"}:
                found.append(f"replaces attributes at run time ({name})")
            elif last in EXITS or name in {"os.system", "os.popen", "os.fork"}:
                found.append(f"stops the kernel or starts a process ({name})")
            elif last in DYNAMIC:
                found.append(f"loads or inspects code at run time ({name})")
            elif name in {"time.sleep", "sleep"}:
                found.append("sleeps (time.sleep), which can exhaust a time limit")
        elif isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if _dotted(exc) in STOPPING:
                found.append(f"raises {_dotted(exc)} to stop the run")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if COURSE_PATH.search(node.value):
                found.append(f"refers to course files ({node.value[:60]!r})")
            elif PASS_TEXT.search(node.value) and len(node.value) < 200:
                found.append(f"prints text that looks like a test result "
                             f"({node.value[:60]!r})")
    return list(dict.fromkeys(found))


def scan(nb, runtime=frozenset({"lib"})):
    """``[(cell, reason)]`` for every finding in the student's cells of ``nb``."""
    return [(cell, reason) for cell, source in student_cells(nb)
            for reason in findings(source, runtime)]
