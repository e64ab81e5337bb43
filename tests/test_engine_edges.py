"""The engine at its edges (issue 14, trial 14): odd-but-legal inputs give the right numbers or a
clear one-line error naming what was wrong.

Every expected number is worked out by hand in a comment, taken from a finite difference, or is
PyTorch's (written in, never imported).
"""

import copy
import math
import pickle

import numpy as np
import pytest

from microreg import Value, grad
from microreg.engine import MathDomainError, affine

inf = math.inf


def sech2(z):
    return 1.0 - math.tanh(z) ** 2


def close(a, b, tol=1e-9):
    return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=tol)


# --- finding 1: a node whose .data is a number but not a float ----------------------------------

NUMBER_KINDS = {
    "np.float64": lambda v: np.float64(v),
    "np.float32": lambda v: np.float32(v),
    "np.int64": lambda v: np.int64(v),
    "int": lambda v: int(v),
}


@pytest.mark.parametrize("kind", NUMBER_KINDS)
def test_a_leaf_holding_a_numpy_scalar_backpropagates_like_a_float(kind):
    w = Value(1.0, label="w")
    w.data = NUMBER_KINDS[kind](2.0)         # e.g. p.data -= lr * p.grad with a numpy lr
    x = Value(3.0, label="x")
    y = (w * x + 1.0).tanh() * w
    y.backward()
    # by hand: y = tanh(wx + 1)·w, at w = 2, x = 3 (z = 7):
    #   ∂y/∂w = tanh(7) + w·x·sech²(7) = tanh(7) + 6·sech²(7) ≈ 1.0000183
    #   ∂y/∂x = w²·sech²(7) = 4·sech²(7) ≈ 1.33e-05
    tol = 1e-6 if kind == "np.float32" else 1e-12     # a float32 leaf's locals are float32 (numpy's rule)
    assert close(y.data, 2 * math.tanh(7), tol), f"y = {y.data}, hand {2 * math.tanh(7)}"
    assert close(w.grad, math.tanh(7) + 6 * sech2(7), tol), f"w.grad {w.grad}, hand {math.tanh(7) + 6 * sech2(7)}"
    assert close(x.grad, 4 * sech2(7), tol), f"x.grad {x.grad}, hand {4 * sech2(7)}"


# f, then its derivative at a by hand
UNARY = {
    "sigmoid": (lambda v: v.sigmoid(), lambda a: math.exp(-a) / (1 + math.exp(-a)) ** 2),
    "log": (lambda v: v.log(), lambda a: 1 / a),
    "exp": (lambda v: v.exp(), lambda a: math.exp(a)),
    "tanh": (lambda v: v.tanh(), lambda a: sech2(a)),
    "relu": (lambda v: v.relu(), lambda a: 1.0),
    "sqrt": (lambda v: v ** 0.5, lambda a: 0.5 / math.sqrt(a)),
    "neg": (lambda v: -v, lambda a: -1.0),
    "sum": (lambda v: v.sum(), lambda a: 1.0),
    "mean": (lambda v: v.mean(), lambda a: 1.0),
    "square then sum": (lambda v: (v * v).sum(), lambda a: 2 * a),
}


@pytest.mark.parametrize("kind", NUMBER_KINDS)
@pytest.mark.parametrize("op", UNARY)
@pytest.mark.parametrize("way", ["backward", "grad", "steps", "create_graph"])
def test_every_op_on_a_numpy_scalar_leaf(kind, op, way):
    f, df = UNARY[op]
    w = Value(1.0, label="w")
    w.data = NUMBER_KINDS[kind](2.0)
    y = f(w)
    if way == "backward":
        y.backward()
        g = w.grad
    elif way == "grad":
        g = grad(y, [w])[0]
    elif way == "steps":
        list(y.backward_steps())
        g = w.grad
    else:
        g = grad(y, [w], create_graph=True)[0].data
    assert close(g, df(2.0)), f"{op} at 2 ({kind}) by {way}: grad {g}, hand {df(2.0)}"


def test_a_numpy_scalar_result_feeds_a_float_graph():
    # tanh of an np.float64 leaf is an np.float64 node; the nodes above it are floats
    w = Value(1.0, label="w")
    w.data = np.float64(0.5)
    y = w.tanh() * 3.0 + w
    y.backward()
    # by hand: ∂y/∂w = 3·sech²(0.5) + 1
    assert close(w.grad, 3 * sech2(0.5) + 1), f"w.grad {w.grad}, hand {3 * sech2(0.5) + 1}"
    assert y.data.__class__ is float, f"a binary op gives a float: {type(y.data)}"


def test_the_domain_checks_hold_for_numpy_scalars():
    w = Value(1.0, label="w")
    w.data = np.float64(0.0)
    with pytest.raises(ZeroDivisionError, match=r"division by zero.*'w'"):
        Value(1.0) / w                            # numpy alone would give inf and a warning
    with pytest.raises(MathDomainError, match=r"log.*needs a > 0.*'w'"):
        w.log()
    w.data = np.int64(-4)
    with pytest.raises(MathDomainError, match=r"pow.*whole-number k.*'w'"):
        w ** 0.5
    w.data = np.float64(0.0)
    y = w ** 0.5
    y.backward()
    assert w.grad == inf, f"d√w/dw at 0 = +inf (as for the float 0.0), got {w.grad}"


def test_affine_with_numpy_scalar_data():
    w, x, b = Value(1.0, label="w"), Value(3.0, label="x"), Value(0.5, label="b")
    w.data, b.data = np.float64(2.0), np.int64(1)
    z = affine([w], [x], b).sigmoid()
    z.backward()
    s = 1 / (1 + math.exp(-7.0))                 # σ(2·3 + 1)
    # by hand: ∂σ(wx + b)/∂w = σ(1 − σ)·x, ∂/∂b = σ(1 − σ)
    assert close(w.grad, s * (1 - s) * 3), f"w.grad {w.grad}, hand {s * (1 - s) * 3}"
    assert close(b.grad, s * (1 - s)), f"b.grad {b.grad}, hand {s * (1 - s)}"


@pytest.mark.parametrize("bad", ["abc", None, [1.0, [2.0]]])
def test_data_that_is_not_a_number_is_named(bad):
    w = Value(1.0, label="w")
    w.data = bad
    with pytest.raises(TypeError, match=r"'w' holds .* in \.data"):
        (w * 2.0).sigmoid()


def test_a_value_stored_in_data_is_named():
    w = Value(1.0, label="w")
    w.data = Value(2.0)
    with pytest.raises(TypeError, match=r"mul: node 'w' holds Value in \.data"):
        w * 3.0


# --- finding 2: second derivatives of x ** k on a batch with a sample at 0 -----------------------

def test_second_derivative_of_sqrt_is_per_sample():
    x = Value(np.array([0.0, 4.0]), label="x")
    g, = grad((x ** 0.5).sum(), [x], create_graph=True)
    assert list(g.data) == [inf, 0.25], f"½x^(−½) = [inf, 0.25], got {g.data}"
    h, = grad(g.sum(), [x])
    # by hand: d²√x/dx² = −¼·x^(−3/2): −inf at 0, −1/32 = −0.03125 at 4 (PyTorch: [-inf, -0.0312])
    assert h.__class__ is np.ndarray and h[0] == -inf and close(h[1], -0.03125), f"got {h}"


def test_second_derivative_of_sqrt_at_zero_scalar():
    x = Value(0.0)
    g, = grad(x ** 0.5, [x], create_graph=True)
    h, = grad(g, [x])
    assert (g.data, h) == (inf, -inf), f"PyTorch: inf then -inf; got {g.data}, {h}"


def test_second_derivative_inside_a_larger_graph():
    x, w = Value(np.array([0.0, 4.0]), label="x"), Value(2.0, label="w")
    g, = grad((w * x ** 0.5).sum(), [x], create_graph=True)
    h, = grad(g.sum(), [x])
    # by hand: w·(−¼)·x^(−3/2) = −0.0625 at 4 (PyTorch: [-inf, -0.0625])
    assert h[0] == -inf and close(h[1], -0.0625), f"got {h}"
    hw, = grad(g.sum(), [w])
    # ∂/∂w of Σ w·½x^(−½) = Σ ½x^(−½) = inf + 0.25
    assert hw == inf, f"got {hw}"


@pytest.mark.filterwarnings("ignore:invalid value encountered")   # ∞ − ∞ = nan, as PyTorch
def test_second_derivative_of_a_value_exponent_is_per_sample():
    a = Value(np.array([0.0, 1.5]), label="a")
    b = Value(np.array([0.5, 2.0]), label="b")
    ga, = grad((a ** b).sum(), [a], create_graph=True)
    haa, hab = grad(ga.sum(), [a, b])
    # ga = b·a^(b−1); ∂ga/∂a = b(b−1)a^(b−2): −inf at a = 0, 2·1·1 = 2 at sample 1;
    # ∂ga/∂b = a^(b−1) + b·a^(b−1)·ln a: ∞ − ∞ = nan at a = 0, 1.5 + 3·ln 1.5 ≈ 2.7164 at sample 1
    # (PyTorch: [-inf, 2.] and [nan, 2.716])
    assert haa[0] == -inf and close(haa[1], 2.0), f"got {haa}"
    assert math.isnan(hab[1 - 1]) and close(hab[1], 1.5 + 3 * math.log(1.5)), f"got {hab}"


def test_a_per_sample_exponent_array_at_zero():
    x = Value(np.array([0.0, 4.0]))
    g, = grad((x ** np.array([0.5, 0.5])).sum(), [x], create_graph=True)
    h, = grad(g.sum(), [x])
    # as for x ** 0.5: ½x^(−½) = [inf, 0.25], then −¼·x^(−3/2) = [−inf, −0.03125]
    assert list(g.data) == [inf, 0.25] and h[0] == -inf and close(h[1], -0.03125), f"{g.data}, {h}"
    y = Value(np.array([0.0, 4.0]))
    g, = grad((y ** np.array([0.0, 2.0])).sum(), [y], create_graph=True)
    h, = grad(g.sum(), [y])
    # y^0 is constant: 0 and 0; y²: 2y = 8, then 2
    assert list(g.data) == [0.0, 8.0] and list(h) == [0.0, 2.0], f"{g.data}, {h}"


def test_a_zero_exponent_sample_keeps_a_zero_derivative():
    a = Value(np.array([0.0, 2.0]), label="a")
    b = Value(np.array([0.0, 0.5]), label="b")
    ga, = grad((a ** b).sum(), [a], create_graph=True)
    # ∂(a^b)/∂a = b·a^(b−1): 0 where b = 0 (a^0 is constant), ½·2^(−½) at sample 1
    assert ga.data[0] == 0.0 and close(ga.data[1], 0.5 * 2 ** -0.5), f"got {ga.data}"
    haa, = grad(ga.sum(), [a])
    # b(b−1)a^(b−2): 0 at sample 0 (PyTorch masks b = 0 the same way), −¼·2^(−3/2) at sample 1
    assert haa[0] == 0.0 and close(haa[1], -0.25 * 2 ** -1.5), f"got {haa}"


@pytest.mark.filterwarnings("ignore:invalid value encountered")   # ∞ − ∞ = nan, as PyTorch
def test_a_graph_with_a_limit_power_pickles():
    x = Value(np.array([0.0, 4.0]), label="x")
    g, = grad((x ** 0.5).sum(), [x], create_graph=True)
    a, b = Value(np.array([0.0, 1.5])), Value(np.array([0.5, 2.0]))
    ga, = grad((a ** b).sum(), [a], create_graph=True)
    for node in (g, ga):
        for clone in (pickle.loads(pickle.dumps(node)), copy.deepcopy(node)):
            h1, h2 = grad(clone.sum(), [clone._prev[0]]), grad(node.sum(), [node._prev[0]])
            assert np.array_equal(h1[0], h2[0]) or h1 == h2, f"{h1} vs {h2}"


# --- finding 3: the sign of an overflowing pow gradient ------------------------------------------

@pytest.mark.parametrize("x,k,expected", [
    (-1e200, 4, -inf),      # 4x³ < 0 at x < 0 (PyTorch: -inf)
    (-1e-200, -2, inf),     # −2x⁻³ > 0 at x < 0 (PyTorch: inf)
    (-1e-200, -4, inf),     # −4x⁻⁵ > 0 at x < 0 (PyTorch: inf)
    (-1e200, 3, inf),       # 3x² > 0
    (-1e-200, -3, -inf),    # −3x⁻⁴ < 0
    (1e200, 4, inf),
])
def test_an_overflowing_pow_gradient_has_the_right_sign(x, k, expected):
    v = Value(x)
    (v ** k).backward()
    batch = Value(np.array([x, 1.0]))
    (batch ** k).sum().backward()
    assert v.grad == expected and batch.grad[0] == expected, f"scalar {v.grad}, batch {batch.grad[0]}, hand {expected}"


# --- finding 4: grad() with an input that is not a node ------------------------------------------

@pytest.mark.parametrize("bad,shown", [
    (2.0, r"inputs\[1\] is float"),
    ("x", r"inputs\[1\] is str"),
    (None, r"inputs\[1\] is NoneType"),
    (("x", None), r"inputs\[1\] is tuple"),
])
def test_grad_refuses_an_input_that_is_not_a_node(bad, shown):
    x = Value(2.0, label="x")
    with pytest.raises(TypeError, match=shown):
        grad(x * x, [x, bad])


def test_grad_names_the_pytorch_pair_habit():
    w, b = Value(2.0, label="w"), Value(1.0, label="b")
    with pytest.raises(TypeError, match=r"inputs\[0\] is tuple.*not \(name, node\) pairs"):
        grad(w * 3.0 + b, [("w", w), ("b", b)])


def test_grad_refuses_an_output_that_is_not_a_node():
    with pytest.raises(TypeError, match=r"grad\(\): the output must be a Value node, got float 3.0"):
        grad(3.0, [Value(1.0)])


# --- finding 5: a number as the gradient of a batch output ---------------------------------------

@pytest.mark.parametrize("way", ["backward", "grad", "grad create_graph", "steps", "backward create_graph"])
def test_a_batch_output_refuses_a_number_gradient_before_writing(way):
    x, w = Value(np.array([1.0, 2.0]), label="x"), Value(3.0, label="w")
    y = x * w
    with pytest.raises(ValueError, match=r"batch of 2 values, but the gradient is the single number 1.0"):
        if way == "backward":
            y.backward(gradient=1.0)
        elif way == "grad":
            grad(y, [x, w], gradient=1.0)
        elif way == "grad create_graph":
            grad(y, [x, w], gradient=1.0, create_graph=True)
        elif way == "steps":
            list(y.backward_steps(gradient=1.0))
        else:
            y.backward(gradient=1.0, create_graph=True)
    assert (x.grad, w.grad) == (0.0, 0.0), f"nothing written: {x.grad}, {w.grad}"


def test_a_batch_leaf_refuses_a_number_gradient():
    x = Value(np.array([1.0, 2.0]), label="x")
    with pytest.raises(ValueError, match=r"node 'x' is a batch of 2 values"):
        x.backward(gradient=1.0)
    assert x.grad == 0.0, f"{x.grad}"


def test_a_batch_gradient_per_sample_still_works():
    x, w = Value(np.array([1.0, 2.0])), Value(3.0)
    (x * w).backward(gradient=np.full(2, 1.0))
    # by hand: ∂(x·w)/∂x = w = [3, 3]; ∂/∂w = Σ x = 3
    assert list(x.grad) == [3.0, 3.0] and w.grad == 3.0, f"{x.grad}, {w.grad}"


# --- finding 6: a Value as the gradient, without create_graph ------------------------------------

def test_a_value_gradient_without_create_graph_gives_number_grads():
    w = Value(2.0, label="w")
    (w * w).backward(gradient=Value(1.0))
    assert w.grad.__class__ is float and w.grad == 4.0, f"2w = 4.0, got {w.grad!r}"
    leaf = Value(2.0)
    leaf.backward(gradient=Value(2.0))
    assert leaf.grad.__class__ is float and leaf.grad == 2.0, f"{leaf.grad!r}"
    g, = grad(w * w, [w], gradient=Value(1.0))
    assert g.__class__ is float and g == 4.0, f"{g!r}"
    x = Value(np.array([1.0, 2.0]))
    (x * 3.0).backward(gradient=Value(np.array([1.0, 1.0])))
    assert x.grad.__class__ is np.ndarray and list(x.grad) == [3.0, 3.0], f"{x.grad!r}"


def test_a_value_gradient_with_create_graph_gives_value_grads():
    w = Value(2.0, label="w")
    (w * w).backward(gradient=Value(1.0), create_graph=True)
    assert isinstance(w.grad, Value) and w.grad.data == 4.0, f"{w.grad!r}"


# --- finding 7: a numeric numpy exponent ---------------------------------------------------------

@pytest.mark.parametrize("k", [np.array(2.0), np.float64(2.0), np.int64(2), np.array(2)])
def test_a_numpy_number_exponent_is_a_number(k):
    x = Value(-3.0, label="x")
    y = x ** k
    y.backward()
    # by hand: d(x²)/dx = 2x = −6 at −3
    assert (y.data, x.grad) == (9.0, -6.0), f"{y.data}, {x.grad}"
    assert y.op.const == 2.0, f"a number exponent: the pow_const rule, got {y.op}"


def test_a_bool_exponent_is_one_or_zero():
    x = Value(-3.0)
    assert (x ** np.True_).data == -3.0 and (x ** np.False_).data == 1.0


def test_a_per_sample_exponent_array_is_a_constant():
    x = Value(np.array([-1.0, 2.0]), label="x")
    (x ** np.array([2.0, 3.0])).sum().backward()
    # by hand: d(x²)/dx = 2x = −2 at −1; d(x³)/dx = 3x² = 12 at 2 (PyTorch: [-2., 12.])
    assert list(x.grad) == [-2.0, 12.0], f"{x.grad}"
    x2 = Value(np.array([-1.0, 2.0]))
    g, = grad((x2 ** np.array([2.0, 3.0])).sum(), [x2], create_graph=True)
    h, = grad(g.sum(), [x2])
    # d²: 2 at −1; 6x = 12 at 2
    assert list(h) == [2.0, 12.0], f"{h}"
    with pytest.raises(MathDomainError, match=r"whole-number k.*'x'"):
        x ** np.array([0.5, 1.0])          # (−1)^0.5: no real number
    s = Value(2.0)
    (s ** np.array([2.0, 3.0])).sum().backward()
    # a scalar base: d(s² + s³)/ds = 2s + 3s² = 4 + 12 = 16
    assert s.grad == 16.0, f"{s.grad}"


def test_a_per_sample_exponent_graph_pickles():
    x = Value(np.array([1.0, 2.0]))
    y = (x ** np.array([2.0, 3.0])).sum()
    clone = pickle.loads(pickle.dumps(y))
    clone.backward()
    leaf = clone._prev[0]._prev[0]
    assert list(leaf.grad) == [2.0, 12.0], f"{leaf.grad}"


# --- finding 8: grad(create_graph=True) for an input the output does not reach -------------------

def test_an_unreached_input_gets_a_value_zero():
    x, w = Value(2.0, label="x"), Value(5.0, label="w")
    gx, gw = grad(x * x, [x, w], create_graph=True)
    assert isinstance(gw, Value) and gw.data == 0.0, f"{gw!r}"
    assert grad(gw, [x, w]) == [0.0, 0.0]                 # the Hessian row of w: 0, 0
    assert grad(gx, [x, w]) == [2.0, 0.0]                 # d(2x)/dx = 2
    xs = Value(np.array([1.0, 2.0]))
    g, = grad(x * x, [xs], create_graph=True)
    assert isinstance(g, Value) and list(g.data) == [0.0, 0.0], f"{g!r}"


# --- finding 14: np.bool_ -----------------------------------------------------------------------

def test_numpy_bools_are_numbers():
    assert Value(np.True_).data == 1.0 and Value(np.False_).data == 0.0
    v = Value(3.0)
    assert (v * (np.float64(2.0) > 0)).data == 3.0


# --- finding 15: p.grad = None (PyTorch's reset) counts as 0.0 ------------------------------------

@pytest.mark.parametrize("way", ["backward", "steps", "create_graph", "grad"])
def test_a_grad_set_to_none_counts_as_zero(way):
    w, x = Value(2.0, label="w"), Value(3.0, label="x")
    w.grad = None
    y = (w * x).tanh()
    if way == "backward":
        y.backward()
    elif way == "steps":
        list(y.backward_steps())
    elif way == "create_graph":
        y.backward(create_graph=True)
        w.grad, x.grad = w.grad.data, x.grad.data
    else:
        y.backward()
        w.grad, x.grad = grad(y, [w, x])
    # by hand: ∂tanh(wx)/∂w = x·sech²(6), ∂/∂x = w·sech²(6)
    assert close(w.grad, 3 * sech2(6), 1e-12) and close(x.grad, 2 * sech2(6), 1e-12), f"{w.grad}, {x.grad}"


def test_a_none_grad_met_part_way_through_the_walk():
    # x's grad is fine, w's is None: the walk updates x (first input of the product), stops at w,
    # and finishes from there; every other grad must come out as with 0.0
    x, w, v = Value(0.5, label="x"), Value(-1.5, label="w"), Value(2.0, label="v")
    xs = Value(np.array([1.0, 2.0]), label="xs")
    w.grad, xs.grad = None, None
    L = ((x * w).tanh() * v + (xs * w).sum() + x * x).sigmoid()
    L.backward()
    # finite differences of the same function of plain floats
    def f(x, w, v, a, b):
        z = math.tanh(x * w) * v + a * w + b * w + x * x
        return 1 / (1 + math.exp(-z))
    point = [0.5, -1.5, 2.0, 1.0, 2.0]
    got = [x.grad, w.grad, v.grad, xs.grad[0], xs.grad[1]]
    for i, g in enumerate(got):
        h = 1e-6
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        numeric = (f(*up) - f(*down)) / (2 * h)
        assert close(g, numeric, 1e-7), f"input {i}: {g} vs finite difference {numeric}"


def test_a_leaf_root_with_a_none_grad():
    w = Value(2.0)
    w.grad = None
    w.backward()
    assert w.grad == 1.0, f"{w.grad}"


@pytest.mark.parametrize("way", ["backward", "batch", "steps", "create_graph", "leaf"])
def test_a_grad_that_is_not_a_number_is_named(way):
    w, x = Value(2.0, label="w"), Value(3.0, label="x")
    w.grad = "0"
    with pytest.raises(TypeError, match=r"the grad of node 'w' is str '0', not a number.*zero_grad"):
        if way == "backward":
            (w * x).tanh().backward()
        elif way == "batch":
            (w * Value(np.array([1.0, 2.0]))).sum().backward()
        elif way == "steps":
            list((w * x).tanh().backward_steps())
        elif way == "create_graph":
            (w * 3.0).backward(create_graph=True)
        else:
            w.backward()
    if way in ("steps", "create_graph", "leaf"):       # these change nothing when they fail
        assert (w.grad, x.grad) == ("0", 0.0), f"{w.grad}, {x.grad}"


# --- finding 16: a subclass with its own constructor --------------------------------------------

def test_relu_under_create_graph_on_a_subclass_with_its_own_constructor():
    class Param(Value):
        def __init__(self, data, name):
            super().__init__(data, label=name)

    p = Param(2.0, "p")
    g, = grad(p.relu() * p, [p], create_graph=True)
    # relu(p)·p = p² for p > 0: 2p = 4, and d(2p)/dp = 2
    assert g.data == 4.0 and grad(g, [p]) == [2.0], f"{g!r}"


# --- finding 17: bare messages --------------------------------------------------------------------

def test_a_huge_integer_exponent_is_named():
    with pytest.raises(OverflowError, match=r"pow: the exponent 1000.*\(401 digits\) is too large for a float"):
        Value(1.0) ** 10 ** 400


def test_a_list_of_nodes_as_data_is_named():
    with pytest.raises(TypeError, match=r"got 2 Value nodes \(a list of outputs\?\)"):
        Value(np.array([Value(1.0), Value(2.0)], dtype=object))


def test_an_empty_label_is_no_name():
    with pytest.raises(MathDomainError, match=r"from an unlabelled input \(0.0\)"):
        Value(0.0, label="").log()


# --- finding 18: Step.fan_in -------------------------------------------------------------------

def test_steps_say_how_many_contributions_an_input_receives():
    x = Value(2.0, label="x")
    y = x * x + x            # x feeds the product twice and the sum once: 3 contributions
    steps = list(y.backward_steps())
    fan = {s.input.label: s.fan_in for s in steps if s.input.label is not None}
    assert fan == {"x": 3}, f"{fan}"
    assert [s.fan_in for s in steps if s.input is not x] == [1], "the product x·x feeds the sum once"
    # and the running sum ends at dy/dx = 2x + 1 = 5
    assert x.grad == 5.0, f"{x.grad}"


def test_a_batch_leaf_holding_integers_works_as_floats():
    x = Value(np.array([0.5, 2.0]), label="x")
    x.data = np.array([1, 2])                # an int array set by hand
    y = (x.sigmoid() + x * x).sum()
    y.backward()
    s = 1 / (1 + np.exp(-np.array([1.0, 2.0])))
    # by hand: d(σ(x) + x²)/dx = σ(x)(1 − σ(x)) + 2x
    expected = s * (1 - s) + 2 * np.array([1.0, 2.0])
    assert np.allclose(x.grad, expected, rtol=1e-12), f"{x.grad} vs {expected}"


def test_a_one_sample_integer_batch_is_not_stretched():
    x = Value(np.array([1.0, 2.0]), label="x")
    one = Value(np.array([0.5]), label="one")
    one.data = np.array([3])                 # an int array set by hand, 1 sample
    for build in (lambda: x * one, lambda: one.sigmoid() + x, lambda: affine([one], [x], 0.0)):
        with pytest.raises(ValueError, match=r"batch lengths differ.*'x' has 2 samples|'one' has 1 sample"):
            build()


def test_a_batch_value_holds_its_own_copy_of_the_array():
    # trial14 #12: Value(arr) kept the caller's array, so an in-place update of .data (a hand-written
    # SGD step, p.data -= lr * p.grad) rewrote the user's own array. As torch.tensor(arr), it copies.
    arr = np.array([1.0, 2.0, 3.0])
    v = Value(arr, label="p")
    v.data -= 0.5
    assert np.array_equal(arr, [1.0, 2.0, 3.0]), f"the user's array changed: {arr}"
    assert np.array_equal(v.data, [0.5, 1.5, 2.5]), f"v.data {v.data}, by hand [0.5, 1.5, 2.5]"
    arr[0] = 10.0                          # and the other way round
    assert v.data[0] == 0.5, f"v.data[0] {v.data[0]} followed the user's array"


def test_integer_arrays_written_into_data_are_computed_as_floats_not_with_wrap_around():
    # trial15 #1: uint8 pixels written into .data were computed in uint8 (10 − 20 wrapped to 246).
    # By hand: x − m = [−10, 100, 255], L = mean of squares = (100 + 10000 + 65025)/3 = 25041.67;
    # ∂L/∂x = 2(x − m)/3 = [−6.667, 66.67, 170].
    img = np.array([10, 200, 255], dtype=np.uint8)
    x = Value(np.zeros(3), label="x")
    x.data = img
    m = Value(np.zeros(3), label="m")
    m.data = np.array([20, 100, 0], dtype=np.uint8)
    L = ((x - m) ** 2).mean()
    L.backward()
    assert abs(L.data - 75125 / 3) < 1e-9, f"L {L.data}, by hand {75125 / 3}"
    assert np.allclose(x.grad, [-20 / 3, 200 / 3, 170.0]), f"x.grad {x.grad}, by hand [-6.667, 66.67, 170]"
    assert img.dtype == np.uint8 and img.tolist() == [10, 200, 255], "the user's array changed"
    # int32 products overflow at 2³¹: 3·10⁵·10⁵ = 3e10 must not wrap
    x = Value(np.zeros(2))
    x.data = np.array([3, 4], dtype=np.int32)
    w = Value(np.zeros(2))
    w.data = np.array([100000, 100000], dtype=np.int32)
    assert (x * w * w).sum().data == 7e10
    # the backward pass reads floats too: d(Σ x³)/dx = 3x² = [3, 12, 27] (x³ of 3 in uint8 is fine,
    # but an affine of uint8 inputs and a unary op on them go through the same conversion)
    x = Value(np.zeros(3))
    x.data = np.array([1, 2, 3], dtype=np.uint8)
    y = (x ** 3).sum()
    y.backward()
    assert y.data == 36.0 and np.array_equal(x.grad, [3.0, 12.0, 27.0]), f"{y.data}, {x.grad}"
    x = Value(np.zeros(2))
    x.data = np.array([100, 200], dtype=np.uint8)
    t = x.tanh()
    assert t.data.dtype == np.float64 and np.allclose(t.data, np.tanh([100.0, 200.0])), f"{t.data!r}"


def test_a_gradient_seed_that_is_not_finite_is_refused_and_grad_names_itself():
    # trial15 #8, #9: backward(gradient=nan) gave nan grads without a word; grad() on a batch
    # output said "backward() needs a scalar output", naming a function the user did not call.
    import math
    x = Value(2.0, label="x")
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match=r"backward\(gradient=\.\.\.\): the gradient holds (nan|inf)"):
            (x * x).backward(gradient=bad)
    assert x.grad == 0.0, f"x.grad {x.grad} after a refused backward"
    with pytest.raises(ValueError, match=r"grad\(gradient=\.\.\.\): the gradient holds"):
        grad(x * x, [x], gradient=np.nan)
    xb = Value(np.array([1.0, 2.0]), label="xb")
    with pytest.raises(ValueError, match=r"^grad\(\) needs a scalar output"):
        grad(xb * 2.0, [xb])
    with pytest.raises(TypeError, match=r"^backward\(gradient=\.\.\.\): Value data must be"):
        (x * x).backward(gradient="1")


@pytest.mark.parametrize("bad, why", [(np.ones((1, 1)), "got shape \\(1, 1\\)"), (np.ones((1, 2)), "got shape \\(1, 2\\)"),
                                      (np.array([]), "needs at least one sample")])
def test_a_2d_or_empty_array_written_into_data_is_named_at_the_next_op(bad, why):
    # trial15 #7: the constructor refuses these, but written into .data a (1, 2) array ran on with
    # 2-D grads, an empty one summed to 0.0, and a (1, 1) one failed later in an f-string.
    x = Value(np.zeros(2), label="x")
    x.data = bad
    for op in (lambda: x * 2.0, lambda: x.tanh()):
        with pytest.raises(TypeError, match=f"node 'x' holds ndarray in .data.*{why}"):
            op()


# --- issue 22: gradients at the edges of float64 (items 3, 4, 5, 16) -------------------------------
# PyTorch 2.13.0, float64, CPU: the numbers written in below (torch.relu, torch.pow, torch.log).

@pytest.mark.parametrize("k", [0.5, 0.25, 0.999])
def test_relu_to_a_power_below_1_left_of_0_has_gradient_0(k):
    # issue 22 item 3: relu(−1) = 0, ∂(a^k)/∂a at a = 0 is +∞ (k < 1), and relu's local is 0: the
    # product was 0 × ∞ = nan. relu is constant left of 0, so the true gradient is 0 (PyTorch: 0.0).
    x = Value(-1.0, label="x")
    (x.relu() ** k).backward()
    assert x.grad == 0.0, f"d/dx relu(x)^{k} at −1: {x.grad}, PyTorch 0.0"


def test_relu_to_a_power_below_1_in_a_batch_and_with_a_value_exponent():
    # PyTorch: (relu([−1, 4]) ** 0.5).sum() → grad [0.0, 0.25] (½·4^(−½) = 0.25)
    x = Value(np.array([-1.0, 4.0]), label="x")
    (x.relu() ** 0.5).sum().backward()
    assert np.array_equal(x.grad, [0.0, 0.25]), f"{x.grad}, PyTorch [0.0, 0.25]"
    # PyTorch: relu(x) ** exp(x) at x = −2 → grad 0.0 (base 0 with exponent e^(−2) < 1)
    x = Value(-2.0, label="x")
    (x.relu() ** x.exp()).backward()
    assert x.grad == 0.0, f"{x.grad}, PyTorch 0.0"
    # relu's hard zero summed into a scalar: Value(0.0) ** b with b per sample, through relu
    b = Value(np.array([-1.0, 2.0]), label="b")
    (b.relu() ** 0.5).sum().backward()
    assert np.array_equal(b.grad, [0.0, 0.5 * 2.0 ** -0.5]), f"{b.grad}"


@pytest.mark.parametrize("z", [-710.0, -720.0, -745.0])
def test_log_of_a_subnormal_sigmoid_has_gradient_1_minus_sigmoid(z):
    # issue 22 item 4: σ(z) is subnormal there (σ(−710) ≈ 4.48e−309), so ∂L/∂σ = 1/σ ≈ 2.2e308 does
    # not fit in a float; it was inf, and inf × σ(1 − σ) = inf. Closed form: d/dz ln σ(z) = 1 − σ(z) = 1
    # (to 300 digits). (PyTorch's forward underflows to −inf there and gives nan.)
    zv = Value(z, label="z")
    s = zv.sigmoid()
    L = s.log()
    L.backward()
    assert zv.grad == 1.0, f"d/dz ln σ(z) at {z}: {zv.grad}, closed form 1"
    assert math.isinf(float(s.grad)) and s.grad > 0, f"∂L/∂σ {s.grad!r} is too large for a float"


def test_a_local_too_large_for_a_float_keeps_its_size():
    # 1/σ(−710) = 1 + e^710 = 2.2339947661617e308 (e^710 by hand: 710·log10(e) = 308.3491…)
    z = Value(-710.0, label="z")
    s = z.sigmoid()
    s.log().backward()
    assert format(s.grad, ".6g") == "2.23399e+308", format(s.grad, ".6g")
    assert float(s.grad) == inf and float(pickle.loads(pickle.dumps(s.grad))) == inf
    assert format(pickle.loads(pickle.dumps(s.grad)), ".6g") == "2.23399e+308"
    assert format(s.grad * 1e-300, ".6g") == "2.23399e+08" and (s.grad * 1e-300).__class__ is float


def test_division_by_a_subnormal_then_multiplication_by_it():
    # issue 22 item 4: (a/b)·b at b = −5e−324: ∂/∂a = (1/b)·b = 1 (PyTorch 1.0: it divides the upstream
    # by b); 1/b alone overflows
    a, b = Value(0.1, label="a"), Value(-5e-324, label="b")
    ((a / b) * b).backward()
    assert a.grad == 1.0, f"{a.grad}, PyTorch 1.0"
    # ∂(a/b)/∂b = −a/b² also overflows at a = 1, b = 1e−200 (−1e400); times c = 1e−300: −1e100
    a, b = Value(1.0, label="a"), Value(1e-200, label="b")
    ((a / b) * 1e-300).backward()
    assert math.isclose(b.grad, -1e100, rel_tol=1e-12), f"{b.grad}, closed form −c·a/b² = −1e100"


def test_relu_of_the_log_of_a_subnormal_has_gradient_0():
    # issue 22 item 4: ln(5e−324) = −744.4 < 0, so relu passes nothing: 0 (PyTorch 0.0); 1/x overflowed
    # and inf × 0 was nan
    x = Value(5e-324, label="x")
    x.log().relu().backward()
    assert x.grad == 0.0, f"{x.grad}, PyTorch 0.0"


def test_a_power_local_too_large_for_a_float():
    # ∂(x^−2)/∂x = −2x^(−3) = −2e330 at x = 1e−110 (too large); times c = 1e−200: −2e130 (closed form)
    x = Value(1e-110, label="x")
    (x ** -2.0 * 1e-200).backward()
    assert math.isclose(x.grad, -2e130, rel_tol=1e-10), f"{x.grad}, closed form −2e130"


@pytest.mark.parametrize("a", [5e-324, -5e-324, 1e-310, 3e-309])
def test_the_power_0_has_gradient_0_at_a_subnormal(a):
    # issue 22 item 5: d(a^0)/da = 0 everywhere; 0·a^(−1) overflowed to ±inf (PyTorch 0.0)
    x = Value(a, label="x")
    (x ** 0.0).backward()
    assert x.grad == 0.0, f"d(a⁰)/da at {a}: {x.grad}, PyTorch 0.0"


def test_the_power_0_in_a_batch_with_a_value_exponent_and_after_an_underflow():
    x = Value(np.array([1.0, 5e-324]), label="x")
    (x ** 0.0).sum().backward()
    assert np.array_equal(x.grad, [0.0, 0.0]), f"{x.grad}, PyTorch [0.0, 0.0]"
    # Value exponent b = 0 at x = 1e−310: ∂/∂x = 0 (PyTorch 0.0); ∂/∂b = x⁰·ln x = ln(1e−310) = −713.80138
    x, b = Value(1e-310, label="x"), Value(0.0, label="b")
    (x ** b).backward()
    assert x.grad == 0.0, f"{x.grad}, PyTorch 0.0"
    assert math.isclose(b.grad, -310 * math.log(10), rel_tol=1e-9), f"{b.grad}, PyTorch −713.8013788281542"
    # w·w = 1e−320 (subnormal), then ^0: PyTorch 0.0
    w = Value(1e-160, label="w")
    ((w * w) ** 0).backward()
    assert w.grad == 0.0, f"{w.grad}, PyTorch 0.0"
    # an infinite upstream does not pass a^0 either: (x⁰ − 1)^½ = 0 for every x, so d/dx = 0
    x = Value(3.0, label="x")
    ((x ** 0 - 1.0) ** 0.5).backward()
    assert x.grad == 0.0, f"{x.grad}"


def test_zero_to_a_batch_power_backpropagates():
    # issue 22 item 16: 0.0 ** Value(batch) stopped with numpy's "truth value of an array is
    # ambiguous"; ∂(0^b)/∂b = 0 for b > 0 (0^b is 0 there). PyTorch: [0.0, 0.0, 0.0]
    x = Value(np.array([0.5, 1.0, 2.0]), label="x")
    y = (0.0 ** x).sum()
    y.backward()
    assert y.data == 0.0 and np.array_equal(x.grad, [0.0, 0.0, 0.0]), f"{y.data}, {x.grad}"


def test_a_masked_array_is_refused_not_unmasked():
    # issue 22 item 22: np.asarray dropped the mask, so masked values counted: the sum was 3.0, not 1.0
    with pytest.raises(ValueError, match=r"a masked array with 2 masked value\(s\) of 3: fill them"):
        Value(np.ma.array([1.0, 2.0, 3.0], mask=[0, 1, 1]))
    v = Value(np.ma.array([1.0, 2.0], mask=[0, 0]))      # nothing masked: its numbers
    assert v.data.__class__ is np.ndarray and v.sum().data == 3.0


@pytest.mark.skipif(np.finfo(np.longdouble).max <= np.finfo(np.float64).max,
                    reason="np.longdouble is float64 on this platform")
def test_a_longdouble_too_large_for_a_float_is_refused_not_made_inf():
    # issue 22 item 22: np.longdouble('1e400') became inf without a word
    with pytest.raises(OverflowError, match=r"^Value data 1e\+400 is too large for a float"):
        Value(np.longdouble("1e400"))
    with pytest.raises(OverflowError, match=r"^Value data at sample 1: 1e\+400 is too large"):
        Value(np.array([1.0, np.longdouble("1e400")], dtype=np.longdouble))
    assert np.array_equal(Value(np.array([1.0, 2.0], dtype=np.longdouble)).data, [1.0, 2.0])
