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
