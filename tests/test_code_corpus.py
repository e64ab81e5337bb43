"""The learner-style numpy corpus (tests/code/): its ground truth, checked without microreg, and every
forward of it traced by `microreg.trace`, autograd against finite differences.

For every style, `problems` says how a course or a class would call the learner's code: the point
(the parameters), the cost on plain numbers, and the learner's hand gradients. The truth
(tests/code/truth.py) is then checked with central finite differences of that cost: a correct
version's gradients match them; a planted version's are wrong exactly where the truth says, and
right everywhere else; and each planted file is its style's correct.py with only the recorded
lines changed.
"""

import difflib
import re
import importlib.util
import os
import sys
from dataclasses import dataclass

import numpy as np
import pytest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "code")
sys.path.insert(0, HERE)
from truth import KINDS, PLANTED, STYLES  # noqa: E402

sys.path.remove(HERE)


def load(style, file="correct.py"):
    path = os.path.join(HERE, style, file)
    spec = importlib.util.spec_from_file_location(f"corpus_{style}_{file[:-3]}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Problem:
    """One thing the learner's code computes, and how to call it."""
    prefix: str          # gradient names are prefix + parameter ("affine.x"), or the parameter ("W1")
    params: dict         # the point: name → float or array
    cost: object         # params → the learner's cost, a float, on plain numbers
    grads: object        # params → {parameter: the learner's hand gradient}
    traced: object       # (fn, args, kwargs) for microreg.trace (fn takes the parameters its own way)


def _course_two_layer(m, rng):
    X, Y = rng.normal(size=(2, 5)), (rng.uniform(size=(1, 5)) > 0.5) * 1.0
    params = {"W1": rng.normal(size=(4, 2)), "b1": rng.normal(size=(4, 1)) * 0.1,
              "W2": rng.normal(size=(1, 4)), "b2": rng.normal(size=(1, 1)) * 0.1}

    def cost(p):
        return m.compute_cost(m.forward_propagation(X, p)[0], Y)

    def grads(p):
        _, cache = m.forward_propagation(X, p)
        g = m.backward_propagation(p, cache, X, Y)
        return {k[1:]: v for k, v in g.items()}

    def traced_cost(parameters, X, Y):
        A2, cache = m.forward_propagation(X, parameters)
        return m.compute_cost(A2, Y)
    return [Problem("", params, cost, grads, (traced_cost, (X, Y), {}))]


def _logistic_regression(m, rng):
    X, Y = rng.normal(size=(3, 6)), (rng.uniform(size=(1, 6)) > 0.5) * 1.0
    params = {"w": rng.normal(size=(3, 1)), "b": float(rng.normal())}

    def cost(p):
        return float(m.propagate(p["w"], p["b"], X, Y)[1])

    def grads(p):
        g = m.propagate(p["w"], p["b"], X, Y)[0]
        return {"w": g["dw"], "b": g["db"]}
    return [Problem("", params, cost, grads, (m.propagate, (X, Y), {}))]


def _cs231n_two_layer(m, rng):
    net = m.TwoLayerNet(4, 3, 3, seed=int(rng.integers(1000)))
    for k in net.params:                       # a point away from b = 0 (no unit starts dead)
        net.params[k] = net.params[k] * 5 + rng.normal(size=net.params[k].shape) * 0.3
    X, y, reg = rng.normal(size=(5, 4)), rng.integers(0, 3, size=5), 0.05
    params = dict(net.params)

    def run(p):
        net.params.update(p)
        return net.loss(X, y, reg=reg)

    def cost(p):
        return float(run(p)[0])

    def grads(p):
        return dict(run(p)[1])

    net.params.update(params)
    return [Problem("", params, cost, grads, (net.loss, (X, y), {"reg": reg}))]


def _l_layer(m, rng):
    X, Y = rng.normal(size=(4, 5)), (rng.uniform(size=(1, 5)) > 0.5) * 1.0
    params = {}
    for l, (n_in, n_out) in enumerate([(4, 4), (4, 4), (4, 1)], start=1):
        params[f"W{l}"] = rng.normal(size=(n_out, n_in))
        params[f"b{l}"] = rng.normal(size=(n_out, 1)) * 0.3

    def cost(p):
        return float(m.compute_cost(m.L_model_forward(X, p)[0], Y))

    def grads(p):
        AL, caches = m.L_model_forward(X, p)
        g = m.L_model_backward(AL, Y, caches)
        return {k[1:]: v for k, v in g.items() if k[:2] in ("dW", "db")}

    def traced_cost(X, Y, parameters):
        AL, caches = m.L_model_forward(X, parameters)
        return m.compute_cost(AL, Y)
    return [Problem("", params, cost, grads, (traced_cost, (X, Y), {}))]


def _cs231n_layers(m, rng):
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 3)), rng.normal(size=3)
    dout = rng.normal(size=(5, 3))
    xr, dr = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    scores, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)

    def affine_vjp(x, w, b):                 # Σ out ⊙ dout: its gradient is affine_backward(dout)
        return np.sum(m.affine_forward(x, w, b)[0] * dout)

    def affine_grads(p):
        _, cache = m.affine_forward(p["x"], p["w"], p["b"])
        dx, dw, db = m.affine_backward(dout, cache)
        return {"x": dx, "w": dw, "b": db}

    def relu_vjp(x):
        return np.sum(m.relu_forward(x)[0] * dr)

    def relu_grads(p):
        return {"x": m.relu_backward(dr, m.relu_forward(p["x"])[1])}

    def softmax_cost(x):
        return m.softmax_loss(x, y)[0]

    return [
        Problem("affine.", {"x": x, "w": w, "b": b}, lambda p: float(affine_vjp(**p)), affine_grads,
                (affine_vjp, (), {})),
        Problem("relu.", {"x": xr}, lambda p: float(relu_vjp(**p)), relu_grads, (relu_vjp, (), {})),
        Problem("softmax_loss.", {"x": scores}, lambda p: float(softmax_cost(**p)),
                lambda p: {"x": m.softmax_loss(p["x"], y)[1]}, (softmax_cost, (), {})),
    ]


HARNESS = {"course_two_layer": _course_two_layer, "logistic_regression": _logistic_regression,
           "cs231n_two_layer": _cs231n_two_layer, "l_layer": _l_layer, "cs231n_layers": _cs231n_layers}
POINTS = (0, 1)


def problems(style, file="correct.py", point=0):
    return HARNESS[style](load(style, file), np.random.default_rng(100 * point + len(style)))


def finite_differences(cost, params, h=1e-6):
    """Central differences of ``cost`` at ``params``, one element at a time."""
    out = {}
    for name, value in params.items():
        arr = np.array(value, dtype=np.float64)
        g = np.zeros(arr.shape)
        for idx in np.ndindex(arr.shape):
            up, down = arr.copy(), arr.copy()
            up[idx] += h
            down[idx] -= h
            p_up = {**params, name: up if arr.ndim else float(up)}
            p_down = {**params, name: down if arr.ndim else float(down)}
            g[idx] = (cost(p_up) - cost(p_down)) / (2 * h)
        out[name] = g if arr.ndim else float(g)
    return out


def close(a, b):
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-5, atol=1e-7)


# --- the truth, checked by finite differences -----------------------------------------------------

def test_the_truth_is_well_formed():
    assert set(STYLES) == set(HARNESS)
    assert {p.kind for p in PLANTED} == set(KINDS), f"kinds not planted: {set(KINDS) - {p.kind for p in PLANTED}}"
    assert len({(p.style, p.file) for p in PLANTED}) == len(PLANTED)
    listed = open(os.path.join(HERE, "README.md"), encoding="utf-8").read()
    assert all(f"`{p.file}`" in listed for p in PLANTED), "tests/code/README.md lists every planted file"
    for p in PLANTED:
        assert p.kind in KINDS, p
        assert p.wrong or p.shape, f"{p.file}: a planted mistake must make some gradient wrong"
        assert os.path.exists(os.path.join(HERE, p.style, p.file)), p.file


@pytest.mark.parametrize("p", PLANTED, ids=lambda p: f"{p.style}/{p.file}")
def test_each_planted_file_is_its_correct_file_with_only_the_recorded_lines_changed(p):
    correct = open(os.path.join(HERE, p.style, "correct.py")).read().splitlines()
    planted = open(os.path.join(HERE, p.style, p.file)).read().splitlines()
    removed, added = [], []
    for line in difflib.unified_diff(correct, planted, lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line[0] == "-" else added).append(line[1:].strip())
    assert sorted(removed) == sorted(old for old, _ in p.edits if old is not None), removed
    assert sorted(added) == sorted(new for _, new in p.edits if new is not None), added


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("point", POINTS)
def test_a_correct_version_matches_finite_differences(style, point):
    for problem in problems(style, point=point):
        hand, fd = problem.grads(dict(problem.params)), finite_differences(problem.cost, problem.params)
        for name in problem.params:
            assert np.shape(hand[name]) == np.shape(problem.params[name]), f"{problem.prefix}{name}"
            assert close(hand[name], fd[name]), f"{style}: {problem.prefix}{name}: {hand[name]} vs {fd[name]}"


@pytest.mark.parametrize("p", PLANTED, ids=lambda p: f"{p.style}/{p.file}")
@pytest.mark.parametrize("point", POINTS)
def test_a_planted_version_is_wrong_exactly_where_the_truth_says(p, point):
    seen = set()
    for problem in problems(p.style, p.file, point=point):
        hand, fd = problem.grads(dict(problem.params)), finite_differences(problem.cost, problem.params)
        for name, value in problem.params.items():
            full = problem.prefix + name
            seen.add(full)
            h = np.asarray(hand[name], dtype=float)
            if full in p.shape:
                assert h.shape != np.shape(value), f"{full} should have the wrong shape, has {h.shape}"
                continue
            assert h.shape == np.shape(value), f"{full}: shape {h.shape}, the parameter's is {np.shape(value)}"
            if full in p.wrong:
                assert np.max(np.abs(h - fd[name])) > 1e-3 * max(1.0, np.max(np.abs(fd[name]))), \
                    f"{full} should be wrong: {h} vs {fd[name]}"
            else:
                assert close(h, fd[name]), f"{full} should be right: {h} vs {fd[name]}"
    assert set(p.wrong) | set(p.shape) <= seen, f"the truth names gradients that do not exist: {p}"


# --- every forward, traced: autograd against finite differences ---------------------------------------

def _trace(problem):
    from microreg.trace import trace
    fn, args, kwargs = problem.traced
    owner = getattr(fn, "__self__", None)
    if owner is not None:                                      # net.loss reads net.params in place
        owner.params.update(problem.params)
        return trace(fn, owner.params, *args, **kwargs)
    return trace(fn, problem.params, *args, **kwargs)


@pytest.mark.parametrize("case", [(s, "correct.py") for s in sorted(STYLES)] + [(p.style, p.file) for p in PLANTED],
                         ids=lambda c: f"{c[0]}/{c[1]}")
def test_every_forward_of_the_corpus_traces_and_autograd_matches_finite_differences(case):
    style, file = case
    for problem in problems(style, file):
        fd = finite_differences(problem.cost, problem.params)
        t = _trace(problem)
        assert abs(t.loss.data - problem.cost(dict(problem.params))) < 1e-9
        auto = t.backward()
        for name in problem.params:
            assert close(auto[name], fd[name]), f"{style}/{file}: {problem.prefix}{name}: {auto[name]} vs {fd[name]}"


# --- microreg's verdict on every file of the corpus: caught, and named in the learner's names ------------

def _check_style(m, style, rng):
    """{gradient name: Verdict}: the learner's code checked the way its course calls it."""
    from microreg.backprop import verify_backward, verify_pair
    from microreg.check import verify
    if style == "course_two_layer":
        X, Y = rng.normal(size=(2, 5)), (rng.uniform(size=(1, 5)) > 0.5) * 1.0
        params = {"W1": rng.normal(size=(4, 2)), "b1": rng.normal(size=(4, 1)) * 0.1,
                  "W2": rng.normal(size=(1, 4)), "b2": rng.normal(size=(1, 1)) * 0.1}

        def cost(X, Y, parameters):
            return m.compute_cost(m.forward_propagation(X, parameters)[0], Y)

        def grads(X, Y, parameters):
            _, cache = m.forward_propagation(X, parameters)
            return m.backward_propagation(parameters, cache, X, Y)
        return dict(verify(cost, grads, at=params, args=(X, Y)).verdicts)
    if style == "logistic_regression":
        X, Y = rng.normal(size=(3, 6)), (rng.uniform(size=(1, 6)) > 0.5) * 1.0
        return dict(verify_pair(m.propagate, at={"w": rng.normal(size=(3, 1)), "b": float(rng.normal())},
                                args=(X, Y)).verdicts)
    if style == "cs231n_two_layer":
        net = m.TwoLayerNet(4, 3, 3, seed=int(rng.integers(1000)))
        for k in net.params:
            net.params[k] = net.params[k] * 5 + rng.normal(size=net.params[k].shape) * 0.3
        X, y = rng.normal(size=(5, 4)), rng.integers(0, 3, size=5)
        return dict(verify_pair(net.loss, at=net.params, args=(X, y), kwargs={"reg": 0.05}).verdicts)
    if style == "l_layer":
        X, Y = rng.normal(size=(4, 5)), (rng.uniform(size=(1, 5)) > 0.5) * 1.0
        params = {}
        for l, (n_in, n_out) in enumerate([(4, 4), (4, 4), (4, 1)], start=1):
            params[f"W{l}"] = rng.normal(size=(n_out, n_in))
            params[f"b{l}"] = rng.normal(size=(n_out, 1)) * 0.3

        def cost(X, Y, parameters):
            return m.compute_cost(m.L_model_forward(X, parameters)[0], Y)

        def grads(X, Y, parameters):
            AL, caches = m.L_model_forward(X, parameters)
            return m.L_model_backward(AL, Y, caches)
        return dict(verify(cost, grads, at=params, args=(X, Y)).verdicts)
    if style == "cs231n_layers":
        out = {}
        x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 3)), rng.normal(size=3)
        for k, v in verify_backward(m.affine_forward, m.affine_backward, at=(x, w, b)).verdicts.items():
            out["affine." + k] = v
        for k, v in verify_backward(m.relu_forward, m.relu_backward, at=(rng.normal(size=(4, 3)),)).verdicts.items():
            out["relu." + k] = v
        scores, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
        for k, v in verify_pair(m.softmax_loss, at={"x": scores}, args=(y,)).verdicts.items():
            out["softmax_loss." + k] = v
        return out
    raise AssertionError(style)


def verdicts(style, file="correct.py"):
    return _check_style(load(style, file), style, np.random.default_rng(len(style)))


def _names(text, words):
    """The truth's names a text speaks of (a helper's Z as Z1 or Z2, the layer it is called for)."""
    return [w for w in words if re.search(rf"(?<![\w']){re.escape(w)}\d*(?![\w'])", text)]


def score():
    """(caught, named, total): planted files flagged exactly where the truth says, and of those,
    the ones whose every explanation speaks of one of the truth's names (A1, m, …)."""
    caught = named = 0
    for p in PLANTED:
        got = verdicts(p.style, p.file)
        bad = set(p.wrong) | set(p.shape)
        if all(v.ok == (k not in bad) for k, v in got.items()) and bad <= set(got):
            caught += 1
            if all(_names(got[k].diagnosis, p.words) for k in bad):
                named += 1
    return caught, named, len(PLANTED)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_microreg_never_flags_a_correct_version(style):
    got = verdicts(style)
    assert got and all(v.ok for v in got.values()), {k: v.diagnosis for k, v in got.items() if not v.ok}


#: The score on this corpus: it may rise, never fall (raise these when it rises).
CAUGHT, NAMED = 30, 26


def test_the_score_on_the_corpus_never_falls():
    caught, named, total = score()
    assert caught >= CAUGHT and named >= NAMED, f"caught {caught}/{total}, named {named}/{total}"
