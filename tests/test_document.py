"""microreg check FILE: every claim of a derivation document against autograd, in the notation courses,
textbooks and blogs use.

Expected verdicts come from derivatives worked out by hand (in the comments), never from the code under
test; the test documents in tests/documents/ carry planted mistakes listed in PLANTED below.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microreg.document import (check_document, check_file, check_report, exit_status, format_results, parse_dims,
                               to_json)

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / ".." / "shared" / "seeds"
DOCS = Path(__file__).resolve().parent / "documents"


def seed(name):
    path = SEEDS / name
    if not path.exists():
        pytest.skip(f"the source documents are not here ({SEEDS} is absent)")
    return check_file(path)


def rows_at(results, line):
    return [r for r in results if r.line == line and r.kind in ("derivative", "identity", "update", "equation")]


def claims(results):
    return [r for r in results if r.kind in ("derivative", "identity", "update", "equation", "gradient", "arithmetic",
                                             "example")]


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
    results = claims(check_document(SQUARE))
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
        per_sample, mean = claims(check_document(text, samples=samples))
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
    results = claims(check_document(text))
    assert [(r.line, r.verdict) for r in results] == [(5, "ok"), (6, "wrong"), (7, "ok")], results
    assert "σ'(w) where σ'(z) belongs" in results[1].explanation


def test_a_definition_chain_defines_by_its_first_link_and_claims_the_rest():
    # t = tanh(z) defines t; tanh(z) = (e^z − e^{−z})/(e^z + e^{−z}) is an identity (true); the last link of the
    # second chain drops a sign (tanh(z) ≠ (e^z + e^{−z})/(e^z − e^{−z}))
    text = r"""$$t = \tanh(z) = \frac{e^z - e^{-z}}{e^z + e^{-z}}$$
$$u = \sigma(z) = \frac{1}{1 + e^{-z}} = \frac{1}{1 + e^{z}}$$
$$\frac{\partial t}{\partial z} = 1 - t^2$$
"""
    results = claims(check_document(text))
    assert [(r.line, r.verdict) for r in results] == [(1, "ok"), (2, "ok"), (2, "wrong"), (3, "ok")], results


def test_unreadable_and_undefined_are_unchecked_with_line_and_column():
    text = "$$z = w x$$\n$$L = z^2$$\nSo $\\frac{\\partial L}{\\partial w} = 2 z q$ and $$\\frac{\\partial L}{\\partial w} = 2 z (x$$\n"
    results = claims(check_document(text))
    assert [(r.line, r.verdict) for r in results] == [(3, "unchecked"), (3, "unchecked")], results
    undefined, unparsed = sorted(results, key=lambda r: r.column)
    assert "q is never defined" in undefined.explanation
    assert "cannot read this equation at column" in unparsed.explanation
    assert unparsed.column > undefined.column


def test_a_claim_about_an_undefined_loss_says_so():
    result, = claims(check_document("$$\\frac{\\partial L}{\\partial w} = 2 w$$"))
    assert result.verdict == "unchecked" and "L is never defined" in result.explanation, result


def test_a_name_defined_on_a_line_that_failed_is_said_so():
    # z's definition cannot be read (an unclosed bracket), so ∂L/∂z says where z was defined, not "never defined"
    text = "$$z = w (x + b$$\n$$L = z^2$$\n$$\\frac{\\partial L}{\\partial w} = 2 z x$$\n"
    rows = claims(check_document(text))
    assert rows[0].line == 1 and "cannot read this equation" in rows[0].explanation
    last = rows_at(rows, 3)[0]
    assert last.verdict == "unchecked" and "line 1" in last.explanation, last


def test_a_document_without_math_says_so_and_one_with_derivatives_never_passes_silently():
    report = check_report("Just words, and $x$ once.\n")
    # nothing was checked: not "all right" either (a script reads 0 as passed), the status for "not read"
    assert claims(report.results) == [] and "no claims to check" in format_results(report)
    assert exit_status(report) == 3
    # a derivative nothing can read: not "no claims", and exit status 3
    report = check_report(r"$$\frac{\partial L}{\partial w} = \int_0^1 w\,dt$$" + "\n")
    assert exit_status(report) == 3 and "no claims to check" not in format_results(report)


def test_update_rules_are_checked_as_the_gradient_they_contain():
    text = r"""$$L = (w x - y)^2$$
$$w = w - \alpha \frac{\partial L}{\partial w}$$
$$w = w + \alpha \frac{\partial L}{\partial w}$$
$$w := w - \alpha \cdot 2 (w x - y) x$$
$$w \leftarrow w - \eta (w x - y) x$$
"""
    results = claims(check_document(text))
    assert [r.verdict for r in results] == ["ok", "factor", "ok", "factor"], results
    assert "climbs" in results[1].explanation and "2 of a square" in results[3].explanation


def test_the_summary_counts_what_was_read_and_why_the_rest_was_not():
    text = "$$z = w x$$\n$$L = z^2$$\n$$\\frac{\\partial L}{\\partial w} = 2 z x$$\n$$\\frac{\\partial L}{\\partial w} = (2z$$\n" \
           "$$\\frac{\\partial L}{\\partial w} = 2 q x$$\n$$\\frac{\\partial L}{\\partial w} = 2 r x$$\n"
    text_out = format_results(check_report(text))
    assert "1 claim(s) read and checked: 1 ok, 0 off by a factor, 0 wrong; 3 equation(s) not read" in text_out
    # reasons, most frequent first: two names never defined, then one that cannot be read
    reasons = next(line for line in text_out.splitlines() if line.startswith("not read, most frequent first"))
    assert reasons.index("never defined") < reasons.index("cannot read"), reasons


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="$\\{}^_()=+-*/abxyzwLC12 \n&[];|'", max_size=60))
def test_never_crashes_on_any_text(text):
    for r in check_document(text):
        assert r.verdict in ("ok", "factor", "wrong", "unchecked")


# --- the notation of courses, textbooks and blogs (each derived by hand in the comments) --------------

COURSE = r"""# A shallow network, samples as columns
$$Z^{[1]} = W^{[1]} X + b^{[1]}, \quad A^{[1]} = \tanh(Z^{[1]})$$
$$Z^{[2]} = W^{[2]} A^{[1]} + b^{[2]}$$
$$A^{[2]} = \sigma(Z^{[2]})$$
$$J = -\frac{1}{m} \sum\limits_{i = 1}^{m} \left( y^{(i)}\log\left(a^{[2](i)}\right) + (1-y^{(i)})\log\left(1- a^{[2](i)}\right) \right) \tag{6}$$
$$dZ^{[2]} = A^{[2]} - Y$$
$$dW^{[2]} = \frac{1}{m} dZ^{[2]} A^{[1]T}$$
$$db^{[2]} = \frac{1}{m} np.sum(dZ^{[2]}, axis=1, keepdims=True)$$
$$dZ^{[1]} = W^{[2]T} dZ^{[2]} * (1 - (A^{[1]})^2)$$
$$dW^{[1]} = \frac{1}{m} dZ^{[1]} X^T$$
$$dW^{[1]} = dZ^{[1]} X^T$$
$$dZ^{[1]} = W^{[2]T} dZ^{[2]} * (1 - A^{[1]})$$
$$dW^{[2]} = \frac{1}{m} dZ^{[2]} A^{[1]}$$
"""


def test_course_notation_vectorised_with_samples_as_columns():
    # J = −1/m Σ (y log a + (1 − y) log(1 − a)) with a = σ(z): each sample's ∂ℒ/∂z = a − y, so
    # dZ⁽²⁾ = A⁽²⁾ − Y holds in the course's convention (no 1/m: it enters at dW), dW⁽²⁾ = 1/m dZ⁽²⁾A⁽¹⁾ᵀ,
    # db⁽²⁾ = 1/m Σ_columns dZ⁽²⁾, dZ⁽¹⁾ = W⁽²⁾ᵀdZ⁽²⁾ ⊙ (1 − A⁽¹⁾²) (tanh' = 1 − a²), dW⁽¹⁾ = 1/m dZ⁽¹⁾Xᵀ.
    report = check_report(COURSE)
    got = {(r.line, r.verdict) for r in claims(report.results)}
    assert got == {(6, "ok"), (7, "ok"), (8, "ok"), (9, "ok"), (10, "ok"), (11, "factor"), (12, "wrong"),
                   (13, "wrong")}, format_results(report)
    dz2, = rows_at(report.results, 6)
    assert "course" in dz2.explanation and "1/m" in dz2.explanation
    missing, = rows_at(report.results, 11)
    assert missing.factor == pytest.approx(5.0) and "missing 1/m" in missing.explanation
    tanh, = rows_at(report.results, 12)
    assert "1 − A^[1] where tanh'(Z^[1]) = 1 − A^[1]² belongs" in tanh.explanation, tanh
    transpose, = rows_at(report.results, 13)
    assert "transpose" in transpose.explanation, transpose
    assert "X holds the 5 samples as columns" in report.dims


def test_andrew_ng_notation_functions_of_their_arguments():
    # h_θ(x) = θ₀ + θ₁x, J = 1/(2m) Σ (h − y)²: ∂J/∂θ₀ = 1/m Σ (h − y), ∂J/∂θ₁ = 1/m Σ (h − y)x
    text = r"""$h_\theta(x) = \theta_0 + \theta_1 x$
$$J(\theta_0, \theta_1) = \frac{1}{2m}\sum_{i=1}^{m}\left(h_\theta(x^{(i)}) - y^{(i)}\right)^2$$
$$\theta_0 := \theta_0 - \alpha \frac{1}{m}\sum_{i=1}^{m}\left(h_\theta(x^{(i)}) - y^{(i)}\right)$$
$$\frac{\partial}{\partial \theta_1} J(\theta_0, \theta_1) = \frac{1}{m}\sum_{i=1}^{m}\left(h_\theta(x^{(i)}) - y^{(i)}\right) x^{(i)}$$
$$\frac{\partial J(\theta_0,\theta_1)}{\partial \theta_0} = \frac{1}{m}\sum_{i=1}^{m}\left(h_\theta(x^{(i)}) - y^{(i)}\right) x^{(i)}$$
"""
    results = claims(check_document(text))
    assert [(r.line, r.verdict) for r in results] == [(3, "ok"), (4, "ok"), (5, "wrong")], results
    assert "an extra factor x⁽ⁱ⁾" in results[2].explanation


def test_nielsen_notation_layers_as_superscripts_and_index_notation():
    # C = ½‖y − aᴸ‖²: ∇ₐC = aᴸ − y; BP1 δᴸ = ∇ₐC ⊙ σ'(zᴸ); BP2 δˡ = (wˡ⁺¹)ᵀδˡ⁺¹ ⊙ σ'(zˡ); BP3 ∂C/∂bʲ = δⱼ;
    # BP4 ∂C/∂wⱼₖˡ = aₖˡ⁻¹δⱼˡ; the slip aₖˡ where aₖˡ⁻¹ belongs
    text = r"""The cost for one example: $C = \frac{1}{2} \|y - a^L\|^2$, with $a^l = \sigma(z^l)$ and $z^l = w^l a^{l-1} + b^l$.
Define $\delta^l_j \equiv \frac{\partial C}{\partial z^l_j}$.
$$\delta^L = \nabla_a C \odot \sigma'(z^L)$$
$$\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)$$
$$\frac{\partial C}{\partial b^l_j} = \delta^l_j$$
$$\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j$$
$$\frac{\partial C}{\partial w^l_{jk}} = a^{l}_k \delta^l_j$$
"""
    report = check_report(text)
    got = [(r.line, r.verdict) for r in claims(report.results)]
    assert got == [(3, "ok"), (4, "ok"), (5, "ok"), (6, "ok"), (7, "wrong")], format_results(report)
    assert "aₖˡ where aₖˡ⁻¹ belongs: the wrong layer" in claims(report.results)[-1].explanation


def test_logistic_regression_and_the_extra_local_derivative():
    # ŷ = σ(wᵀx + b), ℒ = −(y log ŷ + (1 − y) log(1 − ŷ)): dσ/dz = σ(1 − σ), ∂ℒ/∂z = ŷ − y, ∂ℒ/∂w = (ŷ − y)x;
    # ŷ(1 − ŷ)(ŷ − y) applies σ' once more than the chain rule does
    text = r"""Let $z = w^T x + b$, $\hat{y} = \sigma(z)$ and
$$\mathcal{L}(\hat{y}, y) = -\left(y \log \hat{y} + (1 - y)\log(1 - \hat{y})\right)$$
$$\frac{d\sigma}{dz} = \sigma(z)(1 - \sigma(z))$$
$$\frac{\partial \mathcal{L}}{\partial z} = \hat{y} - y, \qquad \frac{\partial \mathcal{L}}{\partial w} = (\hat{y} - y)\, x$$
$$\frac{\partial \mathcal{L}}{\partial z} = \hat{y}(1 - \hat{y})(\hat{y} - y)$$
"""
    results = claims(check_document(text))
    assert [(r.line, r.verdict) for r in results] == [(3, "ok"), (4, "ok"), (4, "ok"), (5, "wrong")], results
    # the one search's words (verify says the same): σ' applied twice
    assert "∂ŷ/∂z = σ(z)·(1 − σ(z)) applied twice (an extra local derivative)" in results[-1].explanation


def test_softmax_sums_over_classes_with_a_one_hot_target():
    # p = softmax(z), L = −Σₖ yₖ log pₖ with Σₖ yₖ = 1: ∂L/∂zᵢ = pᵢ − yᵢ; yᵢ − pᵢ is its negative
    text = r"""$$p_i = \frac{e^{z_i}}{\sum_{k} e^{z_k}}$$
$$L = -\sum_i y_i \log p_i$$
$$\frac{\partial L}{\partial z_i} = p_i - y_i$$
$$\frac{\partial L}{\partial z_i} = y_i - p_i$$
"""
    results = claims(check_document(text))
    assert [(r.line, r.verdict) for r in results] == [(3, "ok"), (4, "factor")], results
    assert "you wrote yᵢ − pᵢ where pᵢ − yᵢ belongs" in results[1].explanation


def test_samples_as_rows_cs231n_style():
    # H = max(0, XW₁ + b₁), S = HW₂ + b₂, L = 1/N Σᵢ ½‖Sᵢ − Yᵢ‖²: ∂L/∂S = (S − Y)/N, ∂L/∂W₂ = Hᵀ ∂L/∂S
    text = r"""$$H = \max(0, X W_1 + b_1)$$
$$S = H W_2 + b_2$$
$$L = \frac{1}{N} \sum_i \frac{1}{2} \|S_i - Y_i\|^2$$
$$\frac{\partial L}{\partial S} = \frac{1}{N}(S - Y)$$
$$\frac{\partial L}{\partial W_2} = H^T \frac{\partial L}{\partial S}$$
$$\frac{\partial L}{\partial W_2} = H \frac{\partial L}{\partial S}$$
"""
    report = check_report(text)
    assert [(r.line, r.verdict) for r in claims(report.results)] == [(4, "ok"), (5, "ok"), (6, "wrong")], \
        format_results(report)
    assert "rows" in report.dims


def test_a_relu_derivative_written_with_cases():
    # ReLU'(z) = 1 for z > 0, 0 otherwise; the leaky one has slope 0.01 below 0
    text = r"""$$\text{ReLU}'(z) = \begin{cases} 1 & \text{if } z > 0 \\ 0 & \text{otherwise} \end{cases}$$
$$\text{ReLU}'(z) = \begin{cases} 0 & \text{if } z > 0 \\ 1 & \text{otherwise} \end{cases}$$
"""
    results = claims(check_document(text))
    assert [r.verdict for r in results] == ["ok", "wrong"], results


# --- the three source documents ----------------------------------------------------------------

def test_000_per_sample_rules_are_right_and_m_times_too_large_for_its_mean():
    results = claims(seed("000_5f857489b6c6c18e.txt").results)
    assert not [r for r in results if r.verdict == "wrong"], results
    for line in (27, 29, 39, 41):
        assert rows_at(results, line)[0].verdict == "ok"      # the chain-rule products of partials
    factors = [r for r in results if r.verdict == "factor"]
    assert {r.line for r in factors} == {25, 27, 29, 31, 37, 39, 41, 45, 47, 49, 53}
    for r in factors:
        assert r.factor == pytest.approx(5.0), r
        assert "right for one sample" in r.explanation and "1/m" in r.explanation and "line 23" in r.explanation
    assert rows_at(results, 35)[0].verdict == "ok"      # σ'(z) = σ(z)(1 − σ(z))


def test_001_delta_before_the_output_has_sigma_prime_at_the_wrong_layer():
    results = claims(seed("001_eeca50faed54cd79.txt").results)
    wrong = [r for r in results if r.verdict == "wrong"]
    assert len(wrong) == 3 and {r.line for r in wrong} == {58}, wrong
    for r in wrong:
        assert "z⁽ᴸ⁾ where z⁽ᴸ⁻¹⁾ belongs: the wrong layer" in r.explanation, r.explanation
        assert r.claim.startswith("δ⁽ᴸ⁻¹⁾")
    multivariate = rows_at(results, 62)
    assert len(multivariate) == 4 and all(r.verdict == "ok" for r in multivariate), multivariate
    assert not [r for r in results if r.verdict == "factor"]


def test_002_its_gradient_misses_the_1_over_n_and_puts_beta1_where_x_belongs():
    results = claims(seed("002_399cf672b943209f.txt").results)
    beta0, beta1 = rows_at(results, 53)
    assert beta0.wrt == "β₀" and beta0.verdict == "factor" and beta0.factor == pytest.approx(5.0)
    assert "1/n" in beta0.explanation
    assert beta1.wrt == "β₁" and beta1.verdict == "wrong"
    # the one search's words (verify says the same): the wrong factor of β₁·x, and the missing 1/n
    assert "taken as β₁ instead of x" in beta1.explanation and "1/n" in beta1.explanation, beta1.explanation
    assert [r.verdict for r in rows_at(results, 43)] == ["wrong", "wrong"]        # the RMSE gradient


# --- the test documents: every planted mistake found on its line, nothing correct flagged ----------

# line → (verdict, words the explanation must contain); every other claim must be "ok" (or, where listed
# under UNCHECKED, not checked with that reason). Each mistake's true derivative is worked out beside it.
PLANTED = {
    "linear_inline.md": {
        # L = 1/n Σ (ŷ − y)², ∂L/∂b = 2/n Σ (ŷ − y): written with (y − ŷ), so −1 × the truth
        7: ("factor", "you wrote yᵢ − ŷᵢ where ŷᵢ − yᵢ belongs"),
        # ∂L/∂w = 2/n Σ (wx + b − y)x: the 2 of the square dropped, ½ × the truth
        8: ("factor", "2 of a square"),
        # b ← b + η ∂L/∂b steps up the gradient: the step it takes is −1 × ∂L/∂b
        10: ("factor", "climbs the gradient"),
    },
    "tanh_align.md": {
        # h = tanh(ux + c): ∂h/∂u = (1 − h²)x, so ∂L/∂u = (ŷ − y)v(1 − h²)x; written with u for x
        15: ("wrong", "taken as u instead of x"),
        # ∂L/∂c = (ŷ − y)v(1 − h²): the local derivative ∂h/∂c = tanh' = 1 − h² left out
        17: ("wrong", "you left out ∂h/∂(u x + c) = 1 − tanh²(u x + c)"),
    },
    "deep_layers.md": {
        # δ⁽ˡ⁾ = δ⁽ˡ⁺¹⁾ w⁽ˡ⁺¹⁾ σ'(z⁽ˡ⁾), since z⁽ˡ⁺¹⁾ = w⁽ˡ⁺¹⁾a⁽ˡ⁾ + b⁽ˡ⁺¹⁾: the weight of the wrong layer
        15: ("wrong", "w⁽ˡ⁾ where w⁽ˡ⁺¹⁾ belongs: the wrong layer"),
        # ∂z⁽ˡ⁾/∂b⁽ˡ⁾ = 1, so ∂C/∂b⁽ˡ⁾ = δ⁽ˡ⁾; the a⁽ˡ⁾ is extra
        19: ("wrong", "an extra factor a⁽ˡ⁾"),
    },
    "vector_net.md": {
        # h = σ(u): ∂L/∂b₁ = w₂(ŷ − y) ⊙ σ'(u); σ' taken at ŷ
        16: ("wrong", "σ'(ŷ) where σ'(u) belongs"),
        # L = ½(ŷ − y)², ∂L/∂b₂ = ŷ − y: twice the truth
        18: ("factor", "dropped ½"),
    },
    "logistic_brackets.md": {
        # J = −Σ(y ln p + (1 − y) ln(1 − p)) with p = σ(wx + b): ∂J/∂b = Σ(p − y); written −Σ(p − y)p
        11: ("wrong", "an extra factor p"),
        # J sums over the samples: ∂J/∂w = Σ(p − y)x, so a 1/m makes it 1/m × the truth
        13: ("factor", "spurious 1/m"),
    },
    # vector_dims.md: z₁ = W₁x + b₁, a₁ = σ(z₁), ŷ = w₂ᵀa₁ + b₂, L = ½(ŷ − y)², read with vectors (f = 2, h = 3).
    # By hand: ∂L/∂W₁ = δ₁xᵀ (3 × 2) with δ₁ = (ŷ − y)w₂ ⊙ σ'(z₁).
    "vector_dims.md": {
        24: ("wrong", "the transpose of the right shape"),  # x δ₁ᵀ is 2 × 3
        26: ("wrong", "shapes that do not fit"),            # δ₁ ⊙ x: a column of 3 and a column of 2
        33: ("wrong", "σ'(ŷ) where σ'(z₁) belongs"),                # right shapes, σ' taken at ŷ instead of z₁
        34: ("factor", "a dropped ½"),                      # 2δ₁xᵀ: twice ∂L/∂W₁
    },
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_every_planted_mistake_is_found_on_its_line_and_nothing_correct_is_flagged(name):
    report = check_file(DOCS / name)
    results = claims(report.results)
    planted = PLANTED[name]
    assert {r.line for r in results if r.verdict != "ok"} == set(planted), format_results(report)
    for r in results:
        if r.line in planted:
            verdict, words = planted[r.line]
            assert r.verdict == verdict and words in r.explanation, r
    assert len([r for r in results if r.verdict == "ok"]) >= 2, results


def test_the_unreadable_document_lists_each_problem_with_its_line():
    results = claims(check_file(DOCS / "unreadable.md").results)
    got = {r.line: r for r in results}
    assert got[7].verdict == "unchecked" and "λ is never defined" in got[7].explanation
    assert got[7].column == 49, got[7]   # "$$" + "\\frac{\\partial L}{\\partial w}" + " = 2 (z - y) x + ": λ at 49
    assert got[9].verdict == "unchecked" and "cannot read" in got[9].explanation
    assert got[11].verdict == "unchecked" and "v is never defined" in got[11].explanation
    assert got[13].verdict == "ok"          # ∂L/∂b = 2(z − y) for L = (z − y)²


def test_the_package_docstring_example_runs():
    import doctest

    import microreg.document
    assert doctest.testmod(microreg.document).failed == 0


def test_notation_the_documents_use_without_the_documents():
    # L = ½(z − y)², z = wx + b: ∂L/∂w = (z − y)x, ∂L/∂b = z − y
    text = r"""$$z = w x + b \quad [\text{a line}]$$
$$L = \text{loss} = \frac{1}{2}\left(z - y\right)^2$$
$$\therefore \frac{\partial L}{\partial w} = \underbrace{\frac{\partial L}{\partial z}}_{=z - y} \cdot x \quad [\text{chain rule}]$$
$$b = b - \alpha \frac{\partial L}{\partial b}$$
$$= b - \alpha (z - y)$$
and inline $\frac{\mathrm{d}L}{\mathrm{d}w} = (z - y) x$, bare \begin{align} \frac{\partial L}{\partial b} &= z - y &\text{... bias} \end{align} too.
"""
    results = claims(check_document(text))
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
    quartic, square = claims(check_document(text))
    assert quartic.verdict == "ok" and square.verdict == "ok", (quartic, square)


def test_prose_pictures_and_code_are_listed_as_not_checked():
    text = "A first paragraph\nthat goes on.\n\n$$z = w x$$\n\n![a figure](fig.png)\n\n```\n$$a = b$$\n```\n"
    report = check_report(text)
    kinds = [(r.line, r.kind) for r in report.results]
    assert kinds == [(6, "picture"), (8, "code")], kinds
    assert report.prose_lines == 1 and "1 paragraph(s) of prose, 1 picture(s), 1 code block(s)" in format_results(report)


def test_math_in_a_markdown_table_and_in_an_html_comment():
    text = ("| quantity | derivative |\n|---|---|\n| $$L = (w x - y)^2$$ | $$\\frac{\\partial L}{\\partial w} = 2(wx - y)x$$ |\n"
            "| broken | $$ w |\n\n<!-- $$\\frac{\\partial L}{\\partial w} = (wx - y)x$$ -->\n")
    report = check_report(text)
    got = [(r.line, r.verdict) for r in claims(report.results)]
    assert got == [(3, "ok"), (6, "factor")], got
    assert "read inside HTML comments" in format_results(report)


# --- the vector reading and --dims ------------------------------------------------------------------------

def test_the_reading_follows_the_documents_style():
    scalar = check_report(SQUARE)
    assert scalar.dims.startswith("one unit per layer")
    vectors = check_file(DOCS / "vector_dims.md")
    assert vectors.dims.startswith("vectors: 2 → 3 → 1 units")


@pytest.mark.parametrize("dims, words", [
    ("h=0", "--dims: h=0: a size is a whole number ≥ 1"),
    ("h=x", "--dims: h=x: a size is a whole number ≥ 1"),
    ({"h": 2.5}, "--dims: h=2.5: a size is a whole number ≥ 1"),
    ("q=2", "--dims: unknown key 'q' (keys: f = input features, h = hidden units"),
    ("h3", "--dims: 'h3' is not KEY=SIZE"),
    ("h=100", "--dims: h=100: at most 12"),
    ("h=³", "--dims: h=³: a size is a whole number ≥ 1"),
])
def test_bad_dims_are_one_line_errors(dims, words):
    from microreg.document import DimsError
    with pytest.raises(DimsError) as info:
        check_document(SQUARE, dims=dims)
    assert words in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_dims_sizes_the_layers():
    assert parse_dims("f=4,h=5,n2=6,o=2") == {"f": 4, "h": 5, "o": 2, "n2": 6}
    text = r"""$$C = (a^{(L)} - y)^2$$
$$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$$
$$a^{(l)} = \sigma(z^{(l)})$$
$$\frac{\partial C}{\partial W^{(l)}} = \delta^{(l)} (a^{(l-1)})^\top$$
"""
    report = check_report(text, dims="f=2,h=3,n2=4")
    assert "2 → 3 → 4 → 1 units" in report.dims, report.dims


def test_a_transpose_in_a_square_layer_is_found_from_the_names_of_the_axes():
    # h = 3 for both hidden layers: W₂ is 3 × 3, W₂ and W₂ᵀ have the same shape; the axes say which is which.
    # By hand: ∂L/∂z₁ = (W₂ᵀδ₂) ⊙ σ'(z₁), ∂L/∂W₂ = δ₂a₁ᵀ (a₁δ₂ᵀ is its transpose).
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
    report = check_report(text)
    got = [(r.line, r.verdict) for r in claims(report.results)]
    assert got == [(8, "ok"), (9, "wrong"), (10, "ok"), (11, "wrong")], format_results(report)
    assert "the inner sizes do not match" in claims(report.results)[1].explanation
    assert "the transpose of the right shape" in claims(report.results)[3].explanation


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="$\\{}^_()=+-*/abxyzwWLC12 \n&[];|'T", max_size=60))
def test_the_vector_reading_never_crashes_on_any_text(text):
    for r in check_document(text, dims="f=2,h=3"):
        assert r.verdict in ("ok", "factor", "wrong", "unchecked")


# --- inputs: notebooks, LaTeX, standard input; the command ---------------------------------------------

def test_a_notebook_is_checked_cell_by_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Notes\n$$z = w x + b$$\n$$L = (z - y)^2$$"),
                nbformat.v4.new_code_cell("print('not math: $x = 1$')"),
                nbformat.v4.new_markdown_cell("The gradient:\n\n$$\\frac{\\partial L}{\\partial w} = (z - y) x$$")]
    path = tmp_path / "notes.ipynb"
    nbformat.write(nb, str(path))
    report = check_file(path)
    row, = claims(report.results)
    assert (row.cell, row.line, row.verdict) == (3, 3, "factor"), row
    assert "3:3" in format_results(report) and "1 code cell(s)" in format_results(report)


def test_a_latex_article_is_checked(tmp_path):
    tex = tmp_path / "notes.tex"
    tex.write_text("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n\\section{Model}\n"
                   "\\begin{align}\n  z &= w x + b \\label{eq:z} \\\\\n  L &= \\tfrac12 (z - y)^2 % the loss\n"
                   "\\end{align}\n\\begin{equation}\n\\frac{\\partial L}{\\partial w} = (z - y)\\, x \\tag{3}\n"
                   "\\end{equation}\n\\end{document}\n", encoding="utf-8")
    row, = claims(check_file(tex).results)
    assert (row.line, row.verdict) == (10, "ok"), row


def run_cli(*args, stdin=None):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "microreg", "check", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=120, input=stdin)


def test_cli_json_table_exit_status_and_errors(tmp_path):
    doc = tmp_path / "notes.md"
    doc.write_text(SQUARE, encoding="utf-8")
    out = run_cli(str(doc), "--json")
    assert out.returncode == 1, out.stderr            # some claims are wrong
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["line"] for r in rows] == [4, 5, 6, 7]
    assert set(rows[0]) >= {"line", "column", "cell", "claim", "wrt", "verdict", "explanation", "factor", "kind"}
    assert rows[0]["wrt"] == "w" and rows[0]["verdict"] == "ok"
    table = run_cli(str(doc))
    assert "4 claim(s) read and checked: 1 ok, 2 off by a factor, 1 wrong" in table.stdout, table.stdout
    good = tmp_path / "good.md"
    good.write_text("$$L = (w x - y)^2$$\n$$\\frac{\\partial L}{\\partial w} = 2(wx - y) x$$\n", encoding="utf-8")
    assert run_cli(str(good)).returncode == 0
    unread = tmp_path / "unread.md"
    unread.write_text("$$L = (w x - y)^2$$\n$$\\frac{\\partial L}{\\partial w} = 2(wx - y) q$$\n", encoding="utf-8")
    assert run_cli(str(unread)).returncode == 3
    piped = run_cli("-", stdin=SQUARE)
    assert piped.returncode == 1 and "∂L/∂w = 2(z − y) x" in piped.stdout
    missing = run_cli(str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and "nope.md: no such file" in missing.stderr
    binary = tmp_path / "b.md"
    binary.write_bytes(b"\xff\xfe\x00")
    bad = run_cli(str(binary))
    assert bad.returncode == 2 and "not UTF-8" in bad.stderr
    seeded = run_cli(str(doc), "--seed", "-1")
    assert seeded.returncode == 2 and "--seed" in seeded.stderr and seeded.stderr.count("\n") == 1
    assert json.loads(to_json(check_report(SQUARE)).splitlines()[0])["line"] == 4


def test_control_characters_in_a_document_cannot_forge_rows():
    text = "$$L = (w x - y)^2$$\n$$\\frac{\\partial L}{\\partial w} = 2(wx - y) \\text{\x1b[2K\x1b[1A ok}$$\n"
    out = format_results(check_report(text))
    assert "\x1b" not in out


# --- one mistake search: check FILE and verify say the same slip in the same words ---------------------------

@pytest.mark.parametrize("written,slip", [
    # σ'(z₁) left out of ∂L/∂w₁
    (r"(\hat{y} - y)\, w_2\, x", "you left out ∂a₁/∂z₁ = σ(z₁)·(1 − σ(z₁)) (a forgotten local derivative)"),
    # the first layer's weight where the second's belongs
    (r"(\hat{y} - y)\, w_1\, \sigma'(z_1)\, x", "w₁ where w₂ belongs"),
])
def test_check_and_verify_name_the_same_slip_in_the_same_words(written, slip):
    from microreg.check import verify
    doc = "\n\n".join([r"$$z_1 = w_1 x + b_1$$", r"$$a_1 = \sigma(z_1)$$", r"$$\hat{y} = w_2 a_1 + b_2$$",
                       r"$$L = \frac{1}{2}(\hat{y} - y)^2$$",
                       r"$$\frac{\partial L}{\partial w_1} = " + written + "$$"])
    row = claims(check_document(doc, samples=1))[-1]
    assert row.verdict == "wrong" and slip in row.explanation, row.explanation

    def loss(w1, b1, w2, b2, x=0.7, y=-0.4):
        z1 = w1 * x + b1
        z1.label = "z_1"
        a1 = z1.sigmoid()
        a1.label = "a_1"
        y_hat = w2 * a1 + b2
        y_hat.label = r"\hat{y}"
        return 0.5 * (y_hat - y) ** 2
    report = verify(loss, {"w1": written}, at={"w1": 0.3, "b1": -0.2, "w2": 1.1, "b2": 0.4},
                    data={"x": 0.7, "y": -0.4})
    said = str(report)
    # the same sentence; a name is shown as the learner wrote it (w1 as a Python argument, w₁ in LaTeX)
    plain = slip.translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789"))
    assert slip in said or plain in said, said


# --- notation met on real derivations: each verdict worked out by hand in the comment beside it ------------

def _verdicts(text, **kw):
    return [(r.line, r.verdict) for r in claims(check_document(text, **kw))]


def test_names_written_as_words_and_unit_labels():
    # the classic numeric walk-through: net_{h1}, out_{o1} are names, h1/o1 labels (not index h and 1);
    # ∂E/∂w₁ = (out_o1 − target)·out_o1(1 − out_o1)·w₅·out_h1(1 − out_h1)·i₁: the second σ' left out on line 6
    text = "\n\n".join([r"$$net_{h1} = w_1 i_1 + b_1$$", r"$$out_{h1} = \frac{1}{1 + e^{-net_{h1}}}$$",
                        r"$$net_{o1} = w_5 out_{h1} + b_2$$", r"$$out_{o1} = \frac{1}{1 + e^{-net_{o1}}}$$",
                        r"$$E = \frac{1}{2}(target_{o1} - out_{o1})^2$$",
                        r"$$\frac{\partial E}{\partial w_1} = (out_{o1} - target_{o1})\, out_{o1}(1 - out_{o1})\, w_5\, i_1$$",
                        r"$$\frac{\partial E}{\partial w_5} = (out_{o1} - target_{o1})\, out_{o1}(1 - out_{o1})\, out_{h1}$$"])
    results = claims(check_document(text))
    assert [(r.line, r.verdict) for r in results] == [(11, "wrong"), (13, "ok")], results
    assert "you left out ∂outₕ₁/∂netₕ₁" in results[0].explanation


def test_a_sum_without_brackets_takes_the_terms_that_use_its_index():
    # CS229: ℓ(θ) = Σᵢ y⁽ⁱ⁾ log h + (1 − y⁽ⁱ⁾) log(1 − h), the second term inside the sum; ∂ℓ/∂θⱼ = Σᵢ (y − h) xⱼ
    text = (r"$h_\theta(x) = \sigma(\theta^T x)$" + "\n\n"
            r"$$\ell(\theta) = \sum_{i=1}^{m} y^{(i)} \log h_\theta(x^{(i)}) + (1 - y^{(i)}) \log(1 - h_\theta(x^{(i)}))$$"
            "\n\n"
            r"$$\frac{\partial}{\partial \theta_j}\ell(\theta) = \sum_{i=1}^{m}\left(y^{(i)} - h_\theta(x^{(i)})\right) x_j^{(i)}$$")
    assert _verdicts(text) == [(5, "ok")]


def test_minus_log_of_a_name_and_the_equation_that_is_solved():
    # L = −log a with a = σ(z): ∂L/∂z = −(1 − a) = a − 1; XᵀXθ = Xᵀy holds only at the minimum: not an identity
    text = "\n\n".join([r"$$z = w x + b$$", r"$$a = \sigma(z)$$", r"$$L = -\log a$$",
                        r"$$\frac{\partial L}{\partial z} = a - 1$$"])
    assert _verdicts(text) == [(7, "ok")]
    normal = r"$$J(\theta) = \frac{1}{2m}(X\theta - y)^T(X\theta - y)$$" + "\n\nthe normal equations $X^T X \\theta = X^T y$."
    rows = claims(check_document(normal))
    assert [r.verdict for r in rows] == ["unchecked"] and "an equation to solve" in rows[0].explanation


def test_gradient_ascent_when_the_text_maximises():
    # θ := θ + α ∂ℓ/∂θ climbs ℓ on purpose: the log-likelihood is maximised
    text = ("We maximise the log likelihood by gradient ascent.\n\n"
            r"$$\ell = y \log \sigma(\theta x) + (1 - y)\log(1 - \sigma(\theta x))$$" + "\n\n"
            r"$$\theta := \theta + \alpha (y - \sigma(\theta x)) x$$")
    assert _verdicts(text, samples=1) == [(5, "ok")]


def test_an_index_running_over_the_wrong_units_and_a_transpose_between_hidden_layers():
    # Nielsen: ∂C/∂w^l_{jk} = a^{l−1}_k δ^l_j (j the row, k the column); a_j δ_k swaps them; δ^l needs (w^{l+1})ᵀ
    text = (r"With $z^l = w^l a^{l-1} + b^l$, $a^l = \sigma(z^l)$, $a^1 = x$ and $C = \frac{1}{2}\|y - a^L\|^2$, "
            r"let $\delta^l \equiv \frac{\partial C}{\partial z^l}$." + "\n\n"
            r"$$\delta^l = (w^{l+1} \delta^{l+1}) \odot \sigma'(z^l)$$" + "\n\n"
            r"$$\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j$$" + "\n\n"
            r"$$\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_j \delta^l_k$$")
    results = claims(check_document(text))
    assert [(r.line, r.verdict) for r in results] == [(3, "wrong"), (5, "ok"), (7, "wrong")], results
    assert "transpose" in results[0].explanation and "indices swapped" in results[2].explanation


def test_worked_examples_elements_and_values_given_before_a_claim():
    # x = −2, y = 5, z = −4: q = x + y = 3, f = q z = −12, ∂f/∂y = z = −4 (so "= 4" is wrong);
    # θⱼ for j = 0, 1: ∂J/∂θ₀ = 1/m Σ (h − y), ∂J/∂θ₁ = 1/m Σ (h − y) x, both as written
    text = ("$q = x + y$ and $f = q z$. With $x = -2$, $y = 5$, $z = -4$: $q = 3$, $f = -12$, "
            r"$\frac{\partial f}{\partial y} = 4$." + "\n\n"
            r"$h_\theta(x) = \theta_0 + \theta_1 x$ and $J(\theta_0, \theta_1) = \frac{1}{2m}\sum_{i=1}^m (h_\theta(x^{(i)}) - y^{(i)})^2$"
            "\n\n" r"$$\frac{\partial}{\partial \theta_j} J = \frac{1}{m}\sum_{i=1}^m (h_\theta(x^{(i)}) - y^{(i)}) \frac{\partial h_\theta(x^{(i)})}{\partial \theta_j}$$"
            "\n\n" r"$$\frac{1}{3}\left((1 - 2) + (2 - 4)\cdot 2\right) = -\frac{5}{3}$$")
    rows = claims(check_document(text))
    assert [(r.line, r.verdict) for r in rows] == [(1, "ok"), (1, "ok"), (1, "wrong"), (5, "ok"), (7, "ok")], rows
    assert "it is -4, not 4" in rows[2].explanation and "j = 0, 1" in rows[3].explanation


def test_the_course_forward_per_example_and_its_backward_in_capitals():
    # a^{[1](i)} = tanh(z^{[1](i)}) per example; A^{[1]} is their matrix (X's columns): dW¹ = 1/m dZ¹ Xᵀ and
    # db¹ = 1/m Σ dZ¹ hold; W^{[2]} dZ^{[2]} without the transpose does not fit (1×3 times 1×5)
    text = "\n\n".join([r"Examples are the columns of $X$.", r"$$z^{[1](i)} = W^{[1]} x^{(i)} + b^{[1]}$$",
                        r"$$a^{[1](i)} = \tanh(z^{[1](i)})$$", r"$$z^{[2](i)} = W^{[2]} a^{[1](i)} + b^{[2]}$$",
                        r"$$a^{[2](i)} = \sigma(z^{[2](i)})$$",
                        r"$$J = -\frac{1}{m}\sum_{i=1}^{m}\left(y^{(i)}\log a^{[2](i)} + (1-y^{(i)})\log(1-a^{[2](i)})\right)$$",
                        r"$$dZ^{[2]} = A^{[2]} - Y$$", r"$$dZ^{[1]} = W^{[2]T} dZ^{[2]} * (1 - (A^{[1]})^2)$$",
                        r"$$dW^{[1]} = \frac{1}{m} dZ^{[1]} X^T$$",
                        r"$$db^{[1]} = \frac{1}{m} np.sum(dZ^{[1]}, axis=1, keepdims=True)$$",
                        r"$$dZ^{[1]} = W^{[2]} dZ^{[2]} * (1 - (A^{[1]})^2)$$"])
    assert _verdicts(text) == [(13, "ok"), (15, "ok"), (17, "ok"), (19, "ok"), (21, "wrong")]


def test_one_example_at_a_time_when_the_line_says_so():
    # J is the mean over m; one example's rule w := w − α(ŷ⁽ⁱ⁾ − y⁽ⁱ⁾)x⁽ⁱ⁾ is stochastic gradient descent where the line
    # says so (right), and a one-sample rule where it claims the batch (wrong: m × the mean's gradient)
    text = (r"$J = \frac{1}{2m}\sum_{i=1}^{m}(\hat y^{(i)} - y^{(i)})^2$ with $\hat y^{(i)} = w x^{(i)} + b$" + "\n\n"
            r"- stochastic, one example at a time: $w := w - \alpha\,(\hat y^{(i)} - y^{(i)})\,x^{(i)}$" + "\n"
            r"- batch, all examples at once: $w := w - \alpha\,(\hat y^{(i)} - y^{(i)})\,x^{(i)}$" + "\n")
    assert _verdicts(text) == [(3, "ok"), (4, "wrong")]
