"""Every code block of docs/numpy-code.md runs as written and prints what the page shows, compared as
tests/test_readme.py compares README's blocks (numbers up to the rounding of their last digit)."""

import contextlib
import io
import os
import re

import pytest

from test_readme import same_lines

PAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "numpy-code.md")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", open(PAGE, encoding="utf-8").read(), flags=re.S)
CASES = [pytest.param(body, BLOCKS[i + 1][1] if i + 1 < len(BLOCKS) and BLOCKS[i + 1][0] == "text" else None,
                      id=f"block{i}") for i, (lang, body) in enumerate(BLOCKS) if lang == "python"]


def test_the_page_has_its_examples():
    assert len(CASES) == 4 and all(output for _, output in (c.values for c in CASES))


@pytest.mark.parametrize("body,output", CASES)
def test_python_block(body, output, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(body, "numpy-code.md", "exec"), {"__name__": "__page__"})
    printed = buffer.getvalue()
    assert same_lines(output.splitlines(), printed.splitlines()), \
        f"the page shows:\n{output}\nbut the code prints:\n{printed}"
