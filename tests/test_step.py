"""The stepper: its words against numbers worked out with numpy from document 000's formulas,
exact state restoration, the finite-difference check, and its three front ends."""

import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from microreg import Value
from microreg.derivations import two_layer_forward, two_layer_grads
from microreg.step import Stepper, document_000_example, group


def _doc000():
    loss = document_000_example()
    net_params = {}
    for n in Stepper(loss).order:
        if n.label and n._rule is None:
            net_params[n.label] = n.data
    H = 3
    w1 = np.array([[net_params[f"w1[{j}][0]"]] for j in range(H)])
    b1 = np.array([net_params[f"b1[{j}]"] for j in range(H)])
    w2 = np.array([net_params[f"w2[{j}]"] for j in range(H)])
    return loss, (w1, b1, w2, net_params["b2"])


def test_steps_speak_the_documents_numbers():
    loss, params = _doc000()
    x, y = 0.5, math.sin(0.5)
    f = two_layer_forward(*params, np.array([x]))
    g = two_layer_grads(*params, np.array([x]), y)
    s = Stepper(loss)
    texts = s.transcript()
    residual = f["y_hat"] - y                      # ∂L/∂ŷ = ŷ − y for L = ½(ŷ − y)²
    for j in range(3):
        line = f"∂L/∂w2[{j}] += ∂L/∂ŷ · a1[{j}] = {residual:.4g} × {f['a1'][j]:.4g} = {g['w2'][j]:.4g}"
        assert line in texts, line
    assert f"∂L/∂b2 += ∂L/∂ŷ · 1 = {residual:.4g} × 1 = {g['b2']:.4g}" in texts
    assert "local derivative (rule table): ∂(σ(z1[0]))/∂z1[0] = σ(z1[0])(1 − σ(z1[0]))" in texts
    assert "(ŷ − y) feeds 2 nodes (fan-out): this is contribution 2 of 2" in texts
    for j in range(3):
        final = s.final[id(next(n for n in s.order if n.label == f"w1[{j}][0]"))]
        assert math.isclose(final, g["w1"][j, 0], rel_tol=1e-12), f"w1[{j}][0]: {final} vs {g['w1'][j, 0]}"


def test_prev_next_goto_restore_every_grad_exactly():
    loss, _ = _doc000()
    s = Stepper(loss)
    snapshots = []
    s.goto(0)
    for k in range(len(s)):
        snapshots.append([n.grad for n in s.order])
        s.next()
    assert snapshots[-1] == [s.final[id(n)] for n in s.order], "the last step is backward()'s result"
    for k in range(len(s) - 1, -1, -1):
        s.goto(len(s) - 1)
        for _ in range(len(s) - 1 - k):
            s.prev()
        assert [n.grad for n in s.order] == snapshots[k], f"prev() to step {k}"
    s.goto(7)
    assert [n.grad for n in s.order] == snapshots[7]
    with pytest.raises(IndexError, match="out of range"):
        s.goto(len(s))


def test_backward_and_stepper_agree():
    loss, _ = _doc000()
    s = Stepper(loss)
    s.goto(len(s) - 1)
    stepped = [n.grad for n in s.order]
    for n in s.order:
        n.grad = 0.0
    loss.backward()
    assert stepped == [n.grad for n in s.order]


def test_per_step_finite_difference_check():
    loss, _ = _doc000()
    s = Stepper(loss)
    for k in (1, 5, 12, len(s) - 1):
        s.goto(k)
        c = s.check()
        assert c["ok"], c
        if k == len(s) - 1:
            assert c["finished"]
    fan = next(n for n in s.order if n.label == "ŷ − y")
    s.goto(s.last_touch[id(fan)])            # its first contribution only: not finished yet
    early = s.check(fan)
    assert not early["finished"] and early["ok"] and early["grad"] != early["final"]


def test_group_names():
    assert group("ŷ − y") == "(ŷ − y)" and group("(ŷ − y)²") == "(ŷ − y)²" and group("w1[0][2]") == "w1[0][2]"
    assert group("−y") == "(−y)"


def test_stepper_on_a_batch_graph():
    w = Value(0.5, label="w")
    L = ((w * np.array([1.0, 2.0, 3.0]) - 1.0) ** 2).mean()
    s = Stepper(L)
    s.goto(len(s) - 1)
    assert math.isclose(w.grad, np.mean(2 * (0.5 * np.array([1, 2, 3.0]) - 1) * np.array([1, 2, 3.0])))
    assert "[" in s.text(3)
