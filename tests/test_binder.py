"""binder/: the Binder environment pins what requirements.txt pins, with a CPU-only torch
(checked offline: the files are parsed, nothing is installed)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _lines(path: Path) -> list[str]:
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #")[0].strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        if line.startswith("-"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", line)
        assert match, f"not an exact pin: {line!r}"
        pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def test_binder_files_exist() -> None:
    for name in ("requirements.txt", "postBuild", "runtime.txt"):
        assert (BINDER / name).is_file(), name


def test_same_pins_as_requirements_apart_from_torch_build() -> None:
    root = _pins(_lines(ROOT / "requirements.txt"))
    binder = _pins(_lines(BINDER / "requirements.txt"))
    assert set(binder) == set(root), set(binder) ^ set(root)
    for name, version in root.items():
        if name == "torch":
            assert binder[name].split("+")[0] == version.split("+")[0]
        else:
            assert binder[name] == version, f"{name}: binder {binder[name]} != {version}"


def test_torch_is_the_cpu_build_from_the_cpu_index() -> None:
    lines = _lines(BINDER / "requirements.txt")
    assert f"--extra-index-url {CPU_INDEX}" in lines
    assert _pins(lines)["torch"].endswith("+cpu")
    assert not any(line.lower().startswith(("nvidia-", "triton")) for line in lines)


def test_course_library_is_installed_by_postbuild() -> None:
    text = (BINDER / "postBuild").read_text(encoding="utf-8")
    assert text.startswith("#!")
    assert re.search(r"pip install .*--no-deps -e \.$", text, flags=re.MULTILINE)
    assert (BINDER / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"


def test_runtime_is_the_tested_python() -> None:
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.1[0-9]", runtime), runtime
    header = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert f"Python {runtime.split('-')[1]}" in header
