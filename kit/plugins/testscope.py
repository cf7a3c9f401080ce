"""How a hidden test run by the grader sees the student's namespace.

Under secure grading a hidden test cell runs in the grader's process, not in the
student's kernel (:mod:`kit.plugins.secure`), yet nbgrader's tests are written for
the student's namespace: they call the student's functions, read the student's
variables, and sometimes delete a name to see that another function needs it. Here
is what keeps their meaning:

- before a cell runs, the student's globals it reads are looked up in the kernel
  (:func:`bind_student_globals`): a function becomes a
  :class:`~kit.sandbox.remote.RemoteFunction` called in the kernel, a module the
  student imported is imported here (standard library and packages the grader has
  loaded), a value is copied here as plain data (changing the copy changes nothing
  in the kernel);
- what the cell deletes of the student's globals, or binds again to one of the
  student's own functions, is done in the kernel too (:class:`TestScope`);
- what cannot keep its meaning (binding a student's global to a value of the
  test's own, which would hand that value to the student's code, or ``global`` in a
  test's function) is reported when the assignment is built (:func:`findings`),
  with how to write it instead.
"""

import ast
import builtins
import collections.abc
import importlib
import symtable
import sys

import nbformat

from kit.course import SUBSTITUTE_HOOK, nbgrader_meta
from kit.sandbox import remote

_MISSING = object()


def student_names(tree):
    """Names a hidden test may read from the student's globals: those it reads
    and never binds itself, and those it deletes."""
    loads, binds, deletes = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            {ast.Load: loads, ast.Store: binds, ast.Del: deletes}[type(node.ctx)].add(
                node.id)
        elif isinstance(node, ast.arg):
            binds.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            binds.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            binds.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            binds.add(node.name)
    return {n for n in (loads - binds) | deletes if not hasattr(builtins, n)}


def _importable(name):
    """Whether the grader may import a module the student's code imported: one
    of the standard library's or of a package the grader has loaded already."""
    top = name.split(".")[0]
    return top in sys.modules or (top in sys.stdlib_module_names
                                  and top not in {"antigravity", "this"})


def bind_student_globals(namespace, session, names, known):
    """Bind in ``namespace`` what the student's globals among ``names`` are now
    (``known``: the names bound so far from the kernel; a name the kernel no longer
    defines is unbound here too, as in the student's kernel)."""
    wanted = [n for n in sorted(names) if n not in namespace or n in known]
    if not wanted:
        return
    found = session.lookup(wanted)
    for name in wanted:
        value = found.get(name, _MISSING)
        if isinstance(value, remote.StudentModule):
            value = (importlib.import_module(value.name) if _importable(value.name)
                     else _MISSING)
        if value is _MISSING:
            if name in known:
                namespace.pop(name, None)
            continue
        namespace[name] = value
        known.add(name)


class TestScope(collections.abc.MutableMapping):
    """The names a hidden test cell binds, as nbgrader's kernel would see them.

    The test runs here, with the student's globals it reads bound in its globals
    (:func:`bind_student_globals`). What it binds goes there too; and what it does
    to a global of the student's is done in the kernel as well when it changes
    nothing but which of the student's own objects a name refers to: deleting it
    (``del squares``, to see that another function needs it) and binding it again to
    one of the student's functions (``squares = orig_squares``). A value of the
    grader's is never sent to the kernel this way: a hidden input bound to a name
    the student's code chose would reach it (``kit build`` reports tests that
    bind a student's global to their own value).
    """

    def __init__(self, namespace, session, known):
        self.namespace, self.session, self.known = namespace, session, known

    def __getitem__(self, name):
        return self.namespace[name]

    def __setitem__(self, name, value):
        self.namespace[name] = value
        if name in self.known and isinstance(value, remote.RemoteFunction):
            self.session.rebind(name, value)
        else:  # the test's own value now: deleting it is the test's own affair
            self.known.discard(name)

    def __delitem__(self, name):
        del self.namespace[name]
        if name in self.known:
            self.session.rebind(name, delete=True)

    def __iter__(self):
        return iter(self.namespace)

    def __len__(self):
        return len(self.namespace)


def is_hidden_test(cell):
    """A test cell the secure grader runs outside the kernel: code worth points."""
    meta = nbgrader_meta(cell)
    return (cell.cell_type == "code" and bool(meta.get("grade"))
            and not meta.get("solution") and (meta.get("points") or 0) > 0)


def _parse(source):
    try:
        return ast.parse(source)
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def _module_level(tree):
    """The nodes of ``tree`` in its module scope: function, class, lambda and
    comprehension bodies left out (their ``global`` statements kept)."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            todo += node.decorator_list
            todo += [n for n in ast.walk(node) if isinstance(n, ast.Global)]
        elif not isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp,
                                   ast.DictComp, ast.GeneratorExp, ast.Global)):
            todo += ast.iter_child_nodes(node)


def _function_globals(table):
    """Globals the functions of a symbol table (and those nested in them) read."""
    names = set()
    for child in table.get_children():
        if child.get_type() == "function":
            names |= {s.get_name() for s in child.get_symbols()
                      if s.is_global() and s.is_referenced()}
        names |= _function_globals(child)
    return names


def _notebook_globals(nb):
    """``(defined, used)``: the globals the notebook's code (its answer cells and
    given code, not its test cells) defines, and those of them that are functions
    or that its functions read: the names whose binding by a test the student's
    code would see in nbgrader's kernel."""
    defined, used = set(), set()
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
            continue
        try:
            table = symtable.symtable(cell.source, "cell", "exec")
        except SyntaxError:
            continue
        for symbol in table.get_symbols():
            if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace():
                defined.add(symbol.get_name())
            if symbol.is_namespace():
                used.add(symbol.get_name())
        used |= _function_globals(table)
    return defined, used & defined


def findings(nb):
    """``[(grade_id, what)]``: what hidden tests of ``nb`` do to the student's
    namespace that secure grading cannot do with nbgrader's meaning, and how to
    write it instead."""
    defined, used = _notebook_globals(nb)
    found = []
    instead = (f"bind it for the calls that need it with `with {SUBSTITUTE_HOOK}("
               "{{'{n}': value}}):`, or pass the value as an argument")
    for cell in nb.cells:
        if not is_hidden_test(cell):
            continue
        grade_id = nbgrader_meta(cell).get("grade_id", "?")
        nodes = list(_module_level(_parse(cell.source)))
        # ``squares = orig_squares``: a name bound again to what another name holds
        # (one of the student's functions, put back) keeps its meaning.
        aliases = {id(t) for node in nodes if isinstance(node, ast.Assign)
                   and isinstance(node.value, ast.Name) for t in node.targets}
        what = []
        for node in nodes:
            if isinstance(node, ast.Global):
                what += [f"declares `global {n}` in a function: what it binds stays "
                         "in the grader, where the test runs; "
                         + instead.format(n=n) for n in node.names if n in defined]
            elif (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
                  and node.id in used and id(node) not in aliases):
                what.append(f"binds `{node.id}`, a global the notebook's functions "
                            "use, to a value of its own: under secure grading the "
                            "student's code keeps its own (the test's values never "
                            "reach it); " + instead.format(n=node.id))
            elif (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                    ast.ClassDef)) and node.name in used):
                what.append(f"defines `{node.name}` in place of the student's: the "
                            "student's code keeps its own; "
                            + instead.format(n=node.name))
            elif (isinstance(node, (ast.Subscript, ast.Attribute))
                  and isinstance(node.ctx, (ast.Store, ast.Del))):
                base = node.value
                while isinstance(base, (ast.Subscript, ast.Attribute)):
                    base = base.value
                if isinstance(base, ast.Name) and base.id in defined:
                    what.append(f"changes `{base.id}`, a global of the student's, "
                                "in place: the test changes a copy, the student's "
                                "code keeps its own; "
                                + instead.format(n=base.id))
        found += [(grade_id, w) for w in dict.fromkeys(what)]
    return found


def assignment_warnings(course, assignment):
    """:func:`findings` of every source notebook of an assignment, as sentences."""
    for path in course.notebooks(assignment):
        for cell, what in findings(nbformat.read(path, as_version=4)):
            yield f"{assignment}/{path.name}: hidden test {cell} {what}"
