"""Write the teaching notebooks and execute them, so they are committed with their outputs.

    pip install '.[test]' && python notebooks/build.py

The test suite executes every notebook again (tests/test_notebooks.py).
"""

import os
import sys

import nbformat
from nbclient import NotebookClient

HERE = os.path.dirname(os.path.abspath(__file__))


def md(text):
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text):
    return nbformat.v4.new_code_cell(text.strip())


NOTEBOOKS = {}

NOTEBOOKS["01_linear_regression_is_a_neural_net.ipynb"] = [
    md("""
# 1. Linear regression is a neural net

Document 001 says: *"if you trained linear regression models, you were already training neural nets"*.
A linear model ŷ = w·x + b is one neuron with the identity activation. Document 002 writes the same model
as y = β1·x + β0 with the cost U = 1/n Σ ε², where ε = β1 x + β0 − y.

Here we fit a line by gradient descent **through the autograd engine**, compare it with least squares,
look at the computation graph of one sample's loss, and check document 002's hand-derived gradient.
"""),
    code("""
import numpy as np
from microreg import Value
from microreg.nn import LinearRegression, fit, mse
from microreg.data import noisy_line
from microreg.viz import draw_graph, plot_loss

X, y = noisy_line(100, seed=0)          # y = 2x + 1 + noise
model = LinearRegression(1, seed=0)     # w[0] is document 002's β1, b is β0
history = fit(model, X, y, loss=mse, epochs=300, lr=0.1, progress=False)

beta, *_ = np.linalg.lstsq(np.c_[X[:, 0], np.ones(len(y))], y, rcond=None)
print(f"gradient descent:  β1 = {model.w[0].data:.6f}   β0 = {model.b.data:.6f}   U = {history[-1]:.6f}")
print(f"least squares:     β1 = {beta[0]:.6f}   β0 = {beta[1]:.6f}")
"""),
    md("Gradient descent and least squares land on the same β. The loss fell like this:"),
    code("plot_loss(history, title='U = 1/n Σ ε² per epoch')"),
    md("""
## The graph of one sample's loss

One neuron, one sample: z = w·x + b (one `affine` node), then (z − y)². Every node shows its data and
its gradient after `backward()`.
"""),
    code("""
w, b = Value(0.8, label="β1"), Value(-0.3, label="β0")
x, target = Value(1.5, label="x"), 2.0
z = (w * x + b)
z.label = "ŷ"
loss = (z - target) ** 2
loss.label = "(ŷ − y)²"
loss.backward()
draw_graph(loss)
"""),
    md("""
## Document 002's gradient, checked

Document 002 writes

∇U = Σᵢ [ 2(β1 xᵢ + β0 − yᵢ) ; 2 β1 (β1 xᵢ + β0 − yᵢ) ]

`microreg.derivations` codes it exactly as written, and `verify` compares it with autograd at the point
we give and at random points near it.
"""),
    code("""
from microreg.check import verify
from microreg import derivations as d

x_data, y_data = X[:, 0], y
def U(beta1, beta0):                     # the autograd side: 1/n Σ (β1 x + β0 − y)²
    return d.linreg_mse(beta1, beta0, x_data, y_data)

as_written = verify(U, {
    "beta0": lambda beta1, beta0: d.linreg_mse_grad_as_written(beta1, beta0, x_data, y_data)["beta0"],
    "beta1": lambda beta1, beta0: d.linreg_mse_grad_as_written(beta1, beta0, x_data, y_data)["beta1"],
}, at={"beta1": 0.8, "beta0": -0.3}, n=len(y_data))
print(as_written)
"""),
    md("""
Two mistakes, told apart by the verifier:

- **∂U/∂β0** is off by the constant factor n: the document's sum drops U's 1/n.
- **∂U/∂β1** is not even a constant factor off: the document writes β1 where the chain rule gives xᵢ
  (∂ε/∂β1 = xᵢ).

The corrected gradient, (2/n) Σ εᵢ and (2/n) Σ xᵢ εᵢ, matches:
"""),
    code("""
corrected = verify(U, {
    "beta0": lambda beta1, beta0: d.linreg_mse_grad_corrected(beta1, beta0, x_data, y_data)["beta0"],
    "beta1": lambda beta1, beta0: d.linreg_mse_grad_corrected(beta1, beta0, x_data, y_data)["beta1"],
}, at={"beta1": 0.8, "beta0": -0.3}, n=len(y_data))
print(corrected)
"""),
    md("""
## Why MSE and not RMSE?

Document 002 argues for MSE by looking at the RMSE gradient, U = √(Σ ε²), which it writes as
∇U = ½ Σ [1/|ε| ; β1/|ε|]. That formula is wrong (the square root applies to the whole sum), and the
verifier says so; the correct gradient is Σ εᵢ/U and Σ xᵢ εᵢ/U:
"""),
    code("""
def U_rmse(beta1, beta0):
    return d.linreg_rmse(beta1, beta0, x_data, y_data)

for name, fn in [("as written", d.linreg_rmse_grad_as_written), ("corrected", d.linreg_rmse_grad_corrected)]:
    report = verify(U_rmse, {k: (lambda beta1, beta0, k=k, fn=fn: fn(beta1, beta0, x_data, y_data)[k])
                             for k in ("beta0", "beta1")}, at={"beta1": 0.8, "beta0": -0.3})
    print(f"RMSE gradient {name}:")
    for v in report:
        print(f"  {v.name}: {v.diagnosis}")
"""),
    md("""
The correct RMSE gradient is the MSE-style sum divided by U itself, so it points the same way as the
MSE gradient but its size does not shrink as the fit improves. The real reasons to prefer MSE are that
its gradient is linear in the residuals (smooth everywhere, even at a perfect fit where √ has a kink)
and its minimum is the least-squares solution.
"""),
    md("""
## The same comparison on a table: `microreg train --model linear`

The training pipeline behind `microreg train` (`microreg.train`) does this comparison for any table:
`model="linear"` trains the `LinearRegression` module by gradient descent (with the largest step that
converges, 1/λmax of the MSE's Hessian) and puts the closed-form least-squares fit and the mean of the
training targets beside it, on the same held-out test rows.
"""),
    code("""
from microreg.data import Table, noisy_line
from microreg.train import train_table

X_line, y_line = noisy_line(200, seed=0)          # y = 2x + 1 + noise
table = Table("line.csv", ["x", "y"], [[str(float(a)), str(float(b))] for a, b in zip(X_line[:, 0], y_line)])
result = train_table(table, "y", model="linear", epochs=300, progress=False)
print(result.report())
gap = result.closed_form_max_abs_difference
print("largest parameter difference from the closed form:", "< 1e-8" if gap < 1e-8 else f"{gap:.2g}")
"""),
]

NOTEBOOKS["02_two_layer_backprop_step_by_step.ipynb"] = [
    md("""
# 2. Backprop through the two-layer net, one step at a time

Document 000's network: z1 = w1·x + b1, a1 = σ(z1), z2 = w2·a1 + b2, ŷ = z2 (a sigmoid hidden layer and a
linear output, for regression), with L = 1/(2m) Σ (ŷ − y)². On one sample (m = 1) that is L = ½(ŷ − y)².

The stepper first runs the **forward pass** one node at a time (each value appears as it is computed),
then seeds ∂L/∂L = 1, then runs the **backward pass** one chain-rule application at a time (each grad,
∂L/∂node, fills in). Use Previous / Next / Play, the slider or the ← → keys; scroll to zoom, drag to pan;
tick *Quiz me* to answer each step before it is shown. Without a kernel, nbviewer runs the same page on its
own below; GitHub, which drops the page, shows the still picture of the graph under it.
"""),
    code("""
from microreg.step import Stepper, document_000_example

loss = document_000_example()          # TwoLayerNet(1, 3, seed=0) on x = 0.5, y = sin(0.5)
stepper = Stepper(loss)
stepper.widget()
"""),
    md("The same steps in words: the first forward step, the seed, and the first backward steps."),
    code("""
for k in (0, stepper.phase_start("seed"), stepper.phase_start("backward"), stepper.phase_start("backward") + 1):
    print(stepper.text(k), end="\\n\\n")
"""),
    md("""
Each backward step is one chain-rule application: the input's gradient `+=` the upstream gradient times the
local derivative, with the formula taken from the rule table. Where a node feeds two others, as (ŷ − y) does in
(ŷ − y)·(ŷ − y), its gradient is a running sum of two contributions.

## One layer at a time

Document 001 writes the same backward pass per layer: δ⁽ᴸ⁾ = ∇ₐC ⊙ σ'(z⁽ᴸ⁾), δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ⊙ σ'(z⁽ˡ⁾),
∂C/∂W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ, ∂C/∂b⁽ˡ⁾ = δ⁽ˡ⁾. The layer view steps that way, with the numbers:
"""),
    code("""
layers = Stepper(document_000_example(), view="layers")
for k in range(layers.phase_start("layer"), len(layers)):
    print(layers.text(k), end="\\n\\n")
"""),
    md("""
## Quiz

`stepper.quiz()` hides each step's result until you give it; a wrong answer gets a hint.
"""),
    code("""
quiz = Stepper(document_000_example()).quiz()
print(quiz.question())
print(quiz.answer(0.5).hint)
"""),
    md("""
At any step, a finished gradient can be checked against a finite difference:
"""),
    code("""
stepper.goto(len(stepper) - 1)
stepper.check()
"""),
    md("""
## Every update rule of document 000 against autograd

`microreg.derivations.two_layer_grads` writes the document's rules as written:
∂L/∂w2 = (ŷ − y)·a1, ∂L/∂b2 = (ŷ − y), ∂L/∂w1 = (ŷ − y)·w2·x·σ'(z1), ∂L/∂b1 = (ŷ − y)·w2·σ'(z1).
Per sample they are right. Applied to a batch of m samples as written, they are m times too large:
the document's ∂L/∂z2 = (ŷ − y) drops the 1/m of its own loss.
"""),
    code("""
from microreg.check import check_documents
for formula, report in check_documents():
    if formula.document == "000":
        verdict = report[next(iter(report.verdicts))]
        print(f"{'ok   ' if report.ok else 'WRONG'} {formula.formula}")
        if not report.ok:
            print(f"      {verdict.diagnosis}")
"""),
    md("""
## Training the net

With the rules confirmed, train the net on built-in data (y = sin x + noise) by full-batch gradient
descent, through the engine's batch nodes: one node holds all 200 samples.
"""),
    code("""
import numpy as np
from microreg.data import noisy_sine
from microreg.nn import TwoLayerNet, Adam, fit, half_mse
from microreg.viz import plot_loss, plot_fit

X, y = noisy_sine(200, seed=0)
net = TwoLayerNet(1, 16, seed=0)
history = fit(net, X / X.std(), y, loss=half_mse, epochs=1500, optimizer=Adam(net.parameters(), lr=0.02),
              progress=False)
print(f"L = 1/(2m) Σ (ŷ − y)²: {history[0]:.4f} → {history[-1]:.4f}  (noise variance / 2 = 0.005)")
plot_loss(history, title="document 000's L per epoch")
"""),
    code("""
plot_fit(X[:, 0], y, lambda grid: net(grid / X.std()).data, truth=np.sin)
"""),
]

NOTEBOOKS["03_verify_your_own_gradients.ipynb"] = [
    md("""
# 3. Verify your own gradients, written the way you wrote them

You derived a gradient by hand, in terms of the quantities of your derivation: ŷ, z₁, a₁, δ, εᵢ.
`verify(loss, hand, at, data=...)` checks it against autograd, and when it is wrong, says *what the
mistake is*. `hand` maps each parameter to your formula, as a **string** in your notation (Python-like
or LaTeX) or a function of the names it needs. Names resolve to the parameters at the point, the
**labelled nodes** of the loss's graph (their forward values), then `data`.

How does it know the mistake? From the graph and the rule table it computes the gradients that
*mistaken backward passes* give (one local derivative forgotten, applied twice, taken at the wrong
node, confused with another (σ for σ'), the wrong factor of a product, one quantity where another
belongs, a path left out…), and re-evaluates your formula with one place changed (a difference the
other way round, a name replaced); it keeps what your numbers equal at every point checked. Nobody
wrote the wrong answers in advance. The same search (`microreg.mistakes`) names the mistakes of
`microreg check FILE` and of the stepper's quiz, in the same words.

Our net: x → z1 = w1·x → h1 = tanh(z1) → z2 = w2·h1 → h2 = tanh(z2), loss L = (h2 − t)². By hand:
∂L/∂w1 = 2(h2 − t)·(1 − h2²)·w2·(1 − h1²)·x.
"""),
    code("""
import numpy as np
from microreg.check import verify, gradcheck

def named(label, node):               # give a node the name your derivation uses
    node.label = label
    return node

x, t = 0.8, 0.3                       # one sample and its target
data = {"x": x, "t": t}

def L(w1, w2):
    h1 = named("h1", named("z1", w1 * x).tanh())
    h2 = named("h2", named("z2", w2 * h1).tanh())
    return (h2 - t) ** 2

point = {"w1": 0.9, "w2": -1.3}
"""),
    md("## Right, in either notation"),
    code("""
print(verify(L, {"w1": "2 * (h2 - t) * (1 - h2**2) * w2 * (1 - h1**2) * x",
                 "w2": r"2(h_2 - t)\\left(1 - h_2^2\\right) h_1"}, at=point, data=data))
"""),
    md("## A constant factor: the 2 of the square left out"),
    code("""
print(verify(L, {"w2": "(h2 - t) * (1 - h2**2) * h1"}, at=point, data=data)["w2"].diagnosis)
"""),
    md("## A forgotten local derivative: tanh' of the first layer"),
    code("""
print(verify(L, {"w1": "2 * (h2 - t) * (1 - h2**2) * w2 * x"}, at=point, data=data)["w1"].diagnosis)
"""),
    md("## A local derivative at the wrong node: tanh' of the wrong layer"),
    code("""
v = verify(L, {"w1": "2 * (h2 - t) * (1 - h2**2) * w2 * (1 - h2**2) * x"}, at=point, data=data)["w1"]
print(v.diagnosis)
v.explanation.kind, v.explanation.nodes        # structured, for your own tools
"""),
    md("## One mistake and a constant factor together"),
    code("""
print(verify(L, {"w1": "(h2 - t) * (1 - h2**2) * w2 * x"}, at=point, data=data)["w1"].diagnosis)
"""),
    md("""
## What learners confuse, what they apply twice, and what they swap

tanh' written as 1 − h1 (not 1 − h1²); tanh' applied twice; w1 where w2 belongs; and a difference
written the wrong way round, said in your own order:
"""),
    code("""
for name, formula in [("w1", "2 * (h2 - t) * (1 - h2**2) * w2 * (1 - h1) * x"),
                      ("w1", "2 * (h2 - t) * (1 - h2**2) * w2 * (1 - h1**2)**2 * x"),
                      ("w1", "2 * (h2 - t) * (1 - h2**2) * w1 * (1 - h1**2) * x"),
                      ("w2", "2 * (t - h2) * (1 - h2**2) * h1")]:
    print(verify(L, {name: formula}, at=point, data=data)[name].diagnosis)
"""),
    md("""
## The wrong factor of a product

Softplus of k·s for a data value s = 1.5: ∂/∂k = σ(k·s)·s. Taking ∂(k·s)/∂k as k instead of s:
"""),
    code("""
s = 1.5

def S(k):
    return (1.0 + named("p", k * s).exp()).log()

print(verify(S, {"k": r"\\sigma(p) \\cdot k"}, at={"k": 0.4}, data={"s": s})["k"].diagnosis)
"""),
    md("## A missing path: w reaches the loss twice"),
    code("""
def P(w):
    s = named("s", w * x + w.tanh())
    return (s - t) ** 2

print(verify(P, {"w": "2 * (s - t) * x"}, at={"w": 0.3}, data=data)["w"].diagnosis)
"""),
    md("""
## Vectors: one element wrong, and a transpose

z = W x (labels `z[0]`, `z[1]`, `z[2]` gather into a vector `z`), L = ½ Σ zⱼ², so ∂L/∂W = z xᵀ.
"""),
    code("""
xv = np.array([1.0, -2.0])

def Q(W):
    total = 0.0
    for j in range(3):
        z = named(f"z[{j}]", W[j][0] * xv[0] + W[j][1] * xv[1])
        total = z * z * 0.5 + total
    return total

W0 = {"W": np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.6]])}

def one_sign_flipped(z, x):
    g = np.outer(z, x)
    g[1, 0] *= -1
    return g

print(verify(Q, {"W": r"z x^T"}, at=W0, data={"x": xv})["W"].diagnosis)
print(verify(Q, {"W": one_sign_flipped}, at=W0, data={"x": xv})["W"].diagnosis)
print(verify(Q, {"W": "outer(x, z)"}, at=W0, data={"x": xv})["W"].diagnosis)
"""),
    md("""
## A batch, and the 1/m of a mean

A per-sample formula applied to a batch is summed over the samples; against a loss that takes the mean,
that is m times too large. The formula says m, so the diagnosis does too. Written per sample (no Σ),
it is a one-sample rule under a mean loss, and said so:
"""),
    code("""
xb = np.array([0.5, -1.0, 2.0, 1.5, 0.2])
yb = np.array([1.0, 0.0, 3.0, 2.0, 0.4])

def J(a, c):                             # J = 1/(2m) Σ (a xᵢ + c − yᵢ)², residuals r labelled
    r = named("r", a * xb + c - yb)
    return (r * r).mean() * 0.5

print(verify(J, {"a": r"\\sum_{i=1}^{m} r_i x_i",
                 "c": r"\\frac{1}{m}\\sum_{i=1}^{m} r_i"}, at={"a": 0.3, "c": 0.1}, data={"x": xb, "y": yb}))
print(verify(J, {"a": "r * x"}, at={"a": 0.3, "c": 0.1}, data={"x": xb, "y": yb}, letter="m")["a"].diagnosis)
"""),
    md("## When no single mistake explains it"),
    code("""
print(verify(L, {"w1": "(h2 - t) * x * x * w1 + h1"}, at=point, data=data)["w1"].diagnosis)
"""),
    md("""
## Functions that take only what they need, and clear errors

A function may name only the quantities it uses. A formula that does not parse, or a name that does
not exist, is an error that says where, and what exists.
"""),
    code("""
print(verify(L, {"w2": lambda h2, h1, t: 2 * (h2 - t) * (1 - h2 ** 2) * h1}, at=point, data=data)["w2"].diagnosis)
for formula in ("2 * (h2 - t) *", "2 * (y_hat - t) * h1"):
    try:
        verify(L, {"w2": formula}, at=point, data=data)
    except Exception as err:
        print(type(err).__name__ + ":", err)
"""),
    md("""
## A kink

relu has no derivative at 0; any slope between the left one and the right one is a valid subgradient.
"""),
    code("""
def R(w):
    return (w * 3.0).relu()

print(verify(R, {"w": lambda w: 1.5}, at={"w": 0.0}, nearby=0)["w"].diagnosis)
print(verify(R, {"w": lambda w: 7.0}, at={"w": 0.0}, nearby=0)["w"].diagnosis)
"""),
    md("""
## Symbolic: prove it

With sympy expressions the verifier tries to prove the difference is 0 (time-boxed), else refutes the
formula with a counter-example, naming a constant factor when there is one.
"""),
    code("""
import sympy as sp
w, xs = sp.symbols("w x")
Lsym = (w * xs - 1) ** 2
print(verify(Lsym, {"w": 2 * xs * (w * xs - 1)})["w"].diagnosis)
print(verify(Lsym, {"w": xs * (w * xs - 1)})["w"].diagnosis)
"""),
    md("""
## gradcheck: autograd against finite differences

Element by element, with a step from each value's size (shrunk where the function's domain ends).
"""),
    code("""
def custom(w, b):
    z = w[0] * 1.5 + w[1] * -0.5 + b
    return (z.tanh() - 0.3) ** 2 + 0.01 * (w[0] ** 2 + w[1] ** 2)

print(gradcheck(custom, np.array([0.2, -0.7]), 0.1))
"""),
]

NOTEBOOKS["04_deep_nets_and_the_delta_rule.ipynb"] = [
    md("""
# 4. Deep nets and the δ rule

Document 001 derives backpropagation for an L-layer net, z⁽ˡ⁾ = w⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = σ(z⁽ˡ⁾), with the
per-sample cost C = (a⁽ᴸ⁾ − y)². It defines the error δ⁽ˡ⁾ := ∂C/∂z⁽ˡ⁾ and gives, in the multivariate
setting (⊙ is the Hadamard, elementwise, product):

- δ⁽ᴸ⁾ = ∇ₐC ⊙ σ'(z⁽ᴸ⁾)
- δ⁽ˡ⁾ = ((w⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ⊙ σ'(z⁽ˡ⁾)
- ∂C/∂b⁽ˡ⁾ⱼ = δ⁽ˡ⁾ⱼ,  ∂C/∂w⁽ˡ⁾ⱼₖ = δ⁽ˡ⁾ⱼ a⁽ˡ⁻¹⁾ₖ

We write the recursion vectorised in numpy and check it against autograd, layer by layer, on a `DeepNet` (document 001's L-layer net).
"""),
    code("""
import numpy as np
from microreg.nn import DeepNet, squared_error
from microreg import derivations as d

net = DeepNet(2, [4, 3, 2], activation="sigmoid", output_activation="sigmoid", seed=0)
x, y = np.array([0.5, -1.2]), np.array([0.3, 0.8])

outputs = net(list(x))
cost = squared_error(outputs[0], y[0]) + squared_error(outputs[1], y[1])   # C = Σⱼ (a⁽ᴸ⁾ⱼ − yⱼ)²
net.zero_grad()
cost.backward()

W = [np.array([[p.data for p in row] for row in layer]) for layer in net.weights]
B = [np.array([p.data for p in layer]) for layer in net.biases]
hand = d.multivariate_grads(W, B, x, y)

for l in range(3):
    auto_w = np.array([[p.grad for p in row] for row in net.weights[l]])
    auto_b = np.array([p.grad for p in net.biases[l]])
    print(f"layer {l + 1}: |∂C/∂w - δaᵀ| = {np.abs(auto_w - hand['w'][l]).max():.1e}   "
          f"|∂C/∂b - δ| = {np.abs(auto_b - hand['b'][l]).max():.1e}   δ = {np.round(hand['delta'][l], 5)}")
"""),
    md("""
Every layer agrees to rounding error: the multivariate equations are right.

## The scalar version has a slip

For one neuron per layer the document first writes δ⁽ᴸ⁻¹⁾ = δ⁽ᴸ⁾ w⁽ᴸ⁾ σ'(z⁽ᴸ⁾), with σ' of the *output*
layer's z. Its own general rule, δ⁽ˡ⁾ = δ⁽ˡ⁺¹⁾ w⁽ˡ⁺¹⁾ σ'(z⁽ˡ⁾), has the right argument. The verifier:
"""),
    code("""
from microreg.check import check_documents
for formula, report in check_documents():
    if formula.document == "001":
        print(f"{'ok   ' if report.ok else 'WRONG'} {formula.formula}")
        for v in report:
            if not v.ok:
                print(f"      {v.diagnosis}")
"""),
    md("""
## A small deep net, grouped by layer

The graph of a 1 → 2 → 2 → 1 net's output; clusters follow the documents' layer numbers in the labels
(w1, b1, z1, a1 are layer 1, and so on).
"""),
    code("""
from microreg.viz import draw_graph
small = DeepNet(1, [2, 2, 1], activation="tanh", seed=1)
out = small([0.7])
out.backward()
draw_graph(out)
"""),
]


# --- 5. Check a derivation document (microreg.document) ---------------------------------------------
NOTEBOOKS["05_check_a_derivation_document.ipynb"] = [
    md("""
# 5. Check a derivation document

You derived the gradients of a small net by hand, in Markdown with LaTeX, the way blog posts and course
notes do. `microreg.document` reads such a document and checks it claim by claim: the definitions become
the model (a graph of `Value` nodes, labelled with your names), and every derivative you wrote, every step
of every chain, is compared with autograd at seeded random points with random data.
"""),
    code(r'''
from microreg.document import check_document, check_report, format_results

notes = r"""
# A sigmoid unit and a squared error

$$z = w x + b$$
$$a = \sigma(z)$$
$$L = (a - y)^2$$

\begin{align}
\frac{\partial L}{\partial w} &= \frac{\partial L}{\partial a} \frac{\partial a}{\partial z} \frac{\partial z}{\partial w} \\
  &= 2(a - y)\, \sigma'(z)\, x \\
\frac{\partial L}{\partial b} &= (a - y)\, \sigma'(z)
\end{align}
"""
print(format_results(check_report(notes)))
'''),
    md("""
The chain-rule product is right, the expanded form is right, and ∂L/∂b is half of autograd: the 2 of the
square is missing. Each verdict sits on the line where the claim is written.

## Every step of a chain is checked on its own

A chain can go wrong in the middle and come right again at the end (or the other way round). Here σ' is
taken at w in the middle step; the last step is right again. Both are reported, each on its own line.
"""),
    code(r'''
chain = r"""
$$z = w x$$
$$a = \sigma(z)$$
$$L = (a - y)^2$$
\begin{align}
\frac{\partial L}{\partial w} &= \frac{\partial L}{\partial a} \frac{\partial a}{\partial w} \\
  &= 2(a - y) \sigma'(w) x \\
  &= 2(a - y) \sigma'(z) x
\end{align}
"""
for r in check_document(chain):
    print(f"line {r.line}: {r.claim:<32} {r.verdict:<6} {r.explanation}")
'''),
    md("""
## Conventions that change the answer are said

A rule written for one sample, under a loss that takes the mean over m samples, is right for one sample and
m times too large for m. The checker tries both readings and says which convention the formula follows: the
factor follows the number of samples.
"""),
    code(r'''
mean = r"""
$$\hat{y} = w x + b$$
$$L = \frac{1}{2m}\sum_{i=1}^m (\hat{y}_i - y_i)^2$$
$$\frac{\partial L}{\partial w} = (\hat{y} - y) x$$
"""
for m in (1, 4, 10):
    r, = check_document(mean, samples=m)
    print(f"m = {m:>2}: {r.verdict:<6} {r.explanation}")
'''),
    md("""
## The notation courses and textbooks use

Real derivations are written in a course's notation: `W^{[l]}`, `A^{[l-1]}`, the samples as the columns of
`X`, `dZ^{[l]}` for each sample's ∂ℒ/∂Z and `dW^{[l]}` for ∂J/∂W. The reader knows these conventions and
reads such a document with vectors and matrices on its own (a transpose, `⊙`, a capital matrix are the
signs). Here the tanh layer's derivative is taken as 1 − A instead of 1 − A².
"""),
    code(r'''
course = r"""
Samples are the columns of $X$; for layer $l$, $Z^{[l]} = W^{[l]}A^{[l-1]} + b^{[l]}$ with $A^{[0]} = X$.

$$A^{[1]} = \tanh(Z^{[1]}), \qquad A^{[2]} = \sigma(Z^{[2]})$$

$$J = -\frac{1}{m}\sum_{i=1}^{m}\left(y^{(i)}\log a^{[2](i)} + (1-y^{(i)})\log(1-a^{[2](i)})\right)$$

$$dZ^{[2]} = A^{[2]} - Y, \qquad dW^{[2]} = \frac{1}{m} dZ^{[2]} A^{[1]T}$$

$$dZ^{[1]} = W^{[2]T} dZ^{[2]} \odot (1 - A^{[1]})$$
"""
report = check_report(course)
print(report.dims)
for r in report.claims:
    print(f"line {r.line}: {r.claim:<38} {r.verdict:<6} {r.explanation}")
'''),
    md("""
The explanation is the one `verify` gives for the same slip: both call one mistake search
(`microreg.mistakes`). A derivation kept in a notebook is read the same way, cell by cell (a row says
`cell:line`); so is a LaTeX file (`.tex`), and `microreg check -` reads standard input.
"""),
    code(r'''
import nbformat
from microreg.document import check_file

nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_markdown_cell(r"Forward: $z = w x + b$, $\hat{y} = \sigma(z)$, and $L = -y\log\hat{y} - (1 - y)\log(1 - \hat{y})$."),
            nbformat.v4.new_code_cell("z = w * x + b"),
            nbformat.v4.new_markdown_cell(r"$$\frac{\partial L}{\partial z} = \hat{y} - y, \qquad \frac{\partial L}{\partial w} = (\hat{y} - y)\,\hat{y}(1 - \hat{y})\, x$$")]
import tempfile
from pathlib import Path
path = Path(tempfile.mkdtemp()) / "logistic.ipynb"
nbformat.write(nb, path)
for r in check_file(path).claims:
    print(f"cell {r.cell}, line {r.line}: {r.claim:<28} {r.verdict:<6} {r.explanation}")
'''),
    md("""
## The three source documents

The project's source documents (in `shared/seeds/`, beside the repository) are read from the files
themselves. Only the rows that are not ok are shown here; `microreg check FILE` prints them all.
"""),
    code(r'''
from pathlib import Path
from microreg.document import check_file

seeds = Path("..") / ".." / "shared" / "seeds"
if not seeds.exists():
    print(f"the source documents are not here ({seeds.resolve()} is absent)")
for path in sorted(seeds.glob("*.txt")):
    report = check_file(path)
    counts = {v: sum(r.verdict == v for r in report.results) for v in ("ok", "factor", "wrong", "unchecked")}
    print(f"{path.name[:3]}: {counts}")
    for r in report.results:
        if r.verdict in ("factor", "wrong"):
            print(f"   line {r.line:>3} {r.verdict:<6} {r.claim[:40]:<40}  {r.explanation[:100]}")
'''),
    md("""
## With vectors and matrices: `dims`

Read with scalars (one unit per layer) `(W^{(l+1)})^T \\delta^{(l+1)}` and `W^{(l+1)} \\delta^{(l+1)}` are the same
number, so a missing transpose cannot show. `dims={"f": 2, "h": 3, "n2": 4}` (on the command line
`microreg check NOTES.md --dims f=2,h=3,n2=4`) fixes the sizes of the vectors: x has f features, h units per
hidden layer (n2 sets layer 2), one output. W⁽ˡ⁾ is then a size(l) × size(l−1)
matrix of labelled Values, products follow linear algebra, and a claim whose shapes do not fit is wrong
on its line. Sizes that differ (2 → 3 → 4 → 1 here) let every transpose show.
"""),
    code(r'''
layered = r"""
$$C = (a^{(L)} - y)^2$$
$$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$$
$$a^{(l)} = \sigma(z^{(l)})$$
$$\delta^{(l)} := \frac{\partial C}{\partial z^{(l)}}$$
$$\delta^{(l)} = \left((W^{(l+1)})^\top \delta^{(l+1)}\right) \odot \sigma'(z^{(l)})$$
$$\delta^{(l)} = \left(W^{(l+1)} \delta^{(l+1)}\right) \odot \sigma'(z^{(l)})$$
$$\frac{\partial C}{\partial W^{(l)}} = \delta^{(l)} (a^{(l-1)})^\top$$
$$\frac{\partial C}{\partial W^{(l)}} = \delta^{(l)} \odot a^{(l-1)}$$
"""
for r in check_document(layered, dims={"f": 2, "h": 3, "n2": 4}):
    print(f"line {r.line}  {r.verdict:<5}  {r.claim:<34}  {r.explanation}")
print()
for r in check_document(layered):          # the scalar reading: every rule looks right
    print(f"line {r.line}  {r.verdict:<5}  {r.claim}")
'''),
    code(r'''
if seeds.exists():                        # document 001's "multivariate" rules (line 62), read with vectors
    report = check_file(seeds / "001_eeca50faed54cd79.txt", dims="f=2,h=3")
    for r in report.results:
        if r.line == 62:
            print(f"line {r.line}  {r.verdict:<5}  {r.claim}")
'''),
    md("""
## What it cannot read is listed, never skipped

An equation it cannot parse, a name never defined, a derivative with respect to something that is not in
the model: each is **unchecked**, with its line, column and the reason. For a front end, every result is
also a plain dict (`microreg check FILE --json` prints one per line).
"""),
    code(r'''
broken = r"""
$$z = w x + b$$
$$L = (z - y)^2$$
$$\frac{\partial L}{\partial w} = 2 (z - y) x + \lambda w$$
$$\frac{\partial L}{\partial b} = 2 (z - y$$
$$\frac{\partial L}{\partial b} = 2 (z - y)$$
"""
for r in check_document(broken):
    print(r.to_dict())
'''),
]

NOTEBOOKS["06_check_your_numpy_backprop.ipynb"] = [
    md("""
# 6. Check your numpy backprop

Course assignments ask for a backward pass written by hand in numpy. Its usual check is one number from
a finite difference ("difference = 0.27"). Here microreg runs **your forward pass** on arrays of `Value`
nodes, so autograd computes the right gradients from your own forward code, then runs **your backward
pass** on plain numpy arrays and compares, at the point you give and at 4 random points near it. When a
gradient is wrong it says what the mistake is, in your variable names (`Z1`, `A1`, `hidden`, element by
element `A1[2][0]`), once per array when a line of array code is wrong on every element.

Three classic shapes: a course-style tanh/sigmoid net (samples as columns), a CS231n-style relu/softmax
net with L2 (samples as rows), and an L-layer net's helpers checked one by one. All the code is ours,
written the way those assignments write it. See also `docs/numpy-code.md`.
"""),
    md("## 1. A tanh/sigmoid net, samples as columns: `verify(cost, grads, at=parameters)`"),
    code("""
import numpy as np
from microreg.check import verify

def forward_propagation(X, parameters):
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}

def compute_cost(A2, Y):
    m = Y.shape[1]
    return float(np.squeeze(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m))

def backward_propagation(parameters, cache, X, Y):
    m = X.shape[1]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y
    dW2 = np.dot(dZ2, A1.T) / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = np.dot(parameters["W2"].T, dZ2) * (1 - np.power(A1, 2))
    dW1 = np.dot(dZ1, X.T) / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}

def cost(X, Y, parameters):
    return compute_cost(forward_propagation(X, parameters)[0], Y)

def grads(X, Y, parameters):
    A2, cache = forward_propagation(X, parameters)
    return backward_propagation(parameters, cache, X, Y)

rng = np.random.default_rng(0)
X, Y = rng.normal(size=(2, 8)), (rng.uniform(size=(1, 8)) > 0.5) * 1.0    # 2 features, m = 8 samples
parameters = {"W1": rng.normal(size=(4, 2)), "b1": np.zeros((4, 1)),
              "W2": rng.normal(size=(1, 4)), "b2": np.zeros((1, 1))}
verify(cost, grads, at=parameters, args=(X, Y))
"""),
    md("""
Right. Now the slips learners make. Each backward pass below differs from the right one in one line
(`slip` picks it); each wrong gradient is named, with the array it is about:
"""),
    code("""
def backward_with(slip):
    def grads(X, Y, parameters):
        A2, cache = forward_propagation(X, parameters)
        m, A1, Z1 = X.shape[1], cache["A1"], cache["Z1"]
        dZ2 = (Y - A2) if slip == "Y - A2" else (A2 - Y)
        dW2 = np.dot(dZ2, A1.T) / m
        db2 = np.sum(dZ2, axis=1, keepdims=True) / m
        local = {"1 - A1": 1 - A1, "1 - Z1**2": 1 - Z1 ** 2}.get(slip, 1 - A1 ** 2)
        dZ1 = np.dot(parameters["W2"].T, dZ2) * local
        dW1 = np.dot(dZ1, X.T) / (1 if slip == "no 1/m" else m)
        db1 = np.sum(dZ1, axis=1, keepdims=slip != "no keepdims") / m
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    return grads

for slip in ["1 - A1", "1 - Z1**2", "Y - A2", "no 1/m", "no keepdims"]:
    report = verify(cost, backward_with(slip), at=parameters, args=(X, Y))
    wrong = [v for v in report if not v.ok]
    print(f"{slip}: wrong {[v.name for v in wrong]}\\n    {wrong[0].diagnosis}")
"""),
    md("""
In a notebook a report shows itself as a table (`report.show()` does it from anywhere): every wrong
array as a grid of your numbers, shaded by how far each is off, the worst one outlined (hover over a
number for autograd's):
"""),
    code("""
verify(cost, backward_with("1 - A1"), at=parameters, args=(X, Y))
"""),
    md("""
## 2. A relu/softmax net with L2, samples as rows: `verify_pair(net.loss, at=net.params)`

CS231n's `TwoLayerNet.loss(X, y, reg)` returns `(loss, grads)` and reads its parameters from
`self.params`: give that dict itself, and microreg puts each point's numbers in it and yours back.
"""),
    code("""
from microreg.backprop import verify_pair

class TwoLayerNet:
    def __init__(self, D, H, C, seed=0, slip=None):
        rng = np.random.default_rng(seed)
        self.params = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H),
                       "W2": rng.normal(size=(H, C)), "b2": rng.normal(size=C)}
        self.slip = slip

    def loss(self, X, y, reg=0.0):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        N = X.shape[0]
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
        data_loss = -np.sum(np.log(probs[np.arange(N), y])) / N
        reg_loss = reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        loss = data_loss + reg_loss

        grads = {}
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads["W2"] = hidden.T.dot(dscores) + (0 if self.slip == "no reg" else 2 * reg * W2)
        grads["b2"] = np.sum(dscores, axis=0)
        dhidden = dscores.dot(W2 if self.slip == "W2 not transposed" else W2.T)
        if self.slip == "mask from dhidden":
            dhidden[dhidden <= 0] = 0
        elif self.slip != "no mask":
            dhidden[hidden <= 0] = 0
        grads["W1"] = X.T.dot(dhidden) + (reg * W1 if self.slip == "half reg" else 2 * reg * W1)
        grads["b1"] = np.sum(dhidden, axis=0)
        return loss, grads

Xr, yr = rng.normal(size=(6, 4)), np.array([0, 2, 1, 1, 0, 2])        # N = 6 samples, D = 4
for slip in [None, "no mask", "mask from dhidden", "no reg", "half reg", "W2 not transposed"]:
    net = TwoLayerNet(4, 3, 3, seed=1, slip=slip)      # 3 hidden units, 3 classes: W2 is square
    report = verify_pair(net.loss, at=net.params, args=(Xr, yr), kwargs={"reg": 0.05})
    wrong = [v for v in report if not v.ok]
    print(f"{slip}: " + (f"wrong {[v.name for v in wrong]}\\n    {wrong[0].diagnosis}" if wrong else "all right"))
"""),
    md("""
## 3. An L-layer net's helpers, one by one: `verify_backward(forward, backward, at=inputs)`

A backward helper is a vector-Jacobian product: given the gradient arriving at the forward's output it
returns each input's. microreg feeds random upstream gradients (named after the helper's first
argument, `dA` or `dZ`) and compares with autograd's product. The course's `linear_backward` divides
`dW` and `db` by m (it carries the cost's 1/m): without `scale=` that is said as a factor 1/m.
"""),
    code("""
from microreg.backprop import verify_backward

def sigmoid(Z):
    A = 1 / (1 + np.exp(-Z))
    return A, Z

def relu(Z):
    A = np.maximum(0, Z)
    return A, Z

def linear_forward(A, W, b):
    Z = np.dot(W, A) + b
    return Z, (A, W, b)

def sigmoid_backward(dA, cache):
    s = 1 / (1 + np.exp(-cache))
    return dA * s * (1 - s)

def relu_backward(dA, cache):
    dZ = np.array(dA, copy=True)
    dZ[cache <= 0] = 0
    return dZ

def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return np.dot(W.T, dZ), np.dot(dZ, A_prev.T) / m, np.sum(dZ, axis=1, keepdims=True) / m

Z = rng.normal(size=(3, 5))
print("sigmoid_backward:", verify_backward(sigmoid, sigmoid_backward, at={"Z": Z}).ok)
print("relu_backward:   ", verify_backward(relu, relu_backward, at={"Z": Z}).ok)
inputs = (rng.normal(size=(4, 5)), rng.normal(size=(3, 4)), rng.normal(size=(3, 1)))    # m = 5
print(verify_backward(linear_forward, linear_backward, at=inputs))
print("with the course's 1/m:", verify_backward(linear_forward, linear_backward, at=inputs,
                                                scale={"W": 1 / 5, "b": 1 / 5}).ok)
"""),
    md("And the helpers' classic slips, each checked alone:"),
    code("""
slips = {
    "σ' as 1 − s²": (sigmoid, lambda dA, Z: dA * (1 - (1 / (1 + np.exp(-Z))) ** 2)),
    "relu without its mask": (relu, lambda dA, Z: np.array(dA, copy=True)),
    "relu masked where dA ≤ 0": (relu, lambda dA, Z: np.where(dA <= 0, 0.0, dA)),
}
for name, (forward, backward) in slips.items():
    print(f"{name}:\\n    {verify_backward(forward, backward, at={'Z': Z})['Z'].diagnosis}")
"""),
    md("""
A helper's slip is made in every layer it serves. Assembled into a 3-layer model (relu, relu, sigmoid),
`relu_backward` without its mask makes W1 wrong through both relu layers, and the explanation says so:
"""),
    code("""
def L_model_forward(X, parameters):
    A, caches = X, []
    for l in (1, 2):
        Z, linear_cache = linear_forward(A, parameters[f"W{l}"], parameters[f"b{l}"])
        A, activation_cache = relu(Z)
        caches.append((linear_cache, activation_cache))
    Z, linear_cache = linear_forward(A, parameters["W3"], parameters["b3"])
    AL, activation_cache = sigmoid(Z)
    caches.append((linear_cache, activation_cache))
    return AL, caches

def L_model_backward(AL, Y, caches, relu_backward=relu_backward):
    grads = {}
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    for l in (3, 2, 1):
        linear_cache, activation_cache = caches[l - 1]
        dZ = (sigmoid_backward if l == 3 else relu_backward)(dA, activation_cache)
        dA, grads[f"dW{l}"], grads[f"db{l}"] = linear_backward(dZ, linear_cache)
    return grads

def model_cost(X, Y, parameters):
    AL, caches = L_model_forward(X, parameters)
    return -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / Y.shape[1]

def model_grads(X, Y, parameters):
    AL, caches = L_model_forward(X, parameters)
    return L_model_backward(AL, Y, caches, relu_backward=lambda dA, Z: np.array(dA, copy=True))

Xl, Yl = rng.normal(size=(4, 6)), (rng.uniform(size=(1, 6)) > 0.5) * 1.0
layers = {}
for l, (n_in, n_out) in enumerate([(4, 4), (4, 4), (4, 1)], start=1):
    layers[f"W{l}"], layers[f"b{l}"] = rng.normal(size=(n_out, n_in)), rng.normal(size=(n_out, 1)) * 0.3
report = verify(model_cost, model_grads, at=layers, args=(Xl, Yl))
for v in report:
    print(f"{v.name}: {v.diagnosis}")
"""),
    md("""
## What cannot be traced

Code that computes in C on plain floats (`np.linalg.inv`), or turns a traced value into a float in the
middle of the forward pass, gets one line naming the function and your line:
"""),
    code("""
from microreg.trace import TraceError

def inverse_cost(W):
    return np.sum(np.linalg.inv(W))

try:
    verify(inverse_cost, lambda W: {"dW": np.zeros((2, 2))}, at={"W": np.eye(2) * 2})
except TraceError as err:
    print(err)
"""),
]


def build(names=None, execute=True):
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        nb = nbformat.v4.new_notebook()
        nb.cells = cells
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        if execute:
            # no widget state is saved: viewers without a kernel then show each widget's static
            # fallback (the stepper's self-contained page, text/html) instead of an empty widget
            NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=False,
                           resources={"metadata": {"path": HERE}}).execute()
            nb.metadata.pop("widgets", None)
        nbformat.write(nb, os.path.join(HERE, name))
        print(f"wrote notebooks/{name}")


if __name__ == "__main__":
    build(sys.argv[1:] or None)
