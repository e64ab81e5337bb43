"""Fixed seeds for every test, and one hypothesis profile (derandomised: same examples each run)."""

import os
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("microreg", derandomize=True, deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "microreg"))


@pytest.fixture(autouse=True)
def _seed():
    random.seed(1234)
    np.random.seed(1234)
    yield


# One headless Chromium for every browser test (test_page, test_widget): Playwright's sync API
# cannot be started a second time in one process, so the session shares one.
BROWSER_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    import shutil
    path = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser"))
                 if p and os.path.exists(p)), None)
    if path is None:
        pytest.skip("no chromium binary on this machine (.ci/run installs Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=BROWSER_FLAGS)
        yield b
        b.close()
