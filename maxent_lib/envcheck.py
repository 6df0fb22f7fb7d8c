"""The environment check of lesson 00: is every package the course pins installed, importable, and
at the tested version?

The pins are read from the course's ``requirements.txt`` (lines ``name==version``). A package is

- ``OK`` when it is installed at the pinned version (a local build label such as ``+cpu`` is
  ignored: ``2.13.0+cpu`` is ``2.13.0``) and, for the packages the lessons import, imports;
- ``VERSION DIFFERS`` when another version is installed (usually fine; the course is tested with
  the pinned one);
- ``MISSING`` when it is not installed;
- ``IMPORT FAILS`` when it is installed but importing it raises (the message says why).

Introduced in lesson 00.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from .validation import Dict, Flag, Instance, Items, PathArg, Text, validate

#: Distribution name -> module name, where they differ.
IMPORT_NAMES: dict[str, str] = {
    "scikit-learn": "sklearn",
    "pytest-timeout": "pytest_timeout",
}
#: Packages the lessons import: these are really imported by the check (a few seconds).
#: The others (JupyterLab, nbconvert, pytest, ...) are only located, which is instant.
LESSON_PACKAGES: frozenset[str] = frozenset(
    {"numpy", "scipy", "scikit-learn", "torch", "matplotlib", "tqdm", "mnist1d"}
)
STATUSES = ("OK", "VERSION DIFFERS", "MISSING", "IMPORT FAILS")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)\s*==\s*([A-Za-z0-9_.+!\-]+)$")


@dataclass(frozen=True)
class PackageCheck:
    """One row of the check: the pinned package, what is installed, and the verdict.
    Introduced in lesson 00."""

    name: str
    pinned: str
    installed: str | None
    status: str
    note: str = ""


@validate(path=PathArg(file=True))
def read_pins(path: str | Path) -> dict[str, str]:
    """The exact pins ``name==version`` of a requirements file, in file order; comments, options
    (``--extra-index-url``) and local installs (``-e .``) are skipped.

    Raises ``ValueError`` if the file does not exist or pins nothing. Introduced in lesson 00.
    """
    if not path.is_file():
        raise ValueError(f"requirements file not found: {path.name}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the requirements file {path.name}: {exc}") from exc
    pins: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split(" #")[0].strip()
        match = _PIN.match(line)
        if match:
            pins[match.group(1)] = match.group(2)
    if not pins:
        raise ValueError(f"{path.name} pins no package (expected lines like numpy==2.0.0)")
    return pins


@validate(start=PathArg(optional=True))
def find_requirements(start: str | Path | None = None) -> Path | None:
    """The course's ``requirements.txt``: looked for in ``start`` (default: the working folder) and
    its parents, then next to the installed package. ``None`` if there is none.
    Introduced in lesson 00."""
    here = Path.cwd() if start is None else start
    candidates = [d / "requirements.txt" for d in (here.resolve(), *here.resolve().parents)]
    candidates.append(Path(__file__).resolve().parents[1] / "requirements.txt")
    for path in candidates:
        try:
            if path.is_file() and "-e ." in path.read_text(encoding="utf-8"):
                return path
        except (OSError, UnicodeDecodeError):
            continue  # an unreadable file is not the course's requirements
    return None


def _base(version: str) -> str:
    return version.split("+")[0].strip()


@validate(name=Text(empty=False), pinned=Text(empty=False), import_it=Flag(optional=True))
def check_package(name: str, pinned: str, import_it: bool | None = None) -> PackageCheck:
    """Check one pinned package. ``import_it`` (default: for the lessons' packages) imports the
    module; otherwise it is only located. Introduced in lesson 00."""
    if not _PIN.match(f"{name}=={pinned}"):
        raise ValueError(f"{name}=={pinned} is not a package pin (name==version)")
    if import_it is None:
        import_it = name.lower() in LESSON_PACKAGES
    try:
        installed: str | None = metadata.version(name)
    except metadata.PackageNotFoundError:
        installed = None
    module = IMPORT_NAMES.get(name.lower(), name.lower().replace("-", "_"))
    if installed is None:
        return PackageCheck(name, pinned, None, "MISSING", f"pip install {name}=={pinned}")
    try:
        found = importlib.import_module(module) if import_it else importlib.util.find_spec(module)
    except Exception as exc:  # noqa: BLE001 - any import error is reported, not raised
        return PackageCheck(name, pinned, installed, "IMPORT FAILS", f"{type(exc).__name__}: {exc}")
    if found is None:
        return PackageCheck(name, pinned, installed, "IMPORT FAILS", f"no module named {module}")
    if _base(installed) != _base(pinned):
        return PackageCheck(name, pinned, installed, "VERSION DIFFERS",
                            f"tested with {pinned}; usually fine")
    return PackageCheck(name, pinned, installed, "OK")


@validate(pins=Dict(min_len=1))
def check_packages(pins: dict[str, str]) -> list[PackageCheck]:
    """Check every pin of ``pins`` (see :func:`read_pins`). Introduced in lesson 00."""
    return [check_package(name, version) for name, version in pins.items()]


#: Rows of the check.
_ROWS = Items(Instance((PackageCheck,)))


@validate(rows=_ROWS)
def format_table(rows: list[PackageCheck]) -> str:
    """The checks as a plain-text table: package, pinned, installed, status, note.
    Introduced in lesson 00."""
    header = ("package", "pinned", "installed", "status", "note")
    body = [(r.name, r.pinned, r.installed or "-", r.status, r.note) for r in rows]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(4)]
    lines = []
    for row in [header, *body]:
        cells = [str(row[i]).ljust(widths[i]) for i in range(4)] + [row[4]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


@validate(rows=_ROWS)
def summary(rows: list[PackageCheck]) -> str:
    """One plain sentence: all fine, or what to do. Introduced in lesson 00."""
    missing = [r.name for r in rows if r.status in ("MISSING", "IMPORT FAILS")]
    differs = [r.name for r in rows if r.status == "VERSION DIFFERS"]
    if missing:
        return ("Not ready: " + ", ".join(missing) + " missing or broken. From the course folder, "
                "run `pip install -r requirements.txt` and restart the kernel.")
    if differs:
        return ("Ready, with other versions of " + ", ".join(differs) + " than the course was "
                "tested with. Lessons should run; if one fails, install the pinned versions.")
    return "Ready: every pinned package is installed at the tested version."
