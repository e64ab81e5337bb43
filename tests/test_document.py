"""microreg check FILE: finding equations, reading them, and checking every claim of a document.

Expected verdicts come from derivatives worked out by hand (in the comments), never from the code
under test; the test documents in tests/documents/ carry planted mistakes listed in PLANTED below.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microreg.document import (check_document, check_file, check_report, find_math, format_results, parse_row,
                               pretty, split_rows, to_json)

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / ".." / "shared" / "seeds"
DOCS = Path(__file__).resolve().parent / "documents"


def seed(name):
    path = SEEDS / name
    if not path.exists():
        pytest.skip(f"the source documents are not here ({SEEDS} is absent)")
    return check_file(path)


def rows_at(results, line):
    return [r for r in results if r.line == line]


# --- finding the math ---------------------------------------------------------------------------

def test_find_math_every_delimiter_with_exact_offsets():
    text = ("Inline $a = b$ and $$c = d$$ in a sentence,\n"
            "then \\[e = f\\] and a bare \\begin{align} g &= h \\\\ k &= l \\end{align} here.\n"
            "A price of 5\\$ is not math. `$x$` is code.\n"
            "```\n$$not = math$$\n```\n")
    spans = [text[a:b] for a, b in find_math(text)]
    assert spans == ["a = b", "c = d", "e = f", " g &= h \\\\ k &= l "], spans


def test_rows_split_at_double_backslash_with_document_offsets():
    text = "x\n$$\\begin{aligned} A &= B \\\\ &= C \\end{aligned}$$"
    (a, b), = find_math(text)
    rows = split_rows(text, a, b)
    assert [r.text.strip() for r in rows] == ["A  = B", "= C"]
    # each row's offset points at its text in the document
    assert text[rows[1].start:].lstrip().startswith("&= C")


def test_a_column_vector_is_one_row_with_two_entries():
    text = r"$$\nabla U = \biggl[ \begin{array}{c} 1 \\ 2 \end{array} \biggr]$$"
    (a, b), = find_math(text)
    rows = split_rows(text, a, b)
    assert len(rows) == 1
    members, rels, _ = parse_row(rows[0].text.replace("\\biggl", "      ").replace("\\biggr", "      "))
    assert members[1][0][0] in ("vec",) or members[1][0][1][0] == "vec"


def test_pretty_reads_like_the_documents():
    assert pretty(r"\frac{\partial L}{\partial w_2}") == "∂L/∂w₂"
    assert pretty(r"\delta^{(L-1)}") == "δ⁽ᴸ⁻¹⁾"
    assert pretty(r"(\hat{y} - y) \cdot a_1") == "(ŷ − y)·a₁"
    assert pretty(r"\frac{1}{2m} \sum_{i=1}^m (\hat{y}_i - y_i)^2") == "1/(2m) Σ (ŷ − y)²"


# --- small documents whose derivatives are worked out by hand ------------------------------------

SQUARE = r"""
Model: $$z = w x + b$$ and loss $$L = (z - y)^2$$.

$$\frac{\partial L}{\partial w} = 2(z - y) x$$
$$\frac{\partial L}{\partial b} = (z - y)$$
$$\frac{\partial L}{\partial w} = 2(z - y) b$$
$$\frac{\partial L}{\partial b} = -2(z - y)$$
"""


def test_a_one_sample_square_loss():
    # L = (z − y)², ∂L/∂w = 2(z − y)x, ∂L/∂b = 2(z − y)
    results = check_document(SQUARE)
    got = [(r.line, r.verdict) for r in results]
    assert got == [(4, "ok"), (5, "factor"), (6, "wrong"), (7, "factor")], got
    assert results[1].factor == pytest.approx(0.5), results[1]          # the 2 of the square left out
    assert "2 of a square" in results[1].explanation
    assert "b where x belongs" in results[2].explanation, results[2].explanation
    assert results[3].factor == pytest.approx(-1.0) and "sign" in results[3].explanation


def test_a_mean_over_samples_makes_a_per_sample_formula_m_times_too_large():
    text = r"""
$$\hat{y} = w x$$
$$L = \frac{1}{m}\sum_{i=1}^m (\hat{y}_i - y_i)^2$$
$$\frac{\partial L}{\partial w} = 2(\hat{y} - y) x$$
$$\frac{\partial L}{\partial w} = \frac{2}{m}\sum_{i=1}^m (\hat{y}_i - y_i) x_i$$
"""
    for samples in (3, 5):
        results = check_document(text, samples=samples)
        per_sample, mean = results
        assert per_sample.verdict == "factor" and per_sample.factor == pytest.approx(samples), per_sample
        assert "right for one sample" in per_sample.explanation and "1/m" in per_sample.explanation
        assert mean.verdict == "ok", mean


def test_every_step_of_a_chain_is_checked_on_its_own_line():
    text = r"""$$z = w x$$
$$a = \sigma(z)$$
$$L = (a - y)^2$$
\begin{align}
\frac{\partial L}{\partial w} &= \frac{\partial L}{\partial a} \frac{\partial a}{\partial w} \\
&= 2(a - y) \sigma'(w) x \\
&= 2(a - y) \sigma'(z) x
\end{align}
"""
    # ∂L/∂w = 2(a − y)σ'(z)x: the middle step takes σ' at w (wrong), the last is right again
    results = check_document(text)
    assert [(r.line, r.verdict) for r in results] == [(5, "ok"), (6, "wrong"), (7, "ok")], results
    assert "w where z belongs" in results[1].explanation


def test_unreadable_and_undefined_are_unchecked_with_line_and_column():
    text = "$$z = w x$$\n$$L = z^2$$\nSo $\\frac{\\partial L}{\\partial w} = 2 z q$ and $$\\frac{\\partial L}{\\partial w} = 2 z (x$$\n"
    results = check_document(text)
    assert [(r.line, r.verdict) for r in results] == [(3, "unchecked"), (3, "unchecked")], results
    undefined, unparsed = sorted(results, key=lambda r: r.column)
    assert "q is never defined" in undefined.explanation
    assert "cannot read" in unparsed.explanation or "ends too early" in unparsed.explanation
    assert unparsed.column > undefined.column


def test_a_claim_about_an_undefined_loss_says_so():
    result, = check_document("$$\\frac{\\partial L}{\\partial w} = 2 w$$")
    assert result.verdict == "unchecked" and "L is never defined" in result.explanation, result


def test_a_document_without_claims_says_so():
    report = check_report("Just words, and $x$ once.\n")
    assert report.results == []
    assert "no claims to check" in format_results(report)


def test_update_rules_are_checked_as_the_gradient_they_contain():
    text = r"""$$L = (w x - y)^2$$
$$w = w - \alpha \frac{\partial L}{\partial w}$$
$$w = w + \alpha \frac{\partial L}{\partial w}$$
$$w = w - \alpha \cdot 2 (w x - y) x$$
"""
    results = check_document(text)
    assert [r.verdict for r in results] == ["ok", "factor", "ok"], results
    assert "climbs" in results[1].explanation


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="$\\{}^_()=+-*/abxyzwLC12 \n&[];|'", max_size=60))
def test_never_crashes_on_any_text(text):
    for r in check_document(text):
        assert r.verdict in ("ok", "factor", "wrong", "unchecked")


# --- the three source documents ----------------------------------------------------------------

def test_000_per_sample_rules_are_right_and_m_times_too_large_for_its_mean():
    results = seed("000_5f857489b6c6c18e.txt").results
    claims = [r for r in results if r.verdict != "unchecked"]
    assert not [r for r in results if r.verdict == "wrong"], results
    # the chain-rule products of partials are right; every per-sample formula is m = 5 times autograd
    for line in (27, 29, 39, 41):
        first = rows_at(results, line)[0]
        assert first.verdict == "ok", first
    factors = [r for r in claims if r.verdict == "factor"]
    assert {r.line for r in factors} == {25, 27, 29, 31, 37, 39, 41, 45, 47, 49, 53}
    for r in factors:
        assert r.factor == pytest.approx(5.0), r
        assert "right for one sample" in r.explanation and "1/m" in r.explanation and "line 23" in r.explanation
    assert rows_at(results, 35)[0].verdict == "ok"      # σ'(z) = σ(z)(1 − σ(z))


def test_001_delta_before_the_output_has_sigma_prime_at_the_wrong_layer():
    results = seed("001_eeca50faed54cd79.txt").results
    wrong = [r for r in results if r.verdict == "wrong"]
    assert len(wrong) == 3 and {r.line for r in wrong} == {58}, wrong
    for r in wrong:
        assert "z⁽ᴸ⁾ where z⁽ᴸ⁻¹⁾ belongs: the wrong layer" in r.explanation, r.explanation
        assert r.claim.startswith("δ⁽ᴸ⁻¹⁾")
    multivariate = rows_at(results, 62)
    assert len(multivariate) == 4 and all(r.verdict == "ok" for r in multivariate), multivariate
    assert all(r.verdict == "ok" for r in rows_at(results, 40) if not r.claim.startswith("∇"))
    assert not [r for r in results if r.verdict == "factor"]


def test_002_its_gradient_misses_the_1_over_n_and_puts_beta1_where_x_belongs():
    results = seed("002_399cf672b943209f.txt").results
    beta0, beta1 = rows_at(results, 53)
    assert beta0.wrt == "β₀" and beta0.verdict == "factor" and beta0.factor == pytest.approx(5.0)
    assert "1/n" in beta0.explanation
    assert beta1.wrt == "β₁" and beta1.verdict == "wrong"
    assert "β₁ where x belongs" in beta1.explanation and "1/n" in beta1.explanation, beta1.explanation
    rmse = rows_at(results, 43)
    assert [r.verdict for r in rmse] == ["wrong", "wrong"], rmse
    picture, = rows_at(results, 61)
    assert picture.verdict == "unchecked" and "picture" in picture.explanation
    assert {r.verdict for r in rows_at(results, 57) + rows_at(results, 65)} == {"unchecked"}


# --- the command ----------------------------------------------------------------------------------

def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "microreg", "check", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=120)


def test_cli_json_is_one_object_per_claim(tmp_path):
    doc = tmp_path / "notes.md"
    doc.write_text(SQUARE, encoding="utf-8")
    out = run_cli(str(doc), "--json")
    assert out.returncode == 1, out.stderr            # some claims are wrong
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["line"] for r in rows] == [4, 5, 6, 7]
    assert set(rows[0]) >= {"line", "claim", "wrt", "verdict", "explanation"}
    assert rows[0]["wrt"] == "w" and rows[0]["verdict"] == "ok"


def test_cli_table_and_errors(tmp_path):
    doc = tmp_path / "notes.md"
    doc.write_text(SQUARE, encoding="utf-8")
    out = run_cli(str(doc))
    assert "4 claim(s) checked: 1 ok, 2 off by a factor, 1 wrong" in out.stdout, out.stdout
    missing = run_cli(str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and "nope.md: no such file" in missing.stderr
    binary = tmp_path / "b.md"
    binary.write_bytes(b"\xff\xfe\x00")
    bad = run_cli(str(binary))
    assert bad.returncode == 2 and "not UTF-8" in bad.stderr
    assert json.loads(to_json(check_report(SQUARE)).splitlines()[0])["line"] == 4


# --- the test documents: every planted mistake found on its line, nothing correct flagged ----------

# line → (verdict, words the explanation must contain); every other claim must be "ok".
# Each mistake's true derivative is worked out by hand beside it.
PLANTED = {
    "linear_inline.md": {
        # L = 1/n Σ (ŷ − y)², ∂L/∂b = 2/n Σ (ŷ − y): written with (y − ŷ), so −1 × the truth
        7: ("factor", "sign is flipped"),
        # ∂L/∂w = 2/n Σ (wx + b − y)x: the 2 of the square dropped, ½ × the truth
        8: ("factor", "2 of a square"),
        # b ← b + η ∂L/∂b steps up the gradient: the step it takes is −1 × ∂L/∂b
        10: ("factor", "climbs the gradient"),
    },
    "tanh_align.md": {
        # h = tanh(ux + c): ∂h/∂u = (1 − h²)x, so ∂L/∂u = (ŷ − y)v(1 − h²)x; written with u for x
        15: ("wrong", "u where x belongs"),
        # ∂L/∂c = (ŷ − y)v(1 − h²): the local derivative ∂h/∂c = tanh' = 1 − h² left out
        17: ("wrong", "∂h/∂c left out"),
    },
    "deep_layers.md": {
        # δ⁽ˡ⁾ = δ⁽ˡ⁺¹⁾ w⁽ˡ⁺¹⁾ σ'(z⁽ˡ⁾), since z⁽ˡ⁺¹⁾ = w⁽ˡ⁺¹⁾a⁽ˡ⁾ + b⁽ˡ⁺¹⁾: the weight of the wrong layer
        15: ("wrong", "w⁽ˡ⁾ where w⁽ˡ⁺¹⁾ belongs: the wrong layer"),
        # ∂z⁽ˡ⁾/∂b⁽ˡ⁾ = 1, so ∂C/∂b⁽ˡ⁾ = δ⁽ˡ⁾; the a⁽ˡ⁾ is extra
        19: ("wrong", "an extra factor a⁽ˡ⁾"),
    },
    "vector_net.md": {
        # h = σ(u): ∂L/∂b₁ = w₂(ŷ − y) ⊙ σ'(u); σ' taken at ŷ
        16: ("wrong", "ŷ where u belongs"),
        # L = ½(ŷ − y)², ∂L/∂b₂ = ŷ − y: twice the truth
        18: ("factor", "dropped ½"),
    },
    "logistic_brackets.md": {
        # J = −Σ(y ln p + (1 − y) ln(1 − p)) with p = σ(wx + b): ∂J/∂b = Σ(p − y); written −Σ(p − y)p
        11: ("wrong", "an extra factor p"),
        # J sums over the samples: ∂J/∂w = Σ(p − y)x, so a 1/m makes it 1/m × the truth
        13: ("factor", "spurious 1/m"),
    },
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_every_planted_mistake_is_found_on_its_line_and_nothing_correct_is_flagged(name):
    results = [r for r in check_file(DOCS / name).results if not r.claim.startswith("prose: ")]
    planted = PLANTED[name]
    assert {r.line for r in results if r.verdict != "ok"} == set(planted), format_results(check_file(DOCS / name))
    for r in results:
        if r.line in planted:
            verdict, words = planted[r.line]
            assert r.verdict == verdict and words in r.explanation, r
    assert len([r for r in results if r.verdict == "ok"]) >= 2, results


def test_the_unreadable_document_lists_each_problem_with_its_line():
    results = check_file(DOCS / "unreadable.md").results
    got = {r.line: (r.verdict, r.explanation) for r in results}
    assert got[7][0] == "unchecked" and "λ is never defined" in got[7][1]
    lam, = rows_at(results, 7)
    assert lam.column == 49, lam      # "$$" + "\\frac{\\partial L}{\\partial w}" + " = 2 (z - y) x + ": λ at column 49
    assert got[9][0] == "unchecked" and "cannot read" in got[9][1]
    assert got[11][0] == "unchecked" and "v is not a quantity of the model" in got[11][1]
    assert got[13][0] == "ok"          # ∂L/∂b = 2(z − y) for L = (z − y)²


def test_the_module_docstring_example_runs():
    import doctest

    import microreg.document
    assert doctest.testmod(microreg.document).failed == 0


def test_a_missing_path_is_named_by_the_verifier():
    # w reaches L through u = wx and v = w²: ∂L/∂w = 2/m Σ (u + v − y)(x + 2w); the formula keeps only x
    text = r"""$$u = w x$$
$$v = w^2$$
$$L = \frac{1}{m}\sum_{i=1}^m (u_i + v - y_i)^2$$
$$\frac{\partial L}{\partial w} = \frac{2}{m}\sum_{i=1}^m (u_i + v - y_i) x_i$$
$$\frac{\partial L}{\partial w} = \frac{2}{m}\sum_{i=1}^m (u_i + v - y_i) (x_i + 2 w)$$
"""
    missing, right = check_document(text)
    assert missing.verdict == "wrong" and "leaves out the path through v" in missing.explanation, missing
    assert right.verdict == "ok", right


def test_notation_the_documents_use_without_the_documents():
    # L = ½(z − y)², z = wx + b: ∂L/∂w = (z − y)x, ∂L/∂b = z − y
    text = r"""$$z = w x + b \quad [\text{a line}]$$
$$L = \text{loss} = \frac{1}{2}\left(z - y\right)^2$$
$$\therefore \frac{\partial L}{\partial w} = \underbrace{\frac{\partial L}{\partial z}}_{=z - y} \cdot x \quad [\text{chain rule}]$$
$$b = b - \alpha \frac{\partial L}{\partial b}$$
$$= b - \alpha (z - y)$$
and inline $\frac{\mathrm{d}L}{\mathrm{d}w} = (z - y) x$, bare \begin{align} \frac{\partial L}{\partial b} &= z - y &\text{... bias} \end{align} too.
"""
    results = check_document(text)
    assert [(r.line, r.verdict) for r in results] == [(3, "ok"), (4, "ok"), (5, "ok"), (6, "ok"), (6, "ok")], results


def test_a_redefinition_lasts_until_the_next_heading_of_its_level():
    # U = Σ e² first; under "### Other" U = Σ e⁴; back under "### Again" U is Σ e² again
    text = r"""$$e = w x - y$$
$$U = \sum_{i=1}^n e^2$$
### Other
$$U = \sum_{i=1}^n e^4$$
$$\frac{\partial U}{\partial w} = \sum_{i=1}^n 4 e^3 x$$
### Again
$$\frac{\partial U}{\partial w} = \sum_{i=1}^n 2 e x$$
"""
    quartic, square = check_document(text)
    assert quartic.verdict == "ok" and square.verdict == "ok", (quartic, square)


def test_prose_and_pictures_are_listed_as_unchecked():
    text = "A first paragraph\nthat goes on.\n\n$$z = w x$$\n\n![a figure](fig.png)\n\nA second one.\n"
    rows = [(r.line, r.verdict, r.claim) for r in check_document(text)]
    assert rows == [(1, "unchecked", "prose: A first paragraph"), (6, "unchecked", "a picture"),
                    (8, "unchecked", "prose: A second one.")], rows


# --- the vector reading: --dims f=2,h=3 ------------------------------------------------------------

# vector_dims.md: z₁ = W₁x + b₁, a₁ = σ(z₁), ŷ = w₂ᵀa₁ + b₂, L = ½(ŷ − y)², one sample, f = 2, h = 3.
# By hand: ∂L/∂w₂ = (ŷ − y)a₁ (a column of 3), ∂L/∂b₂ = ŷ − y, ∂L/∂a₁ = w₂(ŷ − y) (a column of 3),
# δ₁ = ∂L/∂z₁ = (ŷ − y)w₂ ⊙ σ'(z₁), ∂L/∂W₁ = δ₁xᵀ (3 × 2), ∂L/∂b₁ = δ₁.
DIMS_PLANTED = {
    24: ("wrong", "a transpose?"),                 # x δ₁ᵀ is 2 × 3: the transpose of ∂L/∂W₁
    25: ("wrong", "not a product: ⊙"),             # w₂ σ'(z₁), two columns side by side where ⊙ belongs
    26: ("wrong", "⊙ needs equal shapes: a matrix product?"),   # δ₁ ⊙ x (3 and 2) where δ₁xᵀ belongs
    27: ("wrong", "a row of 3) where ∂L/∂a₁"),     # w₂ᵀ(ŷ − y) is a row; ∂L/∂a₁ is a column
    33: ("wrong", "ŷ where z₁ belongs"),           # right shapes, σ' taken at ŷ instead of z₁
    34: ("factor", "a dropped ½"),                 # 2δ₁xᵀ: twice ∂L/∂W₁
}
SHAPE_ONLY = {24, 25, 26, 27}


def test_vector_mistakes_are_found_on_their_lines_and_correct_claims_are_ok():
    results = [r for r in check_file(DOCS / "vector_dims.md", dims={"f": 2, "h": 3}).results
               if not r.claim.startswith("prose: ")]
    got = {r.line: r for r in results}
    assert {r.line for r in results if r.verdict != "ok"} == set(DIMS_PLANTED), \
        format_results(check_file(DOCS / "vector_dims.md", dims="f=2,h=3"))
    for line, (verdict, words) in DIMS_PLANTED.items():
        assert got[line].verdict == verdict and words in got[line].explanation, got[line]
    assert sorted(r.line for r in results if r.verdict == "ok") == [13, 14, 18, 19, 20, 28, 29], results
    assert "shape (2, 3)" in got[24].explanation and "(3, 2)" in got[24].explanation, got[24]
    # read with scalars (one unit per layer) every shape mistake is invisible; the wrong numbers still show
    scalar = [r for r in check_file(DOCS / "vector_dims.md").results if not r.claim.startswith("prose: ")]
    assert {r.line for r in scalar if r.verdict != "ok"} == set(DIMS_PLANTED) - SHAPE_ONLY, scalar


LAYERED = r"""$$C = (a^{(L)} - y)^2$$
$$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$$
$$a^{(l)} = \sigma(z^{(l)})$$
$$\delta^{(l)} := \frac{\partial C}{\partial z^{(l)}}$$
$$\delta^{(l)} = \left((W^{(l+1)})^\top \delta^{(l+1)}\right) \odot \sigma'(z^{(l)})$$
$$\delta^{(l)} = \left(W^{(l+1)} \delta^{(l+1)}\right) \odot \sigma'(z^{(l)})$$
$$\delta^{(l)} = \left((W^{(l+1)})^\top \delta^{(l+1)}\right) \sigma'(z^{(l)})$$
$$\frac{\partial C}{\partial W^{(l)}} = \delta^{(l)} (a^{(l-1)})^\top$$
$$\frac{\partial C}{\partial W^{(l)}} = a^{(l-1)} (\delta^{(l)})^\top$$
$$\frac{\partial C}{\partial W^{(l)}_{j,k}} = \delta^{(l)}_j a^{(l-1)}_k$$
$$\frac{\partial C}{\partial b^{(l)}} = \delta^{(l)}$$
$$\frac{\partial C}{\partial W^{(1)}} = \delta^{(1)} x^\top$$
"""


def test_layered_rules_with_sizes_per_layer():
    # three layers 2 → 3 → 4 → 1, l = 2: W⁽³⁾ is 1 × 4, δ⁽³⁾ one number, δ⁽²⁾ a column of 4, W⁽²⁾ 4 × 3.
    # By hand: δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾) ⊙ σ'(z⁽ˡ⁾), ∂C/∂W⁽ˡ⁾ = δ⁽ˡ⁾(a⁽ˡ⁻¹⁾)ᵀ (element j,k: δⱼaₖ), ∂C/∂b⁽ˡ⁾ = δ⁽ˡ⁾
    results = check_document(LAYERED, dims="f=2,h=3,n2=4")
    got = [(r.line, r.verdict) for r in results]
    # and a⁽⁰⁾ is the data x: ∂C/∂W⁽¹⁾ = δ⁽¹⁾xᵀ (3 × 2)
    assert got == [(5, "ok"), (6, "wrong"), (7, "wrong"), (8, "ok"), (9, "wrong"), (10, "ok"), (11, "ok"),
                   (12, "ok")], got
    missing_t, times, flipped = results[1], results[2], results[4]
    assert "a row of 4 ⊙ a column of 4" in missing_t.explanation, missing_t      # W⁽³⁾δ⁽³⁾ without ᵀ is a row
    assert "a column of 4 times a column of 4" in times.explanation, times       # a product where ⊙ belongs
    assert "shape (3, 4)" in flipped.explanation and "(4, 3)" in flipped.explanation, flipped


def test_001_multivariate_rules_hold_with_vectors():
    path = SEEDS / "001_eeca50faed54cd79.txt"
    if not path.exists():
        pytest.skip(f"the source documents are not here ({SEEDS} is absent)")
    results = check_file(path, dims="f=2,h=3").results
    multivariate = rows_at(results, 62)
    assert [r.verdict for r in multivariate] == ["ok"] * 4, multivariate
    # its scalar-style hidden-layer rule δ⁽ˡ⁾ = δ⁽ˡ⁺¹⁾ w⁽ˡ⁺¹⁾ σ'(z⁽ˡ⁾) does not fit vectors
    scalar_rule = [r for r in rows_at(results, 58) if r.claim.startswith("δ⁽ˡ⁾ = δ⁽ˡ⁺¹⁾")]
    assert scalar_rule and scalar_rule[0].verdict == "wrong" and "shape" in scalar_rule[0].explanation, scalar_rule
    # δ⁽ᴸ⁻¹⁾ with σ' at the output layer: with a column, its two-column product read as ⊙, the layer is named
    layer = [r for r in rows_at(results, 58) if r.claim.startswith("δ⁽ᴸ⁻¹⁾ = ∂C/∂a⁽ᴸ⁻¹⁾")]
    assert layer and "z⁽ᴸ⁾ where z⁽ᴸ⁻¹⁾ belongs: the wrong layer" in layer[0].explanation, layer


def test_dims_shapes_of_the_leaves():
    from microreg.document import Dims, parse_dims
    dims = Dims(parse_dims("f=2,h=3"), 2)
    assert dims.shape("W1", "parameter") == (3, 2) and dims.shape("b1", "parameter") == (3,)
    assert dims.shape("W2", "parameter") == (1, 3) and dims.shape("b2", "parameter") == ()
    assert dims.with_vectors({"w2"}).shape("w2", "parameter") == (3,)
    assert dims.shape("x", "data") == (2,) and dims.shape("y", "data") == ()
    assert dims.shape("alpha", "parameter") == ()
    three = Dims(parse_dims({"f": 4, "h": 5, "n2": 6, "o": 2}), 3)
    assert [three.size(k) for k in range(4)] == [4, 5, 6, 2]
    assert three.shape("w3", "parameter") == (2, 6) and three.shape("y", "data") == (2,)


@pytest.mark.parametrize("dims, words", [
    ("h=0", "--dims: h=0: a size is a whole number ≥ 1"),
    ("h=x", "--dims: h=x: a size is a whole number ≥ 1"),
    ({"h": 2.5}, "--dims: h=2.5: a size is a whole number ≥ 1"),
    ("q=2", "--dims: unknown key 'q' (keys: f = input features, h = hidden units"),
    ("h3", "--dims: 'h3' is not KEY=SIZE"),
])
def test_bad_dims_are_one_line_errors(dims, words):
    from microreg.document import DimsError
    with pytest.raises(DimsError) as info:
        check_document(SQUARE, dims=dims)
    assert words in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_cli_dims(tmp_path):
    out = run_cli(str(DOCS / "vector_dims.md"), "--dims", "f=2,h=3", "--json")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert {r["line"] for r in rows if r["verdict"] != "ok" and not r["claim"].startswith("prose: ")} \
        == set(DIMS_PLANTED), out.stdout
    assert out.returncode == 1
    bad = run_cli(str(DOCS / "vector_dims.md"), "--dims", "h=3,depth=2")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "unknown key 'depth'" in bad.stderr, bad.stderr
    table = run_cli(str(DOCS / "vector_dims.md"), "--dims", "f=2,h=3")
    assert "read with vectors (one sample, 2 → 3 → 1 units" in table.stdout, table.stdout
    unused = run_cli(str(DOCS / "vector_dims.md"), "--dims", "f=2,h=3,n2=4")     # layer 2 is the output here
    assert "n2 not used: this net has 1 hidden layer" in unused.stdout, unused.stdout


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="$\\{}^_()=+-*/abxyzwWLC12 \n&[];|'T", max_size=60))
def test_the_vector_reading_never_crashes_on_any_text(text):
    for r in check_document(text, dims="f=2,h=3"):
        assert r.verdict in ("ok", "factor", "wrong", "unchecked")


def test_the_vector_model_is_the_documents_net_with_labelled_elements():
    # the model built from vector_dims.md under f=2, h=3, recomputed here with numpy from its leaves:
    # L = ½(w₂ᵀσ(W₁x + b₁) + b₂ − y)², and ∂L/∂W₁ by central differences
    import numpy as np

    from microreg.document import Document, Name, Point, _Checker, parse_dims
    from microreg.engine import topological_order
    checker = _Checker(Document((DOCS / "vector_dims.md").read_text(encoding="utf-8")), 0, 1, 1,
                       parse_dims("f=2,h=3"))
    checker.run()
    model = checker.model_at(checker.definitions[-1].eq)
    pt = Point(model, np.random.default_rng(3), 1)
    loss = pt.node(Name("L"))
    assert np.shape(loss) in ((), (1,)), np.shape(loss)       # ŷ = w₂ᵀa₁ + b₂: a row times a column
    loss = loss.reshape(())[()] if isinstance(loss, np.ndarray) else loss
    labels = {n.label for n in topological_order(loss)}
    assert {"W1[2][1]", "b1[2]", "w2[0]", "x[1]", "a1[2]", "z1[0]"} <= labels, sorted(map(str, labels))
    v = {k: pt.number(pt.nodes[k]) for k in ("W1", "b1", "w2", "b2", "x", "y")}
    assert v["W1"].shape == (3, 2) and v["w2"].shape == (3,) and v["x"].shape == (2,)

    def forward(W1):
        a1 = 1 / (1 + np.exp(-(W1 @ v["x"] + v["b1"])))
        return 0.5 * (v["w2"] @ a1 + v["b2"] - v["y"]) ** 2

    assert abs(loss.data - forward(v["W1"])) < 1e-12, (loss.data, forward(v["W1"]))
    numeric = np.zeros((3, 2))
    for j in range(3):
        for k in range(2):
            step = np.zeros((3, 2))
            step[j, k] = 1e-6
            numeric[j, k] = (forward(v["W1"] + step) - forward(v["W1"] - step)) / 2e-6
    auto = pt.partial(Name("L"), Name("W", "1"))
    assert np.allclose(auto, numeric, atol=1e-7), (np.round(auto, 6), np.round(numeric, 6))


def test_a_sum_over_samples_has_one_term_and_a_sum_over_units_adds_them():
    # one sample: 1/m Σᵢ of anything is that thing (m = 1); Σⱼ adds the o = 2 outputs.
    # By hand: C = Σⱼ(aⱼ − yⱼ)², a = σ(z), z = W₁x + b₁ (one layer, 2 × 3):
    # ∂C/∂a = 2(a − y), δ = 2(a − y) ⊙ σ'(z), ∂C/∂W₁ = δxᵀ; and the mean-of-samples loss gives the same.
    text = r"""$$\mathbf{z} = W_1 \mathbf{x} + \mathbf{b}_1$$
$$\mathbf{a} = \sigma(\mathbf{z})$$
$$C = \sum_j (a_j - y_j)^2$$
$$\frac{\partial C}{\partial \mathbf{a}} = 2(\mathbf{a} - \mathbf{y})$$
$$\frac{\partial C}{\partial W_1} = \frac{1}{m}\sum_{i=1}^m \left(2(\mathbf{a} - \mathbf{y}) \odot \sigma'(\mathbf{z})\right) \mathbf{x}_i^\top$$
$$\frac{\partial C}{\partial W_1} = \sum_j \left(2(\mathbf{a} - \mathbf{y}) \odot \sigma'(\mathbf{z})\right) \mathbf{x}^\top$$
"""
    results = check_document(text, dims="f=3,o=2")
    assert [(r.line, r.verdict) for r in results] == [(4, "ok"), (5, "ok"), (6, "wrong")], results
    assert "shape ()" in results[2].explanation and "(2, 3)" in results[2].explanation, results[2]


def test_weights_written_as_z_equals_w_transpose_a_are_inputs_by_units():
    # z⁽ˡ⁾ = (W⁽ˡ⁾)ᵀa⁽ˡ⁻¹⁾ + b⁽ˡ⁾: W⁽ˡ⁾ is size(l−1) × size(l), so ∂C/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾(δ⁽ˡ⁾)ᵀ (3 × 4 at l = 2)
    # and δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾δ⁽ˡ⁺¹⁾) ⊙ σ'(z⁽ˡ⁾) (no transpose: W⁽³⁾ is 4 × 1)
    text = r"""$$C = \frac{1}{2}(a^{(L)} - y)^2$$
$$z^{(l)} = (W^{(l)})^\top a^{(l-1)} + b^{(l)}$$
$$a^{(l)} = \sigma(z^{(l)})$$
$$\delta^{(l)} := \frac{\partial C}{\partial z^{(l)}}$$
$$\frac{\partial C}{\partial W^{(l)}} = a^{(l-1)} (\delta^{(l)})^\top$$
$$\frac{\partial C}{\partial W^{(l)}} = \delta^{(l)} (a^{(l-1)})^\top$$
$$\delta^{(l)} = (W^{(l+1)} \delta^{(l+1)}) \odot \sigma'(z^{(l)})$$
"""
    report = check_report(text, dims="f=2,h=3,n2=4")
    assert [(r.line, r.verdict) for r in report.results] == [(5, "ok"), (6, "wrong"), (7, "ok")], report.results
    assert "shape (4, 3)" in report.results[1].explanation and "(3, 4)" in report.results[1].explanation
    assert "z = Wᵀa" in format_results(report)


def test_a_transpose_in_a_square_layer_is_named_from_the_numbers():
    # h = 3 for both hidden layers: W₂ is 3 × 3, so W₂ and W₂ᵀ have the same shape and only the numbers
    # differ. By hand: ∂L/∂z₁ = (W₂ᵀδ₂) ⊙ σ'(z₁), ∂L/∂W₂ = δ₂a₁ᵀ (a₁δ₂ᵀ is its transpose).
    text = r"""$$\mathbf{z}_1 = W_1 \mathbf{x} + \mathbf{b}_1$$
$$\mathbf{a}_1 = \sigma(\mathbf{z}_1)$$
$$\mathbf{z}_2 = W_2 \mathbf{a}_1 + \mathbf{b}_2$$
$$\mathbf{a}_2 = \sigma(\mathbf{z}_2)$$
$$\hat{y} = \mathbf{w}_3^\top \mathbf{a}_2 + b_3$$
$$L = \frac{1}{2}(\hat{y} - y)^2$$
$$\boldsymbol{\delta}_2 := \frac{\partial L}{\partial \mathbf{z}_2}$$
$$\frac{\partial L}{\partial \mathbf{z}_1} = (W_2^\top \boldsymbol{\delta}_2) \odot \sigma'(\mathbf{z}_1)$$
$$\frac{\partial L}{\partial \mathbf{z}_1} = (W_2 \boldsymbol{\delta}_2) \odot \sigma'(\mathbf{z}_1)$$
$$\frac{\partial L}{\partial W_2} = \boldsymbol{\delta}_2 \mathbf{a}_1^\top$$
$$\frac{\partial L}{\partial W_2} = \mathbf{a}_1 \boldsymbol{\delta}_2^\top$$
"""
    report = check_report(text, dims="f=2,h=3")
    got = [(r.line, r.verdict) for r in report.results]
    assert got == [(8, "ok"), (9, "wrong"), (10, "ok"), (11, "wrong")], got
    assert "a transpose of W₂ missing or extra" in report.results[1].explanation, report.results[1]
    assert "transpose of the right one: 3×3" in report.results[3].explanation, report.results[3]
    assert "layer 2 is square (3×3)" in format_results(report)
