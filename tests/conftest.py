import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))


@pytest.fixture(scope="session")
def bundled():
    import specnb

    return specnb.load()
from browser import chromium_fixture  # noqa: E402,F401  (session fixture "chromium")
