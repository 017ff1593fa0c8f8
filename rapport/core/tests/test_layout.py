"""The core app stays at the bottom of the dependency graph."""

import ast
from pathlib import Path

import rapport

CORE = Path(__file__).resolve().parents[1]
RAPPORT = Path(rapport.__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def test_core_imports_no_other_rapport_app() -> None:
    apps = {p.name for p in RAPPORT.iterdir() if (p / "apps.py").exists()} - {"core"}
    assert apps, "the scan found no apps"
    offending = []
    for path in sorted(CORE.rglob("*.py")):
        for module in _imported_modules(path):
            parts = module.split(".")
            if parts[0] == "rapport" and len(parts) > 1 and parts[1] in apps:
                offending.append(f"{path.relative_to(RAPPORT.parent)} imports {module}")
    assert offending == []


def test_no_app_imports_another_apps_views() -> None:
    """Only the project's URLconf, which is no app, wires views of several apps together."""
    offending = []
    for path in sorted(RAPPORT.rglob("*.py")):
        app = path.relative_to(RAPPORT).parts[0]
        if not (RAPPORT / app / "apps.py").exists():
            continue
        for module in _imported_modules(path):
            parts = module.split(".")
            if (
                parts[0] == "rapport"
                and len(parts) > 2
                and parts[1] != app
                and parts[2].startswith("views")
            ):
                offending.append(f"{path.relative_to(RAPPORT.parent)} imports {module}")
    assert offending == []


def test_no_app_imports_the_directory() -> None:
    """The directory reads the other apps; only the project's URLconf and API mount it.

    Tests may set up directory state (the upgrade snapshot fills column preferences).
    """
    offending = []
    for path in sorted(RAPPORT.rglob("*.py")):
        app = path.relative_to(RAPPORT).parts[0]
        if app == "directory" or not (RAPPORT / app / "apps.py").exists():
            continue
        if "tests" in path.relative_to(RAPPORT).parts:
            continue
        for module in _imported_modules(path):
            if module == "rapport.directory" or module.startswith("rapport.directory."):
                offending.append(f"{path.relative_to(RAPPORT.parent)} imports {module}")
    assert offending == []
