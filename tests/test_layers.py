"""The layer rule, checked on the source: backend imports no Qt, models
import no widgets. (import-linter checks the rest; see pyproject.toml.)"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lainview"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("layer,forbidden", [
    ("backend", ("PySide6", "shiboken6", "pyqtgraph", "qasync")),
    ("models", ("PySide6.QtWidgets", "pyqtgraph")),
])
def test_layer_imports(layer, forbidden):
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files, f"no sources under lainview/{layer}"
    bad = {str(f.relative_to(PACKAGE)): sorted(m for m in imported_modules(f)
                                                 if m.split(".")[0] in forbidden
                                                 or any(m == x or m.startswith(x + ".")
                                                        for x in forbidden))
           for f in files}
    assert not {k: v for k, v in bad.items() if v}


def test_the_check_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6 import QtWidgets\nimport pyqtgraph as pg\n")
    assert {"PySide6", "PySide6.QtWidgets", "pyqtgraph"} <= imported_modules(bad)
