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


# --- issue 14: wrong numbers without an error -------------------------------------------------------

def test_zero_to_the_zero_has_a_zero_base_gradient_in_a_batch_too():
    # d(a^b)/da = b·a^(b−1): at b = 0 it is 0 for every a (a^0 = 1 is constant), also at a = 0;
    # d(a^b)/db = a^b·ln(a) → 0 at a = 0 (its limit). The scalar path and PyTorch both give 0.
    a, b = Value(0.0), Value(0.0)
    (a ** b).backward()
    assert (a.grad, b.grad) == (0.0, 0.0), f"scalar: {a.grad}, {b.grad}"
    a, b = Value(np.array([0.0, 2.0, 0.0])), Value(np.array([0.0, 0.0, 2.0]))
    (a ** b).sum().backward()
    assert np.array_equal(a.grad, [0.0, 0.0, 0.0]), f"batch ∂/∂a: {a.grad} (hand: 0, 0, 2·0^1 = 0)"
    assert np.array_equal(b.grad, [0.0, math.log(2.0), 0.0]), f"batch ∂/∂b: {b.grad} (hand: 0, ln 2, 0)"


@pytest.mark.parametrize("make", [
    lambda one, four: one + four,
    lambda one, four: four * one,
    lambda one, four: one ** four,
    lambda one, four: __import__("microreg").affine([Value(1.0), Value(2.0)], [one, four], 0.0),
])
def test_a_one_sample_batch_is_not_stretched_to_another_length(make):
    one, four = Value(np.array([0.1]), label="one"), Value(np.ones(4), label="four")
    with pytest.raises(ValueError, match=r"'one' has 1 samples.*'four' has 4 samples|'four' has 4.*'one' has 1"):
        make(one, four)


def test_a_loss_against_a_one_sample_target_names_both_lengths():
    from microreg.nn import TwoLayerNet, mse
    net = TwoLayerNet(1, 3, seed=0)
    X = np.linspace(-1, 1, 8).reshape(-1, 1)
    with pytest.raises(ValueError, match=r"8 samples.*1 samples"):
        mse(net(X), np.array([0.1]))


def test_a_list_of_rows_is_a_batch_read_row_by_row():
    from microreg.nn import LinearRegression
    model = LinearRegression(2, seed=0)
    w1, w2 = (p.data for p in model.parameters()[:2])
    b = model.parameters()[-1].data
    out = model([[1.0, 2.0], [3.0, 4.0]])     # two samples (1, 2) and (3, 4), not two features
    expected = [w1 * 1 + w2 * 2 + b, w1 * 3 + w2 * 4 + b]
    assert np.allclose(out.data, expected, rtol=1e-12), f"{out.data} vs row by row {expected}"
    assert np.array_equal(out.data, model(np.array([[1.0, 2.0], [3.0, 4.0]])).data)


def test_backward_gradient_must_match_the_output():
    x = Value(np.array([1.0, 2.0]), label="x")
    y = x * x
    with pytest.raises(ValueError, match=r"2 samples, but the gradient has 3"):
        y.backward(gradient=np.ones(3))
    s = y.sum()
    with pytest.raises(ValueError, match=r"single value, but the gradient is a batch of 2"):
        s.backward(gradient=np.ones(2))
    with pytest.raises(ValueError, match=r"2 samples, but the gradient has 3"):
        grad(y, [x], gradient=np.ones(3))
    assert _is_untouched([x, y, s])


def _is_untouched(nodes):
    return all(isinstance(n.grad, float) and n.grad == 0.0 for n in nodes)


@pytest.mark.parametrize("way", ["backward", "steps", "create_graph"])
def test_a_backward_that_raises_part_way_changes_nothing(way):
    # L = x^y + p·3 with x = −2: the walk reaches p·3 (p.grad += 3) before x^y, whose
    # ∂/∂y = x^y·ln(x) has no real value, so it raises. p and x keep the grads they had.
    x, y, p = Value(-2.0, label="x"), Value(2.0, label="y"), Value(1.5, label="p")
    power = x ** y
    scaled = p * 3.0
    L = power + scaled
    x.grad, y.grad, p.grad, scaled.grad = 0.25, 0.5, 0.75, 7.0
    with pytest.raises(MathDomainError, match="no real ln"):
        if way == "backward":
            L.backward()
        elif way == "steps":
            for _ in L.backward_steps():
                pass
        else:
            L.backward(create_graph=True)
    grads = (x.grad, y.grad, p.grad, scaled.grad)
    assert grads == (0.25, 0.5, 0.75, 7.0), f"grads after the failed backward: {grads}"


@pytest.mark.parametrize("way", ["backward", "steps"])
def test_a_failed_backward_puts_zero_leaf_grads_back_to_zero(way):
    # The undo keeps only grads that were not 0.0: here every grad starts at 0.0 (as after
    # zero_grad()), p·3 gives p.grad = 3 before x^y raises, and p must be back at 0.0.
    x, y, p = Value(-2.0, label="x"), Value(2.0, label="y"), Value(1.5, label="p")
    L = x ** y + p * 3.0
    with pytest.raises(MathDomainError, match="no real ln"):
        if way == "backward":
            L.backward()
        else:
            for _ in L.backward_steps():
                pass
    grads = [n.grad for n in topological_order(L)]
    assert all(g.__class__ is float and g == 0.0 for g in grads), f"grads after the failed backward: {grads}"


def _interrupted_graph():
    # A rule whose local derivative raises KeyboardInterrupt (Ctrl-C mid-walk), reached after
    # x.sum(), p·3 and w·x have added into x, p and w.
    from microreg.engine import _new
    from microreg.ops import Op

    def interrupt(a, ans):
        raise KeyboardInterrupt

    stop = Op("stop", 1, lambda a: a, d=(interrupt,))
    x, w, p = Value(np.array([1.0, 2.0]), label="x"), Value(0.5, label="w"), Value(1.5, label="p")
    halt = _new(Value)
    halt.data, halt.grad, halt.label, halt._prev, halt._rule, halt._mark = 2.0, 0.0, None, (p,), stop, 0
    L = halt + (w * x).sum() + p * 3.0 + x.sum()
    for n in topological_order(L, leaves=False):
        n.grad = 9.0                     # left over from an earlier pass
    kept = np.array([0.25, -0.5])
    x.grad, w.grad = kept, 0.125
    return L, x, w, p, kept


def test_interrupted_backward_steps_change_nothing():
    L, x, w, p, kept = _interrupted_graph()
    with pytest.raises(KeyboardInterrupt):
        for _ in L.backward_steps():
            pass
    assert x.grad is kept and np.array_equal(kept, [0.25, -0.5]), f"x.grad {x.grad}, the kept array {kept}"
    assert (w.grad, p.grad) == (0.125, 0.0), f"w.grad {w.grad} (was 0.125), p.grad {p.grad} (was 0.0)"
    rest = [n.grad for n in topological_order(L, leaves=False)]
    assert rest == [9.0] * len(rest), f"non-leaf grads after: {rest}"


def test_interrupted_backward_keeps_a_leaf_array_the_user_holds():
    # What backward()'s docstring promises for a walk stopped part-way by something other than a
    # rule's domain (as in PyTorch, the grads are left part-way): a leaf's grad array is never
    # changed in place (a reference the user kept still holds the old numbers), and leaf grads
    # hold what the walk added before it stopped: x gets 1 from x.sum() and w = 0.5 from
    # (w·x).sum(); p gets 3 from p·3, and nothing from the stopped node.
    L, x, w, p, kept = _interrupted_graph()
    with pytest.raises(KeyboardInterrupt):
        L.backward()
    assert np.array_equal(kept, [0.25, -0.5]), f"the kept array changed: {kept}"
    assert np.allclose(x.grad, [0.25 + 1 + 0.5, -0.5 + 1 + 0.5]), f"x.grad {x.grad}"
    assert w.grad == 0.125 + 1.0 * 1 + 2.0 * 1 and p.grad == 3.0, f"w.grad {w.grad}, p.grad {p.grad}"


def test_batch_backward_adds_into_its_own_arrays_but_never_into_a_kept_one():
    # x feeds three ops, so its grad receives three contributions; backward adds the second and
    # third into the array it made for the first (in place), but an array from an earlier pass
    # that the user kept must keep its numbers. By hand, L = Σ (x² + 3x + x·w) with w = 2:
    # ∂L/∂x = 2x + 3 + w = [5, 9] at x = [0, 2].
    x = Value(np.array([0.0, 2.0]), label="x")
    w = Value(2.0, label="w")
    L = (x * x + 3.0 * x + x * w).sum()
    L.backward()
    first = x.grad
    assert np.array_equal(first, [5.0, 9.0]), f"x.grad {first}, by hand [5, 9]"
    L.backward()                           # leaf grads accumulate: [10, 18] in a new array
    assert np.array_equal(x.grad, [10.0, 18.0]), f"x.grad {x.grad}, by hand [10, 18]"
    assert np.array_equal(first, [5.0, 9.0]), f"the first pass's array changed: {first}"
    assert x.grad is not first
    inner = [n for n in topological_order(L, leaves=False) if n is not L]
    for n in inner:                        # each non-leaf grad is this pass's, not a running sum
        assert np.array_equal(n.grad, [1.0, 1.0]), f"{n!r}: grad {n.grad}, by hand [1, 1]"


def test_a_failed_batch_backward_restores_batch_grads():
    x = Value(np.array([-2.0, 3.0]), label="x")
    w = Value(0.5, label="w")
    L = (x ** Value(2.0) + w * x).sum()
    x.grad = np.array([1.0, 1.0])
    w.grad = 0.125
    with pytest.raises(MathDomainError, match="at sample 0"):
        L.backward()
    assert np.array_equal(x.grad, [1.0, 1.0]) and w.grad == 0.125, f"{x.grad}, {w.grad}"


def test_grad_in_threads_on_graphs_sharing_a_parameter():
    import sys
    import threading
    w = Value(0.5, label="w")          # shared by every thread's graph
    errors = []

    def work(c):
        for _ in range(200):
            x = Value(c)
            y = (w * x).tanh() * x + w * w   # ∂y/∂w = x²·(1 − tanh²(w·x)) + 2w
            g = grad(y, [w])[0]
            expected = c * c * (1 - math.tanh(0.5 * c) ** 2) + 1.0
            if not math.isclose(g, expected, rel_tol=1e-12):
                errors.append((c, g, expected))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)        # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work, args=(c,)) for c in (1.0, 2.0, 3.0, 4.0)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, f"wrong grads in threads (c, got, expected): {errors[:3]}"
    assert w.grad == 0.0, f"grad() wrote w.grad: {w.grad}"


def test_topological_order_in_threads_on_one_graph_and_backward_on_separate_graphs():
    import sys
    import threading
    v = Value(0.3)
    for i in range(2000):              # long enough for the threads to interleave inside one walk
        v = v.tanh() + v * 0.5 if i % 3 == 0 else v.tanh()
    reference = [id(n) for n in topological_order(v)]
    bad = []

    def orders():
        for _ in range(10):
            if [id(n) for n in topological_order(v)] != reference:
                bad.append("order")

    def separate(c):
        for _ in range(50):
            x = Value(c)
            y = x * x * x                  # ∂y/∂x = 3x²
            y.backward()
            if x.grad != 3 * c * c:
                bad.append((c, x.grad))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=orders) for _ in range(3)]
        threads += [threading.Thread(target=separate, args=(c,)) for c in (1.0, 2.0)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not bad, f"{bad[:3]}"


# --- issue 14: crashes and unclear errors -------------------------------------------------------

@pytest.mark.parametrize("build,dx", [
    (lambda x: x ** 0, 0.0),                    # d(x^0)/dx = 0
    (lambda x: x ** Value(0.0), 0.0),
    (lambda x: x ** Value(2.0), 0.0),           # 2x at 0
    (lambda x: x ** Value(1.0), 1.0),           # x^0 = 1
    (lambda x: x ** 3, 0.0),
])
def test_create_graph_at_zero_gives_what_plain_backward_gives(build, dx):
    x = Value(0.0)
    build(x).backward()
    plain = x.grad
    x.grad = 0.0
    build(x).backward(create_graph=True)
    assert plain == dx and x.grad.data == dx, f"plain {plain}, create_graph {x.grad}, hand {dx}"


def test_second_derivative_through_a_value_exponent_at_zero():
    x, y = Value(0.0), Value(2.0)
    first = grad(x ** y, [x, y], create_graph=True)
    assert (first[0].data, first[1].data) == (0.0, 0.0), f"{first}"   # 2x, x²·ln x → 0
    second = grad(first[0], [x])[0]
    assert second == 2.0, f"d²(x²)/dx² = 2, got {second}"


def test_every_binary_op_works_on_a_subclass():
    class Tracked(Value):
        pass

    a, b = Tracked(2.0, label="a"), Tracked(3.0, label="b")
    # hand values: data, ∂/∂a, ∂/∂b
    cases = [
        (lambda: a + b, 5.0, 1.0, 1.0),
        (lambda: a * b, 6.0, 3.0, 2.0),
        (lambda: a ** b, 8.0, 3 * 4.0, 8.0 * math.log(2.0)),
        (lambda: a / b, 2 / 3, 1 / 3, -2 / 9),
        (lambda: Value(2.0) * b + a, 8.0, 1.0, 2.0),
        (lambda: 1.0 + a * 2.0, 5.0, 2.0, 0.0),
        (lambda: 2.0 ** a, 4.0, 4.0 * math.log(2.0), 0.0),
    ]
    for make, data, da, db in cases:
        a.grad = b.grad = 0.0
        out = make()
        out.backward()
        got = (out.data, a.grad, b.grad)
        assert all(math.isclose(g, e, rel_tol=1e-12, abs_tol=1e-15) for g, e in zip(got, (data, da, db))), \
            f"{got} vs hand {(data, da, db)}"


def _chain(n):
    x = Value(0.3, label="x")
    v = x
    for _ in range(n):
        v = v.tanh()
    return x, v


@pytest.mark.parametrize("copy_it", ["pickle", "deepcopy"])
def test_pickle_and_deepcopy_keep_the_graph_and_its_identity(copy_it):
    import copy
    import pickle
    x, w = Value(np.array([1.0, 2.0]), label="x"), Value(-0.5, label="w")
    y = (w * x + 1.0).tanh() ** 2
    L = (y + w * w).mean()
    L.label = "L"
    dup = (lambda o: pickle.loads(pickle.dumps(o))) if copy_it == "pickle" else copy.deepcopy
    x2, w2, L2 = dup((x, w, L))
    assert L2 is not L and L2.label == "L" and L2.op is L.op and L2.data == L.data
    leaves = {id(n) for n in topological_order(L2) if not n._prev}
    assert id(x2) in leaves and id(w2) in leaves, "the copied x and w are the copied graph's leaves"
    L.backward()
    L2.backward()
    assert np.array_equal(x.grad, x2.grad) and w.grad == w2.grad, f"{x.grad} {x2.grad} {w.grad} {w2.grad}"


@pytest.mark.parametrize("copy_it,n", [("pickle", 1_000_000), ("deepcopy", 100_000)])
def test_pickle_and_deepcopy_a_deep_chain(copy_it, n):
    import copy
    import pickle
    x, v = _chain(n)                     # far deeper than Python's recursion limit
    x2, v2 = pickle.loads(pickle.dumps((x, v))) if copy_it == "pickle" else copy.deepcopy((x, v))
    assert v2.data == v.data and v2 is not v and x2.label == "x"
    node, links = v2, 0
    while node._prev:
        node, links = node._prev[0], links + 1
    assert node is x2 and links == n, f"the copy's chain has {links} links down to {node}"


def test_pickle_refuses_an_op_outside_the_table_clearly():
    import pickle

    from microreg.ops import Op
    odd = Op("odd", 1, lambda a: a, d=(lambda a, ans: 1.0,))
    from microreg.engine import _unary
    node = _unary(odd, Value(1.0))
    with pytest.raises(TypeError, match="op 'odd'.*not in microreg.ops.TABLE"):
        pickle.dumps(node)


def test_a_huge_integer_is_a_clear_overflow_error():
    with pytest.raises(OverflowError, match=r"Value data 100000000000…0000 \(401 digits\) is too large"):
        Value(10 ** 400)
    with pytest.raises(OverflowError, match=r"too large"):
        Value(-(10 ** 309))


def test_a_new_rule_needs_no_change_to_the_walk():
    # A rule the engine has never seen (three fixed inputs, and a variadic one with two inputs)
    # goes through backward(), backward_steps() and grad() from its table entry alone.
    from microreg.engine import _new
    from microreg.ops import Op
    fma = Op("fma", 3, lambda a, b, c: a * b + c,
             d=(lambda a, b, c, ans: b, lambda a, b, c, ans: a, lambda a, b, c, ans: 1.0))
    prod = Op("prod", None, lambda ins: ins[0] * ins[1], d_all=lambda ins, ans: (ins[1], ins[0]))

    def node(rule, *children):
        v = _new(Value)
        v.data, v.grad, v.label, v._prev, v._rule, v._mark = \
            rule.apply([c.data for c in children]), 0.0, None, children, rule, 0
        return v

    a, b, c = Value(2.0), Value(-3.0), Value(0.5)
    out = node(prod, node(fma, a, b, c), a)      # (a·b + c)·a: ∂/∂a = 2a·b + c, ∂/∂b = a², ∂/∂c = a
    hand = (2 * 2.0 * -3.0 + 0.5, 4.0, 2.0)
    out.backward()
    assert (a.grad, b.grad, c.grad) == hand, f"backward {(a.grad, b.grad, c.grad)} vs hand {hand}"
    a.grad = b.grad = c.grad = 0.0
    for _ in out.backward_steps():
        pass
    assert (a.grad, b.grad, c.grad) == hand, f"steps {(a.grad, b.grad, c.grad)} vs hand {hand}"
    assert tuple(grad(out, [a, b, c])) == hand


def test_backward_walks_the_order_topological_order_gives():
    # backward()'s own ordering pass (marks on the nodes, a shortcut for nodes with only leaves
    # below) must list exactly topological_order(leaves=False): random graphs with sharing.
    import random
    from microreg.engine import _backward_order
    rng = random.Random(1)
    for trial in range(200):
        nodes = [Value(rng.uniform(-1, 1)) for _ in range(rng.randint(1, 4))]
        for _ in range(rng.randint(1, 30)):
            a, b = rng.choice(nodes), rng.choice(nodes)
            nodes.append(rng.choice([lambda: a + b, lambda: a * b, lambda: a.tanh(), lambda: a - b])())
        root = nodes[-1]
        expected = [id(n) for n in topological_order(root, leaves=False)]
        got = [id(n) for n in _backward_order(root)[0]] if root._prev else []
        assert got == expected, f"trial {trial}: backward's order differs from topological_order"
