"""The package tree is the pipeline: imports follow the data flow, and each package has one facade.

The import contracts live in ``.importlinter`` and are checked by ``lint-imports``; these tests prove the check
passes on the repo and that it would catch a back-edge (module-level or function-local) or an undeclared
harness sub-package. The static checks keep the layout from drifting back to a flat ``harness/``.
"""

from __future__ import annotations

import ast
import configparser
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOT_PACKAGES = ("harness", "tasks", "scorers", "trainers", "reports")
MAX_HARNESS_ROOT_MODULES = 3

# Runs import-linter's click command with this interpreter; `python -m importlinter.cli` has no __main__ guard.
_LINT = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", _LINT, "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _contract_names() -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter")
    prefix = "importlinter:contract:"
    return {s.removeprefix(prefix): parser[s]["name"] for s in parser.sections() if s.startswith(prefix)}


def _copy_tree(tmp_path: Path) -> Path:
    """The five packages (Python files only) and the contract file, in a fresh directory."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        return {
            n for n in names if n == "__pycache__" or (not n.endswith(".py") and not (Path(directory) / n).is_dir())
        }

    for package in ROOT_PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
    shutil.copy2(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def _append(path: Path, code: str) -> None:
    assert path.is_file(), path
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n\n" + code + "\n")


def _flat(text: str) -> str:
    """Output with line wrapping undone, so long contract names match."""
    return " ".join(text.split())


def test_lint_imports_passes_on_the_repo() -> None:
    result = _lint_imports(ROOT)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    names = _contract_names()
    assert len(names) >= 4
    assert "broken" in out and " 0 broken" in out, out
    for name in names.values():
        assert f"{name} KEPT" in _flat(out), name


@pytest.mark.parametrize(
    ("target", "code", "contract", "importer", "imported"),
    [
        pytest.param(
            "harness/core/_files.py",
            "from harness.cli import main  # back-edge",
            "pipeline-layers",
            "harness.core._files",
            "harness.cli",
            id="module-level-core-imports-cli",
        ),
        pytest.param(
            "harness/inputs/_config.py",
            "def _back_edge():\n    from reports import render_report\n\n    return render_report",
            "pipeline-layers",
            "harness.inputs._config",
            "reports",
            id="function-local-inputs-imports-reports",
        ),
        pytest.param(
            "harness/calibration/_packets.py",
            "def _sibling():\n    import harness.preferences\n\n    return harness.preferences",
            "pipeline-layers",
            "harness.calibration._packets",
            "harness.preferences",
            id="independent-siblings",
        ),
        pytest.param(
            "trainers/_common.py",
            "def _sideways():\n    from harness.inputs import load_run_config\n\n    return load_run_config",
            "trainers-core-only",
            "trainers._common",
            "harness.inputs",
            id="trainers-import-inputs",
        ),
    ],
)
def test_lint_imports_catches_a_back_edge(
    tmp_path: Path, target: str, code: str, contract: str, importer: str, imported: str
) -> None:
    tree = _copy_tree(tmp_path)
    _append(tree / target, code)
    result = _lint_imports(tree)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert f"{_contract_names()[contract]} BROKEN" in _flat(out), out
    assert importer in out and imported in out, out
    assert f"{importer} -> {imported}" in out, out


def test_lint_imports_requires_new_harness_subpackages_to_be_layered(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    (tree / "harness" / "newstage").mkdir()
    (tree / "harness" / "newstage" / "__init__.py").write_text('"""An undeclared stage."""\n', encoding="utf-8")
    result = _lint_imports(tree)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert f"{_contract_names()['harness-exhaustive']} BROKEN" in _flat(out), out
    assert "harness.newstage" in out, out


def _package_dirs() -> list[Path]:
    """Every directory under the root packages that holds Python code (data folders have none)."""
    dirs = set()
    for package in ROOT_PACKAGES:
        for py in (ROOT / package).rglob("*.py"):
            if "__pycache__" not in py.parts:
                dirs.add(py.parent)
    return sorted(dirs)


def _module_name(directory: Path) -> str:
    return ".".join(directory.relative_to(ROOT).parts)


def _facades() -> list[str]:
    names = set(ROOT_PACKAGES)
    names.update(f"harness.{p.name}" for p in (ROOT / "harness").iterdir() if (p / "__init__.py").is_file())
    return sorted(names)


def test_harness_root_holds_only_entry_modules() -> None:
    root_modules = sorted(p.name for p in (ROOT / "harness").glob("*.py"))
    assert len(root_modules) <= MAX_HARNESS_ROOT_MODULES, (
        f"harness/ has {len(root_modules)} modules at its root ({root_modules}); "
        "code belongs in the sub-package of its pipeline stage"
    )
    subpackages = [p for p in (ROOT / "harness").iterdir() if (p / "__init__.py").is_file()]
    assert len(subpackages) >= 5, subpackages


def test_every_code_directory_is_a_package() -> None:
    missing = [str(d.relative_to(ROOT)) for d in _package_dirs() if not (d / "__init__.py").is_file()]
    assert not missing, f"directories with Python code but no __init__.py: {missing}"


def _static_all(init: Path) -> list[str] | None:
    """The literal ``__all__`` of a module, or None when it has none."""
    tree = ast.parse(init.read_text(encoding="utf-8"), filename=str(init))
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            value = ast.literal_eval(node.value)  # type: ignore[arg-type]
            assert isinstance(value, list | tuple), f"{init}: __all__ must be a list of names"
            return list(value)
    return None


@pytest.mark.parametrize("facade", _facades())
def test_facade_defines_all_and_every_name_resolves(facade: str) -> None:
    init = ROOT.joinpath(*facade.split("."), "__init__.py")
    names = _static_all(init)
    assert names is not None, f"{facade}/__init__.py must define __all__ (its public facade)"
    assert all(isinstance(n, str) for n in names), names
    assert len(names) == len(set(names)), f"{facade}.__all__ has duplicates"
    module = importlib.import_module(facade)
    assert list(module.__all__) == names
    unresolved = [n for n in names if not hasattr(module, n)]
    assert not unresolved, f"{facade}.__all__ names that do not resolve: {unresolved}"
