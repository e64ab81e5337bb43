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
]

NOTEBOOKS["02_two_layer_backprop_step_by_step.ipynb"] = [
    md("""
# 2. Backprop through the two-layer net, one step at a time

Document 000's network: z1 = w1·x + b1, a1 = σ(z1), z2 = w2·a1 + b2, ŷ = z2 (a sigmoid hidden layer and a
linear output, for regression), with L = 1/(2m) Σ (ŷ − y)². On one sample (m = 1) that is L = ½(ŷ − y)².

The stepper first runs the **forward pass** one node at a time (each value appears as it is computed),
then seeds ∂L/∂L = 1, then runs the **backward pass** one chain-rule application at a time (each grad,
∂L/∂node, fills in). Use Previous / Next / Play, the slider or the ← → keys; scroll to zoom, drag to pan;
tick *Quiz me* to answer each step before it is shown. Without a kernel (GitHub, nbviewer) the same page
runs on its own below.
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
# 3. Verify your own gradients

You derived a gradient by hand. `verify(loss, hand, at)` tells you whether it is right and, if not,
*how* it is wrong. `loss` builds the loss from Values; `hand` maps each argument to your formula.

Our example: linear regression on four points with the mean squared error
U(w, b) = 1/n Σ (w xᵢ + b − yᵢ)², whose true gradient is ∂U/∂w = (2/n) Σ xᵢ εᵢ, ∂U/∂b = (2/n) Σ εᵢ.
"""),
    code("""
import numpy as np
from microreg.check import verify, gradcheck

x = np.array([0.5, -1.0, 2.0, 1.5])
y = np.array([1.0, 0.0, 3.0, 2.0])
n = len(x)

def U(w, b):
    e = w * x + b - y                   # one batch node of 4 residuals
    return (e * e).mean()

point = {"w": 0.3, "b": -0.2}
"""),
    md("## A correct derivation"),
    code("""
print(verify(U, {"w": lambda w, b: 2 / n * np.sum(x * (w * x + b - y)),
                 "b": lambda w, b: 2 / n * np.sum(w * x + b - y)}, at=point))
"""),
    md("## Off by ½: the 2 of the square forgotten"),
    code("""
report = verify(U, {"w": lambda w, b: 1 / n * np.sum(x * (w * x + b - y))}, at=point, n=n)
report["w"].diagnosis
"""),
    md("## A missing 1/n: a sum where the loss takes a mean"),
    code("""
report = verify(U, {"b": lambda w, b: 2 * np.sum(w * x + b - y)}, at=point, n=n)
report["b"].diagnosis
"""),
    md("""
## Plainly wrong

Here the x inside the sum is forgotten. The ratio to the true gradient changes from point to point, so it
is not a constant factor: the verifier names the worst point and both numbers.
"""),
    code("""
report = verify(U, {"w": lambda w, b: 2 / n * np.sum(w * x + b - y)}, at=point)
print(report["w"].diagnosis)
"""),
    md("""
## A kink

relu has no derivative at 0; any slope between the left one (0) and the right one (1) is a valid
*subgradient*. The verifier recognises the kink and judges your value against that range.
"""),
    code("""
def R(w):
    return (w * 3.0).relu()

print(verify(R, {"w": lambda w: 1.5}, at={"w": 0.0}, nearby=0)["w"].diagnosis)
print(verify(R, {"w": lambda w: 7.0}, at={"w": 0.0}, nearby=0)["w"].diagnosis)
"""),
    md("""
## Symbolic: prove it

Give sympy expressions instead of functions: the verifier tries to prove the difference is 0
(time-boxed), then spot-checks numerically, and refutes a wrong formula with a counter-example.
"""),
    code("""
import sympy as sp
w, xs = sp.symbols("w x")
L = sp.log(1 + sp.exp(w * xs))                      # softplus of w·x
print(verify(L, {"w": xs * sp.exp(w * xs) / (1 + sp.exp(w * xs))})["w"].diagnosis)
print(verify(L, {"w": sp.exp(w * xs) / (1 + sp.exp(w * xs))})["w"].diagnosis)
"""),
    md("""
## gradcheck: autograd against finite differences

`gradcheck(f, *inputs)` differentiates numerically, element by element, with a step chosen from each
value's size, and reports each element's error next to the tolerance.
"""),
    code("""
def custom(w, b):
    z = w[0] * 1.5 + w[1] * -0.5 + b
    return (z.tanh() - 0.3) ** 2 + 0.01 * (w[0] ** 2 + w[1] ** 2)

print(gradcheck(custom, np.array([0.2, -0.7]), 0.1))
"""),
    md("""
## Second derivatives

`grad(..., create_graph=True)` returns gradients that are Values themselves, so they can be
differentiated again. d²tanh(x)/dx² = −2 tanh(x)(1 − tanh²(x)):
"""),
    code("""
from microreg import Value, grad
import math

x0 = Value(0.4)
(first,) = grad(x0.tanh(), [x0], create_graph=True)
(second,) = grad(first, [x0])
t = math.tanh(0.4)
print(f"autograd {second:.12f}   by hand {-2 * t * (1 - t * t):.12f}")
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

We write the recursion vectorised in numpy and check it against autograd, layer by layer, on an `MLP`.
"""),
    code("""
import numpy as np
from microreg.nn import MLP, squared_error
from microreg import derivations as d

net = MLP(2, [4, 3, 2], activation="sigmoid", output_activation="sigmoid", seed=0)
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
small = MLP(1, [2, 2, 1], activation="tanh", seed=1)
out = small([0.7])
out.backward()
draw_graph(out)
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
