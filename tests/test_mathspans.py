"""Finding the math in a file: Markdown delimiters, tables, comments, code, notebooks and LaTeX files, with
exact offsets; files that are not documents refused in one line."""

import os

import nbformat
import pytest

from microreg.mathspans import Lines, SourceError, find_math, read_source


def inside(text, kind="md"):
    return [text[s.start:s.end] for s in find_math(text, kind)]


def test_every_markdown_delimiter_with_exact_offsets():
    text = ("Inline $a = b$ and $$c = d$$ in a sentence,\n"
            "then \\[e = f\\] and \\(g = h\\) and a bare \\begin{align} k &= l \\end{align} here.\n"
            "A price of 5\\$ is not math. `$x$` is code.\n"
            "```\n$$not = math$$\n```\n")
    assert inside(text) == ["a = b", "c = d", "e = f", "g = h", " k &= l "]


def test_a_stray_dollar_never_swallows_the_rest_of_the_file():
    # an unclosed $$ in a table cell closes nowhere on its row: not math, and the next rows still read
    text = ("| rule | formula |\n|---|---|\n| bad | $$a = b |\n| good | $$c = d$$ |\n\n"
            "A lone $ here.\n\n$$e = f$$\n")
    assert inside(text) == ["c = d", "e = f"]
    spans = find_math(text)
    assert spans[0].where == "table" and spans[1].where is None


def test_math_in_comments_lists_and_code():
    text = ("<!-- $$h = \\tanh(z)$$ -->\n"
            "- $a = \\sigma(z)$ in a list\n"
            "~~~python\nx = 1  # $y = 2$\n~~~\n"
            "    ```\n    $$no = math$$\n    ```\n")
    spans = find_math(text)
    assert [text[s.start:s.end] for s in spans] == ["h = \\tanh(z)", "a = \\sigma(z)"]
    assert [s.where for s in spans] == ["comment", "list"]


def test_latex_files_skip_the_preamble_comments_and_verbatim():
    text = ("\\documentclass{article}\n\\newcommand{\\R}{$x=1$}\n\\begin{document}\n"
            "The loss % $ignored = 1$\n\\begin{equation}\nL = (y - w x)^2 \\label{eq:l}\n\\end{equation}\n"
            "\\begin{verbatim}$not = math$\\end{verbatim}\n"
            "and $\\frac{\\partial L}{\\partial w} = 2x$ inline, $$a = b$$.\n\\end{document}\n")
    assert [s.strip() for s in inside(text, "tex")] == ["L = (y - w x)^2 \\label{eq:l}",
                                                        "\\frac{\\partial L}{\\partial w} = 2x", "a = b"]


def test_a_notebook_reads_its_markdown_cells(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\n\n$$z = w x$$"),
                nbformat.v4.new_code_cell("z = w * x  # $not = math$"),
                nbformat.v4.new_markdown_cell("Then\n$a = \\sigma(z)$")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, str(path))
    src = read_source(str(path))
    assert src.kind == "ipynb" and [p.cell for p in src.parts] == [1, 3]
    assert [inside(p.text) for p in src.parts] == [["z = w x"], ["a = \\sigma(z)"]]
    assert "1 code cell(s)" in src.notes[0]


def test_lines_map_offsets_in_logarithmic_time():
    text = "ab\ncde\n\nf"
    lines = Lines(text)
    assert [lines(i) for i in (0, 1, 3, 5, 7, 8)] == [(1, 1), (1, 2), (2, 1), (2, 3), (3, 1), (4, 1)]


def test_files_that_are_not_documents_are_refused_in_one_line(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        read_source(str(tmp_path / "missing.md"))
    with pytest.raises(SourceError, match="is a folder"):
        read_source(str(tmp_path))
    bad = tmp_path / "latin1.md"
    bad.write_bytes("caf\xe9 $a = b$".encode("latin-1"))
    with pytest.raises(SourceError, match="byte 3 is not UTF-8"):
        read_source(str(bad))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(SourceError, match="not a regular file"):
        read_source(str(fifo))
    notebook = tmp_path / "broken.ipynb"
    notebook.write_text("{not json", encoding="utf-8")
    with pytest.raises(SourceError, match="not a Jupyter notebook"):
        read_source(str(notebook))


def test_a_byte_order_mark_is_not_part_of_the_first_heading(tmp_path):
    path = tmp_path / "bom.md"
    path.write_bytes("\ufeff# Notes\n$$a = b$$\n".encode("utf-8"))
    src = read_source(str(path))
    assert src.parts[0].text.startswith("# Notes")
