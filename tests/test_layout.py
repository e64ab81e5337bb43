"""The layout stage of the reader: each rule on its own (what it removes, what it keeps), rows and equations
split as a teacher reads them, and every character still pointing at its column in the original."""

import pytest

from microreg import layout
from microreg.layout import Text, clean, split_equations, split_rows


def squash(s):
    """Spacing as one blank (a \\quad is the marker \\x10 that split_equations reads)."""
    return " ".join(s.replace("\x10", " ").split())


@pytest.mark.parametrize("rule,text,expected", [
    (layout.tags_and_labels, r"a = b \tag{3}\label{eq:grad}", "a = b"),
    (layout.tags_and_labels, r"a = b \tag*{(A)} \eqref{x}", "a = b"),
    (layout.colours, r"\color{red}{\frac{1}{m}} x", r"\frac{1}{m} x"),
    (layout.colours, r"\color{blue} a = b", "a = b"),
    (layout.colours, r"\textcolor{red}{w} + \boxed{b}", "w + b"),
    (layout.sizes_and_styles, r"\displaystyle \large \sum\limits_{i} x \small", r"\sum _{i} x"),
    (layout.spacing, r"a\,b\;c\!d\quad e\qquad f~g\hspace{1em}h", "a b c d e f g h"),
    (layout.delimiters, r"\left( a \right) + \bigl[ b \bigr] + \Biggl\{ c \Biggr\}", r"( a ) + [ b ] + \{ c \}"),
    (layout.delimiters, r"\left. \frac{d\sigma}{dz} \right|_{z=0}", r"\frac{d\sigma}{dz}"),
    (layout.delimiters, r"\lvert x \rvert + \lVert w \rVert + \lbrace a \rbrace", r"| x | + ‖ w ‖ + \{ a \}"),
    (layout.fonts, r"\mathbf{W}\boldsymbol{\delta} + \bm{x} + \vec{w} + \mathrm{d}L", r"W\delta + x + w + dL"),
    (layout.fonts, r"x^\top + W^{\mathsf{T}} + a^{\intercal}", "x^T + W^{T} + a^{T}"),
    (layout.definitions, r"J \overset{\text{def}}{=} \frac{1}{2}", r"J := \frac{1}{2}"),
    (layout.definitions, r"J \stackrel{\triangle}{=} x", "J := x"),
    (layout.braces_notes, r"\underbrace{\frac{\partial L}{\partial a}}_{=\delta} x", r"(\frac{\partial L}{\partial a}) x"),
    (layout.short_fractions, r"\frac12 + \frac1m + \frac1{2m}", r"\frac{1}{2} + \frac{1}{m} + \frac{1}{2m}"),
    (layout.unicode_scripts, "x² + Wᵀ + a₁ + a⁽ˡ⁾", "x^{2} + W^{T} + a_{1} + a^{(l)}"),
    (layout.markdown_escapes, r"a\_1 = \\frac{1}{2}", r"a_1 = \frac{1}{2}"),
    (layout.control_characters, "a\x1b[2J = b", "a [2J = b"),
])
def test_each_rule_alone(rule, text, expected):
    assert squash(rule(Text(text)).s) == squash(expected)


def test_remarks_go_and_names_stay():
    # a remark after the formula, in brackets or plain, goes; a word that names a quantity stays
    assert squash(clean(r"a_1 = \sigma(z_1) \quad [\text{Sigmoid function}]").s) == r"a_1 = \sigma(z_1)"
    assert squash(clean(r"L = (y - \hat y)^2 \; (\text{squared error})").s) == r"L = (y - \hat y)^2"
    assert r"\text{MSE}" in clean(r"L = \text{MSE} = \frac{1}{n}").s
    assert r"\text{ReLU}" in clean(r"a = \text{ReLU}(z)").s
    # words between two equations separate them
    assert split_equations(clean(r"\hat{y} = \sigma(z) \text{ where } z = w^T x + b"))[1].s.strip() == "z = w^T x + b"


def test_every_character_keeps_its_original_column():
    text = r"\color{red}{w} \cdot \mathbf{x} + \frac12"
    t = clean(text)
    for i, ch in enumerate(t.s):
        if ch.strip() and ch not in "{}":
            assert text[t.origin(i)] == ch, (i, ch)
    # the w is where it was in the original (column 13), after the colour went
    assert t.origin(t.s.index("w")) == text.index("w")


@pytest.mark.parametrize("text,rows", [
    (r"\begin{aligned} A &= B \\ &= C \end{aligned}", ["A = B", "= C"]),
    (r"a = b \newline c = d", ["a = b", "c = d"]),
    (r"\begin{align} x &= 1 \\[2pt] y &= 2 \end{align}", ["x = 1", "y = 2"]),
])
def test_rows(text, rows):
    assert [squash(r.s) for r in split_rows(clean(text))] == rows


def test_cases_and_matrices_stay_one_row():
    t = clean(r"f'(z) = \begin{cases} 1, & z > 0 \\ 0, & \text{otherwise} \end{cases}")
    (row,) = split_rows(t)
    assert "\x05" in row.s and "\x07" in row.s and "\x06" in row.s
    m = clean(r"\nabla U = \begin{bmatrix} a \\ b \end{bmatrix}")
    assert len(split_rows(m)) == 1 and "\x0e" in m.s


@pytest.mark.parametrize("text,equations", [
    (r"z = w x + b, \quad a = \sigma(z)", ["z = w x + b", "a = \\sigma(z)"]),
    (r"z = w x + b; a = \sigma(z)", ["z = w x + b", "a = \\sigma(z)"]),
    (r"J(w,b) = \max(0, z)", ["J(w,b) = \\max(0, z)"]),
    # a condition after a comma qualifies the equation: dropped
    (r"\mathrm{ReLU}'(z) = 1, z > 0", ["\\mathrm{ReLU}'(z) = 1"]),
    (r"\frac{\partial L}{\partial w} = x \quad \text{for } i = 1, \dots, m", ["\\frac{\\partial L}{\\partial w} = x"]),
    (r"a = b, \text{and } c = d", ["a = b", "c = d"]),
])
def test_several_equations_in_one_row(text, equations):
    assert [squash(e.s) for e in split_equations(clean(text))] == equations
