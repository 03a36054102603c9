"""The house's floors (README, "Architecture"): no import runs back up.

- Kernel modules (``outreach/extensions.py``, ``text.py`` ...) import only each other.
- An area, its models included, imports the kernel, its own area and the areas below it
  (``AREA_ORDER``), never one above: no two areas import each other. A ``models.py`` imports only
  the kernel and models. An area below asks the areas above through signals it defines
  (``geo/signals.py``, ``visits/signals.py`` ...), which they connect.
- The only exceptions are the reads of an upper area's tables in ``MODELS_READ_UPWARD``: each is
  named with the reason it stays, and an entry no longer used fails the test (the list only shrinks).
- The application shell (``create_app``, the request-wide setup, the API description, the
  scheduler) sits on top; nothing below imports it.
Imports needed only for annotations (under ``if TYPE_CHECKING:``) do not count.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "outreach"

KERNEL = ("extensions", "text", "errors", "types", "labels", "csvio", "clock", "forms", "api", "bulk", "roles")
AREA_ORDER = (
    "audit", "auth", "geo", "visits", "planning", "sms", "requests", "reports", "maps", "activity", "privacy", "home",
    "ops", "demo",
)  # fmt: skip
# The upward imports that remain: (lower area, upper area) -> why. Each is a read of the upper
# area's models (its tables) only, never of its behaviour; removing one needs more than moving code
# (README, "Architecture"). Add nothing here: a lower area asks an upper one through a signal.
MODELS_READ_UPWARD = {
    # A user's scope is a unit (User.scope_unit), and the one scope filter (auth/scope.py) joins units
    # and households: geo's tables. geo's services in turn check the scope and the role (auth).
    ("auth", "geo"): "the scope is a unit; the scope filter reads units and households",
}
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
    kind = "models" if len(parts) > 1 and parts[1] == "models" else "area"
    return kind, head, AREA_ORDER.index(head)


def _module_name(path: Path, package: Path) -> str:
    relative = path.relative_to(package.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1] if len(parts) > 2 else [parts[0], "__init__"]
    return ".".join(parts) if parts[-1] != "__init__" else "outreach"


def _upward_imports(package: Path = PACKAGE, allowed: dict = MODELS_READ_UPWARD) -> tuple[list[str], set]:
    """The imports that run back up, and the allowed pairs (``allowed``) that were used."""
    wrong, used = [], set()
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
            elif kind == "models" and to_kind != "models":
                wrong.append(f"{where}: a models.py imports only the kernel and models")
            elif to_area != area and to_floor > floor:
                if to_kind == "models" and (area, to_area) in allowed:
                    used.add((area, to_area))
                else:
                    wrong.append(f"{where}: {to_area} is above {area} ({' < '.join(AREA_ORDER)})")
    return wrong, used


def test_no_import_runs_back_up():
    wrong, used = _upward_imports()
    assert wrong == []
    # An allowed pair no longer needed leaves the list: it only shrinks.
    assert used == set(MODELS_READ_UPWARD), (
        f"no longer imported, remove from MODELS_READ_UPWARD: {set(MODELS_READ_UPWARD) - used}"
    )


def test_the_check_sees_an_import_that_goes_up(tmp_path):
    """The guard itself: auth may read geo's tables (allowed), not its services; geo's models
    may not read sms' tables (not allowed, even between models); TYPE_CHECKING imports do not count."""
    fake = tmp_path / "outreach"
    (fake / "auth").mkdir(parents=True)
    (fake / "geo").mkdir(parents=True)
    (fake / "auth" / "services.py").write_text("from outreach.geo.services import move_household\n")
    (fake / "auth" / "scope.py").write_text("from outreach.geo.models import Household\n")
    (fake / "geo" / "models.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from outreach.sms.services import x\n"
        "from outreach.sms.models import OptOut\n"
    )
    wrong, used = _upward_imports(fake)
    assert len(wrong) == 2
    assert "auth/services.py:1 imports outreach.geo.services: geo is above auth" in wrong[0]
    assert "geo/models.py:4 imports outreach.sms.models: sms is above geo" in wrong[1]
    assert used == {("auth", "geo")}
