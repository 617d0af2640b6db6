"""The application registry stands alone: nothing under shared/ imports the CLI, and loading the
registry does not import TensorFlow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import shared
from shared import registry

SHARED = Path(shared.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(SHARED.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_the_import_scan_sees_relative_and_absolute_imports_of_the_cli(tmp_path, monkeypatch):
    """The scan below must be able to fail: every spelling of 'import the CLI' is caught."""
    fake_root = tmp_path / "shared"
    (fake_root / "report").mkdir(parents=True)
    spellings = {"a.py": "from . import cli\n", "b.py": "from .cli import main\n", "c.py": "import shared.cli\n",
                 "report/d.py": "from ..cli import APPLICATIONS\n", "e.py": "from shared.cli import main\n",
                 "ok.py": "from . import registry\nfrom .report import cli_table\n"}
    for name, text in spellings.items():
        (fake_root / name).write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "SHARED", fake_root)
    hits = {str(p.relative_to(fake_root)) for p in fake_root.rglob("*.py") if "shared.cli" in _imported_modules(p)}
    assert hits == {"a.py", "b.py", "c.py", "report/d.py", "e.py"}


def test_no_module_under_shared_imports_the_cli():
    offenders = [str(p.relative_to(SHARED.parent)) for p in sorted(SHARED.rglob("*.py"))
                 if p.name != "cli.py" and "shared.cli" in _imported_modules(p)]
    assert offenders == [], f"these import shared.cli (use shared.registry instead): {offenders}"


def test_registry_imports_without_tensorflow():
    code = ("import sys, shared.registry, shared.reproduce, shared.scaffold, shared.report; "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules, 'shared.cli' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_registry_lists_applications_and_examples():
    assert "survival" in registry.APPLICATIONS and "digits_cnn" in registry.EXAMPLES
    assert registry.describe("digits_cnn") == registry.EXAMPLES["digits_cnn"]
    assert registry.describe("not_an_app") == ""
    assert registry.application_folder("Not-An-Identifier") is None
    with pytest.raises(SystemExit, match="unknown application 'nope'"):
        registry.load_app("nope")
