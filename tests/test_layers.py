"""The house's floors (README, "Architecture"): no import runs back up.

- Kernel modules (``outreach/extensions.py``, ``text.py`` ...) import only each other.
- Models are the schema floor: any area may read any area's tables, but a ``models.py`` imports
  only the kernel and the models of areas below it (``MODEL_ORDER``).
- Behaviour (services, routes, cli, api ...) imports the kernel, any models, its own area and the
  areas below it (``AREA_ORDER``), never one above: no two areas import each other.
- The application shell (``create_app``, the request-wide setup, the API description, the
  scheduler) sits on top; nothing below imports it.
Imports needed only for annotations (under ``if TYPE_CHECKING:``) do not count.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "outreach"

KERNEL = ("extensions", "text", "errors", "types", "labels", "csvio", "clock", "forms", "api", "bulk", "roles")
AREA_ORDER = (
    "audit", "auth", "geo", "planning", "visits", "sms", "requests", "reports", "maps", "activity", "privacy", "home",
    "ops", "demo",
)  # fmt: skip
MODEL_ORDER = ("geo", "audit", "auth", "planning", "visits", "sms", "requests", "reports", "activity", "privacy", "ops")
SHELL = ("__init__", "web", "openapi", "scheduler")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``outreach`` import in a file, outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("outreach")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "outreach":
                found += [(node.lineno, f"outreach.{alias.name}") for alias in node.names]
            elif node.module.startswith("outreach."):
                found.append((node.lineno, node.module))
    return found


def _place(module: str) -> tuple[str, str, int]:
    """Where a module lives: ("kernel" | "shell" | "models" | "area", its name, its floor)."""
    parts = module.split(".")[1:] or ["__init__"]
    head = parts[0]
    if head in KERNEL and len(parts) == 1:
        return "kernel", head, -1
    if head in SHELL and len(parts) == 1:
        return "shell", head, len(AREA_ORDER)
    assert head in AREA_ORDER, f"{module}: a new area? Put it in AREA_ORDER (and README's architecture section)"
    if len(parts) > 1 and parts[1] == "models":
        assert head in MODEL_ORDER, f"{module}: put this area's models in MODEL_ORDER"
        return "models", head, MODEL_ORDER.index(head)
    return "area", head, AREA_ORDER.index(head)


def _module_name(path: Path, package: Path) -> str:
    relative = path.relative_to(package.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1] if len(parts) > 2 else [parts[0], "__init__"]
    return ".".join(parts) if parts[-1] != "__init__" else "outreach"


def _upward_imports(package: Path = PACKAGE) -> list[str]:
    wrong = []
    for path in sorted(package.rglob("*.py")):
        importer = _module_name(path, package)
        kind, area, floor = _place(importer)
        for line, imported in _imports(path):
            to_kind, to_area, to_floor = _place(imported)
            where = f"{path.relative_to(package.parent)}:{line} imports {imported}"
            if to_kind == "kernel" or kind == "shell":
                continue
            if to_kind == "shell":
                wrong.append(f"{where}: the application shell sits on top")
            elif kind == "kernel":
                wrong.append(f"{where}: the kernel imports only the kernel")
            elif kind == "models":
                if to_kind != "models" or (to_area != area and to_floor > floor):
                    wrong.append(f"{where}: models import only the models of areas below ({MODEL_ORDER})")
            elif to_kind == "models":
                continue  # the schema floor is under every area
            elif to_area != area and to_floor > floor:
                wrong.append(f"{where}: {to_area} is above {area} ({' < '.join(AREA_ORDER)})")
    return wrong


def test_no_import_runs_back_up():
    assert _upward_imports() == []


def test_the_check_sees_an_import_that_goes_up(tmp_path):
    """The guard itself: a planning module that imports from visits is caught."""
    fake = tmp_path / "outreach"
    (fake / "planning").mkdir(parents=True)
    (fake / "planning" / "services.py").write_text("from outreach.visits.services import sync_visits\n")
    (fake / "planning" / "models.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from outreach.sms.services import x\n"
        "from outreach.visits.models import VisitRecord\n"
    )
    wrong = _upward_imports(fake)
    assert len(wrong) == 2
    assert "planning/services.py:1 imports outreach.visits.services: visits is above planning" in wrong[1]
    assert "planning/models.py:4 imports outreach.visits.models" in wrong[0]
