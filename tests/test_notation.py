"""Formulas in the user's notation: Python-like text and LaTeX read to the same tree, evaluated
against numbers worked out by hand, and errors that say where and what was expected."""

import math

import numpy as np
import pytest

from microreg import Value
from microreg.notation import Batch, FormulaError, display, parse, parse_chain, parse_latex, parse_python, spellings

# the same formula, once Python-like and once LaTeX (as the documents write it)
SAME = [
    ("(y_hat - y) * a1", r"(\hat{y} - y) \cdot a_1"),
    ("(ŷ − y)·a1", r"\left(\hat{y} - y\right) a_1"),
    ("2 * (aL - y) * σ'(zL)", r"2(a^{(L)} - y)\sigma'(z^{(L)})"),
    ("deltaL * wL * sigmoid_prime(zLm1)", r"\delta^{(L)} w^{(L)} \sigma^{\prime}(z^{(L-1)})"),
    ("1 / n * sum(2 * x * epsilon)", r"\frac{1}{n}\sum_{i=1}^{n} 2 x_i \epsilon_i"),
    ("1 / (2 * m) * Σ((y_hat - y) ** 2)", r"\frac{1}{2m}\sum_{i=1}^{m} (\hat{y}_i - y_i)^2"),
    ("(wlp1.T * deltalp1) ⊙ σ'(zl)", r"((w^{(l+1)})^T \delta^{(l+1)}) \odot \sigma'(z^{(l)})"),
    ("1 / 2 * Σ(beta1 / |epsilon|)", r"\frac{1}{2} \sum \frac{\beta_1}{|\epsilon|}"),
    ("exp(-z) + ln(x) + tanh(z) + relu(z1)", r"e^{-z} + \ln x + \tanh(z) + \mathrm{relu}(z_1)"),
    ("sqrt(sum(ε ** 2))", r"\sqrt{\sum \varepsilon^2}"),
    ("2 * β1 * (β1 * x + β0 - y)", r"2 \beta_1 (\beta_1 x_i + \beta_0 - y_i)"),
]


@pytest.mark.parametrize("python,latex", SAME)
def test_python_and_latex_read_to_the_same_tree(python, latex):
    a, b = parse(python), parse(latex)
    assert not a.latex and b.latex
    assert a.tree == b.tree, f"{python!r} → {a.tree}\n{latex!r} → {b.tree}"


def test_names_functions_and_indices():
    f = parse(r"\frac{1}{n}\sum_{i=1}^{n} 2 x_i \epsilon_i")
    assert f.names == ("epsilon", "n", "x") and f.functions == ("sum",) and f.indices == ("i",)
    g = parse(r"\delta^{(l)}_j a^{(l-1)}_k")
    assert g.names == ("alm1", "deltal") and g.indices == ("j", "k")
    assert parse(r"\beta_1 + \hat{\beta}_0 + \bar{x} + \mathbf{w}").names == ("beta0_hat", "beta1", "w", "x_bar")
    assert parse("a^{[2]} + b_{12}").names == ("a2", "b12")


def test_evaluate_against_hand_numbers():
    # (ŷ − y)·a1 with ŷ = 0.5, y = 0.25, a1 = 2: 0.25·2 = 0.5
    assert parse(r"(\hat{y} - y) \cdot a_1").evaluate({"y_hat": 0.5, "y": 0.25, "a1": 2.0}) == 0.5
    # σ'(0) = ¼; 2(1 − 0)·¼ = 0.5
    assert math.isclose(parse(r"2(a - y)\sigma'(z)").evaluate({"a": 1.0, "y": 0.0, "z": 0.0}), 0.5)
    # e^{-0} = 1, ln e = 1, ½·3 = 1.5, √(3² + 4²) = 5, |−2| = 2
    assert parse(r"e^{-z} + \ln x").evaluate({"z": 0.0, "x": math.e}) == pytest.approx(2.0)
    assert parse("½ * 3").evaluate({}) == 1.5
    assert parse(r"\sqrt{a^2 + b^2}").evaluate({"a": 3.0, "b": 4.0}) == 5.0
    assert parse("|a| + w[1]").evaluate({"a": -2.0, "w": np.array([7.0, 5.0])}) == 7.0
    # tanh'(0) = 1, relu'(−1) = 0, and the same in LaTeX
    assert parse("tanh'(z) + relu'(-1)").evaluate({"z": 0.0}) == 1.0
    assert parse(r"\tanh'(z)").tree == parse("tanh_prime(z)").tree


def test_products_read_as_the_author_meant():
    w2, x = np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0])
    # vectors of different lengths: outer product; then a vector of the row count scales rows
    out = parse(r"(\hat{y} - y) \cdot w_2 \cdot x \cdot \sigma'(z_1)").evaluate(
        {"y_hat": 0.5, "y": 1.0, "w2": w2, "x": x, "z1": np.zeros(3)})
    expected = -0.5 * np.outer(w2, x) * 0.25   # σ'(0) = ¼
    np.testing.assert_allclose(out, expected, atol=1e-15)
    # a transposed matrix juxtaposed with a vector: the matrix product (wᵀ δ)
    W, d = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), np.array([1.0, 0.0, -1.0])
    np.testing.assert_allclose(parse(r"(w^{(2)})^T \delta^{(2)}").evaluate({"w2": W, "delta2": d}), [-4.0, -4.0])
    # ⊙ is elementwise, @ the matrix product
    np.testing.assert_allclose(parse("a ⊙ b").evaluate({"a": d, "b": d}), [1.0, 0.0, 1.0])
    np.testing.assert_allclose(parse("W.T @ d").evaluate({"W": W, "d": d}), [-4.0, -4.0])


def test_a_batch_is_applied_per_sample_and_summed_by_sigma():
    x, e = Batch([1.0, 2.0, 3.0]), Batch([1.0, -1.0, 2.0])
    # (1/n) Σ 2xᵢεᵢ = (2/3)(1 − 2 + 6) = 10/3
    v = parse(r"\frac{1}{n}\sum_{i=1}^{n} 2 x_i \epsilon_i").evaluate({"n": 3, "x": x, "epsilon": e})
    assert math.isclose(v, 10 / 3)
    per_sample = parse("x * epsilon").evaluate({"x": x, "epsilon": e})
    assert isinstance(per_sample, Batch) and per_sample.data.tolist() == [1.0, -2.0, 6.0]
    # a batch of vectors (samples first) times a batch of numbers, sample by sample
    a1 = Batch([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_allclose(parse("sum(r * a1)").evaluate({"r": e, "a1": a1}), [1 - 3 + 10, 2 - 4 + 12])


def test_definitions_evaluate_on_value_nodes_and_build_a_graph():
    w, x, b = Value(2.0, label="w1"), Value(3.0, label="x"), Value(-6.0, label="b1")
    z = parse("w_1 x + b_1").evaluate({"w1": w, "x": x, "b1": b})
    a = parse(r"\sigma(z_1)").evaluate({"z1": z})
    assert isinstance(a, Value) and a.data == 0.5           # σ(2·3 − 6) = σ(0)
    a.backward()
    assert math.isclose(w.grad, 0.25 * 3.0)                  # σ'(0)·x


def test_chains_and_partials():
    sides = parse_chain(r"\frac{\partial L}{\partial w_2} = \frac{\partial L}{\partial z_2} \cdot a_1"
                        r" = (\hat{y} - y) a_1")
    assert [s.tree.kind for s in sides] == ["partial", "mul", "mul"]
    assert sides[0].partials == (("L", "w2"),) and sides[1].partials == (("L", "z2"),)
    v = sides[1].evaluate({"a1": 2.0}, partial=lambda of, wrt: {"z2": 0.5}[wrt])
    assert v == 1.0
    assert parse(r"\frac{\mathrm{d}U}{\mathrm{d}\beta_1}").partials == (("U", "beta1"),)
    assert [s.names for s in parse_chain("d := (y_hat - y) * a1")] == [("d",), ("a1", "y", "y_hat")]


@pytest.mark.parametrize("text,column,expected", [
    ("(y_hat - y * a1", 16, "')'"),
    ("y_hat +* 2", 8, "a name"),
    (r"\frac{1}{", 10, "a name"),
    ("2 3", 3, "'*'"),
    (r"\foo{x} + 1", 1, "a name"),
])
def test_a_formula_that_does_not_parse_says_where_and_what_was_expected(text, column, expected):
    with pytest.raises(FormulaError) as info:
        parse(text)
    err = info.value
    assert err.column == column, f"column {err.column} for {text!r}, expected {column}: {err}"
    assert expected in err.expected and f"column {column}" in str(err), str(err)


def test_unknown_names_and_functions_list_what_exists():
    with pytest.raises(FormulaError, match=r"unknown name 'yy' at column 9.*names that exist: a1, y, y_hat"):
        parse("y_hat - yy").evaluate({"y_hat": 1.0, "y": 2.0, "a1": 0.0})
    with pytest.raises(FormulaError, match=r"unknown function 'foo'.*sigmoid"):
        parse("foo(2)")
    with pytest.raises(FormulaError, match=r"cannot multiply shapes \(2, 3\) and \(2, 2\)"):
        parse("a * b").evaluate({"a": np.ones((2, 3)), "b": np.ones((2, 2))})


def test_user_text_is_never_executed():
    # Python syntax that eval would run is just an unknown name or a syntax error here
    with pytest.raises(FormulaError):
        parse("__import__('os').getcwd()")
    with pytest.raises(FormulaError, match="unknown name '__builtins__'"):
        parse("__builtins__").evaluate({})
    assert parse_python("a").latex is False and parse_latex("a").latex is True


@pytest.mark.parametrize("text,env,message", [
    ("1 / (a - a)", {"a": 1.0}, "division by zero: the divisor at column 6"),
    ("(-a) ** 0.5", {"a": 1.0}, "no real value"),
    ("M @ M", {"M": np.ones((3, 2))}, r"matrix product of shapes \(3, 2\) and \(3, 2\)"),
    ("dot(v, w)", {"v": np.ones(3), "w": np.ones(2)}, r"dot at column 1.*\(3,\), \(2,\) do not fit"),
])
def test_values_that_do_not_exist_are_errors_that_say_where(text, env, message):
    with pytest.raises(FormulaError, match=message):
        parse(text).evaluate(env)


def test_random_text_parses_or_fails_with_a_formula_error():
    # a seeded fuzz over the notation's pieces: nothing but FormulaError may escape
    import random
    pieces = list("ab xy_^{}()[]|+-*/·⊙ᵀ'=,.0123456789σΣŷβ½$&:") + [
        r"\frac", r"\sum", r"\sigma", r"\hat", r"\left", r"\right", r"\cdot", r"\partial", r"\sqrt", r"\beta",
        r"\mathrm{relu}", r"\text{hi}", "^{(1)}", "_{i=1}", "^T", r"\lvert", r"\rvert", r"\tanh", "e^", "sum(",
        "outer(", "@", "**"]
    env = {"a": 0.5, "b": -1.0, "x": np.array([1.0, 2.0]), "y": Batch([1.0, 0.0, -2.0])}
    rng = random.Random(0)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 10)))
        try:
            parse(text).evaluate(env)
            parse_chain(text)
        except FormulaError:
            pass


# --- the one reader on the notation real derivations use (issue: read real notation) ------------------------

from microreg.notation import read, read_row, show  # noqa: E402


@pytest.mark.parametrize("text,shown", [
    # functions of their arguments, bare function names, operator names
    (r"J(w,b)", "J(w, b)"),
    (r"\frac{\partial J(w,b)}{\partial w}", "∂(J(w, b))/∂w"),
    (r"h_\theta(x^{(i)})", "h_θ(x⁽ⁱ⁾)"),
    (r"f_{w,b}(x^{(i)})", "f_{wb}(x⁽ⁱ⁾)"),
    (r"g^{[1]}(z)", "g^[1](z)"),
    ("sigmoid(z) + tanh(z) + log(x) + ReLU(z)", "σ(z) + tanh(z) + log(x) + ReLU(z)"),
    (r"\log \hat{y} + \ln x + \exp(z) + \max(0, z)", "log ŷ + log x + exp(z) + max(0, z)"),
    (r"\operatorname{softmax}(z) + \mathrm{ReLU}(z)", "softmax(z) + ReLU(z)"),
    # primes and derivative notations
    (r"\sigma'(z) + g'(z) + g^{[1]'}(z) + \text{ReLU}'(z) + \tanh'(u)", "σ'(z) + g'(z) + g^[1]'(z) + ReLU'(z) + tanh'(u)"),
    (r"\dot\sigma(z)", "σ'(z)"),
    (r"\nabla_{b} L", "∂L/∂b"),
    (r"\partial_w L", "∂L/∂w"),
    (r"\frac{dL}{dw}", "∂L/∂w"),
    (r"\frac{d}{dz}\sigma(z)", "∂(σ(z))/∂z"),
    ("∂L/∂w", "∂L/∂w"),
    (r"dW^{[2]}", "d W^[2]"),                # as written: the document's model reads it as ∂J/∂W⁽²⁾
    # indices: samples, layers, units, classes; sums over what their index ranges over
    (r"a^{[2](i)} + y^{(i)}", "a^[2]⁽ⁱ⁾ + y⁽ⁱ⁾"),
    (r"w^l_{jk} + a^L_j + b^l_j + z_{2}^{(i)} + a^{L-1}", "wⱼₖˡ + aⱼᴸ + bⱼˡ + z₂⁽ⁱ⁾ + aᴸ⁻¹"),
    (r"\sum\limits_{i=0}^{m-1} x_i", "Σᵢ xᵢ"),
    (r"\sum_k e^{z_k}", "Σₖ e^zₖ"),
    # layout that carries no math
    (r"\color{red}{w}\,x \tag{2}", "w x"),
    (r"\left. \frac{\partial L}{\partial w} \right|_{w=0}", "∂L/∂w"),
    (r"\mathbf{W}^\top \boldsymbol{\delta} + \vec{x} + \mathcal{L}", "Wᵀ δ + x + ℒ"),
    ("σ(z)·ŷ − ∂L/∂w + x²", "σ(z)·ŷ − ∂L/∂w + x²"),
    # elided terms stay what they are: a pattern
    (r"w_0 x_0 + \dots + w_n x_n", "w₀ x₀ + … + wₙ xₙ"),
])
def test_the_reader_reads_real_notation(text, shown):
    assert show(read(text)) == shown


def test_course_notation_for_derivatives_and_numpy():
    eq, = read_row(r"db^{[1]} = \frac{1}{m} np.sum(dZ^{[1]}, axis=1, keepdims=True)")
    lhs, rhs = eq.members
    # as written: d times b^{[1]} (the document model reads dX as ∂J/∂X); numpy's call with its keywords
    assert lhs.kind == "mul" and lhs.args[0].value.base == "d"
    assert show(rhs) == "1/m np.sum(d Z^[1], axis=1, keepdims=True)"


@pytest.mark.parametrize("text,count,rels", [
    (r"z = w x + b, \quad a = \sigma(z)", 2, [["="], ["="]]),
    (r"t = \tanh(z) = \frac{e^z - e^{-z}}{e^z + e^{-z}}", 1, [["=", "="]]),
    (r"J \coloneqq \frac{1}{2m} \quad L \equiv J \quad p \triangleq q", 3, [[":="], ["≡"], [":="]]),
    (r"w := w - \alpha \frac{\partial J}{\partial w}", 1, [[":="]]),
    (r"w \leftarrow w - \eta\, dw", 1, [["←"]]),
    (r"w_k \rightarrow w_k' = w_k - \eta \frac{\partial C}{\partial w_k}", 1, [["→", "="]]),
])
def test_several_equations_chains_and_definition_marks(text, count, rels):
    from microreg import layout
    eqs = [e for piece in layout.split_equations(layout.clean(text)) for e in read_row(piece)]
    assert len(eqs) == count and [e.rels for e in eqs] == rels


def test_cases_and_indicators():
    node = read(r"\begin{cases} 1 & \text{if } z > 0 \\ 0 & \text{otherwise} \end{cases}")
    assert node.kind == "cases" and show(node) == "{1 if z > 0; 0 otherwise}"
    assert read(r"\mathbb{1}\{y_i = k\}").kind == "mul"


def test_display_shows_labels_the_way_a_learner_reads_them():
    assert display(r"\hat{y}") == "ŷ" and display("a_1") == "a₁" and display("a^{(1)}") == "a⁽¹⁾"
    assert display("W^{[1]}") == "W^[1]" and display("z1") == "z1" and display("w1[0][1]") == "w1[0][1]"


def test_deep_and_long_formulas_are_refused_or_read_without_running_out_of_stack():
    # 600 terms read as one flat sum; 400 nested calls and 500 nested fractions are refused in one line
    f = parse(" + ".join(["w"] * 600))
    assert f.evaluate({"w": 0.5}) == pytest.approx(300.0)
    with pytest.raises(FormulaError, match="nested .* deep"):
        parse("sqrt(" * 400 + "x" + ")" * 400)
    with pytest.raises(FormulaError, match="nested .* deep"):
        parse(r"\frac{1}{" * 500 + "x" + "}" * 500)
    with pytest.raises(FormulaError, match="too long"):
        parse("w+" * 600_000 + "w")
    # 500 minus signs in a row: each one level deeper, refused like brackets; two are read (−(−w) = w)
    with pytest.raises(FormulaError, match="500 signs in a row at column 1"):
        parse("-" * 500 + "w")
    assert parse("--w").evaluate({"w": 0.5}) == pytest.approx(0.5)


# --- display: a label the way a learner reads it ------------------------------------------------------

@pytest.mark.parametrize("label, shown", [
    (r"\hat{y}", "ŷ"), ("y_hat", "ŷ"), ("ŷ", "ŷ"), (r"\hat{y}_i", "ŷᵢ"),
    ("a_1", "a₁"), ("a_{12}", "a₁₂"), ("z₁", "z₁"), ("a^{(1)}", "a⁽¹⁾"), (r"\delta^{(L-1)}", "δ⁽ᴸ⁻¹⁾"),
    ("w^{(l+1)}", "w⁽ˡ⁺¹⁾"), (r"A^{[1]}", "A^[1]"), (r"\beta_1", "β₁"), ("beta1", "β1"), (r"\varepsilon_i", "εᵢ"),
    (r"\mathbf{W}_1^T", "W₁ᵀ"), (r"\boldsymbol{\delta}", "δ"), (r"$\sigma$", "σ"), (r"\hat{\beta}_1", "β̂₁"),
    # written plainly: as written
    ("a1", "a1"), ("w1[0][1]", "w1[0][1]"), ("dZ1", "dZ1"), ("x_train", "x_train"), ("alphabet", "alphabet"),
    ("L", "L"), ("x[1]", "x[1]"), ("w_q", "w_q"),
])
def test_display_shows_a_label_as_a_learner_reads_it(label, shown):
    assert display(label) == shown


@pytest.mark.parametrize("label", [r"\hat{y}", "a_1", r"\beta_1", "z₁", "y_hat", "w1[0]"])
def test_display_and_spellings_name_the_same_quantity(label):
    # what is shown, typed back into a formula, names the same quantity as the label
    assert set(spellings(display(label))) & set(spellings(label)), (display(label), spellings(label))
