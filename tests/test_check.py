"""The verifier: every diagnosis against derivations whose right answer is worked out by hand."""

import math

import numpy as np
import pytest
import sympy as sp

from microreg import ops
from microreg.check import check_documents, gradcheck, name_factor, verify
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
    assert "<table>" in report._repr_html_() and not report.ok


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
