"""Every notebook runs top to bottom in a fresh kernel, and the committed ones match their source."""

import glob
import os
import sys

import nbformat
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
NOTEBOOKS = os.path.join(os.path.dirname(HERE), "notebooks")
sys.path.insert(0, NOTEBOOKS)

import build  # noqa: E402  (notebooks/build.py: the notebooks' source)

PATHS = sorted(glob.glob(os.path.join(NOTEBOOKS, "*.ipynb")))


def test_every_notebook_is_there():
    assert [os.path.basename(p) for p in PATHS] == sorted(build.NOTEBOOKS)
    assert len(PATHS) >= 5


@pytest.mark.parametrize("path", PATHS, ids=os.path.basename)
def test_notebook_runs_without_error(path):
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": NOTEBOOKS}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors


@pytest.mark.parametrize("path", PATHS, ids=os.path.basename)
def test_committed_notebook_matches_its_source_and_has_outputs(path):
    nb = nbformat.read(path, as_version=4)
    source = build.NOTEBOOKS[os.path.basename(path)]
    assert [c.source for c in nb.cells] == [c.source for c in source], "run python notebooks/build.py"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code) and code[-1].outputs, "committed executed, with outputs"
    assert sum(bool(c.outputs) for c in code) >= len(code) - 2
