"""`pip install .` ships what the code reads: every package and every data file (a grammar, the page's web
assets). An editable install reads the tree and would not notice a file left out of the wheel."""

import fnmatch
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else pytest.importorskip("tomli")


def _config():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]


def test_every_package_is_listed():
    packages = set(_config()["packages"])
    found = {os.path.relpath(folder, ROOT).replace(os.sep, ".")
             for folder, _, files in os.walk(os.path.join(ROOT, "microreg")) if "__init__.py" in files}
    assert found <= packages, f"packages pip would leave out: {sorted(found - packages)}"


def test_every_data_file_is_shipped():
    patterns = _config()["package-data"]["microreg"]
    data = []
    for folder, dirs, files in os.walk(os.path.join(ROOT, "microreg")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if not name.endswith((".py", ".pyc")):
                data.append(os.path.relpath(os.path.join(folder, name), os.path.join(ROOT, "microreg")))
    left_out = [p for p in data if not any(fnmatch.fnmatch(p.replace(os.sep, "/"), pat) for pat in patterns)]
    assert data and not left_out, f"data files pip would leave out: {left_out}"
