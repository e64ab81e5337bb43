"""Every rule of the table against central finite differences of its own forward function.

The test is parametrised over ``ops.TABLE``: an op added to the table without a domain here
fails `test_every_op_has_a_test`.
"""

import itertools
import math

import numpy as np
import pytest

from microreg import Value, affine, ops


def fd(f, xs, i, eps=1e-6):
    """Central finite difference ∂f/∂x_i at xs (floats)."""
    up, down = list(xs), list(xs)
    up[i] += eps
    down[i] -= eps
    return (f(*up) - f(*down)) / (2 * eps)


# For each op: how to draw valid inputs, and how to build the node from Values.
DOMAINS = {
    "add": (lambda r: [r.uniform(-3, 3), r.uniform(-3, 3)], lambda a, b: a + b),
    "sub": (lambda r: [r.uniform(-3, 3), r.uniform(-3, 3)], lambda a, b: a - b),
    "neg": (lambda r: [r.uniform(-3, 3)], lambda a: -a),
    "mul": (lambda r: [r.uniform(-3, 3), r.uniform(-3, 3)], lambda a, b: a * b),
    "div": (lambda r: [r.uniform(-3, 3), r.choice([-1, 1]) * r.uniform(0.2, 3)], lambda a, b: a / b),
    "pow": (lambda r: [r.uniform(0.2, 3), r.uniform(-2, 2)], lambda a, b: a ** b),
    "exp": (lambda r: [r.uniform(-3, 3)], lambda a: a.exp()),
    "log": (lambda r: [r.uniform(0.1, 5)], lambda a: a.log()),
    "tanh": (lambda r: [r.uniform(-3, 3)], lambda a: a.tanh()),
    "sigmoid": (lambda r: [r.uniform(-6, 6)], lambda a: a.sigmoid()),
    "relu": (lambda r: [r.choice([-1, 1]) * r.uniform(0.1, 3)], lambda a: a.relu()),
    "abs": (lambda r: [r.choice([-1, 1]) * r.uniform(0.1, 3)], lambda a: abs(a)),
    "sum": (lambda r: [r.uniform(-3, 3)], lambda a: a.sum()),
    "mean": (lambda r: [r.uniform(-3, 3)], lambda a: a.mean()),
    "affine": (lambda r: [r.uniform(-3, 3) for _ in range(5)],
               lambda w0, w1, x0, x1, b: affine([w0, w1], [x0, x1], b)),
}


def test_every_op_has_a_test():
    assert set(ops.TABLE) == set(DOMAINS), f"untested ops: {set(ops.TABLE) - set(DOMAINS)}"


def _forward(name, *xs):
    return DOMAINS[name][1](*[Value(x) for x in xs]).data


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_rule_matches_finite_difference(name):
    import random
    r = random.Random(name)
    draw, build = DOMAINS[name]
    for _ in range(20):
        xs = draw(r)
        nodes = [Value(x) for x in xs]
        out = build(*nodes)
        out.backward()
        for i, node in enumerate(nodes):
            numeric = fd(lambda *v: _forward(name, *v), xs, i)
            assert math.isclose(node.grad, numeric, rel_tol=1e-6, abs_tol=1e-7), \
                f"{name} at {xs}: ∂/∂input{i} autograd {node.grad} vs finite difference {numeric}"


@pytest.mark.parametrize("k", [2.0, 3.0, -1.0, 0.5, -2.5, 0.0, 1.0])
def test_pow_with_a_number_exponent(k):
    for a in (0.3, 1.7, 2.9):
        x = Value(a)
        (x ** k).backward()
        numeric = fd(lambda v: v ** k, [a], 0)
        assert math.isclose(x.grad, numeric, rel_tol=1e-6, abs_tol=1e-8), f"d(a^{k})/da at {a}: {x.grad} vs {numeric}"


def test_number_to_a_value_power():
    # d(2^x)/dx = 2^x ln 2; at x = 3: 8 ln 2 = 5.545177444479562
    x = Value(3.0)
    (2 ** x).backward()
    assert math.isclose(x.grad, 8 * math.log(2)), f"{x.grad} vs {8 * math.log(2)}"


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "relu"])
def test_unary_rules_on_batches_match_finite_differences(name):
    rng = np.random.default_rng(5)
    draw, build = DOMAINS[name]
    import random
    xs = np.array([draw(random.Random(i))[0] for i in range(7)])
    x = Value(xs)
    build(x).sum().backward()
    for i in range(len(xs)):
        numeric = fd(lambda v: _forward(name, v), [xs[i]], 0)
        assert math.isclose(x.grad[i], numeric, rel_tol=1e-6, abs_tol=1e-7), \
            f"{name} sample {i} at {xs[i]}: {x.grad[i]} vs {numeric}"
    assert rng is not None


def test_batch_reductions():
    xs = np.array([1.0, -2.0, 4.0, 0.5])
    x = Value(xs)
    x.mean().backward()
    assert np.allclose(x.grad, 0.25), f"∂mean/∂x = 1/N = 0.25 each, got {x.grad}"
    y = Value(xs)
    (y * y).sum().backward()
    assert np.allclose(y.grad, 2 * xs), f"∂Σx²/∂x = 2x = {2 * xs}, got {y.grad}"


@pytest.mark.parametrize("name,i,text", [
    ("add", 0, "∂(a + b)/∂a = 1"),
    ("sub", 1, "∂(a − b)/∂b = −1"),
    ("neg", 0, "∂(−a)/∂a = −1"),
    ("mul", 1, "∂(a·b)/∂b = a"),
    ("div", 1, "∂(a/b)/∂b = −a/b²"),
    ("sigmoid", 0, "∂σ(a)/∂a = σ(a)·(1 − σ(a))"),
    ("tanh", 0, "∂tanh(a)/∂a = 1 − tanh²(a)"),
    ("relu", 0, "∂relu(a)/∂a = [a > 0]"),
    ("log", 0, "∂ln(a)/∂a = 1/a"),
    ("exp", 0, "∂exp(a)/∂a = exp(a)"),
    ("pow", 0, "∂(a^b)/∂a = b·a^(b − 1)"),
])
def test_formula_text(name, i, text):
    assert ops.TABLE[name].formula(i) == text


def test_formulas_with_node_names_and_latex():
    assert ops.pow_const(2.0).formula(0, names=["e"]) == "∂(e²)/∂e = 2·e"
    assert ops.pow_const(3.0).formula(0, names=["ŷ − y"]) == "∂((ŷ − y)³)/∂(ŷ − y) = 3·(ŷ − y)²"
    assert ops.TABLE["affine"].formula(3, names=["w2[0]", "w2[1]", "a1[0]", "a1[1]", "b2"]) == \
        "∂(w2[0]·a1[0] + w2[1]·a1[1] + b2)/∂a1[1] = w2[1]"
    assert ops.TABLE["sigmoid"].formula(0, latex=True) == \
        r"\frac{\partial \sigma\left(a\right)}{\partial a} = \sigma\left(a\right) \cdot \left(1 - \sigma\left(a\right)\right)"
    assert ops.TABLE["tanh"].local_expression(0, names=["z1[0]"], latex=True) == \
        ("z_{1}[0]", r"1 - \tanh^{2}\left(z_{1}[0]\right)")
    for name, op in ops.TABLE.items():
        n = op.arity or 3
        for i in range(n):
            assert op.formula(i) and op.formula(i, latex=True), f"{name} input {i} has no formula"
            assert op.formula_tree(i).mathml.startswith("<math"), f"{name} input {i} has no MathML"


# --- formulas parse back (sympy) to the derivative of the op's forward function -------------------

sp = pytest.importorskip("sympy")
A, B, S, N = sp.symbols("a b s N")
W0, W1, X0, X1, BIAS = sp.symbols("w v x u c")

# Each op's forward function written independently in sympy (by hand, not from the rule table):
# the rendered local derivatives must parse back to sympy's derivative of it.
SYMPY_FORWARD = {
    "add": ((A, B), A + B),
    "sub": ((A, B), A - B),
    "neg": ((A,), -A),
    "mul": ((A, B), A * B),
    "div": ((A, B), A / B),
    "pow": ((A, B), A ** B),
    "exp": ((A,), sp.exp(A)),
    "log": ((A,), sp.log(A)),
    "tanh": ((A,), sp.tanh(A)),
    "sigmoid": ((A,), 1 / (1 + sp.exp(-A))),
    "relu": ((A,), sp.Max(A, 0)),
    "abs": ((A,), sp.sqrt(A ** 2)),   # |a| for a real a, written so that sign(a) = a/√(a²) compares
    "sum": ((A,), A + S),           # Σ over a batch: a is one sample, s the rest
    "mean": ((A,), (A + S) / N),    # mean over N samples
    "affine": ((W0, W1, X0, X1, BIAS), W0 * X0 + W1 * X1 + BIAS),
}

_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_TEXT_FUNCS = {"σ": lambda x: 1 / (1 + sp.exp(-x)), "exp": sp.exp, "ln": sp.log, "tanh": sp.tanh,
               "tanh²": lambda x: sp.tanh(x) ** 2, "relu": lambda x: sp.Max(x, 0),
               "Σ": lambda x: x + S, "mean": lambda x: (x + S) / N,
               "abs": lambda x: sp.sqrt(x ** 2), "sign": lambda x: x / sp.sqrt(x ** 2)}
_LATEX_FUNCS = {r"\sigma": _TEXT_FUNCS["σ"], r"\exp": sp.exp, r"\ln": sp.log, r"\tanh": sp.tanh,
                r"\tanh^{2}": _TEXT_FUNCS["tanh²"], r"\operatorname{relu}": _TEXT_FUNCS["relu"],
                r"\sum": _TEXT_FUNCS["Σ"], r"\operatorname{mean}": _TEXT_FUNCS["mean"],
                r"\operatorname{abs}": _TEXT_FUNCS["abs"], r"\operatorname{sign}": _TEXT_FUNCS["sign"]}


def parse_text(text):
    """Plain text → sympy. Brackets are collapsed innermost first (a bracket preceded by a function
    name is that function), so the result has exactly the grouping the brackets say."""
    import re
    from sympy.parsing.sympy_parser import parse_expr
    held = {}

    def flat(s):
        s = s.replace("−", "-").replace("·", "*").replace("^", "**")
        s = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+", lambda m: "**(" + m.group(0).translate(_SUPER) + ")", s)
        return parse_expr(s, local_dict={**{k: sp.Symbol(k) for k in held}, "N": N, "S": S, "b": sp.Symbol("b")})

    inner = re.compile(r"(σ|exp|ln|tanh²|tanh|relu|Σ|mean|abs|sign)?\(([^()\[\]]*)\)|\[([^()\[\]]*) > 0\]")
    while (m := inner.search(text)):
        if m.group(3) is not None:
            value = sp.Heaviside(flat(m.group(3)))
        else:
            value = flat(m.group(2))
            if m.group(1):
                value = _TEXT_FUNCS[m.group(1)](value)
        key = f"Q{len(held)}"
        held[key] = value
        text = text[:m.start()] + key + text[m.end():]
    out = flat(text)
    for _ in range(len(held) + 1):      # placeholders can hold placeholders
        out = out.subs({sp.Symbol(k): v for k, v in held.items()})
    return out


def parse_latex(latex):
    """LaTeX → sympy with sympy's own LaTeX parser (the lark backend), the same bracket collapsing."""
    import re
    from sympy.parsing.latex import parse_latex as sympy_latex
    held = {}

    def flat(s):
        for k in held:
            s = s.replace(k, "{" + k + "}")
        return sympy_latex(s, backend="lark")

    names = "|".join(re.escape(k) for k in sorted(_LATEX_FUNCS, key=len, reverse=True))
    inner = re.compile(r"(" + names + r")?\\left\(((?:(?!\\left|\\right).)*)\\right\)"
                       r"|\\left\[((?:(?!\\left|\\right).)*) > 0\\right\]")
    while (m := inner.search(latex)):
        if m.group(3) is not None:
            value = sp.Heaviside(flat(m.group(3)))
        else:
            value = flat(m.group(2))
            if m.group(1):
                value = _LATEX_FUNCS[m.group(1)](value)
        key = f"Q_{{{len(held)}}}"
        held[key] = value
        latex = latex[:m.start()] + key + latex[m.end():]
    out = flat(latex)
    for _ in range(len(held) + 1):
        out = out.subs({sp.Symbol(k): v for k, v in held.items()})
    return out


def _same(e1, e2):
    return sp.simplify(sp.nsimplify(sp.expand(e1 - e2), rational=True)) == 0


def _rule_cases():
    for name, op in sorted(ops.TABLE.items()):
        variables, forward = SYMPY_FORWARD[name]
        yield name, op, [str(v) for v in variables], variables, forward
    for k in (2.0, 3.0, -1.0, 0.5, -2.5, 0.0, 1.0):
        yield f"pow_const({k})", ops.pow_const(k), ["a"], (A,), A ** sp.nsimplify(k)


def test_every_op_has_a_sympy_forward():
    assert set(ops.TABLE) == set(SYMPY_FORWARD), f"ops without a sympy forward: {set(ops.TABLE) - set(SYMPY_FORWARD)}"


@pytest.mark.parametrize("case", list(_rule_cases()), ids=lambda c: c[0])
def test_local_derivative_formulas_parse_back_to_the_true_derivative(case):
    name, op, names, variables, forward = case
    for i, v in enumerate(variables):
        truth = sp.diff(forward, v)
        tree = op.local_tree(i, names)
        for how, parsed in (("text", parse_text(tree.text)), ("latex", parse_latex(tree.latex))):
            assert _same(parsed, truth), f"{name} ∂/∂{v} as {how}: {getattr(tree, how)!r} parses to {parsed}, " \
                                         f"the derivative is {truth}"
    if name not in ("sum", "mean"):
        tree = op.tree(names)
        for how, parsed in (("text", parse_text(tree.text)), ("latex", parse_latex(tree.latex))):
            assert _same(parsed, forward), f"{name} as {how}: {getattr(tree, how)!r} parses to {parsed}, not {forward}"


def _random_pair(r, depth=0):
    """(formula tree, sympy expression) built side by side by the same random choices."""
    from microreg.formula import call, num, sym
    if depth > 2 or r.random() < 0.2:
        k = r.choice(["a", "b", "c", "-2", "3", "0.5"])
        if k in "abc":
            return sym(k), sp.Symbol(k)
        return num(float(k)), sp.nsimplify(k)
    kind = r.choice(["+", "-", "*", "/", "^", "neg", "σ", "tanh", "exp", "ln", "sq"])
    f1, s1 = _random_pair(r, depth + 1)
    if kind in "+-*/":
        f2, s2 = _random_pair(r, depth + 1)
        return {"+": (f1 + f2, s1 + s2), "-": (f1 - f2, s1 - s2), "*": (f1 * f2, s1 * s2),
                "/": (f1 / f2, s1 / s2)}[kind]
    if kind == "^":
        f2, s2 = _random_pair(r, depth + 1)
        return f1 ** f2, s1 ** s2
    if kind == "sq":
        return f1 ** num(2), s1 ** 2
    if kind == "neg":
        return -f1, -s1
    fn = {"σ": _TEXT_FUNCS["σ"], "tanh": sp.tanh, "exp": sp.exp, "ln": sp.log}[kind]
    return call(kind, f1), fn(s1)


def test_random_formulas_keep_their_brackets():
    import random
    r = random.Random(11)
    point = {sp.Symbol("a"): sp.Rational(7, 10), sp.Symbol("b"): sp.Rational(13, 10), sp.Symbol("c"): sp.Rational(21, 10)}
    for _ in range(40):
        tree, truth = _random_pair(r)
        want = complex(truth.evalf(subs=point))
        if not all(math.isfinite(p) for p in (want.real, want.imag)) or abs(want) > 1e12:
            continue
        for how, parsed in (("text", parse_text(tree.text)), ("latex", parse_latex(tree.latex))):
            got = complex(parsed.evalf(subs=point))
            assert abs(got - want) <= 1e-9 * max(1.0, abs(want)), \
                f"{getattr(tree, how)!r} ({how}) evaluates to {got}, built as {truth} = {want}"


def test_mathml_escapes_any_label():
    import xml.etree.ElementTree as ET
    from microreg.formula import sym
    for label in ["<!--<script>", "</script>", '"><img src=x onerror=alert(1)>', "a & b", "{x}_^%$#~\\"]:
        out = (sym(label) * 2).mathml
        root = ET.fromstring(out)          # well-formed: nothing of the label became markup
        assert not any(el.tag.endswith(("script", "img")) for el in root.iter()), out
        text = "".join(root.itertext())
        for ch in "<>&":
            if ch in label:
                assert ch in text, f"{label!r}: {ch!r} should stay text, got {out}"


def test_batch_sigmoid_is_accurate_and_warning_free_everywhere():
    import warnings

    import mpmath
    a = np.concatenate([np.linspace(-700, 700, 2801), [-1e308, 1e308, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no overflow warning leaks out
        s = Value(a).sigmoid().data
    exact = np.array([float(1 / (1 + mpmath.exp(-mpmath.mpf(float(x))))) for x in a])
    rel = np.abs(s - exact) / np.maximum(exact, 1e-300)
    assert rel.max() < 1e-14, f"max relative error {rel.max()} at a = {a[np.argmax(rel)]}"
    assert s[-3:].tolist() == [0.0, 1.0, 0.5]


def test_relu_of_nan_is_nan_as_in_a_batch():
    # scalar and batch agree (numpy's maximum and PyTorch's relu keep nan): a nan is never hidden
    assert math.isnan(Value(math.nan).relu().data), Value(math.nan).relu().data
    assert np.isnan(Value(np.array([math.nan, 1.0])).relu().data[0])
    assert Value(-0.0).relu().data == 0.0 and Value(-2.0).relu().data == 0.0 and Value(2.5).relu().data == 2.5


@pytest.mark.parametrize("name", sorted(ops.TABLE))
def test_a_rule_whose_local_derivative_can_raise_says_so(name):
    # backward() computes first only the locals of rules declaring d_raises (the rest are not
    # checked before grads are written), so a rule that raises from a local derivative at inputs
    # its forward accepts must declare it. Every input on a grid of signs and zeros, floats and
    # batches; the only such rule today is pow (∂(aᵇ)/∂b = aᵇ·ln a at a < 0, e.g. (−2)²).
    op = ops.TABLE[name]
    grid = [-2.0, -0.5, 0.0, 0.5, 2.0]
    n = 3 if op.arity is None else op.arity
    raised = []
    for inputs in itertools.product(grid, repeat=n):
        for data in (list(inputs), [np.array([v, 1.0]) for v in inputs]):
            try:
                ans = op.apply(data)
            except ops.DomainProblem:
                continue
            try:
                op.locals(data, ans)
            except ops.DomainProblem:
                raised.append(inputs)
    assert bool(raised) == op.d_raises, \
        f"{name}: d_raises={op.d_raises}, but its locals raised at {raised[:3]} ({len(raised)} of the grid)"


# --- the variants outside TABLE (ops.VARIANTS, ops.pow_limit) -------------------------------------

@pytest.mark.parametrize("name", sorted(ops.VARIANTS))
def test_every_variant_matches_finite_differences_where_it_agrees_with_pow(name):
    # a variant is pow with another forward at 0 (the limit) or without ∂/∂exponent: at a > 0 its
    # forward is a^b and its base local b·a^(b−1), against a finite difference of a^b
    import random
    rule, r = ops.VARIANTS[name], random.Random(name)
    for _ in range(20):
        a, b = r.uniform(0.2, 3), r.uniform(-2, 2)
        assert math.isclose(rule.apply([a, b]), a ** b, rel_tol=1e-12), f"{name}: {a}^{b}"
        local_a, local_b = rule.locals([a, b], a ** b)
        numeric = fd(lambda u, v: u ** v, [a, b], 0)
        assert math.isclose(local_a, numeric, rel_tol=1e-6), f"{name} ∂/∂a at {a, b}: {local_a} vs {numeric}"
        if "constant" in name:   # the exponents are constants: no local for them
            assert local_b == 0.0, f"{name}: ∂/∂k = {local_b}"
        else:
            numeric = fd(lambda u, v: u ** v, [a, b], 1)
            assert math.isclose(local_b, numeric, rel_tol=1e-6), f"{name} ∂/∂b at {a, b}: {local_b} vs {numeric}"


@pytest.mark.parametrize("k", [-0.5, -1.5])
def test_the_limit_power_gives_inf_at_zero(k):
    # 0^k for k < 0 is +inf as a limit from the right (numpy's np.power(0.0, -0.5) is inf too)
    for rule in (ops.pow_limit(k), ops.POWV_LIMIT, ops.POW_BY_CONSTANTS_LIMIT):
        args = [0.0] if rule.arity == 1 else [0.0, k]
        assert rule.apply(args) == math.inf, f"{rule}: 0^{k} = {rule.apply(args)}"
        batch = [np.array([0.0, 4.0])] + ([] if rule.arity == 1 else [np.array([k, k])])
        assert list(rule.apply(batch)) == [math.inf, 4.0 ** k], f"{rule}: {rule.apply(batch)}"
    with pytest.raises(ops.DomainProblem):       # a user's pow still refuses it
        ops.pow_const(k).apply([0.0])
