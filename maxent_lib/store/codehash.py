"""A hash of the code that computes a stored result (introduced in lesson 05).

A stored result is *current* when the code that would compute it now is the code that computed
it. The hash answers that question from the source itself:

1. **Reach.** Start from the result's entry points (e.g. ``maxent_lib.ablation.fit:fit_group``)
   and follow every name they use that the course's package defines: functions, classes (whole,
   with their methods), module constants, names imported from other modules of the package,
   ``module.name`` attributes, and imports made inside functions. Names of other packages
   (numpy, torch, ...) are not followed; their versions are recorded in the provenance.
2. **Normalise.** Each reached definition is parsed and printed as a syntax tree
   (:func:`ast.dump`): comments and formatting are gone; docstrings, type annotations and the
   wording of error and warning messages are removed (they do not change a computed value), and
   so are the methods of :data:`NOT_COMPUTING` (an argument constraint's list of the inputs it
   refuses, used only by the tests); a reference ``module.name`` to a definition of
   the package becomes ``name``, and an import alias becomes the imported name, so moving a
   definition to another module (and importing it from there) leaves its text unchanged.
3. **Hash.** SHA-256 of the sorted normalised definitions, each keyed by its name (not its
   module): the first 16 hex digits.

So a change to a constant or to any line of reached code changes the hash, and a comment, a
docstring, a re-formatting or a move between modules does not (``tests/test_codehash.py`` checks
both directions). Code that is not reached (plots, summaries, file handling) never marks a
result stale.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..validation import Instance, Integer, Items, PathArg, Text, validate

__all__ = ["CodeIndex", "code_hash", "reached_files"]

PACKAGE = "maxent_lib"
#: Methods of a reached class that never run while a result is computed: an argument
#: constraint's list of the inputs it refuses (used by the bad-input tests) and its description.
NOT_COMPUTING = frozenset({"bad_values", "describe"})
#: the package folder this module belongs to
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class _Module:
    """One parsed module: its top-level definitions and what its imports bind."""

    name: str
    path: Path
    defs: dict[str, ast.AST] = field(default_factory=dict)
    # local name -> ("module", module name) or ("name", module name, name)
    imports: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_from(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute module name of ``from <level dots><target> import ...`` inside ``module``."""
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([target] if target else []))


def _bindings(node: ast.AST, module: str, is_package: bool, known: set[str]
              ) -> dict[str, tuple[str, ...]]:
    """What the import statements directly inside ``node`` bind (package names only)."""
    out: dict[str, tuple[str, ...]] = {}
    for stmt in ast.walk(node):
        if isinstance(stmt, ast.ImportFrom):
            src = _resolve_from(module, is_package, stmt.level, stmt.module)
            if not (src == PACKAGE or src.startswith(PACKAGE + ".")):
                continue
            for alias in stmt.names:
                local = alias.asname or alias.name
                sub = f"{src}.{alias.name}"
                out[local] = ("module", sub) if sub in known else ("name", src, alias.name)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name.startswith(PACKAGE):
                    out[alias.asname or alias.name] = ("module", alias.name)
    return out


def _def_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    names = []
    for t in targets:
        for n in ast.walk(t):
            if isinstance(n, ast.Name):
                names.append(n.id)
    return names


class _EntryPoint(Text):
    """An entry point ``"module:name"`` (a string with a colon); passed on unchanged."""

    def check(self, value: object, name: str, args: dict[str, object]) -> str:
        text = super().check(value, name, args)
        if ":" not in text:
            raise ValueError(f"{name} must be a 'module:name' string, got {text!r}")
        return text

    def bad_values(self, example: object) -> list[tuple[str, object, str]]:
        return [*super().bad_values(example), ("no_colon", "maxent_lib.data", "value")]


#: Entry points: a non-empty list of ``"module:name"`` strings.
_ENTRY_POINTS = Items(_EntryPoint(empty=False), min_len=1)


class CodeIndex:
    """The parsed modules of the package under ``root`` (default: this installed package).
    Used by the library only."""

    @validate(root=PathArg(optional=True))
    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else PACKAGE_ROOT
        files = sorted(self.root.rglob("*.py"))
        names = {_module_name(self.root, f): f for f in files}
        self.modules: dict[str, _Module] = {}
        for name, path in names.items():
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            mod = _Module(name, path)
            is_pkg = path.name == "__init__.py"
            top = [s for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))]
            mod.imports = _bindings(ast.Module(body=[s for s in tree.body if s not in top],
                                               type_ignores=[]), name, is_pkg, set(names))
            for stmt in top:
                for n in _def_names(stmt):
                    mod.defs[n] = stmt
            self.modules[name] = mod
        self._is_pkg = {n: p.name == "__init__.py" for n, p in names.items()}

    # ------------------------------------------------------------------ resolution
    def _resolve(self, module: str, name: str, depth: int = 0) -> tuple[str, str] | None:
        """The (module, name) that defines ``name`` as seen from ``module``, following
        re-exports; None for names the package does not define."""
        mod = self.modules.get(module)
        if mod is None or depth > 20:
            return None
        if name in mod.defs:
            return module, name
        bound = mod.imports.get(name)
        if bound is not None and bound[0] == "name":
            return self._resolve(bound[1], bound[2], depth + 1)
        return None

    def _reference(self, module: str, local: dict[str, tuple[str, ...]], node: ast.AST
                   ) -> tuple[str, str] | None:
        """The package definition an expression ``name`` or ``alias.name`` refers to."""
        if isinstance(node, ast.Name):
            bound = local.get(node.id)
            if bound is not None and bound[0] == "name":
                return self._resolve(bound[1], bound[2])
            if bound is None:
                return self._resolve(module, node.id)
        if isinstance(node, ast.Attribute):
            target = self._module_of(module, local, node.value)
            if target is not None:
                return self._resolve(target, node.attr)
        return None

    def _module_of(self, module: str, local: dict[str, tuple[str, ...]], node: ast.AST
                   ) -> str | None:
        """The package module an expression names (``data_mod``, ``maxent_lib.metrics``)."""
        if isinstance(node, ast.Name):
            bound = local.get(node.id)
            return bound[1] if bound is not None and bound[0] == "module" else None
        if isinstance(node, ast.Attribute):
            base = self._module_of(module, local, node.value)
            sub = f"{base}.{node.attr}" if base else None
            return sub if sub in self.modules else None
        return None

    def _scope(self, module: str, node: ast.AST) -> dict[str, tuple[str, ...]]:
        local = dict(self.modules[module].imports)
        local.update(_bindings(node, module, self._is_pkg[module], set(self.modules)))
        return local

    # ------------------------------------------------------------------ reach and normalise
    def _reach(self, entry_points: Iterable[str]) -> dict[tuple[str, str], ast.AST]:
        """Every definition reached from ``entry_points`` (``"module:name"``)."""
        todo: list[tuple[str, str]] = []
        for ep in entry_points:
            module, _, name = ep.partition(":")
            found = self._resolve(module, name)
            if found is None:
                raise ValueError(f"entry point {ep!r}: {name!r} is not defined in {module!r}")
            todo.append(found)
        seen: dict[tuple[str, str], ast.AST] = {}
        while todo:
            key = todo.pop()
            if key in seen:
                continue
            node = self.modules[key[0]].defs[key[1]]
            seen[key] = node
            local = self._scope(key[0], node)
            for sub in ast.walk(_stripped(node)):  # annotations do not compute anything
                ref = self._reference(key[0], local, sub)
                if ref is not None and ref not in seen:
                    todo.append(ref)
        return seen

    def _normalised(self, module: str, node: ast.AST) -> str:
        """The definition's syntax tree without docstrings, annotations and module prefixes."""
        local = self._scope(module, node)
        index = self

        class Rename(ast.NodeTransformer):
            def visit_Attribute(self, n: ast.Attribute) -> ast.AST:
                if index._module_of(module, local, n.value) is not None:
                    return ast.copy_location(ast.Name(id=n.attr, ctx=n.ctx), n)
                return self.generic_visit(n)

            def visit_Name(self, n: ast.Name) -> ast.AST:
                bound = local.get(n.id)
                if bound is not None and bound[0] == "name":
                    return ast.copy_location(ast.Name(id=bound[2], ctx=n.ctx), n)
                return n

        return ast.dump(Rename().visit(_stripped(node)), annotate_fields=False)

    def _hash(self, entry_points: Iterable[str]) -> str:
        reached = self._reach(entry_points)
        parts = sorted(f"{name}\n{self._normalised(module, node)}"
                       for (module, name), node in reached.items())
        h = hashlib.sha256()
        for p in parts:
            h.update(p.encode())
            h.update(b"\x00")
        return h.hexdigest()[:16]

    def _files(self, entry_points: Iterable[str]) -> list[str]:
        """The package files that hold the reached definitions, relative to the repository."""
        paths = {self.modules[m].path for m, _ in self._reach(entry_points)}
        return sorted(str(p.relative_to(self.root.parent)) for p in paths)


    # ------------------------------------------------------------------ the public names
    @validate(module=Text(empty=False), name=Text(empty=False), depth=Integer(low=0))
    def resolve(self, module: str, name: str, depth: int = 0) -> tuple[str, str] | None:
        """The (module, name) that defines ``name`` as seen from ``module``, following
        re-exports; None for names the package does not define. Used by the library only."""
        return self._resolve(module, name, depth)

    @validate(entry_points=_ENTRY_POINTS)
    def reach(self, entry_points: Iterable[str]) -> dict[tuple[str, str], ast.AST]:
        """Every definition reached from ``entry_points`` (``"module:name"``); ``ValueError``
        for an entry point the package does not define. Used by the library only."""
        return self._reach(entry_points)

    @validate(module=Text(empty=False), node=Instance((ast.AST,)))
    def normalised(self, module: str, node: ast.AST) -> str:
        """The definition's syntax tree without docstrings, annotations and module prefixes.
        Used by the library only."""
        return self._normalised(module, node)

    @validate(entry_points=_ENTRY_POINTS)
    def hash(self, entry_points: Iterable[str]) -> str:
        """The hash of the code reached from ``entry_points`` in this index (see
        :func:`code_hash`). Used by the library only."""
        return self._hash(entry_points)

    @validate(entry_points=_ENTRY_POINTS)
    def files(self, entry_points: Iterable[str]) -> list[str]:
        """The package files that hold the reached definitions, relative to the repository.
        Used by the library only."""
        return self._files(entry_points)


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant)
                                               and isinstance(node.value, str))


class _Strip(ast.NodeTransformer):
    """Remove what does not compute a value: docstrings, type annotations, imports, and the
    wording of error and warning messages (a raised error or a warning stops or annotates a
    computation; its text never changes a value)."""

    def visit_Raise(self, n: ast.Raise) -> ast.AST:
        if isinstance(n.exc, ast.Call):
            n.exc.args = [ast.Constant("") if _is_text(a) else a for a in n.exc.args]
        return n

    def visit_Call(self, n: ast.Call) -> ast.AST:
        func = n.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "warn" and n.args and _is_text(n.args[0]):
            n.args = [ast.Constant(""), *n.args[1:]]
        return self.generic_visit(n)

    def visit_arg(self, n: ast.arg) -> ast.AST:
        n.annotation = None
        return n

    def visit_AnnAssign(self, n: ast.AnnAssign) -> ast.AST | None:
        if n.value is None:
            return None
        return self.visit(ast.copy_location(ast.Assign(targets=[n.target], value=n.value), n))

    def visit_ImportFrom(self, n: ast.ImportFrom) -> ast.AST | None:
        return None  # where a name comes from is not what it computes

    def _body(self, n: ast.AST) -> ast.AST:
        body = getattr(n, "body", None)
        if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            n.body = body[1:] or [ast.Pass()]
        if hasattr(n, "returns"):
            n.returns = None
        return self.generic_visit(n)

    visit_FunctionDef = visit_AsyncFunctionDef = _body

    def visit_ClassDef(self, n: ast.ClassDef) -> ast.AST:
        n.body = [s for s in n.body if not (isinstance(s, ast.FunctionDef)
                                            and s.name in NOT_COMPUTING)] or [ast.Pass()]
        return self._body(n)


def _stripped(node: ast.AST) -> ast.AST:
    """A copy of ``node`` without docstrings, annotations and imports."""
    return _Strip().visit(copy.deepcopy(node))


@lru_cache(maxsize=32)
def _cached(entry_points: tuple[str, ...], root: str | None) -> tuple[str, tuple[str, ...]]:
    index = CodeIndex(root)
    return index._hash(entry_points), tuple(index._files(entry_points))


@validate(entry_points=_ENTRY_POINTS, root=PathArg(optional=True))
def code_hash(entry_points: Iterable[str], root: str | Path | None = None) -> str:
    """The hash (16 hex digits) of the code reached from ``entry_points`` (``"module:name"``
    strings), as the files under ``root`` (default: this package) hold it now. Computed once per
    process and entry-point set, so every record of a run carries the same hash. Raises
    ``ValueError`` for an entry point the package does not define. Introduced in lesson 05."""
    eps = tuple(sorted(entry_points))
    return _cached(eps, None if root is None else str(root))[0]


@validate(entry_points=_ENTRY_POINTS, root=PathArg(optional=True))
def reached_files(entry_points: Iterable[str], root: str | Path | None = None) -> list[str]:
    """The package's files holding the code that :func:`code_hash` covers. Used by the library
    only."""
    eps = tuple(sorted(entry_points))
    return list(_cached(eps, None if root is None else str(root))[1])
