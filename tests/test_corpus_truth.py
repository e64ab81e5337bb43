"""The real-style corpus's ground truth holds: sympy, not microreg, says every recorded verdict is right.

tests/documents/real_styles/ holds derivation documents written in the notation of real course notes,
textbook chapters, blog posts, READMEs and notebooks; truth.py lists every claim with its verdict. Here each
"ok", "factor" and "wrong" claim's written side is compared with sympy's exact derivative at a few random
points, and the structure is checked: files, style lines, every claim's text on its line, every equation
line accounted for, the coverage of issue 18's notation list, and the mix of planted mistakes.
"""

import importlib.util
import math
import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest
import sympy as sp

DIR = Path(__file__).resolve().parent / "documents" / "real_styles"
_spec = importlib.util.spec_from_file_location("real_styles_truth", DIR / "truth.py")
truth = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(truth)
numbers = truth.models.numbers

DOCS = truth.DOCS
NAMES = sorted(DOCS)
POINTS = 3          # random points per document


# --- reading the files --------------------------------------------------------------------------------------

def cells(name):
    """The document as (cell number or None, cell type, lines): a notebook's cells numbered from 1."""
    path = DIR / name
    if name.endswith(".ipynb"):
        nb = nbformat.read(path, as_version=4)
        return [(k, c.cell_type, c.source.split("\n")) for k, c in enumerate(nb.cells, start=1)]
    return [(None, "markdown", path.read_text(encoding="utf-8").split("\n"))]


def line_at(name, where):
    for cell, _, lines in cells(name):
        if isinstance(where, tuple):
            if cell == where[0]:
                return lines[where[1] - 1]
        else:
            return lines[where - 1]
    raise LookupError(where)


def squash(s):
    return re.sub(r"\s+", "", s)


_FENCE = re.compile(r"^\s*(```|~~~)")
_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]"
                   r"|\\begin\{(equation|align|aligned|gather|multline|eqnarray)\*?\}(.+?)\\end\{\5\*?\}", re.S)
_SCRIPT = re.compile(r"[_^]\{([^{}]|\{[^{}]*\})*\}|\\text\{[^{}]*\}|\\mbox\{[^{}]*\}|\\label\{[^{}]*\}"
                     r"|\\tag\{[^{}]*\}|\\operatorname\{[^{}]*\}")


def equation_lines(name):
    """Lines (or (cell, line)) where an '=' (or :=, \\equiv, …) stands inside math, fenced code left out."""
    found = set()
    for cell, kind, lines in cells(name):
        if kind != "markdown":
            continue
        keep, fenced = [], False
        for ln in lines:
            if _FENCE.match(ln):
                fenced = not fenced
                keep.append("")
                continue
            keep.append("" if fenced else re.sub(r"`[^`]*`", lambda m: " " * len(m.group()), ln))
        text = "\n".join(keep)
        if name.endswith(".tex"):
            text = re.sub(r"(?<!\\)%.*", "", text)
        for m in _MATH.finditer(text):
            body_start = m.start()
            body = text[m.start():m.end()]
            body = _SCRIPT.sub(lambda g: " " * len(g.group()), body)
            for k, ch in enumerate(body):
                if ch == "=" or body.startswith(("\\equiv", "\\triangleq", "\\coloneqq"), k):
                    line = text.count("\n", 0, body_start + k) + 1
                    found.add((cell, line) if cell is not None else line)
    return found


# --- the documents ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_the_file_exists_and_its_first_line_names_a_style(name):
    path = DIR / name
    assert path.exists(), name
    if name.endswith(".ipynb"):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        first = next(c for c in nb.cells if c.cell_type == "markdown").source.split("\n")[0]
        assert first.startswith("<!-- style:") and first.endswith("-->"), first
    elif name.endswith(".tex"):
        first = path.read_text(encoding="utf-8").split("\n")[0]
        assert first.startswith("% style:"), first
    else:
        first = path.read_text(encoding="utf-8").split("\n")[0]
        assert first.startswith("<!-- style:") and first.endswith("-->"), first
    assert DOCS[name].style and len(first) > 20
    assert not re.search(r"\$|\\\(|\\\[", first), f"the style line must hold no math delimiter: {first}"


@pytest.mark.parametrize("name", NAMES)
def test_every_claim_is_on_its_line_numbered_left_to_right(name):
    doc = DOCS[name]
    seen = set()
    for c in doc.claims:
        assert (c.where, c.n) not in seen, f"{name}: two claims at {c.where} n={c.n}"
        seen.add((c.where, c.n))
        line = line_at(name, c.where)
        assert squash(c.text) in squash(line), f"{name}:{c.where}: {c.text!r} is not on {line!r}"
        assert c.verdict in ("ok", "factor", "wrong", "unchecked"), c
        if c.verdict == "unchecked":
            assert c.why and c.truth is None, c
        else:
            assert c.truth is not None and c.written is not None, c
        if c.verdict in ("factor", "wrong"):
            assert c.kind in truth.MISTAKES and c.mistake, c
            assert c.verdict != "wrong" or c.explain, c
        else:
            assert c.kind is None, c
        assert (c.verdict == "factor") == (c.factor is not None), c
        assert (c.cell is not None) == name.endswith(".ipynb"), c
    by_line = Counter(c.where for c in doc.claims)
    for where, count in by_line.items():
        here = sorted((c for c in doc.claims if c.where == where), key=lambda c: c.n)
        assert [c.n for c in here] == list(range(count)), (name, where)
        line, at = squash(line_at(name, where)), 0
        for c in here:      # the n-th claim's text comes after the (n-1)-th's, left to right
            found = line.find(squash(c.text), at)
            assert found >= 0, f"{name}:{where}: claim n={c.n} ({c.text!r}) is not right of claim n={c.n - 1}"
            at = found + 1
    assert not set(doc.defs) & set(by_line), f"{name}: a line is both a claim line and a definition line"


@pytest.mark.parametrize("name", NAMES)
def test_every_equation_line_is_a_claim_or_a_definition(name):
    doc = DOCS[name]
    listed = {c.where for c in doc.claims} | set(doc.defs)
    missing = sorted(equation_lines(name) - listed, key=str)
    assert not missing, f"{name}: equations on {missing} are neither claims nor definitions"
    stale = sorted(set(doc.defs) - equation_lines(name), key=str)
    assert not stale, f"{name}: definition lines {stale} hold no equation"


# --- the verdicts, by sympy ---------------------------------------------------------------------------------

def _values(doc, name):
    """For each model of the document, the model and its random points."""
    out = {}
    for key, build in doc.models.items():
        M = build()
        out[key] = (M, [M.point(f"{name}/{key}/{p}") for p in range(POINTS)])
    return out


def _side(f, M, pts):
    """(shape, entries over all points) of a side; shape None when the formula cannot be formed (sizes)."""
    shape, vals = None, []
    for pt in pts:
        try:
            expr = f(M.at(pt))
        except sp.ShapeError:
            return None, None
        shape, v = numbers(expr, pt)
        vals.extend(v)
    return shape, vals


def _close(a, b):
    return all(math.isclose(x, y, rel_tol=1e-8, abs_tol=1e-10) for x, y in zip(a, b))


@pytest.mark.parametrize("name", NAMES)
def test_the_verdicts_hold(name):
    doc = DOCS[name]
    values = _values(doc, name)
    first = next(iter(doc.models))
    for c in doc.claims:
        if c.verdict == "unchecked":
            continue
        M, pts = values[c.model or first]
        tshape, t = _side(c.truth, M, pts)
        wshape, w = _side(c.written, M, pts)
        where = f"{name}:{c.where} n={c.n} ({c.text})"
        assert tshape is not None, f"{where}: the true side cannot be formed"
        assert max(abs(v) for v in t) > 1e-6, f"{where}: the true value is 0 at every point: the test could not fail"
        same_shape = wshape == tshape
        if c.verdict == "ok":
            assert same_shape and _close(w, t), f"{where}: written {w} ≠ true {t}"
        elif c.verdict == "factor":
            f = float(sp.sympify(c.factor, locals={"m": M.m, "n": M.m, "N": M.m}))
            assert same_shape and _close(w, [f * v for v in t]), f"{where}: written {w} ≠ {c.factor} × true {t}"
            assert not _close(w, t)
        else:
            if not same_shape:
                continue
            assert not _close(w, t), f"{where}: recorded wrong but equals the true value"
            k = sum(a * b for a, b in zip(w, t)) / sum(b * b for b in t)
            zero = all(abs(v) < 1e-12 for v in w)     # a written 0 is wrong, not a factor-0 slip
            assert zero or not _close(w, [k * v for v in t]), f"{where}: recorded wrong but is {k:.6g} × the true value"


@pytest.mark.parametrize("build, target, wrt, seed", [
    (lambda: truth.models.course_net(m=3, nx=2, nh=4, hidden="tanh", out="sigmoid"), "J", ("W1",), "cross-check"),
    (lambda: truth.models.rows_net(N=3, D=2, H=2, C=2, hidden="relu", out="softmax", reg="half"), "L", ("W1",), "cross-check"),
    (lambda: truth.models.nielsen_net(sizes=(2, 4, 3)), "C", ("w2", "b3"), "cross-check"),
    (lambda: truth.models.deep_course_net(m=1, sizes=(2, 4, 5, 1), hidden="relu"), "J", ("W2", "b1"), "c"),   # a point where some ReLUs are on
], ids=["course-tanh", "cs231n-softmax", "nielsen", "deep-relu"])
def test_the_models_derivatives_are_sympys_derivative_of_the_whole_loss(build, target, wrt, seed):
    """The truth's derivatives (the chain rule over the definitions, each local derivative by sympy) equal
    sympy's derivative of the loss written out in the leaves alone."""
    M = build()
    pt = M.point(seed)
    whole = M.expanded(target)[0, 0]
    for name in wrt:
        mine = M.at(pt).d(target, name)
        mine = list(mine) if isinstance(mine, sp.MatrixBase) else [mine]
        sym = M.symbols(name)
        exact = [float(sp.diff(whole, v).xreplace(pt)) for v in sym]
        assert _close([float(v) for v in mine], exact), (name, mine, exact)
        assert max(abs(v) for v in exact) > 1e-6


# --- the corpus as a whole ----------------------------------------------------------------------------------

def all_claims():
    return [(name, c) for name in NAMES for c in DOCS[name].claims]


def test_the_corpus_size_formats_and_mistake_mix():
    claims = all_claims()
    assert len(NAMES) >= 24
    assert sum(n.endswith(".ipynb") for n in NAMES) >= 3 and sum(n.endswith(".tex") for n in NAMES) >= 3
    kinds = Counter(c.kind for _, c in claims if c.kind)
    assert set(kinds) == set(truth.MISTAKES), set(truth.MISTAKES) - set(kinds)
    assert min(kinds.values()) >= 2, kinds
    checked = [c for _, c in claims if c.verdict != "unchecked"]
    bad = [c for c in checked if c.verdict in ("factor", "wrong")]
    assert 0.12 <= len(bad) / len(checked) <= 0.3, (len(bad), len(checked))
    clean = [n for n in NAMES if not any(c.kind for c in DOCS[n].claims)]
    assert 2 <= len(clean) <= len(NAMES) // 3, clean
    assert all(0 < len(DOCS[n].claims) for n in NAMES)


# Issue 18 §1-§2, item by item: a pattern that shows the item in a file's text, and the files that use it.
COVERAGE = {
    # functions of arguments, bare names, log/ln/exp/max, \operatorname, \mathrm
    "J(w,b)": (r"J\(w,\s*b\)", ["ml_spec_linreg_lab.md", "dl_course_logreg_single.md"]),
    "L(y, y-hat)": (r"L\(y, ŷ\)|L\}\(\\hat\{y\}, y\)", ["logreg_blog_unicode.md", "backprop_lecture.tex"]),
    "h_theta(x^(i))": (r"h_\\theta\(x\^\{\(i\)\}\)", ["ng_linreg_univariate.md", "ng_multivariate_vectorised.md"]),
    "f_{w,b}(x)": (r"f_\{(w|\\mathbf\{w\}),b\}\(", ["ml_spec_linreg_lab.md", "ml_spec_logistic_lab.md"]),
    "g(z)": (r"\bg\(z\)", ["ml_spec_logistic_lab.md"]),
    "g^{[1]}(z) as a function": (r"g\^\{\[(1|l)\]\}\((Z|z)\^", ["course_shallow_tanh.md", "two_hidden_relu_course.md"]),
    "bare sigmoid()": (r"(?<!\\)\bsigmoid\(", ["from_scratch_mlp_readme.md", "logreg_vectorised.ipynb"]),
    "bare tanh": (r"(?<![\\\w])tanh['²(]", ["logreg_blog_unicode.md"]),
    "bare log": (r"(?<![\\\w])log[ (]", ["logreg_blog_unicode.md"]),
    "bare exp": (r"(?<![\\\w])exp\(", ["from_scratch_mlp_readme.md"]),
    "bare ReLU": (r"(?<![\\{\w])ReLU\(", ["from_scratch_mlp_readme.md"]),
    "bare softmax": (r"(?<![\\{\w])softmax\(", ["softmax_ce_blog.md"]),
    "\\log": (r"\\log\b", ["course_shallow_tanh.md", "softmax_ce_blog.md"]),
    "\\ln": (r"\\ln\b", ["bce_vs_mse_blog.md", "nielsen_student_mistakes.md", "activations_cheatsheet.md"]),
    "\\exp": (r"\\exp\b", ["softmax_ce_blog.md"]),
    "\\max(0, z)": (r"\\max\(0,", ["activations_cheatsheet.md", "cs231n_twolayer_softmax.md"]),
    "\\operatorname": (r"\\operatorname\{", ["activations_cheatsheet.md", "numpy_mlp_rows.md", "regression_net_gather.tex"]),
    "\\mathrm": (r"\\mathrm\{", ["activations_cheatsheet.md", "softmax_regression.ipynb", "mse_three_factors.md"]),
    # primes and derivative notations
    "\\sigma'(z)": (r"\\sigma'\(z", ["nielsen_student_mistakes.md", "backprop_lecture.tex", "nielsen_bp_equations.md"]),
    "g'(z)": (r"\bg'\(", ["backprop_lecture.tex", "course_deep_relu.ipynb", "ml_spec_logistic_lab.md"]),
    "g^{[1]'}(z)": (r"g\^\{\[(1|2|l)\]'\}", ["course_shallow_tanh.md", "two_hidden_relu_course.md"]),
    "\\text{ReLU}'(z)": (r"\\text\{ReLU\}'\(z\)", ["course_deep_relu.ipynb"]),
    "\\tanh'(u)": (r"\\tanh'\(u\)", ["regression_net_gather.tex"]),
    "\\dot\\sigma": (r"\\dot\\sigma", ["activations_cheatsheet.md"]),
    "\\nabla_{b} L": (r"\\nabla_\{b", ["nielsen_student_mistakes.md", "backprop_lecture.tex"]),
    "\\nabla_a C": (r"\\nabla_a C", ["nielsen_bp_equations.md"]),
    "\\partial_w L": (r"\\partial_\{?(\\mathbf\{w\}|b)", ["dl_book_notation.md", "nielsen_student_mistakes.md"]),
    "\\frac{dL}{dw}": (r"\\frac\{d(l|\\mathcal\{L\})\}\{d(w|z|a)\}", ["dl_book_notation.md", "dl_course_logreg_single.md"]),
    "\\frac{d}{dz}\\sigma(z)": (r"\\frac\{d\}\{dz\}\s*(\\sigma|sigmoid)\(z\)", ["activations_cheatsheet.md", "from_scratch_mlp_readme.md"]),
    "course dW, dZ, db, dA": (r"\bd(W|Z|b|A)\^\{\[", ["course_shallow_tanh.md", "course_deep_relu.ipynb"]),
    "course da, dz, dw_1": (r"\$d(a|z|w_1) =", ["dl_course_logreg_single.md"]),
    # indices and sums
    "x^{(i)}": (r"x\^\{\(i\)\}", ["ng_linreg_univariate.md", "ml_spec_linreg_lab.md", "course_shallow_tanh.md"]),
    "a^{[2](i)}": (r"a\^\{\[\d\] ?\(i\)\}", ["course_shallow_tanh.md", "two_hidden_relu_course.md"]),
    "^{[l]}": (r"\^\{\[l\]\}", ["course_deep_relu.ipynb", "two_hidden_relu_course.md"]),
    "^{(l)}": (r"\^\{\(l\)\}", ["nielsen_student_mistakes.md"]),
    "^l, ^L, ^{L-1}": (r"a\^\{L-1\}_k", ["nielsen_bp_equations.md"]),
    "w^l_{jk}, a^L_j": (r"w\^l_\{jk\}.*|a\^L_j", ["nielsen_bp_equations.md"]),
    "z_{2}^{(i)}": (r"z_\{2\}\^\{\(i\)\}", ["course_shallow_tanh.md"]),
    "\\sum_i": (r"\\sum_i\b", ["cs231n_twolayer_softmax.md", "course_shallow_tanh.md"]),
    "\\sum_{i=1}^{m}": (r"\\sum_\{i=1\}\^\{?m", ["ng_linreg_univariate.md", "dl_course_logreg_single.md"]),
    "\\sum\\limits_{i=0}^{m-1}": (r"\\sum\\limits_\{i = 0\}\^\{m-1\}", ["ml_spec_linreg_lab.md", "ml_spec_logistic_lab.md"]),
    "\\sum_j": (r"\\sum_j\b", ["nielsen_bp_equations.md", "nielsen_student_mistakes.md"]),
    "\\sum_k over classes": (r"\\sum_k\b|\\sum_\{k=1\}\^\{C\}", ["softmax_ce_blog.md", "softmax_regression.ipynb"]),
    # layout without math
    "\\tag": (r"\\tag\{", ["course_shallow_tanh.md", "nielsen_bp_equations.md", "ml_spec_linreg_lab.md"]),
    "\\label": (r"\\label\{", ["poly_regression.tex", "backprop_lecture.tex"]),
    "\\color{red}": (r"\\color\{red\}", ["softmax_ce_blog.md"]),
    "\\large": (r"\\large\b", ["course_shallow_tanh.md", "softmax_ce_blog.md"]),
    "\\displaystyle": (r"\\displaystyle", ["sloppy_student_notes.md"]),
    "\\limits": (r"\\limits", ["course_shallow_tanh.md", "ml_spec_linreg_lab.md"]),
    "\\left. \\right|": (r"\\left\.\s*\\frac.*\\right\|", ["ng_linreg_univariate.md", "computation_graph_cs231n.md"]),
    "\\bigl": (r"\\bigl", ["sloppy_student_notes.md", "backprop_lecture.tex"]),
    "spacing \\, \\; \\! ~ \\quad \\qquad": (r"\\!.*~|\\;", ["sloppy_student_notes.md"]),
    "\\mbox": (r"\\mbox\{", ["sloppy_student_notes.md"]),
    "\\text{if } conditions": (r"\\text\{if \}", ["course_deep_relu.ipynb", "activations_cheatsheet.md"]),
    "\\newline": (r"\\newline", ["ml_spec_linreg_lab.md", "sloppy_student_notes.md"]),
    "\\lbrace": (r"\\lbrace", ["ml_spec_linreg_lab.md"]),
    "\\mathbf": (r"\\mathbf\{", ["ml_spec_logistic_lab.md", "matrix_calculus_bold.md"]),
    "\\boldsymbol": (r"\\boldsymbol\{", ["numpy_mlp_rows.md", "matrix_calculus_bold.md"]),
    "\\vec": (r"\\vec\{", ["ng_multivariate_vectorised.md"]),
    "\\mathcal": (r"\\mathcal\{", ["course_shallow_tanh.md", "bce_vs_mse_blog.md"]),
    "\\bm": (r"\\bm\{", ["backprop_lecture.tex", "bce_vs_mse_blog.md"]),
    "Unicode σ ŷ ∂ · − ²": (r"σ.*ŷ|∂.*·|−.*²", ["logreg_blog_unicode.md"]),
    # several equations in one display, chains, definitions
    "separated by ,": (r"\$\$[^$]*=[^$]*,\s*\\q?quad[^$]*=", ["cs231n_twolayer_softmax.md", "mse_three_factors.md"]),
    "separated by \\quad": (r"=[^$]*\\q?quad[^$]*=", ["mse_three_factors.md", "logreg_vectorised.ipynb"]),
    "separated by ;": (r"\\;;\\;", ["sloppy_student_notes.md"]),
    "separated by \\\\": (r"\\\\\s*$", ["softmax_ce_blog.md", "regression_net_gather.tex"]),
    "& alignment": (r"&=", ["ml_spec_linreg_lab.md", "poly_regression.tex", "backprop_lecture.tex"]),
    "\\text{and}": (r"\\text\{and\}", ["sloppy_student_notes.md"]),
    "chain whose first link defines": (r"= \\tanh\(z\) = |\$a = \\sigma\(z\) = ", ["activations_cheatsheet.md"]),
    ":=": (r":=", ["nielsen_student_mistakes.md", "dl_book_notation.md"]),
    "\\coloneqq": (r"\\coloneqq", ["backprop_lecture.tex"]),
    "\\equiv": (r"\\equiv", ["nielsen_bp_equations.md"]),
    "\\triangleq": (r"\\triangleq", ["backprop_lecture.tex"]),
    "\\overset{\\text{def}}{=}": (r"\\overset\{\\text\{def\}\}\{=\}", ["dl_book_notation.md"]),
    # where math sits
    "$...$": (r"(?<!\$)\$[^$]+\$(?!\$)", ["logreg_blog_unicode.md"]),
    "$$...$$": (r"\$\$", ["course_shallow_tanh.md"]),
    "\\(...\\)": (r"\\\(.*\\\)", ["html_comment_and_fence.md"]),
    "\\[...\\]": (r"\\\[.*\\\]", ["html_comment_and_fence.md", "regression_net_gather.tex"]),
    "equation": (r"\\begin\{equation\*?\}", ["poly_regression.tex", "backprop_lecture.tex"]),
    "align": (r"\\begin\{align\*?\}", ["poly_regression.tex", "ml_spec_logistic_lab.md"]),
    "aligned": (r"\\begin\{aligned\}", ["softmax_ce_blog.md"]),
    "gather": (r"\\begin\{gather\*?\}", ["regression_net_gather.tex"]),
    "cases": (r"\\begin\{cases\}", ["course_deep_relu.ipynb", "activations_cheatsheet.md"]),
    "Markdown table with $$ in cells": (r"^\|.*\$\$.*\|", ["from_scratch_mlp_readme.md"]),
    "lists": (r"^\s*([-*]|\d\.) .*\$", ["update_rules_cheatsheet.md", "from_scratch_mlp_readme.md", "nielsen_student_mistakes.md"]),
    "HTML comment with math": (r"<!--[^>]*\$\$", ["html_comment_and_fence.md"]),
    "fenced code": (r"^```", ["html_comment_and_fence.md", "ml_spec_linreg_lab.md", "dl_course_logreg_single.md"]),
    "elided terms": (r"\\cdots|\\dots|\.\.\.", ["ng_multivariate_vectorised.md", "logreg_vectorised.ipynb"]),
}

# The models issue 18 §1 lists, by words of each document's model description in truth.py.
MODEL_COVERAGE = {
    "linear regression": (r"w x \+ b|θ0 \+ θ1 x|θᵀx|wᵀx_i \+ b|wᵀx \+ b, l", ["ng_linreg_univariate.md", "html_comment_and_fence.md"]),
    "polynomial regression": (r"x²", ["poly_regression.tex"]),
    "logistic regression with log loss": (r"log loss", ["ml_spec_logistic_lab.md", "logreg_blog_unicode.md"]),
    "softmax + cross-entropy, one-hot": (r"one-hot", ["softmax_regression.ipynb", "softmax_ce_blog.md", "cs231n_twolayer_softmax.md"]),
    "binary cross-entropy": (r"ln a|log loss", ["bce_vs_mse_blog.md", "course_shallow_tanh.md"]),
    "MSE with 1/n": (r"1/[nN] Σ", ["mse_three_factors.md", "numpy_mlp_rows.md", "regression_net_gather.tex"]),
    "MSE with 1/(2m)": (r"1/\(2m\)", ["ng_linreg_univariate.md", "tanh_regression.ipynb"]),
    "MSE with no factor": (r"SSE = Σ|½ Σ|½‖", ["mse_three_factors.md", "from_scratch_mlp_readme.md", "matrix_calculus_bold.md"]),
    "one hidden layer, sigmoid": (r"sigmoid hidden|sigmoid network", ["from_scratch_mlp_readme.md", "nielsen_bp_equations.md"]),
    "one hidden layer, tanh": (r"tanh", ["course_shallow_tanh.md", "tanh_regression.ipynb", "sloppy_student_notes.md"]),
    "one hidden layer, ReLU": (r"ReLU hidden|ReLU units", ["cs231n_twolayer_softmax.md", "numpy_mlp_rows.md"]),
    "one hidden layer, leaky ReLU": (r"leaky", ["activations_cheatsheet.md"]),
    "two hidden layers": (r"2-4-5-1|widths 4 and 5|x 2", ["course_deep_relu.ipynb", "two_hidden_relu_course.md", "backprop_lecture.tex"]),
    "Nielsen BP1-BP4": (r"layers 1, 2, 3", ["nielsen_bp_equations.md", "nielsen_student_mistakes.md"]),
    "samples as columns": (r"n_x × m|n0 × m|2 × 3|2 × 4|columns", ["course_shallow_tanh.md", "logreg_vectorised.ipynb", "softmax_regression.ipynb"]),
    "samples as rows": (r"rows", ["cs231n_twolayer_softmax.md", "numpy_mlp_rows.md", "from_scratch_mlp_readme.md"]),
}


def _text(name):
    return "\n".join("\n".join(lines) for _, kind, lines in cells(name) if kind == "markdown")


@pytest.mark.parametrize("item", sorted(COVERAGE))
def test_the_notation_of_issue_18_is_in_the_corpus(item):
    pattern, files = COVERAGE[item]
    assert files, item
    for name in files:
        assert name in DOCS, name
        assert re.search(pattern, _text(name), re.M), f"{item}: {pattern!r} is not in {name}"


@pytest.mark.parametrize("item", sorted(MODEL_COVERAGE))
def test_the_models_of_issue_18_are_in_the_corpus(item):
    pattern, files = MODEL_COVERAGE[item]
    for name in files:
        assert re.search(pattern, DOCS[name].model), f"{item}: {pattern!r} is not in {name}'s model ({DOCS[name].model})"


def test_the_readme_lists_every_document():
    text = (DIR / "README.md").read_text(encoding="utf-8")
    for name in NAMES:
        assert f"`{name}`" in text, name
    listed = set(re.findall(r"`([\w.-]+\.(?:md|ipynb|tex))`", text)) - {"README.md"}
    assert listed <= set(NAMES), listed - set(NAMES)
    on_disk = {p.name for p in DIR.iterdir() if p.suffix in (".md", ".ipynb", ".tex") and p.name != "README.md"}
    assert on_disk == set(NAMES), on_disk ^ set(NAMES)
