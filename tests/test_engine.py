"""The backward walk: chain rule, fan-out, repeated calls, deep graphs, batches, higher order."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from microreg import DivisionByZeroError, MathDomainError, Value, grad, topological_order


def test_worked_example_by_hand():
    # c = a·b + a², a = 2, b = -3:  c = -6 + 4 = -2;  ∂c/∂a = b + 2a = 1;  ∂c/∂b = a = 2
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a ** 2
    c.backward()
    assert (c.data, a.grad, b.grad) == (-2.0, 1.0, 2.0), f"{c.data}, {a.grad}, {b.grad}"


def test_micrograd_readme_example():
    # micrograd's README example; its printed numbers were produced by PyTorch.
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert f"{g.data:.4f}" == "24.7041", g.data
    assert f"{a.grad:.4f}" == "138.8338", a.grad
    assert f"{b.grad:.4f}" == "645.5773", b.grad


def test_micrograd_code_runs_unchanged_and_agrees():
    micrograd = pytest.importorskip("micrograd.engine")

    def expression(V):
        x = V(-4.0)
        z = 2 * x + 2 + x
        q = z.relu() + z * x
        h = (z * z).relu()
        y = h + q + q * x
        y.backward()
        return x, y

    (x1, y1), (x2, y2) = expression(micrograd.Value), expression(Value)
    assert y1.data == y2.data and x1.grad == x2.grad, f"micrograd {y1.data},{x1.grad} vs ours {y2.data},{x2.grad}"
    assert isinstance(x2.grad, float) and x2._op == "" and y2._op == "add"


@pytest.mark.parametrize("build,expected", [
    (lambda x: x * x, 2 * 3.0),          # d(x²)/dx = 2x
    (lambda x: x + x, 2.0),
    (lambda x: (x + x) + (x + x), 4.0),  # b = a + a; c = b + b
    (lambda x: x * x * x, 3 * 3.0 ** 2),
    (lambda x: (x * 2) * (x * 2) + x, 8 * 3.0 + 1),
])
def test_fan_out_and_shared_subexpressions(build, expected):
    x = Value(3.0)
    build(x).backward()
    assert x.grad == expected, f"{x.grad} vs {expected}"


def test_repeated_backward_keeps_intermediate_grads_and_accumulates_leaves():
    x = Value(3.0)
    h = x * x          # intermediate: ∂y/∂h = 1 every time
    y = h + x
    y.backward()
    assert (h.grad, x.grad) == (1.0, 7.0)
    y.backward()
    assert h.grad == 1.0, f"intermediate grad over-counted: {h.grad}"
    assert x.grad == 14.0, f"leaf grads accumulate like PyTorch's: {x.grad}"


def test_grads_are_floats():
    x = Value(2)
    (x * 3).backward()
    assert type(x.data) is float and type(x.grad) is float


def test_child_order_is_kept_and_topological_order_is_deterministic():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = b * a
    assert c._prev == (b, a) and isinstance(c._prev, tuple)
    d = c + a
    names = [n.label for n in topological_order(d)]
    assert names[-1] is None and names.index("a") < names.index(None)
    assert [id(n) for n in topological_order(d)] == [id(n) for n in topological_order(d)]


def test_a_million_node_chain():
    x = Value(0.3)
    v = x
    for _ in range(1_000_000):
        v = v.tanh()
    v.backward()
    expected, t = 1.0, 0.3            # ∂v/∂x = Π (1 − tanh²(t_i)), one factor per link
    for _ in range(1_000_000):
        t = math.tanh(t)
        expected *= 1.0 - t * t
    assert math.isclose(x.grad, expected, rel_tol=1e-9), f"{x.grad} vs {expected}"


def test_fast_paths_equal_the_stepped_path_for_affine_and_batches():
    from microreg import affine
    rng = np.random.default_rng(3)
    for batch in (False, True):
        x = [Value(rng.normal(size=6) if batch else float(rng.normal())) for _ in range(3)]
        w = [Value(float(rng.normal())) for _ in range(3)]
        b = Value(0.1)
        z = affine(w, x, b).sigmoid()
        out = (affine([z, w[0]], [z, x[1]], b) ** 2)
        out = out.mean() if batch else out
        leaves = w + x + [b]
        for _ in out.backward_steps():
            pass
        stepped = [np.copy(v.grad) for v in leaves]
        for v in leaves:
            v.grad = 0.0
        out.backward()
        for s, v in zip(stepped, leaves):
            assert np.array_equal(s, v.grad), f"stepped {s} vs backward {v.grad}"


def test_backward_steps_is_backward():
    x, y = Value(0.7), Value(-1.3)
    z = (x * y).tanh() + (x ** 2).sigmoid() * y.exp() - x / (y * y + 1)
    steps = list(z.backward_steps())
    stepped = (x.grad, y.grad)
    x.grad = y.grad = 0.0
    z.backward()
    assert stepped == (x.grad, y.grad), f"steps {stepped} vs backward {(x.grad, y.grad)}"
    s = steps[0]
    assert s.contribution == s.local * s.upstream and s.k == 0
    assert steps[-1].grad == steps[-1].input.grad


# --- random expressions against sympy ----------------------------------------------------------

SYMBOLS = sp.symbols("x y z")


def _leaf(draw_index):
    return draw_index


@st.composite
def expressions(draw, depth=0):
    """(microreg builder, sympy expression) pairs over x, y, z, kept inside every op's domain."""
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            i = draw(st.integers(0, 2))
            return (lambda vs, i=i: vs[i]), SYMBOLS[i]
        c = draw(st.sampled_from([-2.0, -0.5, 0.5, 1.5, 3.0]))
        return (lambda vs, c=c: c), sp.Float(c)
    kind = draw(st.sampled_from(["add", "sub", "mul", "div", "pow", "vpow", "exp", "log", "tanh", "sigmoid", "neg"]))
    fa, ea = draw(expressions(depth=depth + 1))
    if kind in ("add", "sub", "mul", "div", "vpow"):
        fb, eb = draw(expressions(depth=depth + 1))
    if kind == "add":
        return (lambda v: fa(v) + fb(v)), ea + eb
    if kind == "sub":
        return (lambda v: fa(v) - fb(v)), ea - eb
    if kind == "mul":
        return (lambda v: fa(v) * fb(v)), ea * eb
    if kind == "div":      # a / (b² + 1): never zero
        return (lambda v: fa(v) / (fb(v) * fb(v) + 1)), ea / (eb * eb + 1)
    if kind == "pow":
        k = draw(st.sampled_from([2, 3, -1]))
        if k == -1:
            return (lambda v: (fa(v) * fa(v) + 1) ** k), (ea * ea + 1) ** k
        return (lambda v: fa(v) ** k), ea ** k
    if kind == "vpow":     # (a² + 1)^tanh(b): positive base, tame exponent
        return (lambda v: (fa(v) * fa(v) + 1) ** _tanh(fb(v))), (ea * ea + 1) ** sp.tanh(eb)
    if kind == "exp":      # exp(tanh(a)) stays small
        return (lambda v: _tanh(fa(v)).exp() if isinstance(fa(v), Value) else math.exp(math.tanh(fa(v)))), \
            sp.exp(sp.tanh(ea))
    if kind == "log":
        return (lambda v: _log1p2(fa(v))), sp.log(ea * ea + 1)
    if kind == "tanh":
        return (lambda v: _tanh(fa(v))), sp.tanh(ea)
    if kind == "sigmoid":
        return (lambda v: _sig(fa(v))), 1 / (1 + sp.exp(-ea))
    return (lambda v: -fa(v)), -ea


def _tanh(a):
    return a.tanh() if isinstance(a, Value) else math.tanh(a)


def _sig(a):
    return a.sigmoid() if isinstance(a, Value) else 1 / (1 + math.exp(-a))


def _log1p2(a):
    return (a * a + 1).log() if isinstance(a, Value) else math.log(a * a + 1)


POINT = st.tuples(*[st.floats(-2, 2, allow_nan=False) for _ in range(3)])


def _close(a, b):
    return math.isclose(a, b, rel_tol=1e-8, abs_tol=1e-9)


@given(expressions(), POINT)
def test_random_graphs_match_sympy(expr, point):
    build, sym = expr
    vs = [Value(p) for p in point]
    out = build(vs)
    if not isinstance(out, Value):
        return
    out.backward()
    subs = dict(zip(SYMBOLS, point))
    assert _close(out.data, float(sym.subs(subs))), f"value {out.data} vs sympy {float(sym.subs(subs))} for {sym}"
    for v, s in zip(vs, SYMBOLS):
        exact = float(sp.diff(sym, s).subs(subs))
        assert _close(v.grad, exact), f"∂/∂{s} of {sym}: autograd {v.grad} vs sympy {exact}"


@given(expressions(), POINT)
def test_backward_steps_and_backward_agree_exactly(expr, point):
    build, _ = expr
    vs = [Value(p) for p in point]
    out = build(vs)
    if not isinstance(out, Value):
        return
    for _ in out.backward_steps():
        pass
    stepped = [v.grad for v in vs]
    for v in vs:
        v.grad = 0.0
    out.backward()
    assert stepped == [v.grad for v in vs], f"{stepped} vs {[v.grad for v in vs]}"


@given(expressions(), POINT)
def test_second_derivatives_match_sympy(expr, point):
    build, sym = expr
    vs = [Value(p) for p in point]
    out = build(vs)
    if not isinstance(out, Value):
        return
    first = grad(out, vs, create_graph=True)
    subs = dict(zip(SYMBOLS, point))
    for i, (g, s) in enumerate(zip(first, SYMBOLS)):
        exact1 = float(sp.diff(sym, s).subs(subs))
        g_data = g.data if isinstance(g, Value) else g
        assert _close(g_data, exact1), f"∂/∂{s}: {g_data} vs {exact1}"
        if not isinstance(g, Value):
            continue
        second = grad(g, vs)
        for h, t in zip(second, SYMBOLS):
            exact2 = float(sp.diff(sym, s, t).subs(subs))
            assert math.isclose(h, exact2, rel_tol=1e-7, abs_tol=1e-8), f"∂²/∂{s}∂{t} of {sym}: {h} vs {exact2}"


def test_second_derivative_of_tanh_and_a_hessian():
    x = Value(0.4)
    (g,) = grad(x.tanh(), [x], create_graph=True)
    (h,) = grad(g, [x])
    t = math.tanh(0.4)
    assert math.isclose(h, -2 * t * (1 - t * t)), f"d²tanh/dx² = -2 tanh (1 - tanh²): {h} vs {-2 * t * (1 - t * t)}"
    # L = (w1·w2 - 1)²: H = [[2w2², 4w1w2 - 2], [4w1w2 - 2, 2w1²]] at w1 = 2, w2 = 3 → [[18, 22], [22, 8]]
    w1, w2 = Value(2.0), Value(3.0)
    loss = (w1 * w2 - 1) ** 2
    g1, g2 = grad(loss, [w1, w2], create_graph=True)
    assert grad(g1, [w1, w2]) == [18.0, 22.0] and grad(g2, [w1, w2]) == [22.0, 8.0]
    assert (w1.grad, w2.grad) == (0.0, 0.0), "grad() leaves .grad alone"


def test_backward_create_graph_fills_value_grads():
    x = Value(3.0)
    (x ** 3).backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 27.0     # 3x² = 27
    first = x.grad
    x.grad = 0.0
    first.backward()                                             # d(3x²)/dx = 6x = 18
    assert x.grad == 18.0, x.grad


# --- batches ------------------------------------------------------------------------------------

def test_batch_graph_equals_loop_of_sample_graphs():
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=50), rng.normal(size=50)

    def loss_for(w, b, x, y):
        return ((w * x + b).tanh() - y) ** 2

    w, b = Value(0.7), Value(-0.2)
    loss_for(w, b, Value(xs), Value(ys)).mean().backward()
    batch = (w.grad, b.grad)
    w2, b2 = Value(0.7), Value(-0.2)
    for x, y in zip(xs, ys):
        (loss_for(w2, b2, x, y) * (1 / 50)).backward()
    assert math.isclose(batch[0], w2.grad, rel_tol=1e-12) and math.isclose(batch[1], b2.grad, rel_tol=1e-12), \
        f"batch {batch} vs loop {(w2.grad, b2.grad)}"


def test_values_and_arrays_mix_in_either_order():
    w = Value(2.0)
    arr = np.array([1.0, 2.0, 3.0])
    for out in (w * arr, arr * w, arr + w, w - arr, arr / w):
        assert isinstance(out, Value) and out.data.shape == (3,), type(out)
    (arr * w).sum().backward()
    assert w.grad == 6.0, f"∂Σ(arr·w)/∂w = Σarr = 6, got {w.grad}"


def test_backward_on_a_batch_needs_a_reduction_or_a_gradient():
    x = Value(np.array([1.0, 2.0]))
    y = x * x
    with pytest.raises(ValueError, match="batch of 2 values.*sum"):
        y.backward()
    y.backward(gradient=np.array([1.0, 0.5]))
    assert np.array_equal(x.grad, [2.0, 2.0])


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("make,error,words", [
    (lambda: Value("3"), TypeError, "got str"),
    (lambda: Value(None), TypeError, "NoneType"),
    (lambda: Value(1 + 2j), TypeError, "complex"),
    (lambda: Value(np.ones((2, 2))), ValueError, r"shape \(2, 2\)"),
    (lambda: Value(np.array([], dtype=float)), ValueError, "empty"),
    (lambda: Value(np.ones(3)) + Value(np.ones(4), label="y"), ValueError, "3 samples.*'y' has 4 samples"),
    (lambda: Value(-4.0, label="v") ** 0.5, MathDomainError, r"pow:.*whole-number k.*-4.0.*'v'"),
    (lambda: Value(0.0, label="p").log(), MathDomainError, r"log: log\(a\) needs a > 0; got 0.0 from node 'p'"),
    (lambda: Value(np.array([1.0, 2.0, -3.0]), label="xs").log(), MathDomainError, "-3.0 at sample 2 from node 'xs'"),
    (lambda: Value(1.0, label="n") / Value(0.0, label="d"), DivisionByZeroError, "'n' / node 'd'"),
    (lambda: Value(1.0) / 0, ZeroDivisionError, "divisor is 0.0"),
    (lambda: 1 / Value(np.array([1.0, 0.0])), ZeroDivisionError, "at sample 1"),
    (lambda: Value(-8.0) ** Value(1 / 3), MathDomainError, "whole-number k"),
])
def test_bad_input_is_named(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_no_silent_complex_and_stable_functions():
    assert Value(-1000.0).sigmoid().data == 0.0 and Value(1000.0).sigmoid().data == 1.0
    assert Value(-1e308).tanh().data == -1.0
    assert Value(1000.0).exp().data == math.inf
    assert (Value(-2.0) ** 3).data == -8.0           # a whole-number power of a negative base is fine
    x = Value(-2.0)
    with pytest.raises(MathDomainError, match="no real ln"):
        (x ** Value(2.0)).backward()                 # ∂(a^b)/∂b needs ln(a)
    assert np.isinf(Value(np.array([800.0])).exp().data).all()


def test_sqrt_at_zero_has_infinite_slope_not_an_error():
    x = Value(0.0)
    (x ** 0.5).backward()
    assert x.grad == math.inf
