"""The layers stay honest: core imports neither Streamlit nor Plotly, and nothing edits sys.path."""
import ast
from pathlib import Path

from tests.support import ROOT

UI_ONLY = ("streamlit", "plotly", "streamlit_drawable_canvas")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_neither_streamlit_nor_plotly():
    offenders = {str(path.relative_to(ROOT)): sorted(imported_modules(path) & set(UI_ONLY))
                 for path in (ROOT / "core").rglob("*.py")}
    assert not {path: names for path, names in offenders.items() if names}


def test_core_imports_nothing_above_it():
    for path in (ROOT / "core").rglob("*.py"):
        assert not imported_modules(path) & {"ui", "pages", "tests", "bench"}, path


def test_no_sys_path_edits_in_tests_or_bench():
    for folder in ("tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "test_layers.py":
                continue
            assert "sys.path.insert" not in path.read_text() and "sys.path.append" not in path.read_text(), path
