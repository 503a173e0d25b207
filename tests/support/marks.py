"""The `pytestmark` of every real-browser test module (apart from `browser`, which bench/ imports without
pytest)."""
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM

BROWSER_TESTS = [pytest.mark.browser,
                 pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="Debian's chromium is not installed (apt-get install chromium)")]
