"""The stepper: forward values and backward steps against numbers worked out with numpy from
document 000's formulas, constants folded, δ names, layer steps against node steps, the quiz,
isolation from later backward passes, big graphs, and its three front ends."""

import json
import math
import os
import random
import shutil
import subprocess
import sys

import numpy as np
import pytest

from microreg import Value, ops
from microreg.derivations import two_layer_forward, two_layer_grads
from microreg.engine import is_constant, is_data
from microreg.nn import DeepNet, TwoLayerNet, half_mse, mse
from microreg.step import Stepper, document_000_example, group


def _doc000():
    loss = document_000_example()
    params = {n.label: n.data for n in Stepper(loss).order if n.label and n._rule is None}
    H = 3
    w1 = np.array([[params[f"w1[{j}][0]"]] for j in range(H)])
    b1 = np.array([params[f"b1[{j}]"] for j in range(H)])
    w2 = np.array([params[f"w2[{j}]"] for j in range(H)])
    return loss, (w1, b1, w2, params["b2"])


def _n(x):
    """A number as the stepper prints it (4 significant figures, a real minus sign)."""
    return f"{x:.4g}".replace("-", "−")


def test_forward_pass_one_node_at_a_time_with_the_documents_numbers():
    loss, params = _doc000()
    x, y = 0.5, math.sin(0.5)
    f = two_layer_forward(*params, np.array([x]))        # numpy, from document 000's formulas
    s = Stepper(loss)
    forward = [fr for fr in s.steps if fr.phase == "forward"]
    names = [s.names[id(fr.node)] for fr in forward]
    assert names == ["z1[0]", "a1[0]", "z1[1]", "a1[1]", "z1[2]", "a1[2]", "ŷ", "ŷ − y", "(ŷ − y)²", "L"], names
    w1, b1 = params[0][:, 0], params[1]
    for j in range(3):
        fz = forward[2 * j]
        want = f"z1[{j}] = w1[{j}][0]·x + b1[{j}] = {_n(w1[j])}·0.5 + "
        assert fz.formula.text.startswith(want), (fz.formula.text, want)
        assert math.isclose(fz.after, f["z1"][j], rel_tol=1e-12), f"z1[{j}]: {fz.after} vs {f['z1'][j]}"
        assert fz.formula.text.endswith(f"= {_n(f['z1'][j])}")
        fa = forward[2 * j + 1]
        assert fa.formula.text == f"a1[{j}] = σ(z1[{j}]) = σ({_n(f['z1'][j])}) = {_n(f['a1'][j])}"
    assert forward[-1].formula.text.startswith("L = ½·(ŷ − y)² = ½·")
    # before its forward step a node has no value; after it, its value
    k = forward[0].k
    assert s.goto(k - 1 if k else 0).value(forward[0].node) is None or k == 0
    assert s.goto(k).value(forward[0].node) == forward[0].after


def test_phases_in_order_and_forward_false():
    loss, _ = _doc000()
    s = Stepper(loss)
    phases = [f.phase for f in s.steps]
    n_forward = phases.count("forward")
    assert phases == ["forward"] * n_forward + ["seed"] + ["backward"] * (len(s) - n_forward - 1)
    assert n_forward == 10 and s.phase_start("seed") == 10
    t = Stepper(loss, forward=False)
    assert [f.phase for f in t.steps][0] == "seed" and len(t) == len(s) - n_forward
    assert all(v is not None for v in t.state(0)[0]), "without a forward pass every value is known at once"


def test_backward_steps_speak_the_documents_numbers():
    loss, params = _doc000()
    x, y = 0.5, math.sin(0.5)
    f = two_layer_forward(*params, np.array([x]))
    g = two_layer_grads(*params, np.array([x]), y)      # document 000's rules, in numpy
    s = Stepper(loss)
    texts = s.transcript()
    residual = f["y_hat"] - y                            # ∂L/∂ŷ = ŷ − y for L = ½(ŷ − y)²
    for j in range(3):
        line = f"∂L/∂w2[{j}] += δ2 · a1[{j}] = {_n(residual)} × {_n(f['a1'][j])} = {_n(g['w2'][j])}"
        assert line in texts, line
        line = f"∂L/∂w1[{j}][0] += δ1[{j}] · x = {_n(g['z1'][j])} × 0.5 = {_n(g['w1'][j, 0])}"
        assert line in texts, line
        assert f"δ1[{j}] = ∂L/∂z1[{j}] = {_n(g['z1'][j])}" in texts
    assert f"∂L/∂b2 += δ2 = {_n(residual)} × 1 = {_n(g['b2'])}" in texts
    assert "local derivative (rule table): ∂σ(z1[0])/∂z1[0] = σ(z1[0])·(1 − σ(z1[0]))" in texts
    assert "∂L/∂z1[0] += ∂L/∂a1[0] · σ(z1[0])·(1 − σ(z1[0])) = " in texts
    # (ŷ − y)·(ŷ − y): one node reached through two edges
    assert "(ŷ − y) enters (ŷ − y)² 2 times (fan-out): this is contribution 2 of 2" in texts
    for j in range(3):
        final = s.final[id(next(n for n in s.order if n.label == f"w1[{j}][0]"))]
        assert math.isclose(final, g["w1"][j, 0], rel_tol=1e-12), f"w1[{j}][0]: {final} vs {g['w1'][j, 0]}"


CONSTANT_GRAPHS = {
    "half square": lambda a, b: 0.5 * (a - b) ** 2,
    "minus a number": lambda a, b: (a * b - 1.0).tanh(),
    "one minus": lambda a, b: (1 - a) * b,
    "two to the": lambda a, b: 2 ** a + b,
    "divide": lambda a, b: a / 2 + 3 / b,
    "negate": lambda a, b: -a * b * 3,
    "mixed": lambda a, b: ((a - 0.25) * 4 + b / (1 + a.exp())).sigmoid() * 2,
}


@pytest.mark.parametrize("name", sorted(CONSTANT_GRAPHS))
def test_no_default_step_mentions_a_constant(name):
    import re
    a, b = Value(0.7, label="a"), Value(1.3, label="b")
    L = CONSTANT_GRAPHS[name](a, b)
    s = Stepper(L)
    constants = [n for n in s.order if is_constant(n)]
    assert constants, "the graph has constants"
    for f in s.steps:
        assert f.input is None or not is_constant(f.input), f"{name}: step {f.k} steps a constant: {f.text}"
        assert f.target is None or not is_constant(f.target)
        assert not re.search(r"∂L/∂\(?[−\d½¼¾]", f.text), f"{name}: step {f.k} names a constant: {f.text}"
    assert all(id(c) not in {id(n) for n in s.nodes} for c in constants), "constants are not drawn"
    # the grads the stepper shows are backward()'s
    a.grad = b.grad = 0.0
    L.backward()
    assert (s.final[id(a)], s.final[id(b)]) == (a.grad, b.grad)
    # constants=True shows them, with their steps
    t = Stepper(L, constants=True)
    stepped = {id(f.input) for f in t.steps if f.phase == "backward"}
    assert any(id(c) in stepped for c in constants)


def test_sub_and_div_are_one_node_each():
    yhat, y, d = Value(0.3, label="ŷ"), Value(0.5, label="y"), Value(2.0, label="d")
    r = yhat - y
    r.label = "ŷ − y"
    L = r / d
    L.label = "L"
    s = Stepper(L, forward=False)
    back = [f for f in s.steps if f.phase == "backward"]
    assert [s.names[id(f.input)] for f in back] == ["ŷ − y", "d", "ŷ", "y"]
    texts = [f.formula.text for f in back]
    # ∂L/∂(ŷ − y) = 1/d = 0.5; ∂L/∂d = −(ŷ − y)/d² = 0.2/4 = 0.05; ∂/∂ŷ = 0.5·1; ∂/∂y = 0.5·(−1)
    assert texts[0] == "∂L/∂(ŷ − y) += ∂L/∂L · (1/d) = 1 × 0.5 = 0.5", texts[0]
    assert texts[1] == "∂L/∂d += ∂L/∂L · (−(ŷ − y)/d²) = 1 × 0.05 = 0.05", texts[1]
    assert texts[3] == "∂L/∂y += ∂L/∂(ŷ − y) · (−1) = 0.5 × (−1) = −0.5", texts[3]


def test_nn_data_is_never_stepped_and_deltas_are_named():
    net = DeepNet(2, [3, 2, 1], activation="tanh", seed=1)
    L = mse(net([0.4, -0.7]), 0.3)
    s = Stepper(L)
    data = [n for n in s.order if is_data(n)]
    assert sorted(str(n.label) for n in data) == ["x[0]", "x[1]", "y"]
    assert all(f.input is None or not is_data(f.input) for f in s.steps)
    text = s.transcript()
    for l, width in ((1, 3), (2, 2), (3, 1)):
        for j in range(width):
            assert f"δ{l}[{j}] = ∂L/∂z{l}[{j}] = " in text, f"δ{l}[{j}]"
    assert "∂L/∂w1[0][1] += δ1[0] · x[1] = " in text
    assert Stepper(L, constants=True).transcript().count("∂L/∂x[0] +=") == 3


def _node_grads(loss):
    s = Stepper(loss)
    return {s.names[id(n)]: s.final[id(n)] for n in s.order}


@pytest.mark.parametrize("build", ["doc000", "mlp-sigmoid", "mlp-tanh-relu"])
def test_layer_steps_agree_with_node_steps(build):
    if build == "doc000":
        loss = document_000_example()
    elif build == "mlp-sigmoid":
        loss = half_mse(DeepNet(3, [4, 3, 1], activation="sigmoid", seed=2)([0.2, -1.0, 0.5]), 0.7)
    else:
        loss = mse(DeepNet(2, [3, 4, 1], activation="tanh", output_activation="relu", seed=5)([1.5, 0.3]), -0.2)
    nodes = _node_grads(loss)
    s = Stepper(loss, view="layers")
    layers = [f for f in s.steps if f.phase == "layer"]
    assert [f.layer for f in layers] == list(range(len(layers), 0, -1)) and len(layers) >= 2
    for f in layers:
        for j, z in enumerate(f.nodes_z):
            name = s.names[id(z)]
            assert math.isclose(f.delta[j], nodes[name], rel_tol=1e-9, abs_tol=1e-15), \
                f"layer {f.layer}: δ[{j}] {f.delta[j]} vs the node steps' ∂L/∂{name} {nodes[name]}"
    # and every parameter's gradient, set by the layer steps, equals the node steps' one
    s.goto(len(s) - 1)
    for n in s.order:
        if n._rule is None and not is_data(n) and not is_constant(n):
            assert math.isclose(s.grad(n), nodes[s.names[id(n)]], rel_tol=1e-9, abs_tol=1e-15), s.names[id(n)]
    assert "δ1 = (W2ᵀ δ2) ⊙ σ'(z1)" in s.transcript()


def test_layer_steps_match_document_000_in_numpy():
    loss, params = _doc000()
    g = two_layer_grads(*params, np.array([0.5]), math.sin(0.5))
    s = Stepper(loss, view="layers")
    by_layer = {f.layer: f for f in s.steps if f.phase == "layer"}
    assert np.allclose(by_layer[1].delta, g["z1"], rtol=1e-12), (by_layer[1].delta, g["z1"])
    assert np.allclose(by_layer[1].grad_w[:, 0], g["w1"][:, 0], rtol=1e-12)
    assert np.allclose(by_layer[2].grad_w[0], g["w2"], rtol=1e-12)
    with pytest.raises(ValueError, match="needs a loss built by microreg.nn"):
        Stepper(Value(2.0, label="a") * Value(3.0), view="layers")


def test_the_layer_view_computes_a_layer_per_forward_step():
    loss, params = _doc000()
    f = two_layer_forward(*params, np.array([0.5]))
    s = Stepper(loss, view="layers")
    forward = [fr for fr in s.steps if fr.phase == "forward"]
    assert [getattr(fr, "layer", None) for fr in forward] == [1, 2, None, None, None], "two layers, then the loss"
    values = {s.names[id(n)]: after for n, what, _, after in forward[0].updates}
    for j in range(3):
        assert math.isclose(values[f"z1[{j}]"], f["z1"][j], rel_tol=1e-12) and \
            math.isclose(values[f"a1[{j}]"], f["a1"][j], rel_tol=1e-12), j
    assert forward[0].lines[1] == "z1 = W1 a0 + b1 = [" + ", ".join(_n(v) for v in f["z1"]) + "]"
    assert s.phase_start("forward") == 0 and s.phase_start("seed") == 5
    assert all(s.frame(k).phase == "forward" for k in s.quiz().questions[:3]) and \
        all(getattr(s.frame(k), "layer", None) is None for k in s.quiz().questions), "the quiz asks node steps"


def test_goto_matches_a_replay_from_step_0_everywhere():
    net = TwoLayerNet(2, 40, seed=3)
    L = half_mse(net([0.3, -0.2]), 0.1)
    s = Stepper(L)
    assert len(s) > 3 * s.SNAPSHOT_EVERY
    values = [None if n._rule is not None else n.data for n in s.order]
    grads = [0.0] * len(s.order)
    replay = []
    for f in s.steps:              # replay every step's change, in order, from the start
        i = s.index[id(f.target)]
        if f.changes == "value":
            values[i] = f.after
        else:
            grads[i] = f.after
        replay.append((tuple(values), tuple(grads)))
    r = random.Random(0)
    for k in r.sample(range(len(s)), 40) + [0, len(s) - 1]:
        got = s.goto(k).state()
        assert got == replay[k], f"step {k}"
    s.goto(5)
    s.next()
    assert s.position == 6 and s.state() == replay[6]
    s.prev().prev()
    assert s.state() == replay[4]
    with pytest.raises(IndexError, match="out of range"):
        s.goto(len(s))


def test_backward_and_the_stepper_run_the_same_rules(monkeypatch):
    loss, _ = _doc000()
    s = Stepper(loss)
    for n in s.order:
        n.grad = 0.0
    loss.backward()
    assert [s.final[id(n)] for n in s.order] == [n.grad for n in s.order]
    # change the sigmoid's rule in the table: backward() and the stepper both follow it
    monkeypatch.setattr(ops.SIGMOID, "d", (lambda a, ans: 3.0 * ans,))
    for n in s.order:
        n.grad = 0.0
    loss.backward()
    changed = Stepper(loss)
    assert [changed.final[id(n)] for n in changed.order] == [n.grad for n in changed.order]
    w1 = next(n for n in s.order if n.label == "w1[0][0]")
    assert changed.final[id(w1)] != s.final[id(w1)], "the patched rule was used"
    frame = next(f for f in changed.steps if f.phase == "backward" and f.op is ops.SIGMOID)
    a1 = frame.node.data
    assert math.isclose(frame.local, 3.0 * a1), f"the step shows the rule's number: {frame.local} vs {3.0 * a1}"


def test_the_stepper_owns_copies():
    w = Value(np.array([1.0, 2.0, 3.0]), label="w")
    b = Value(0.5, label="b")
    L = ((w * b - 1.0) ** 2).mean()
    L.label = "L"
    s = Stepper(L)
    s.goto(len(s) - 1)
    before = s.state()
    before = ([v.copy() if isinstance(v, np.ndarray) else v for v in before[0]],
              [g.copy() if isinstance(g, np.ndarray) else g for g in before[1]])
    text = s.transcript()
    for _ in range(3):              # later backward passes accumulate into the leaves' arrays in place
        L.backward()
    w.data[0] = 99.0
    b.data = -4.0
    after = s.goto(0).goto(len(s) - 1).state()
    for x, y in zip(before[0] + before[1], after[0] + after[1]):
        assert np.array_equal(x, y), (x, y)
    assert s.transcript() == text


def test_labels_of_any_type_are_shown_with_str():
    a, b = Value(1.5, label=3), Value(2.0, label=("w", 1))
    L = a * b
    s = Stepper(L)
    assert s.names[id(a)] == "3" and s.names[id(b)] == "('w', 1)"
    assert "∂L/∂3 += ∂L/∂L · ('w', 1)" in s.transcript()
    assert json.dumps([f.to_dict() for f in s.steps])


def test_a_1000_node_graph():
    r = random.Random(4)
    x = [Value(r.uniform(-1, 1), label=f"x{i}") for i in range(10)]
    node = x[0]
    nodes = 10
    while nodes < 1000:
        other = x[r.randrange(10)]
        node = r.choice([lambda: (node * other).tanh(), lambda: node + other * 0.5, lambda: (node - other).sigmoid()])()
        nodes += 2
    s = Stepper(node)
    assert len(s.order) >= 1000
    s.goto(len(s) - 1)
    for v in x:
        v.grad = 0.0
    node.backward()
    for v in x:
        assert math.isclose(s.grad(v), v.grad, rel_tol=1e-12, abs_tol=1e-300), f"{v.label}: {s.grad(v)} vs {v.grad}"
    assert s.frame(len(s) // 2).text and s.frame(len(s) - 1).to_dict()["formula"]["mathml"].startswith("<math")


def test_per_step_finite_difference_check():
    loss, _ = _doc000()
    s = Stepper(loss)
    start = s.phase_start("backward")
    for k in (start, start + 4, start + 11, len(s) - 1):
        s.goto(k)
        c = s.check()
        assert c["ok"], c
        if k == len(s) - 1:
            assert c["finished"]
    fan = next(n for n in s.order if n.label == "ŷ − y")
    first = next(f.k for f in s.steps if f.input is fan)
    s.goto(first)                        # its first contribution only: not finished yet
    early = s.check(fan)
    assert not early["finished"] and early["ok"] and early["grad"] != early["final"]


# --- the quiz --------------------------------------------------------------------------------------

def test_quiz_verdicts_and_hints():
    loss, params = _doc000()
    x, y = 0.5, math.sin(0.5)
    f = two_layer_forward(*params, np.array([x]))
    g = two_layer_grads(*params, np.array([x]), y)
    q = Stepper(loss).quiz()
    assert "z1[0] = w1[0][0]·x + b1[0] = ?" in q.question()
    w1, b1 = params[0][0, 0], params[1][0]
    v = q.answer(w1 * 0.5)                      # z1[0] = w1[0][0]·x + b1[0] without the bias
    assert v.kind == "left out bias" and "b1[0]" in v.hint, v
    v = q.answer(f["z1"][0] * 1.001)            # within 0.5 %: right
    assert v.ok and q.score == (0, 1)
    v = q.answer(f["z1"][0])                    # a1[0] = σ(z1[0]): giving z1[0] back
    assert not v.ok and v.kind == "input unchanged" and "σ(z1[0])" in v.hint, v
    v = q.answer(0.9)
    assert v.kind == "wrong" and "σ(z) = 1/(1 + exp(−z))" in v.hint, v
    assert q.answer(round(f["a1"][0], 4)).ok and q.score == (0, 2)
    while q.frame.phase == "forward":
        q.answer(q.frame.answer)
    # backward: ∂L/∂(ŷ − y)² = ½ first; then through the square
    assert q.answer(0.5).ok
    r = f["y_hat"] - y
    # ∂L/∂(ŷ − y) += ∂L/∂(ŷ − y)² · (ŷ − y): upstream 0.5 alone, and the sign flipped
    v = q.answer(0.5)                           # the words and kinds of the one mistake search (verify's)
    assert v.kind == "forgotten derivative" and "you left out ∂(ŷ − y)²/∂(ŷ − y) = ŷ − y" in v.hint, v
    v = q.answer(-0.5 * r)
    assert v.kind == "factor" and "the sign is flipped" in v.hint, v
    v = q.answer(r)
    assert v.kind == "local alone" and "upstream gradient ∂L/∂(ŷ − y)² = 0.5" in v.hint, v
    assert q.answer(0.5 * r).ok
    v = q.answer(0.5 * r)                       # the second contribution alone, not the running sum r
    assert v.kind == "contribution alone" and "fan-out" in v.hint, v
    v = q.answer(123.0)
    assert v.kind == "wrong" and "∂L/∂(ŷ − y) += ∂L/∂(ŷ − y)² · (ŷ − y)" in v.hint, v
    assert q.answer(r).ok
    q.reveal()
    n = len(q.questions)
    while not q.done:
        q.answer(q.frame.answer)
    right, asked = q.score
    assert asked == n and right == n - 5, q.score      # 5 questions needed a second try or were revealed
    assert "Score:" in q.summary()
    with pytest.raises(ValueError, match="over"):
        q.answer(1.0)
    assert not Stepper(loss).quiz().answer("abc").ok


def test_quiz_in_a_terminal():
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    L = w * x
    L.label = "L"
    # a slip: ∂L/∂x answered with ∂(w·x)/∂w = x = 2 instead of w = 0.5
    q = Stepper(L).quiz()
    q.answer(1.0)
    q.answer(2.0)
    v = q.answer(2.0)
    assert v.kind == "wrong factor" and "∂(w·x)/∂x taken as x instead of w" in v.hint, v
    # questions: L = w·x; ∂L/∂w; ∂L/∂x
    replies = iter(["1", "1", "?", "0.5"])
    out = []
    score = Stepper(L).quiz().run(read=lambda prompt: next(replies), write=out.append)
    assert score == (2, 3), (score, out)
    assert any("you left out ∂L/∂w = x (a forgotten local derivative)" in o for o in out), out
    assert any(o.startswith("correct: ∂L/∂x += ∂L/∂L · w = 1 × 0.5 = 0.5") for o in out), out


def test_group_names():
    assert group("ŷ − y") == "(ŷ − y)" and group("(ŷ − y)²") == "(ŷ − y)²" and group("w1[0][2]") == "w1[0][2]"
    assert group("−y") == "(−y)"


def test_stepper_on_a_batch_graph():
    w = Value(0.5, label="w")
    L = ((w * np.array([1.0, 2.0, 3.0]) - 1.0) ** 2).mean()
    s = Stepper(L)
    s.goto(len(s) - 1)
    assert math.isclose(s.grad(w), np.mean(2 * (0.5 * np.array([1, 2, 3.0]) - 1) * np.array([1, 2, 3.0])))
    assert "[" in s.text(3)


def test_html_page_past_the_drawing_limit(tmp_path):
    # 70 hidden units: 358 nodes, past draw_graph's 300; the page used to fail with a KeyError
    s = Stepper(document_000_example(n_hidden=70))
    assert len(s.order) > 300
    page = open(s.to_html(tmp_path / "big.html"), encoding="utf-8").read()
    assert page.count('"text":') == len(s)


def test_frames_as_page_data():
    s = Stepper(document_000_example(), view="layers")
    data = [f.to_dict() for f in s.steps]
    json.dumps(data)
    assert [d["phase"] for d in data].count("layer") == 2
    import xml.etree.ElementTree as ET
    for d in data:
        for key in ("formula", "rule"):
            if d[key]:
                ET.fromstring(d[key]["mathml"])
    nodes = Stepper(document_000_example())
    z = nodes.steps[0].to_dict()
    assert nodes.names[id(nodes.order[z["target"]])] == "z1[0]" and z["changes"] == "value" and z["before"] is None
    b = next(d for d in data if d["phase"] == "backward")
    assert b["lit"]["edges"] == [[b["input"], b["node"]]] and b["lit"]["op"] == b["node"]
    assert b["updates"] == [[b["input"], "grad", b["before"], b["after"]]]
    layer1 = data[-1]
    w = {s.names[id(s.order[i])]: after for i, what, _, after in layer1["updates"] if what == "grad"}
    assert w["w1[0][0]"] == layer1["grad_w"][0][0] and w["z1[2]"] == layer1["delta"][2]


def test_constants_fold_into_the_op_label():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    parts = [0.5 * (a - 1) ** 2, 2 ** b, 3 / a, a / 4, 1 - b, a * b]
    labels = [Stepper(p).op_label(p) for p in parts]
    assert labels == ["×½", "2^", "3 /", "/ 4", "1 −", "×"], labels
    assert Stepper(parts[0]).op_label(parts[0]._prev[1]) == "^2"
    rows = Stepper(parts[0]).node_table()
    assert [r["kind"] for r in rows if not r["shown"]] == ["constant", "constant"]


def test_the_issues_example_and_delta_by_label_pattern():
    from microreg import affine
    w, x, b = Value(0.5, label="w1[0]"), Value(0.8, label="x"), Value(0.1, label="b1[0]")
    z = affine([w], [x], b)
    z.label = "z1[0]"
    a = z.sigmoid()
    a.label = "a1[0]"
    L = (a - 1.0) ** 2
    L.label = "L"
    s = Stepper(L)
    assert s.steps[0].formula.text == "z1[0] = w1[0]·x + b1[0] = 0.5·0.8 + 0.1 = 0.5"   # 0.4 + 0.1
    assert "δ1[0] = ∂L/∂z1[0] = " in s.transcript()
    # a hand-built z = w·x + b (two ops) labelled by the pattern is named δ too
    z2 = w * x + b
    z2.label = "z1"
    L2 = z2.tanh()
    assert "δ1 = ∂L/∂z1 = " in Stepper(L2).transcript()


# --- any graph: the steps add up, the brackets balance, the numbers are backward()'s -------------

from hypothesis import given, strategies as st  # noqa: E402

_LEAVES = ("a", "b", "c")


@st.composite
def _graphs(draw, depth=0):
    """A builder of a random expression over three leaves, with numbers the user writes."""
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            i = draw(st.integers(0, 2))
            return lambda vs: vs[i]
        c = draw(st.sampled_from([-2.0, -0.5, 0.5, 1.5, 3.0]))
        return lambda vs: c
    kind = draw(st.sampled_from(["+", "-", "*", "/", "sq", "neg", "tanh", "sigmoid", "exp", "relu"]))
    f = draw(_graphs(depth=depth + 1))
    if kind in "+-*/":
        g = draw(_graphs(depth=depth + 1))
        return {"+": lambda vs: f(vs) + g(vs), "-": lambda vs: f(vs) - g(vs), "*": lambda vs: f(vs) * g(vs),
                "/": lambda vs: f(vs) / (g(vs) * g(vs) + 1)}[kind]
    if kind == "sq":
        return lambda vs: f(vs) ** 2
    if kind == "neg":
        return lambda vs: -f(vs)

    def apply(vs):
        x = f(vs)
        if not isinstance(x, Value):
            x = Value(x)
        return getattr(x, kind)()
    return apply


@given(_graphs(), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_any_graph_steps_add_up_to_backward(build, point):
    leaves = [Value(p, label=n) for p, n in zip(point, _LEAVES)]
    out = build(leaves)
    if not isinstance(out, Value) or out._rule is None:
        return
    s = Stepper(out)
    for v in leaves:
        v.grad = 0.0
    out.backward()
    for v in leaves:
        if id(v) in s.index:
            assert s.final[id(v)] == v.grad, f"{v.label}: stepper {s.final[id(v)]} vs backward() {v.grad}"
    for f in s.steps:
        for line in f.lines:
            assert line.count("(") == line.count(")") and line.count("[") == line.count("]"), line
        if f.phase == "backward":
            assert not is_constant(f.input)
            want = f.before + f.upstream * f.local
            assert math.isclose(f.after, want, rel_tol=1e-12, abs_tol=1e-300), (f.text, f.after, want)
        if f.phase == "forward":
            assert f.after == f.node.data


def test_a_failing_backward_pass_leaves_the_graph_as_it_was():
    from microreg.engine import MathDomainError
    a, b = Value(-2.0, label="a"), Value(3.0, label="b")
    a.grad, b.grad = 0.25, 0.5
    with pytest.raises(MathDomainError, match="needs a ≥ 0"):   # ∂(a^b)/∂b = a^b·ln(a), a < 0
        Stepper(a ** b)
    assert (a.grad, b.grad) == (0.25, 0.5)


def test_the_docstring_examples_run():
    import doctest

    import microreg.formula
    import microreg.step
    for module in (microreg.step, microreg.formula):
        failed, attempted = doctest.testmod(module)
        assert attempted and not failed, f"{module.__name__}: {failed} of {attempted} examples fail"


# --- one step as a picture: Stepper.graph (the pictures module never imports the stepper) ----------

def test_the_graph_of_one_step():
    """graph(k) draws what the stepper shows then: w·x = 1 computed, tanh not yet; later a grad."""
    from microreg.viz import HIGHLIGHT
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    t = w * x
    t.label = "t"
    L = t.tanh()
    L.label = "L"
    s = Stepper(L)
    early = s.graph(phase="forward", step=0).dot
    assert "{ t | data 1 | grad — }" in early and "{ L | data — | grad — }" in early, early
    assert early.count(HIGHLIGHT) >= 2, "the step's node and op are lit"
    # backward step 1: ∂L/∂t = 1 − tanh²(1) = 0.419974 (worked by hand); w not reached yet
    late = s.graph(phase="backward", step=0).dot
    assert "{ t | data 1 | grad 0.42 }" in late and "{ w | data 0.5 | grad — }" in late, late
    assert "{ w | data 0.5 | grad 0.8399 }" in s.graph(phase="backward").dot   # (1 − tanh²(1))·2 = 0.839949
    assert s.graph(len(s) - 1).dot == s.graph(phase="backward").dot
    with pytest.raises(ValueError, match="phase must be one of"):
        s.graph(phase="sideways")
    with pytest.raises(ValueError, match="out of range"):
        s.graph(phase="forward", step=5)
    assert w.grad == 0.0 and x.grad == 0.0, "drawing a step never touches the nodes"


def test_the_graph_of_a_step_folds_constants_as_the_page_does():
    y_hat, y = Value(0.8, label="ŷ"), Value(0.5, label="y")
    L = 0.5 * (y_hat - y) ** 2
    L.label = "L"
    dot = Stepper(L).graph(phase="forward", step=0).dot
    assert 'label="×½"' in dot and "data 0.5 | grad —" not in dot.replace("{ y | data 0.5 | grad — }", ""), dot
    boxed = Stepper(L, constants=True).graph(phase="forward", step=0).dot
    assert "{ data 0.5 | grad — }" in boxed and "×½" not in boxed, boxed


# --- forward steps read as written; fan-out counted in nodes and edges; one notation per view --------

def test_a_labelled_nodes_forward_step_folds_its_unlabelled_parts():
    w, x, b = Value(0.5, label="w1[0]"), Value(0.8, label="x"), Value(0.1, label="b1[0]")
    z = w * x + b
    z.label = "z1[0]"
    L = (z - 0.3) ** 2
    L.label = "L"
    s = Stepper(L)
    first = s.frame(0)
    # 0.5·0.8 + 0.1 = 0.5, worked by hand; t1 = w1[0]·x = 0.4 is inside the step, not a step of its own
    assert first.formula.text == "z1[0] = w1[0]·x + b1[0] = 0.5·0.8 + 0.1 = 0.5", first.formula.text
    assert "inside it, unlabelled: t1 = w1[0]·x = 0.4" in first.text
    assert [f.phase for f in s.steps].count("forward") == 2           # z1[0], then L = (z1[0] − 0.3)²
    assert s.frame(1).formula.text == "L = (z1[0] − 0.3)² = (0.5 − 0.3)² = 0.04", s.frame(1).formula.text
    values, _ = s.state(0)
    assert values[s.index[id(z._prev[0])]] == pytest.approx(0.4), "the folded node's value is set by the step"
    every = Stepper(L, fold=False)
    assert [f.phase for f in every.steps].count("forward") == 4         # t1, z1[0], t2 = z1[0] − 0.3, L
    assert every.frame(0).formula.text == "t1 = w1[0]·x = 0.5·0.8 = 0.4"
    assert len([f for f in s.steps if f.phase == "backward"]) == len([f for f in every.steps if f.phase == "backward"])
    # a node used twice is not folded (it is read by two steps); the quiz asks with the step's own inputs
    q = Stepper(L).quiz()
    assert "where w1[0] = 0.5, x = 0.8, b1[0] = 0.1" in q.question(), q.question()


def test_fan_out_counts_nodes_and_edges():
    x = Value(3.0, label="x")
    L = x * x + x
    L.label = "L"
    text = Stepper(L).transcript()
    # x·x + x: x reaches 2 nodes (the product and the sum) through 3 edges
    assert "x feeds 2 nodes through 3 edges (fan-out): this is contribution 3 of 3" in text, text
    a = Value(2.0, label="a")
    M = a * 3.0 + a.tanh()
    M.label = "M"
    assert "a feeds 2 nodes (fan-out)" in Stepper(M).transcript()


def test_the_layer_view_has_one_notation_and_the_losss_name():
    s = Stepper(document_000_example(), view="layers")
    layer = [f for f in s.steps if f.phase == "layer"]
    for f in layer + [s.frame(0)]:
        assert "C" not in f.text.replace("C,", ""), f.text           # the loss is L here, not document 001's C
        assert "^{(" not in f.formula.latex and "(W2)" not in f.text, (f.text, f.formula.latex)
    last = layer[-1]
    assert last.formula.text.startswith("δ1 = (W2ᵀ δ2) ⊙ σ'(z1) = "), last.formula.text
    assert r"\delta_{1} = \left(W_{2}^{T} \delta_{2}\right)" in last.formula.latex
    assert "∂L/∂W1 = δ1 a0ᵀ = " in last.text and "∂L/∂b1 = δ1 = " in last.text
