"""The verifier: every diagnosis against derivations whose right answer is worked out by hand."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from microreg import ops
from microreg.check import check_documents, gradcheck, name_factor, verify
from microreg.notation import FormulaError
from microreg.derivations import FORMULAS

X = np.array([0.5, -1.0, 2.0, 1.5])
Y = np.array([1.0, 0.0, 3.0, 2.0])


def mse_loss(w, b):
    # U(w, b) = 1/n Σ (w xᵢ + b − yᵢ)²; ∂U/∂w = (2/n) Σ xᵢ εᵢ; ∂U/∂b = (2/n) Σ εᵢ
    e = w * X + b - Y
    return (e * e).mean()


def right_w(w, b):
    return 2 * np.mean(X * (w * X + b - Y))


def right_b(w, b):
    return 2 * np.mean(w * X + b - Y)


def test_a_correct_derivation_matches():
    report = verify(mse_loss, {"w": right_w, "b": right_b}, at={"w": 0.3, "b": -0.2})
    assert report.ok and report["w"].kind == "match" and report["b"].kind == "match", str(report)
    assert math.isclose(report["w"].autograd, right_w(0.3, -0.2))


@pytest.mark.parametrize("scale,k_words", [
    (0.5, "the 2 of a square"),          # forgot the 2 of d(u²)
    (2.0, "a dropped ½"),
    (len(X), "a missing 1/n"),           # a sum where U takes a mean
    (1 / len(X), "a spurious 1/n"),
    (-1.0, "sign is flipped"),
])
def test_constant_factors_are_named(scale, k_words):
    report = verify(mse_loss, {"w": lambda w, b: scale * right_w(w, b)}, at={"w": 0.3, "b": -0.2}, n=len(X))
    v = report["w"]
    assert not v.ok and v.kind == "factor" and math.isclose(v.factor, scale, rel_tol=1e-9), str(report)
    assert k_words in v.diagnosis, v.diagnosis


def test_a_factor_must_hold_at_every_point_checked():
    # right at the given point only: a "constant factor" must not be claimed from one lucky point
    def lucky(w, b):
        return right_w(w, b) * (1.0 if (w, b) == (0.3, -0.2) else 1.7 + w)
    v = verify(mse_loss, {"w": lucky}, at={"w": 0.3, "b": -0.2})["w"]
    assert v.kind == "wrong" and "random point" in v.diagnosis, v.diagnosis


def test_plainly_wrong_names_the_worst_element_and_both_numbers():
    W = np.array([[0.2, -0.4], [0.1, 0.3]])

    def loss(W):
        return (W[0][0] * W[1][1] + W[0][1] ** 2 + W[1][0]).tanh()

    def hand(W):
        t = np.tanh(W[0, 0] * W[1, 1] + W[0, 1] ** 2 + W[1, 0])
        g = (1 - t * t) * np.array([[W[1, 1], 2 * W[0, 1]], [1.0, W[0, 0]]])
        g[0, 1] = (1 - t * t) * W[0, 1]          # a mistake in one element: dropped the 2
        return g

    v = verify(loss, {"W": hand}, at={"W": W})["W"]
    assert not v.ok and v.kind == "wrong" and "element [0][1]" in v.diagnosis, v.diagnosis
    p, e, a, h = v.worst
    assert e == 1 and math.isclose(h, a / 2, rel_tol=1e-9)


def test_a_relu_kink_is_recognised():
    def loss(w):
        return (w * 2.0).relu()
    for sub in (1.0, 0.0, 2.0):   # at w = 0 every value in [0, 2] is a subgradient
        v = verify(loss, {"w": lambda w, s=sub: 2.0 if w > 0 else (s if w == 0 else 0.0)}, at={"w": 0.0}, nearby=0)["w"]
        assert v.kind in ("kink", "match"), v.diagnosis
        assert v.ok
    v = verify(loss, {"w": lambda w: 5.0 if w == 0 else (2.0 if w > 0 else 0.0)}, at={"w": 0.0}, nearby=0)["w"]
    assert v.kind == "kink" and not v.ok and "is not" in v.diagnosis, v.diagnosis


def test_every_document_formula_gets_its_expected_verdict():
    for formula, report in check_documents():
        kinds = {v.kind for v in report}
        got = "match" if kinds == {"match"} else "factor" if "factor" in kinds else "wrong"
        assert got == formula.expect, f"{formula.document} {formula.formula}: {got}\n{report}"
    assert len(FORMULAS) >= 20


def test_report_renders_as_text_and_html():
    report = verify(mse_loss, {"w": right_w, "b": lambda w, b: 2 * right_b(w, b)}, at=[{"w": 0.3, "b": -0.2}, {"w": 1.0, "b": 0.0}])
    text = str(report)
    assert "argument" in text and "MISMATCH" in text and "checked at 10 point(s)" in text
    assert "<table" in report._repr_html_() and not report.ok


def test_bad_calls_are_explained():
    with pytest.raises(KeyError, match="no value for it"):
        verify(mse_loss, {"v": right_w}, at={"w": 0.3, "b": 0.1})
    with pytest.raises(ValueError, match=r"gives shape \(3,\), but W has shape \(2,\)"):
        verify(lambda W: W[0] * W[1], {"W": lambda W: np.zeros(3)}, at={"W": np.array([1.0, 2.0])})


def test_symbolic_proved_refuted_and_consistent():
    x, w = sp.symbols("x w")
    L = (w * x - 1) ** 2
    report = verify(L, {"w": 2 * x * (w * x - 1)})
    assert report["w"].kind == "proved" and report.ok
    bad = verify(L, {w: x * (w * x - 1)})
    assert bad["w"].kind == "refuted" and not bad.ok
    point, a, h = bad["w"].worst
    assert math.isclose(h, a / 2), "the counter-example's numbers are ∂L/∂w and half of it"
    slow = verify(sp.sin(w) ** 2, {"w": sp.sin(2 * w)}, timeout=1e-6)   # no time to prove
    assert slow["w"].kind == "numerically consistent" and slow.ok


def test_gradcheck_passes_a_custom_loss_and_reports_each_element():
    report = gradcheck(lambda w, b: ((w[0] * 1.5 + w[1] * -0.5 + b).sigmoid() - 0.3) ** 2, np.array([0.2, -0.7]), 0.1)
    assert report.ok and len(report.rows) == 3 and "all elements agree" in str(report)


def test_gradcheck_catches_a_broken_rule(monkeypatch):
    broken = (lambda a, ans: ans,)      # "σ'(a) = σ(a)": a deliberately wrong rule
    monkeypatch.setattr(ops.SIGMOID, "d", broken)
    report = gradcheck(lambda w: (w * 2.0).sigmoid(), 0.3)
    assert not report.ok and "MISMATCH" in str(report)


def test_name_factor_guesses_sample_counts():
    assert "7" in name_factor(7.0) and "mean" in name_factor(7.0)
    assert name_factor(3.3) == "a constant factor"


# --- formulas in the user's notation, and naming the mistake ------------------------------------------
# Small nets that are not the documents': tanh layers, a product with data, a parameter used twice.

XS = 0.7          # one input
TS = 0.2          # its target


def tanh_chain(u1, u2):
    # g1 = u1·x, h1 = tanh(g1), g2 = u2·h1, h2 = tanh(g2), L = (h2 − t)²
    g1 = u1 * XS
    g1.label = "g1"
    h1 = g1.tanh()
    h1.label = "h1"
    g2 = u2 * h1
    g2.label = "g2"
    h2 = g2.tanh()
    h2.label = "h2"
    return (h2 - TS) ** 2


AT = {"u1": 0.9, "u2": -1.3}
# by hand: ∂L/∂u1 = 2(h2 − t)·(1 − h2²)·u2·(1 − h1²)·x
RIGHT_U1 = "2 * (h2 - t) * (1 - h2**2) * u2 * (1 - h1**2) * x"
DATA = {"x": XS, "t": TS}


def _one(loss, formula, at, name, **kw):
    return verify(loss, {name: formula}, at=at, **kw)[name]


def test_a_correct_string_formula_matches_and_is_never_explained():
    for text in (RIGHT_U1, r"2(h_2 - t)(1 - h_2^2) u_2 (1 - h_1^2) x"):
        v = _one(tanh_chain, text, AT, "u1", data=DATA)
        assert v.ok and v.kind == "match" and v.explanations == [], v.diagnosis


def test_string_and_latex_and_callable_agree():
    latex = r"2\left(h_2 - t\right)\left(1 - \tanh^2 g_2\right) \cdot u_2 \cdot (1 - h_1^2) \cdot x"
    latex = latex.replace(r"\tanh^2 g_2", r"\tanh(g_2)^2")
    vs = [_one(tanh_chain, f, AT, "u1", data=DATA) for f in
          (RIGHT_U1, latex, lambda h2, t, u2, h1, x: 2 * (h2 - t) * (1 - h2 ** 2) * u2 * (1 - h1 ** 2) * x)]
    assert all(v.ok for v in vs), [v.diagnosis for v in vs]
    assert vs[0].hand == pytest.approx(vs[1].hand, rel=1e-12) == pytest.approx(vs[2].hand, rel=1e-12)


def test_a_forgotten_local_derivative_is_named():
    v = _one(tanh_chain, "2 * (h2 - t) * (1 - h2**2) * u2 * x", AT, "u1", data=DATA)   # no (1 − h1²)
    e = v.explanation
    assert not v.ok and e.kind == "forgotten derivative" and e.factor is None, v.diagnosis
    assert e.nodes == ("h1", "g1") and "∂h1/∂g1 = 1 − tanh²(g1)" in e.text, e.text


def test_a_local_derivative_at_the_wrong_node_is_named():
    v = _one(tanh_chain, "2 * (h2 - t) * (1 - h2**2) * u2 * (1 - h2**2) * x", AT, "u1", data=DATA)
    e = v.explanation
    assert e.kind == "wrong node" and e.nodes == ("h1", "g1", "g2"), v.diagnosis
    assert "tanh'(g2) where tanh'(g1) belongs" in e.text and "wrong layer" in e.text, e.text


def test_the_wrong_factor_of_a_product_is_named():
    def loss(k):                      # L = exp(k·s) for data s = 1.5: ∂L/∂k = exp(k s)·s
        p = k * 1.5
        p.label = "p"
        out = p.exp()
        out.label = "E"
        return out
    v = _one(loss, "E * k", {"k": 0.4}, "k")          # ∂(k·s)/∂k taken as k
    e = v.explanation
    assert e.kind == "wrong factor" and e.nodes == ("p", "k"), v.diagnosis
    assert "∂(k·1.5)/∂k taken as k instead of 1.5" in e.text, e.text


def test_a_missing_path_is_named():
    def loss(w):                      # s = w·x + w², L = (s − t)²: w reaches s through 2 nodes
        s = w * XS + w ** 2
        s.label = "s"
        return (s - TS) ** 2
    v = _one(loss, "2 * (s - t) * x", {"w": 0.3}, "w", data=DATA)     # the w² path left out
    e = v.explanation
    assert e.kind == "missing path" and e.nodes[0] == "w", v.diagnosis
    assert "w reaches the loss through 2 nodes" in e.text and e.nodes[1] in ("w^2", "w²"), e.text


def test_a_structural_mistake_combined_with_a_constant_factor():
    # the (1 − h1²) forgotten AND the 2 of the square left out: ½ × the forgotten-derivative pass
    v = _one(tanh_chain, "(h2 - t) * (1 - h2**2) * u2 * x", AT, "u1", data=DATA)
    e = v.explanation
    assert e.kind == "forgotten derivative" and e.factor == pytest.approx(0.5), v.diagnosis
    assert "2 of a square" in e.text, e.text


def test_one_element_with_a_flipped_sign():
    W0 = np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.6]])
    xv = np.array([1.0, -2.0])

    def loss(W):                      # z = W x (labelled z[0..2]), L = ½ Σ zⱼ²; ∂L/∂W = z xᵀ
        total = 0.0
        for j in range(3):
            z = W[j][0] * xv[0] + W[j][1] * xv[1]
            z.label = f"z[{j}]"
            total = z * z * 0.5 + total
        return total

    right = verify(loss, {"W": "outer(z, x)"}, at={"W": W0}, data={"x": xv})["W"]
    assert right.ok, right.diagnosis

    def flipped(z, x):
        g = np.outer(z, x)
        g[1, 0] = -g[1, 0]
        return g
    v = verify(loss, {"W": flipped}, at={"W": W0}, data={"x": xv})["W"]
    e = v.explanation
    assert e.kind == "element factor" and e.factor == {"[1][0]": pytest.approx(-1.0)}, v.diagnosis
    assert "element [1][0]: sign flipped; the other elements agree" in e.text, e.text

    # the transpose, written as outer(x, z): shape (2, 3) where W is (3, 2)
    t = verify(loss, {"W": "outer(x, z)"}, at={"W": W0}, data={"x": xv})["W"]
    assert not t.ok and t.explanation.kind == "transpose" and "transpose" in t.diagnosis, t.diagnosis


def test_a_square_transpose():
    W0 = np.array([[0.3, -0.2], [0.5, 0.1]])
    xv = np.array([1.0, -2.0])

    def loss(W):
        total = 0.0
        for j in range(2):
            z = W[j][0] * xv[0] + W[j][1] * xv[1]
            z.label = f"z[{j}]"
            total = z * z * 0.5 + total
        return total
    v = verify(loss, {"W": "outer(x, z)"}, at={"W": W0}, data={"x": xv})["W"]
    kinds = [e.kind for e in v.explanations]
    assert not v.ok and "transpose" in kinds, v.diagnosis


def test_a_garbled_formula_gets_no_single_mistake_with_both_numbers():
    v = _one(tanh_chain, "(h2 - t) * x * x * u1 + h1", AT, "u1", data=DATA)
    assert not v.ok and v.explanations == [] and "no single mistake explains it" in v.diagnosis, v.diagnosis
    p, e, a, h = v.worst
    assert f"{a:.6g}" in v.diagnosis and f"{h:.6g}" in v.diagnosis


def test_a_per_sample_formula_on_a_batch_names_the_missing_one_over_m():
    xb = np.array([0.5, -1.0, 2.0, 1.5, 0.2])
    yb = np.array([1.0, 0.0, 3.0, 2.0, 0.4])

    def loss(a, c):                   # J = 1/(2m) Σ (a xᵢ + c − yᵢ)², r = a x + c − y labelled
        r = a * xb + c - yb
        r.label = "r"
        return (r * r).mean() * 0.5
    report = verify(loss, {"a": r"\sum_{i=1}^{m} r_i x_i", "c": "r"}, at={"a": 0.3, "c": 0.1},
                    data={"x": xb, "y": yb})
    for name in "ac":
        v = report[name]
        assert v.kind == "factor" and v.factor == pytest.approx(5.0), v.diagnosis
        assert "a missing 1/m" in v.diagnosis, v.diagnosis
    fixed = verify(loss, {"a": r"\frac{1}{m}\sum_{i=1}^{m} r_i x_i", "c": "mean(r)"}, at={"a": 0.3, "c": 0.1},
                   data={"x": xb, "y": yb})
    assert fixed.ok, str(fixed)


def test_names_resolve_and_bad_names_list_what_exists():
    with pytest.raises(FormulaError, match=r"unknown name 'h3'.*names that exist: .*g1, g2, h1, h2.*u1, u2, x"):
        verify(tanh_chain, {"u1": "h3 * x"}, at=AT, data=DATA)
    with pytest.raises(TypeError, match=r"asks for 'y_hat'.*names that exist: .*h1"):
        verify(tanh_chain, {"u1": lambda y_hat: y_hat}, at=AT, data=DATA)
    with pytest.raises(TypeError, match=r"\*args"):
        verify(tanh_chain, {"u1": lambda *a: 0.0}, at=AT)
    with pytest.raises(FormulaError, match="column 9: unexpected the end of the formula; expected a name"):
        verify(tanh_chain, {"u1": "h2 - t +"}, at=AT, data=DATA)
    # a callable may take only the names it needs (here: one parameter and one labelled node)
    assert verify(tanh_chain, {"u2": lambda h2, h1: 2 * (h2 - TS) * (1 - h2 ** 2) * h1}, at=AT)["u2"].ok


def test_kink_reports_left_and_right_in_order_and_accepts_either_slope():
    def loss(w):                      # −relu(2w): left slope 0, right slope −2 at w = 0
        return -((w * 2.0).relu())
    for sub in (0.0, -2.0, -1.0):
        v = verify(loss, {"w": lambda w, s=sub: s if w == 0 else (-2.0 if w > 0 else 0.0)}, at={"w": 0.0},
                   nearby=0)["w"]
        assert v.ok and v.kind in ("kink", "match"), v.diagnosis
    v = verify(loss, {"w": lambda w: 1.0}, at={"w": 0.0}, nearby=0)["w"]
    assert v.kind == "kink" and not v.ok, v.diagnosis
    assert "left slope 0, right slope -2" in v.diagnosis, v.diagnosis


def test_nearby_points_stay_in_the_domain():
    # √w at w = 0.01: a random step of ±0.1 would leave the domain; checked points stay inside
    checked = verify(lambda w: w ** 0.5, {"w": "0.5 / w ** 0.5"}, at={"w": 0.01})
    assert checked.ok and checked.points == 5, str(checked)
    report = gradcheck(lambda w: w ** 0.5, 1e-6)     # x − h < 0 for the default step: it shrinks
    assert report.ok, str(report)


def test_the_symbolic_path_names_a_factor_of_two():
    x, w = sp.symbols("x w")
    bad = verify((w * x - 1) ** 2, {w: x * (w * x - 1)})["w"]
    assert bad.kind == "refuted" and bad.factor == pytest.approx(0.5), bad.diagnosis
    assert "the 2 of a square" in bad.diagnosis and bad.explanation.kind == "factor"
    worse = verify((w * x - 1) ** 2, {w: x * w})["w"]
    assert worse.kind == "refuted" and worse.explanations == [], worse.diagnosis


def test_document_explanations():
    found = {}
    for formula, report in check_documents():
        for v in report:
            found.setdefault((formula.document, v.name, formula.expect), []).append(v)
        for kind in formula.explains:
            kinds = [e.kind for v in report for e in v.explanations]
            assert kind in kinds, f"{formula.formula}: {kind} expected, got {report}"
    b1 = [v for v in found[("002", "beta1", "wrong")] if v.explanation is not None]
    assert b1 and b1[0].explanation.kind == "wrong factor" and b1[0].explanation.factor == pytest.approx(10.0)
    assert "taken as β1 instead of x" in b1[0].diagnosis and "a missing 1/n" in b1[0].diagnosis
    d = [v for v in found[("001", "b2", "wrong")] if v.explanation is not None]
    assert d and "σ'(z3) where σ'(z2) belongs" in d[0].diagnosis
    m = found[("000", "w2", "factor")]
    assert all("a missing 1/m" in v.diagnosis for v in m), [v.diagnosis for v in m]


def test_a_mistake_on_every_element_of_a_layer_is_one_mistake():
    # a 2 → 2 → 2 tanh net, C = Σ (h2 − t)²; layers labelled z1[j], h1[j], z2[j], h2[j]
    xv, tv = np.array([0.5, -0.8]), np.array([0.1, 0.4])

    def loss(W1, W2):
        h1 = []
        for j in range(2):
            z = W1[j][0] * xv[0] + W1[j][1] * xv[1]
            z.label = f"z1[{j}]"
            h1.append(z.tanh())
            h1[-1].label = f"h1[{j}]"
        total = 0.0
        for j in range(2):
            z = W2[j][0] * h1[0] + W2[j][1] * h1[1]
            z.label = f"z2[{j}]"
            h = z.tanh()
            h.label = f"h2[{j}]"
            total = (h - tv[j]) ** 2 + total
        return total
    at = {"W1": np.array([[0.4, -0.3], [0.8, 0.2]]), "W2": np.array([[-0.6, 0.9], [0.3, 0.5]])}
    d2 = r"(2(h_2 - t) \odot (1 - h_2^2))"
    right = verify(loss, {"W1": r"((W_2)^T " + d2 + r") \odot (1 - h_1^2) \, x^T"}, at=at, data={"x": xv, "t": tv})
    assert right.ok, str(right)
    # tanh' taken at z2 instead of z1, on both elements
    v = verify(loss, {"W1": r"((W_2)^T " + d2 + r") \odot (1 - h_2^2) \, x^T"}, at=at, data={"x": xv, "t": tv})["W1"]
    e = v.explanation
    assert e is not None and e.kind == "wrong node" and e.nodes == ("h1", "z1", "z2"), v.diagnosis
    assert "on every element" in e.text and "wrong layer" in e.text, e.text


def test_an_explanation_must_hold_at_every_point_checked():
    # the forgotten-derivative value at the given point only, something else nearby: no explanation
    def lucky(h2, t, u2, x, u1):
        forgot = 2 * (h2 - t) * (1 - h2 ** 2) * u2 * x
        return forgot if u1 == AT["u1"] else forgot * 1.3
    v = _one(tanh_chain, lucky, AT, "u1", data=DATA)
    assert v.explanations == [] and "no single mistake" in v.diagnosis, v.diagnosis


def test_the_module_examples_run():
    import doctest

    import microreg.check
    import microreg.notation
    for module in (microreg.check, microreg.notation):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, f"{module.__name__}: {result}"


def test_partials_in_a_formula_are_computed_by_autograd():
    # a chain-rule step written as a product of partials: checked as that product
    chain = r"\frac{\partial L}{\partial g_2} \cdot \frac{\partial g_2}{\partial h_1} \cdot (1 - h_1^2) \cdot x"
    assert _one(tanh_chain, chain, AT, "u1", data=DATA).ok
    v = _one(tanh_chain, r"\frac{\partial L}{\partial h_2} \cdot h_1", AT, "u2", data=DATA)   # ∂h2/∂z2 missing
    assert v.explanation.kind == "forgotten derivative" and v.explanation.nodes == ("h2", "g2"), v.diagnosis
    with pytest.raises(FormulaError, match=r"no node is named 'q'; names that exist: g1, g2, h1, h2"):
        _one(tanh_chain, r"\frac{\partial L}{\partial q}", AT, "u1", data=DATA)


def test_explanations_that_fit_equally_are_all_listed_simplest_first():
    # the same quantity computed twice: a = tanh(w·x), b = tanh(w·x), L = (a + b − t)². Leaving out
    # tanh' on either branch gives the same numbers (a = b), so both explanations are listed.
    def loss(w):
        a = (w * XS).tanh()
        a.label = "a"
        b = (w * XS).tanh()
        b.label = "b"
        return (a + b - TS) ** 2
    v = _one(loss, "2 * (a + b - t) * (x + (1 - b**2) * x)", {"w": 0.3}, "w", data=DATA)
    assert [e.kind for e in v.explanations] == ["forgotten derivative"] * 2, v.diagnosis
    assert {e.nodes[0] for e in v.explanations} == {"a", "b"} and "; or: " in v.diagnosis, v.diagnosis


@settings(max_examples=15, deadline=None)
@given(u1=st.floats(-2, 2), u2=st.floats(-2, 2), x=st.floats(-2, 2), t=st.floats(-1, 1))
def test_a_correct_formula_is_never_explained_anywhere(u1, u2, x, t):
    def loss(u1, u2):
        g1 = u1 * x
        g1.label = "g1"
        h1 = g1.tanh()
        h1.label = "h1"
        h2 = (u2 * h1).tanh()
        h2.label = "h2"
        return (h2 - t) ** 2
    report = verify(loss, {"u1": RIGHT_U1, "u2": r"2(h_2 - t)(1 - h_2^2) h_1"}, at={"u1": u1, "u2": u2},
                    data={"x": x, "t": t}, atol=1e-9)
    assert report.ok and all(v.explanations == [] for v in report), str(report)


def test_the_documents_corrected_formulas_get_no_explanation():
    for formula, report in check_documents():
        if formula.expect == "match":
            assert report.ok and all(v.explanations == [] for v in report), f"{formula.formula}\n{report}"


def test_labels_with_two_indices_gather_into_a_matrix():
    # P[j][k] = w·c[j][k] labelled; L = Σ P²/2, so ∂L/∂w = Σ P[j][k]·c[j][k] = Σ (P ⊙ c)
    c = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])

    def loss(w):
        total = 0.0
        for j in range(2):
            for k in range(3):
                p = w * float(c[j, k])
                p.label = f"P[{j}][{k}]"
                total = p * p * 0.5 + total
        return total
    v = verify(loss, {"w": "sum(P ⊙ c)"}, at={"w": 0.7}, data={"c": c})["w"]
    assert v.ok, v.diagnosis
    # P gathers to the 2 × 3 matrix: P ⊙ c ≠ Pᵀ-shaped, so a transposed reading fails loudly
    with pytest.raises(FormulaError, match=r"shapes \(2, 3\) and \(3, 2\)"):
        verify(loss, {"w": "sum(P ⊙ c.T)"}, at={"w": 0.7}, data={"c": c})


# --- labels are read as a formula reads names; a misspelt function is named as one ------------------

def _one_unit_net(y_label, z_label, a_label):
    # z1 = w1·x + b1, a1 = σ(z1), ŷ = w2·a1 + b2, L = ½(ŷ − y)², x = 1.5, y = 0.2:
    # ∂L/∂w1 = (ŷ − y)·w2·σ'(z1)·x and ∂L/∂w2 = (ŷ − y)·a1 (worked out by hand)
    def loss(w1, b1, w2, b2):
        z1 = w1 * 1.5 + b1
        z1.label = z_label
        a1 = z1.sigmoid()
        a1.label = a_label
        y_hat = w2 * a1 + b2
        y_hat.label = y_label
        return 0.5 * (y_hat - 0.2) ** 2
    return loss


NET_AT = {"w1": 0.3, "b1": -0.1, "w2": 0.8, "b2": 0.05}


@pytest.mark.parametrize("labels", [("ŷ", "z₁", "a_1"), (r"\hat{y}", "z_1", "a^{(1)}"), ("y_hat", "z1", "a1")])
@pytest.mark.parametrize("w1, w2", [
    ("(ŷ - y) * w2 * σ'(z1) * x", "(y_hat - y) * a1"),
    (r"(\hat{y} - y)\, w_2 \sigma'(z_1)\, x", r"(\hat{y} - y) a^{(1)}"),
    (r"\frac{\partial L}{\partial z_1} x", r"\frac{\partial L}{\partial \hat{y}} a_1"),
])
def test_node_labels_are_read_like_formula_names(labels, w1, w2):
    loss = _one_unit_net(*labels)
    report = verify(loss, {"w1": w1, "w2": w2}, at=NET_AT, data={"x": 1.5, "y": 0.2})
    assert report.ok, f"labels {labels}:\n{report}"
    # the same names, with x left out of ∂L/∂w1: a real mismatch, not a name error
    wrong = verify(loss, {"w1": w1.replace("x", "1")}, at=NET_AT, data={"x": 1.5, "y": 0.2})
    assert not wrong.ok, f"labels {labels}: x left out should not match:\n{wrong}"


def test_an_unknown_name_lists_the_names_a_formula_can_use():
    loss = _one_unit_net("ŷ", "z₁", "a^{(1)}")
    with pytest.raises(FormulaError) as info:
        verify(loss, {"w1": "(ŷ - y) * w2 * σ'(z1) * q"}, at=NET_AT, data={"x": 1.5, "y": 0.2})
    message = str(info.value)
    assert "unknown name 'q'" in message, message
    listed = message.split("names that exist: ")[1].split(", ")
    for name in ("y_hat", "z1", "a1", "w1", "x", "y"):
        assert name in listed, f"{name} missing from {listed}"
    assert "a^{(1)}" not in listed and "z₁" not in listed, listed


@pytest.mark.parametrize("formula, column", [("sigma_prime(z1)", 1),
                                             ("(y_hat - y) * w2 * sigma_prime(z1) * x", 20),
                                             ("w_2 sigma_prime(z_1) x", 5),
                                             ("dsigmoid(z1)", 1)])
def test_a_misspelt_function_is_named_as_an_unknown_function(formula, column):
    loss = _one_unit_net("y_hat", "z1", "a1")
    with pytest.raises(FormulaError) as info:
        verify(loss, {"w1": formula}, at=NET_AT, data={"x": 1.5, "y": 0.2})
    word = formula[column - 1:].split("(")[0]
    expected = f"unknown function {word!r} at column {column}; functions: "
    assert expected in str(info.value), f"expected {expected!r}, got {info.value}"
    assert "sigmoid_prime" in str(info.value)


def test_a_latex_product_after_a_subscript_still_reads_as_a_product():
    # a_1(1 − a_1) = σ'(z1): read as LaTeX, not as a function called a_1
    loss = _one_unit_net("y_hat", "z1", "a1")
    report = verify(loss, {"w1": "(ŷ - y) w_2 a_1(1 - a_1) x"}, at=NET_AT, data={"x": 1.5, "y": 0.2})
    assert report.ok, str(report)


# --- a factor equal to a data value is a local derivative left out or put in ------------------------

def test_a_forgotten_data_factor_is_named_before_the_constant_factor():
    # x = 1.5 is fixed data, so leaving it out is also "a constant factor 1/1.5": both fit, the
    # forgotten local derivative ∂(w1·x)/∂w1 = x comes first
    loss = _one_unit_net("ŷ", "z1", "a1")
    v = verify(loss, {"w1": "(y_hat - y) * w2 * sigmoid_prime(z1)"}, at=NET_AT, data={"x": 1.5, "y": 0.2})["w1"]
    kinds = [e.kind for e in v.explanations]
    assert kinds[:2] == ["forgotten derivative", "factor"], v.diagnosis
    assert "∂(w1·x)/∂w1 = x" in v.explanations[0].text, v.diagnosis
    assert v.explanations[1].factor == pytest.approx(1 / 1.5, rel=1e-9), v.explanations[1].factor


def test_an_extra_data_factor_is_named():
    loss = _one_unit_net("ŷ", "z1", "a1")
    v = verify(loss, {"b1": "(y_hat - y) * w2 * σ'(z1) * x"}, at=NET_AT, data={"x": 1.5, "y": 0.2})["b1"]
    e = v.explanation
    assert not v.ok and e.kind == "extra derivative" and e.nodes == ("x",), v.diagnosis
    assert "an extra factor x" in e.text and "does not belong in ∂L/∂b1" in e.text, e.text
    assert v.factor == pytest.approx(1.5, rel=1e-9), v.factor


def test_a_data_factor_on_a_tanh_net():
    # g = w·u + c, h = tanh(g), L = (h − t)², u = −2.5 (data): ∂L/∂w = 2(h − t)(1 − h²)·u by hand
    def loss(w, c):
        g = w * -2.5 + c
        g.label = "g"
        h = g.tanh()
        h.label = "h"
        return (h - 0.4) ** 2
    at, data = {"w": 0.2, "c": 0.1}, {"u": -2.5, "t": 0.4}
    right = verify(loss, {"w": "2 * (h - t) * (1 - h**2) * u", "c": "2 * (h - t) * (1 - h**2)"}, at=at, data=data)
    assert right.ok and all(v.explanations == [] for v in right), str(right)
    forgot = verify(loss, {"w": "2 * (h - t) * (1 - h**2)"}, at=at, data=data)["w"]
    assert forgot.explanation.kind == "forgotten derivative" and "= u" in forgot.explanation.text, forgot.diagnosis
    extra = verify(loss, {"c": "2 * (h - t) * (1 - h**2) * u"}, at=at, data=data)["c"]
    assert extra.explanation.kind == "extra derivative" and "an extra factor u" in extra.explanation.text, extra.diagnosis
    # a factor 1.3 that no node has stays a bare constant factor
    odd = verify(loss, {"c": "1.3 * 2 * (h - t) * (1 - h**2)"}, at=at, data=data)["c"]
    assert [e.kind for e in odd.explanations] == ["factor"], odd.diagnosis


def test_a_local_derivative_taken_at_the_ops_output_is_named():
    # σ'(a1) for σ'(z1): σ' evaluated at the sigmoid's output a1 = σ(z1) instead of its input z1
    loss = _one_unit_net("ŷ", "z1", "a1")
    v = verify(loss, {"w1": "(y_hat - y) * w2 * σ'(a1) * x"}, at=NET_AT, data={"x": 1.5, "y": 0.2})["w1"]
    e = v.explanation
    assert e.kind == "wrong node" and e.nodes == ("a1", "z1"), v.diagnosis
    assert "σ'(a1) where σ'(z1) belongs" in e.text, e.text
    # the same slip with tanh, on the tanh chain: tanh'(h1) = 1 − tanh²(h1) where 1 − h1² belongs
    t = _one(tanh_chain, "2 * (h2 - t) * (1 - h2**2) * u2 * (1 - tanh(h1)**2) * x", AT, "u1", data=DATA)
    assert t.explanation.kind == "wrong node" and "tanh'(h1) where tanh'(g1) belongs" in t.explanation.text, \
        t.diagnosis


def test_symbolic_a_missing_term_is_not_ok_because_every_float_point_underflowed():
    # issue 22 item 7: ∂/∂w of (w + 1)^5000·e^(w^50) is 5000(w + 1)^4999·e^(w^50) + 50w^49(w + 1)^5000·e^(w^50);
    # the formula below drops the second term. In floats every point overflowed or underflowed to
    # 0 == 0 and the verdict was "ok". The second term is 1e7 times the first at w = 1.5 (by hand:
    # 50·1.5^49·2.5 / 5000 ≈ 1.1e7), so any point with |w| > 1 refutes it.
    w = sp.Symbol("w")
    loss = (w + 1) ** 5000 * sp.exp(w ** 50)
    wrong = 5000 * (w + 1) ** 4999 * sp.exp(w ** 50)
    report = verify(loss, {w: wrong}, at={"w": 0.3}, timeout=2)
    assert not report.ok and report["w"].kind == "refuted", str(report)


def test_symbolic_points_where_both_sides_are_0_are_no_evidence():
    # d/dw of 0 (w < 3), (w − 3)³ (w ≥ 3) is 3(w − 3)² there; the formula says 6(w − 3)². Every random
    # point lies in [−2, 2], where both are exactly 0: no evidence either way, so not ok (was "ok").
    w = sp.Symbol("w")
    loss = sp.Piecewise((0, w < 3), ((w - 3) ** 3, True))
    report = verify(loss, {w: sp.Piecewise((0, w < 3), (6 * (w - 3) ** 2, True))}, timeout=1)
    assert not report.ok and report["w"].kind == "undecided", str(report)
    assert "both sides exactly 0" in report["w"].diagnosis and "not enough evidence" in str(report)


def test_symbolic_functions_the_math_module_lacks():
    # issue 22 item 19: lambdify(…, "math") had no polygamma: NameError from verify. d/dw w! = Γ(w + 1)·ψ(w + 1)
    w = sp.Symbol("w")
    right = verify(sp.factorial(w), {w: sp.gamma(w + 1) * sp.polygamma(0, w + 1)}, at={"w": 0.3}, timeout=2)
    assert right.ok, str(right)
    wrong = verify(sp.factorial(w), {w: sp.factorial(w)}, at={"w": 0.3}, timeout=2)
    # Γ(1.3)·ψ(1.3), ψ = (ln Γ)′ by a central difference of math.lgamma: 0.897471·(−0.169191) = −0.151845
    expected = math.gamma(1.3) * (math.lgamma(1.3 + 1e-6) - math.lgamma(1.3 - 1e-6)) / 2e-6
    assert not wrong.ok and math.isclose(wrong["w"].autograd, expected, rel_tol=1e-7), str(wrong)
    # a function with no numeric counterpart anywhere: undecided, named, not a NameError
    odd = verify(w * sp.Heaviside(w), {w: sp.Heaviside(w) + 1}, timeout=1)
    assert not odd.ok and odd["w"].kind == "undecided" and "DiracDelta" in odd["w"].diagnosis, str(odd)
