"""The library's docstrings tell the truth about the lessons:

- every public function and class says where it comes from: "Introduced in lesson NN", naming
  the first lesson notebook (``notebooks/0*.ipynb``, code cells, in order 00..07) that uses it
  (as ``module.name``, ``from maxent_lib.x import name``, or ``name(`` after such an import);
  a name no lesson uses says "Introduced in lesson NN" for the lesson whose topic it serves, or
  "Used by the library only";
- the module map (``maxent_lib/__init__.py``'s docstring, and each subpackage's) lists every
  module and subpackage.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import maxent_lib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
TAG = re.compile(r"Introduced\s+in\s+lesson\s+(\d\d)")
LIBRARY_ONLY = re.compile(r"Used\s+by\s+the\s+library\s+only")

#: Names of the library before its reorganisation into packages that the lessons still import
#: (``from maxent_lib import ensemble``), and where those names live now.
OLD_MODULES = {"ensemble": "maxent_lib.ablation", "coverage": "maxent_lib.conditions.coverage",
               "probes": "maxent_lib.conditions.probes", "resultsfile": "maxent_lib.store.files"}
#: Packages whose docstrings are not held to these rules, and why.
EXEMPT_PACKAGES = {
    "maxent_lib.exercises": "answer checkers, one module per lesson (the module's name is the "
                            "lesson)",
}
#: being rewritten; declared by the engineer rewriting them (tags included)
PENDING_MODULES = {"maxent_lib.claims", "maxent_lib.stats", "maxent_lib.ablation.summaries",
                   "maxent_lib.ablation.budget", "maxent_lib.verdicts", "maxent_lib.tables"}


def library_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(maxent_lib.__path__, "maxent_lib."))


def public_names() -> dict[str, Any]:
    """``module.name`` -> object, for every public function and class a module of the library
    defines (exceptions and warnings left out)."""
    out = {}
    for name in library_modules():
        if any(name == p or name.startswith(p + ".") for p in EXEMPT_PACKAGES):
            continue
        mod = importlib.import_module(name)
        for attr, obj in vars(mod).items():
            if attr.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) != name:
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            out[f"{name}.{attr}"] = obj
    return out


def _module(path: str) -> ModuleType | None:
    try:
        return importlib.import_module(path)
    except ImportError:
        parent, _, short = path.rpartition(".")
        if parent == "maxent_lib" and short in OLD_MODULES:
            return importlib.import_module(OLD_MODULES[short])
        return None


def _code(notebook: Path) -> str:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    lines = [line for cell in nb["cells"] if cell["cell_type"] == "code"
             for line in "".join(cell["source"]).splitlines()
             if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def used_objects(code: str) -> list[Any]:
    """The library objects a notebook's code uses: imported by name from the library, or
    reached as ``alias.name`` through a module it imports."""
    used: list[Any] = []
    aliases: dict[str, ModuleType] = {}
    for m in re.finditer(r"^\s*from\s+maxent_lib((?:\.\w+)*)\s+import\s+(\([^)]*\)|[^\n]+)",
                         code, re.MULTILINE):
        base = "maxent_lib" + m.group(1)
        for part in m.group(2).strip("()").replace("\n", " ").split(","):
            part = part.split("#")[0].strip()
            if not part:
                continue
            name, _, alias = part.partition(" as ")
            name, alias = name.strip(), alias.strip() or name.strip()
            sub = _module(f"{base}.{name}")
            if sub is not None:
                aliases[alias] = sub
                continue
            mod = _module(base)
            if mod is not None and hasattr(mod, name):
                used.append(getattr(mod, name))
    for m in re.finditer(r"^\s*import\s+(maxent_lib(?:\.\w+)*)(?:\s+as\s+(\w+))?", code,
                         re.MULTILINE):
        mod = _module(m.group(1))
        if mod is not None:
            aliases[m.group(2) or m.group(1)] = mod
    for alias, mod in aliases.items():
        for m in re.finditer(rf"(?<![\w.]){re.escape(alias)}\.(\w+)", code):
            obj = getattr(mod, m.group(1), None)
            if obj is not None:
                used.append(obj)
    return used


def first_lessons() -> dict[str, str]:
    """``module.name`` -> the number of the first lesson that uses it."""
    by_id: dict[int, list[str]] = {}
    for name, obj in public_names().items():
        by_id.setdefault(id(obj), []).append(name)
    first: dict[str, str] = {}
    for nb in NOTEBOOKS:
        lesson = nb.name[:2]
        for obj in used_objects(_code(nb)):
            for name in by_id.get(id(obj), []):
                first.setdefault(name, lesson)
    return first


def _pending(name: str) -> bool:
    return any(name.startswith(m + ".") for m in PENDING_MODULES)


def test_the_notebooks_are_there():
    assert [nb.name[:2] for nb in NOTEBOOKS] == [f"{i:02d}" for i in range(8)]


def test_every_public_name_has_a_true_lesson_tag():
    first = first_lessons()
    wrong, missing = [], []
    for name, obj in public_names().items():
        if _pending(name):
            continue
        doc = inspect.getdoc(obj) or ""
        tag = TAG.search(doc)
        if name in first:
            if tag is None or tag.group(1) != first[name]:
                wrong.append(f"{name}: says {tag.group(0) if tag else 'nothing'}, first used in "
                             f"lesson {first[name]}")
        elif tag is None and not LIBRARY_ONLY.search(doc):
            missing.append(name)
    assert not wrong, "tags that contradict the lessons:\n" + "\n".join(wrong)
    assert not missing, f"public names without 'Introduced in lesson NN' or 'Used by the " \
                        f"library only': {missing}"


def test_the_tag_finder_sees_the_three_kinds_of_use():
    code = ("from maxent_lib import data, runtime\nfrom maxent_lib.softmax import (\n"
            "    SoftmaxRegression,\n    log_softmax as ls,\n)\nrng = runtime.seed_everything(0)\n")
    from maxent_lib import runtime, softmax

    used = used_objects(code)
    assert runtime.seed_everything in used and softmax.SoftmaxRegression in used
    assert softmax.log_softmax in used and softmax.softmax not in used


@pytest.mark.parametrize("package", ["maxent_lib", "maxent_lib.ablation",
                                     "maxent_lib.conditions", "maxent_lib.store",
                                     "maxent_lib.validation"])
def test_the_module_map_lists_every_module(package):
    """The package's docstring names each of its modules and subpackages: ``name`` in the
    library's map, ``package.name`` (a :mod: reference) in a subpackage's."""
    pkg = importlib.import_module(package)
    doc = pkg.__doc__ or ""
    subs = [m.name for m in pkgutil.iter_modules(pkg.__path__)]
    if package == "maxent_lib":
        missing = [s for s in subs if f"``{s}``" not in doc]
    else:
        missing = [s for s in subs if f"{package}.{s}" not in doc and not s.startswith("_")]
    assert not missing, f"{package}'s docstring does not list {missing}"
