"""The layers stay honest: core imports neither Streamlit nor Plotly, has no import circle, the pages that
need no model load no TensorFlow, and nothing edits sys.path."""
import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

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


def core_module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def core_imports(path: Path, known: set[str]) -> set[str]:
    """Every core module `path` imports, at the top or inside a function (a lazy import still closes a circle)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from core.data import specs` imports the module core.data.specs
                child = f"{node.module}.{alias.name}"
                found.add(child if child in known else node.module)
    return {name for name in found if name in known and name != "core"}


def import_graph() -> dict[str, set[str]]:
    paths = {core_module(path): path for path in (ROOT / "core").rglob("*.py")}
    return {name: core_imports(path, set(paths)) for name, path in paths.items()}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the modules along it, or None."""
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> list[str] | None:
        state[name] = "open"
        for target in sorted(graph.get(name, ())):
            if state.get(target) == "open":
                return trail[trail.index(target):] + [target]
            if target not in state and (circle := visit(target, [*trail, target])):
                return circle
        state[name] = "closed"
        return None

    for start in sorted(graph):
        if start not in state and (circle := visit(start, [start])):
            return circle
    return None


def test_the_circle_finder_finds_a_circle():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_in_core():
    graph = import_graph()
    assert "core.training.train" in graph and "core.training.recipe" in graph["core.training.train"]
    assert find_circle(graph) is None


PAGES_WITHOUT_TENSORFLOW = ("pages/overview.py", "pages/eda.py", "pages/train.py")


@pytest.mark.slow
def test_overview_explore_and_train_load_no_tensorflow(studio_with_model):
    """The three pages run headless, one after another, in a fresh interpreter that reports after each whether
    TensorFlow or Keras has been loaded."""
    script = textwrap.dedent("""
        import sys
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.testing.v1 import AppTest

        original = PagesManager.__init__  # as a real server: st.navigation, not the pages/ folder (see test_pages)

        def init(self, *args, **kwargs):
            original(self, *args, **kwargs)
            PagesManager.uses_pages_directory = False

        PagesManager.__init__ = init
        app = AppTest.from_file("streamlit_app.py", default_timeout=120).run()
        for page in sys.argv[1:]:
            if page != "pages/overview.py":
                app.switch_page(page).run()
            assert not app.exception, (page, [e.message for e in app.exception])
            print(page, sorted(name for name in ("tensorflow", "keras") if name in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", script, *PAGES_WITHOUT_TENSORFLOW], capture_output=True,
                            text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-3:] == [f"{page} []" for page in PAGES_WITHOUT_TENSORFLOW]
