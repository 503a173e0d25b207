"""The real-browser tests' fixtures: a studio of tiny data served by a real Streamlit server (one per test
module, so the modules run side by side), and Debian's Chromium, whose pages a test leaves are closed even when
it fails (an open page keeps polling the server and slows every test after it)."""
import shutil

import pytest

from tests.support.browser import SAVE, launch, streamlit_server

playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server_env(request, tmp_path_factory, tiny_mnist_dir, trained_digit_model):
    """A module that trains sets WARM_WORKERS = 1: its server's worker warms while its first tests run, as a
    real server's would. The others start no Ray and no TensorFlow worker they never use."""
    if SAVE:
        return {}
    root = tmp_path_factory.mktemp("browser-studio")
    shutil.copytree(trained_digit_model / "tiny", root / "models" / "mnist")
    return {"STUDIO_MODELS_DIR": str(root / "models"), "STUDIO_DATA_DIR": str(root / "data"),
            "STUDIO_RUNS_DIR": str(root / "runs"), "STUDIO_WORKSPACES_DIR": str(root / "workspaces"),
            "STUDIO_QUEUE_DIR": str(root / "queue"), "MNIST_DIR": str(tiny_mnist_dir),
            "STUDIO_WARM_WORKERS": str(getattr(request.module, "WARM_WORKERS", 0))}


@pytest.fixture(scope="module")
def server(server_env):
    with streamlit_server(server_env) as (url, _, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()



@pytest.fixture(autouse=True)
def pages_closed_after(request):
    yield
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()
