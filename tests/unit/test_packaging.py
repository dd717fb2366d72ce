"""The package declares what it uses, and uses what it declares."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: Path) -> set[str]:
    """Top-level modules the package's source imports, anywhere in a file."""
    found: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def distribution_name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_runtime_dependency_is_imported_by_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {distribution_name(requirement) for requirement in project["dependencies"]}
    owners = packages_distributions()
    used = {dist.lower().replace("_", "-") for module in imported_modules(ROOT / "ocrmp")
            for dist in owners.get(module, [])}
    assert declared - used == set(), "declared in pyproject.toml, imported by nothing"
