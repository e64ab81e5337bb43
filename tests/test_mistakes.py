"""One mistake search: every kind, through every front end, named in the same words.

The table below plants one mistake by hand in a formula for each kind, on small nets of our own
(not the source documents), and writes down the kind and the sentence a teacher would say. Each
row runs through every front end that can express it (``FRONT_ENDS``: `verify` with a string,
`verify` with a function, the stepper's quiz answered with the learner's number at the step),
and each must give that kind and those words. A new front end (``check FILE``) is one more entry
in ``FRONT_ENDS`` and one more field per row: ``check FILE`` is one (``doc``: the net as a derivation document).

Every expected sentence is written here, and every learner's number is computed here from the
net's values worked out with numpy (`Hand`), never by the code under test.
"""

import math

import numpy as np
import pytest

from microreg import Value
from microreg.check import verify
from microreg.engine import affine, data
from microreg.mistakes import (ONE, REVERSED, Explanation, Graph, Occurrence, Quantity, explain, factor_cause,
                               words)
from microreg.step import Stepper


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def dsig(z):
    return sig(z) * (1.0 - sig(z))


def named(label, node):
    node.label = label
    return node


# --- the nets (values by hand, with numpy, beside each) ---------------------------------------------

X, Y = 1.5, 0.3
AT_A = {"w1": 0.4, "b1": -0.2, "w2": 0.9, "b2": 0.1}


def net_a(out="ŷ"):
    """z1 = w1·x + b1, a1 = σ(z1), ŷ = w2·a1 + b2, L = (ŷ − y)²: one sigmoid unit, a linear output."""
    def loss(w1, b1, w2, b2):
        x, y = data(X, "x"), data(Y, "y")
        z1 = named("z1", affine([w1], [x], b1))
        a1 = named("a1", z1.sigmoid())
        y_hat = named(out, affine([w2], [a1], b2))
        return (y_hat - y) ** 2
    return loss


def hand_a(w1, b1, w2, b2):
    z1 = w1 * X + b1
    a1 = sig(z1)
    yh = w2 * a1 + b2
    e = yh - Y
    return dict(z1=z1, a1=a1, yh=yh, e=e, w1=w1, w2=w2, dL_dyh=2 * e, dL_da1=2 * e * w2,
                dL_dz1=2 * e * w2 * dsig(z1))


def net_b(w1, b1, w2, b2):
    """Two sigmoid layers: z1 = w1·x + b1, a1 = σ(z1), z2 = w2·a1 + b2, a2 = σ(z2), L = (a2 − y)²."""
    x, y = data(X, "x"), data(Y, "y")
    a1 = named("a1", named("z1", affine([w1], [x], b1)).sigmoid())
    a2 = named("a2", named("z2", affine([w2], [a1], b2)).sigmoid())
    return (a2 - y) ** 2


def hand_b(w1, b1, w2, b2):
    z1 = w1 * X + b1
    a1 = sig(z1)
    z2 = w2 * a1 + b2
    a2 = sig(z2)
    return dict(z1=z1, a1=a1, z2=z2, a2=a2, dL_da1=2 * (a2 - Y) * dsig(z2) * w2)


def net_c(w1, b1, w2, b2):
    """A tanh unit: z1 = w1·x + b1, h1 = tanh(z1), ŷ = w2·h1 + b2, L = (ŷ − y)²."""
    x, y = data(X, "x"), data(Y, "y")
    h1 = named("h1", named("z1", affine([w1], [x], b1)).tanh())
    return (named("ŷ", affine([w2], [h1], b2)) - y) ** 2


def hand_c(w1, b1, w2, b2):
    h1 = math.tanh(w1 * X + b1)
    yh = w2 * h1 + b2
    return dict(h1=h1, dL_dh1=2 * (yh - Y) * w2)


T_D = 0.2


def net_d(w):
    """w reaches the loss twice: p = w·x, q = tanh(w), s = p + q, L = (s − t)²."""
    x, t = data(X, "x"), data(T_D, "t")
    s = named("s", named("p", w * x) + named("q", w.tanh()))
    return (s - t) ** 2


def hand_d(w):
    s = w * X + math.tanh(w)
    return dict(s=s, dL_ds=2 * (s - T_D))


XE = (0.7, -1.2)


def net_e(u, v, c):
    """Two features: z = u·x[0] + v·x[1] + c, L = (z − y)²."""
    x0, x1, y = data(XE[0], "x[0]"), data(XE[1], "x[1]"), data(Y, "y")
    return (named("z", affine([u, v], [x0, x1], c)) - y) ** 2


def hand_e(u, v, c):
    z = u * XE[0] + v * XE[1] + c
    return dict(z=z, dL_dz=2 * (z - Y))


XF = np.array([0.5, -1.0, 2.0, 1.5])
YF = np.array([1.0, 0.0, 2.5, 2.0])


def net_f(w, b):
    """A batch of 4 samples, a mean loss: ŷᵢ = w·xᵢ + b, L = (1/n) Σ (ŷᵢ − yᵢ)²."""
    x, y = data(XF, "x"), data(YF, "y")
    return ((named("ŷ", affine([w], [x], b)) - y) ** 2).mean()


XG = np.array([1.0, -2.0])


def net_g(W):
    """A square layer: z = W x (z[0], z[1] labelled), L = ½ Σ zⱼ²; ∂L/∂W = z xᵀ."""
    total = 0.0
    for j in range(2):
        z = named(f"z[{j}]", W[j][0] * XG[0] + W[j][1] * XG[1])
        total = z * z * 0.5 + total
    return total


def net_h(w, b):
    """Logistic regression: p = σ(w·x + b), L = −(y ln p + (1 − y) ln(1 − p)); ∂L/∂w = (p − y)·x."""
    x, y = data(X, "x"), data(Y, "y")
    p = named("p", named("z", affine([w], [x], b)).sigmoid())
    return -(y * p.log() + (1.0 - y) * (1.0 - p).log())


XV, TV = np.array([0.5, -0.8]), np.array([0.1, 0.4])


def net_layers(W1, W2):
    """A 2 → 2 → 2 tanh net, arrays z1[j], h1[j], z2[j], h2[j]; C = Σ (h2 − t)²."""
    h1 = []
    for j in range(2):
        h1.append(named(f"h1[{j}]", named(f"z1[{j}]", W1[j][0] * XV[0] + W1[j][1] * XV[1]).tanh()))
    total = 0.0
    for j in range(2):
        h = named(f"h2[{j}]", named(f"z2[{j}]", W2[j][0] * h1[0] + W2[j][1] * h1[1]).tanh())
        total = (h - TV[j]) ** 2 + total
    return total


# --- the table ----------------------------------------------------------------------------------------

class Row:
    """One planted mistake: the loss and the point, the argument checked, the learner's formula as a
    string and as a function, the learner's number at one quiz step (``quiz``: (the step's node,
    its input, the number from the hand values), or None where one step's number cannot show the
    kind), and the kind and words every front end must give (kind None: no single mistake)."""

    def __init__(self, id, kind, text, loss, at, wrt, string, fn, quiz=None, hand=None, data=None,
                 fronts=("string", "callable", "quiz"), code=None, doc=None):
        self.id, self.kind, self.text, self.loss, self.at, self.wrt = id, kind, text, loss, at, wrt
        self.string, self.fn, self.quiz, self.hand, self.data = string, fn, quiz, hand, data
        self.code = code            # (numpy cost, numpy grads function): the learner's code front end
        self.doc = doc              # (a derivation document's model, its claim, samples): the check FILE front end
        self.fronts = tuple(f for f in fronts if f != "quiz" or quiz is not None) + (("code",) if code else ()) + \
            (("check",) if doc else ())


def code_cost(W, b):
    """numpy code, samples as columns: Z = W·X + b, A = tanh(Z), cost = 1/(2m) Σ (A − Y)²."""
    A = np.tanh(np.dot(W, XC) + b)
    return np.sum((A - YC) ** 2) / (2 * XC.shape[1])


def code_grads(keepdims=True):
    def grads(W, b):
        m = XC.shape[1]
        A = np.tanh(np.dot(W, XC) + b)
        dZ = (A - YC) * (1 - A ** 2) / m
        return {"dW": np.dot(dZ, XC.T), "db": np.sum(dZ, axis=1, keepdims=keepdims)}
    return grads


XC = np.array([[0.5, -1.0, 2.0, 0.3], [1.5, 0.2, -0.4, 0.9]])
YC = np.array([[0.2, -0.1, 0.6, 0.0], [0.4, 0.3, -0.5, 0.1]])
AT_C = {"W": np.array([[0.3, -0.2], [0.1, 0.4]]), "b": np.array([[0.1], [-0.2]])}

SP = "σ(z1)·(1 − σ(z1))"

#: the nets as a derivation document writes them (the check FILE front end)
DOC_A = r"""$$z_1 = w_1 x + b_1$$

$$a_1 = \sigma(z_1)$$

$$\hat{y} = w_2 a_1 + b_2$$

$$L = (\hat{y} - y)^2$$
"""
DOC_A_Z2 = DOC_A.replace(r"\hat{y}", "z_2")
DOC_B = r"""$$z_1 = w_1 x + b_1$$

$$a_1 = \sigma(z_1)$$

$$z_2 = w_2 a_1 + b_2$$

$$a_2 = \sigma(z_2)$$

$$L = (a_2 - y)^2$$
"""
DOC_C = DOC_A.replace(r"a_1 = \sigma(z_1)", r"h_1 = \tanh(z_1)").replace("w_2 a_1", "w_2 h_1")
DOC_H = r"""$$z = w x + b$$

$$p = \sigma(z)$$

$$L = -(y \log p + (1 - y)\log(1 - p))$$
"""
DOC_F = r"""$$\hat{y}_i = w x_i + b$$

$$L = \frac{1}{n}\sum_{i=1}^{n} (\hat{y}_i - y_i)^2$$
"""


#: A document cannot write the per-element sign of the "element factor" row or the numpy code of the "shape" row;
#: a transpose it says in the words of its axes ("a 2×2 matrix (input features × units of layer 1) where ∂L/∂W is
#: … (units of layer 1 × input features): the transpose of the right shape"), which it knows and verify does not.
#: NODE_OF_AN_EDGE: the two rows about one edge of z1 = w1·x + b1 (an extra ∂z1/∂w1, the wrong factor of its product)
#: have no document: verify's net computes z1 as one affine node, a document as a product and a sum, so the same
#: slip is said of the node z1 there and of the product w₁x here ("∂(w₁x)/∂w₁ = x does not belong in ∂L/∂b₁").


def claim(doc, wrt, formula, samples=1):
    """A document: the net's definitions, then the learner's ∂L/∂wrt."""
    return (doc + "\n$$\\frac{\\partial L}{\\partial " + wrt + "} = " + formula + "$$\n", samples)
A = dict(loss=net_a(), at=AT_A, hand=hand_a)

ROWS = [
    Row("right", None, "ok", wrt="w1", **A,
        string="2 * (y_hat - y) * w2 * sigmoid_prime(z1) * x",
        fn=lambda y_hat, y, w2, z1, x: 2 * (y_hat - y) * w2 * dsig(z1) * x,
        quiz=("z1", "w1", lambda h: h["dL_dz1"] * X),
        doc=claim(DOC_A, "w_1", r"2 (\hat{y} - y) w_2 \sigma'(z_1) x")),
    Row("factor: the 2 of a square", "factor",
        "off by a constant factor 0.5: half of autograd: the 2 of a square (d(u²) = 2u du) left out, or a spurious ½",
        wrt="w2", **A, string="(y_hat - y) * a1", fn=lambda y_hat, y, a1: (y_hat - y) * a1,
        quiz=("L", "t1", lambda h: h["e"]),
        doc=claim(DOC_A, "w_2", r"(\hat{y} - y) a_1")),          # the stepper calls ŷ − y "t1"
    Row("reversed difference, in the learner's names", "reversed difference",
        "you wrote y − z2 where z2 − y belongs (the difference the wrong way round)",
        loss=net_a("z2"), at=AT_A, hand=hand_a, wrt="w2", string=r"2 (y - z_2) a_1",
        fn=lambda y, z2, a1: 2 * (y - z2) * a1,
        doc=claim(DOC_A_Z2, "w_2", r"2 (y - z_2) a_1")),
    Row("one-sample rule under a mean loss", "one sample",
        "right for one sample, but the loss takes the mean over the n = 4 samples: yours is 4 × autograd (a missing "
        "1/n)",
        loss=net_f, at={"w": 0.3, "b": -0.1}, wrt="w", string="2 * (y_hat - y) * x",
        fn=lambda y_hat, y, x: 2 * (y_hat - y) * x,
        doc=claim(DOC_F, "w", r"2 (\hat{y} - y) x", samples=4)),
    Row("one element with its sign flipped", "element factor", "element [1][0]: sign flipped; the other elements agree",
        loss=net_g, at={"W": np.array([[0.3, -0.2], [0.5, 0.1]])}, wrt="W", data={"x": XG, "s": [[1, 1], [-1, 1]]},
        string="outer(z, x) ⊙ s", fn=lambda z, x: np.outer(z, x) * [[1, 1], [-1, 1]]),
    Row("a transpose", "transpose", "autograd's ∂L/∂W transposed: rows and columns swapped",
        loss=net_g, at={"W": np.array([[0.3, -0.2], [0.5, 0.1]])}, wrt="W", data={"x": XG},
        string="outer(x, z)", fn=lambda z, x: np.outer(x, z)),
    Row("forgotten local derivative", "forgotten derivative",
        f"you left out ∂a1/∂z1 = {SP} (a forgotten local derivative)", wrt="w1", **A,
        string="2 * (y_hat - y) * w2 * x", fn=lambda y_hat, y, w2, x: 2 * (y_hat - y) * w2 * x,
        quiz=("a1", "z1", lambda h: h["dL_da1"]),
        doc=claim(DOC_A, "w_1", r"2 (\hat{y} - y) w_2 x")),
    Row("an extra local derivative: σ' applied twice", "extra derivative",
        f"∂a1/∂z1 = {SP} applied twice (an extra local derivative)", wrt="w1", **A,
        string="2 * (y_hat - y) * w2 * sigmoid_prime(z1)**2 * x",
        fn=lambda y_hat, y, w2, z1, x: 2 * (y_hat - y) * w2 * dsig(z1) ** 2 * x,
        quiz=("a1", "z1", lambda h: h["dL_da1"] * dsig(h["z1"]) ** 2),
        doc=claim(DOC_A, "w_1", r"2 (\hat{y} - y) w_2 \sigma'(z_1)^2 x")),
    Row("logistic regression's p(1 − p)(p − y)", "extra derivative",
        "∂p/∂z = σ(z)·(1 − σ(z)) applied twice (an extra local derivative)",
        loss=net_h, at={"w": 0.7, "b": -0.4}, wrt="w", string="p * (1 - p) * (p - y) * x",
        fn=lambda p, y, x: p * (1 - p) * (p - y) * x,
        doc=claim(DOC_H, "w", r"p (1 - p) (p - y) x")),
    Row("an extra local derivative that does not belong", "extra derivative",
        "an extra factor x (∂z1/∂w1 = x does not belong in ∂L/∂b1)", wrt="b1", **A,
        string="2 * (y_hat - y) * w2 * sigmoid_prime(z1) * x",
        fn=lambda y_hat, y, w2, z1, x: 2 * (y_hat - y) * w2 * dsig(z1) * x),   # no document: NODE_OF_AN_EDGE
    Row("local derivative at the wrong layer", "wrong node",
        "σ'(z2) where σ'(z1) belongs: the local derivative of a1 evaluated at z2 instead of z1 (the wrong layer)",
        loss=net_b, at=AT_A, hand=hand_b, wrt="w1",
        string=r"2 (a_2 - y) \sigma'(z_2) w_2 \sigma'(z_2) x",
        fn=lambda a2, y, z2, w2, x: 2 * (a2 - y) * dsig(z2) * w2 * dsig(z2) * x,
        quiz=("a1", "z1", lambda h: h["dL_da1"] * dsig(h["z2"])),
        doc=claim(DOC_B, "w_1", r"2 (a_2 - y) \sigma'(z_2) w_2 \sigma'(z_2) x")),
    Row("local derivative at the op's output", "wrong node",
        "σ'(a1) where σ'(z1) belongs: the local derivative of a1 evaluated at its output a1 instead of its input z1",
        wrt="w1", **A, string="2 * (y_hat - y) * w2 * σ'(a1) * x",
        fn=lambda y_hat, y, w2, a1, x: 2 * (y_hat - y) * w2 * dsig(a1) * x,
        quiz=("a1", "z1", lambda h: h["dL_da1"] * dsig(h["a1"])),
        doc=claim(DOC_A, "w_1", r"2 (\hat{y} - y) w_2 \sigma'(a_1) x")),
    Row("σ where σ' belongs", "wrong derivative",
        f"∂a1/∂z1 taken as σ(z1) instead of {SP}: σ where σ' belongs", wrt="w1", **A,
        string=r"2 (\hat{y} - y) w_2 \sigma(z_1) x", fn=lambda y_hat, y, w2, z1, x: 2 * (y_hat - y) * w2 * sig(z1) * x,
        quiz=("a1", "z1", lambda h: h["dL_da1"] * sig(h["z1"])),
        doc=claim(DOC_A, "w_1", r"2 (\hat{y} - y) w_2 \sigma(z_1) x")),
    Row("σ' as 1 − a²", "wrong derivative",
        f"∂a1/∂z1 taken as 1 − a1² instead of {SP}: tanh's derivative 1 − a² used for σ'", wrt="w1", **A,
        string="2 * (y_hat - y) * w2 * (1 - a1**2) * x",
        fn=lambda y_hat, y, w2, a1, x: 2 * (y_hat - y) * w2 * (1 - a1 ** 2) * x,
        quiz=("a1", "z1", lambda h: h["dL_da1"] * (1 - h["a1"] ** 2)),
        doc=claim(DOC_A, "w_1", r"2 (\hat{y} - y) w_2 (1 - a_1^2) x")),
    Row("tanh' as 1 − a", "wrong derivative",
        "∂h1/∂z1 taken as 1 − h1 instead of 1 − tanh²(z1): tanh' taken as 1 − a",
        loss=net_c, at=AT_A, hand=hand_c, wrt="w1", string="2 * (ŷ - y) * w2 * (1 - h1) * x",
        fn=lambda y_hat, y, w2, h1, x: 2 * (y_hat - y) * w2 * (1 - h1) * x,
        quiz=("h1", "z1", lambda h: h["dL_dh1"] * (1 - h["h1"])),
        doc=claim(DOC_C, "w_1", r"2 (\hat{y} - y) w_2 (1 - h_1) x")),
    Row("the wrong factor of a product", "wrong factor",
        "∂(w1·x + b1)/∂w1 taken as w1 instead of x (the wrong factor of a product)", wrt="w1", **A,
        string="2 * (y_hat - y) * w2 * sigmoid_prime(z1) * w1",
        fn=lambda y_hat, y, w2, z1, w1: 2 * (y_hat - y) * w2 * dsig(z1) * w1,
        quiz=("z1", "w1", lambda h: h["dL_dz1"] * h["w1"])),                   # no document: NODE_OF_AN_EDGE
    Row("a₁ where x belongs", "wrong quantity", "a1 where x belongs", wrt="w1", **A,
        string="2 * (y_hat - y) * w2 * sigmoid_prime(z1) * a1",
        fn=lambda y_hat, y, w2, z1, a1: 2 * (y_hat - y) * w2 * dsig(z1) * a1,
        quiz=("z1", "w1", lambda h: h["dL_dz1"] * h["a1"]),
        doc=claim(DOC_A, "w_1", r"2 (\hat{y} - y) w_2 \sigma'(z_1) a_1")),
    Row("w₁ where w₂ belongs", "wrong quantity", "w1 where w2 belongs", wrt="w1", **A,
        string="2 * (y_hat - y) * w1 * sigmoid_prime(z1) * x",
        fn=lambda y_hat, y, w1, z1, x: 2 * (y_hat - y) * w1 * dsig(z1) * x,
        quiz=("ŷ", "a1", lambda h: h["dL_dyh"] * h["w1"]),
        doc=claim(DOC_A, "w_1", r"2 (\hat{y} - y) w_1 \sigma'(z_1) x")),
    Row("xᵢ where xⱼ belongs", "wrong quantity", "x[0] where x[1] belongs",
        loss=net_e, at={"u": 0.5, "v": -0.3, "c": 0.2}, hand=hand_e, wrt="v",
        string="2 * (z - y) * x[0]", fn=lambda z, y, x: 2 * (z - y) * x[0],
        quiz=("z", "v", lambda h: h["dL_dz"] * XE[0])),
    Row("one quantity where another belongs, in the formula only", "wrong quantity", "a1 where ŷ belongs",
        wrt="b2", **A, string="2 * (a1 - y)", fn=lambda a1, y: 2 * (a1 - y),
        doc=claim(DOC_A, "b_2", r"2 (a_1 - y)")),
    Row("a missing path", "missing path", "w reaches the loss through 2 nodes (p, q); yours leaves out the path "
        "through q", loss=net_d, at={"w": 0.6}, hand=hand_d, wrt="w", string="2 * (s - t) * x",
        fn=lambda s, t, x: 2 * (s - t) * x, quiz=("last", "w", lambda h: h["dL_ds"] * X),
        doc=(r"$$p = w x$$" "\n\n" r"$$q = \tanh(w)$$" "\n\n" r"$$s = p + q$$" "\n\n" r"$$L = (s - t)^2$$" "\n\n"
             r"$$\frac{\partial L}{\partial w} = 2 (s - t) x$$" "\n", 1)),
    Row("a forgotten local derivative and the 2 of a square", "forgotten derivative",
        f"you left out ∂a1/∂z1 = {SP} (a forgotten local derivative), and off by a factor 0.5: half of autograd: "
        "the 2 of a square (d(u²) = 2u du) left out, or a spurious ½", wrt="w1", **A,
        string="(y_hat - y) * w2 * x", fn=lambda y_hat, y, w2, x: (y_hat - y) * w2 * x,
        doc=claim(DOC_A, "w_1", r"(\hat{y} - y) w_2 x")),
    Row("the same mistake on every element of an array", "wrong node",
        "tanh'(z2) where tanh'(z1) belongs: the local derivative of h1 evaluated at z2 instead of z1 (the wrong "
        "layer), on every element of h1",
        loss=net_layers, at={"W1": np.array([[0.4, -0.3], [0.8, 0.2]]), "W2": np.array([[-0.6, 0.9], [0.3, 0.5]])},
        wrt="W1", data={"x": XV, "t": TV},
        string=r"((W_2)^T (2(h_2 - t) \odot (1 - h_2^2))) \odot (1 - h_2^2) \, x^T",
        fn=lambda W2, h2, t, x: np.outer((W2.T @ (2 * (h2 - t) * (1 - h2 ** 2))) * (1 - h2 ** 2), x)),
    Row("a transpose missing in a square layer", "transpose", "W2 where W2ᵀ belongs (a transpose missing)",
        loss=net_layers, at={"W1": np.array([[0.4, -0.3], [0.8, 0.2]]), "W2": np.array([[-0.6, 0.9], [0.3, 0.5]])},
        wrt="W1", data={"x": XV, "t": TV}, fronts=("string",),        # a function's .T cannot be seen
        string=r"(W_2 (2(h_2 - t) \odot (1 - h_2^2))) \odot (1 - h_1^2) \, x^T", fn=None),
    Row("a gradient of the wrong shape (numpy code)", "shape",
        "shape (2,) where ∂L/∂b has shape (2, 1): a lost keepdims (the sum dropped the axis it summed over; "
        "np.sum(…, keepdims=True) keeps it); the numbers are right", loss=None, at=AT_C, wrt="b", string=None,
        fn=None, fronts=(), code=(code_cost, code_grads(keepdims=False))),
    Row("garbled: no single mistake", None, "no single mistake", wrt="w1", **A,
        string="(y_hat - y) * x * x * w1 + a1", fn=lambda y_hat, y, x, w1, a1: (y_hat - y) * x * x * w1 + a1,
        quiz=("z1", "w1", lambda h: 12.345),
        doc=claim(DOC_A, "w_1", r"(\hat{y} - y) x x w_1 + a_1")),
]


# --- the front ends: each runs a row and gives (kind or None, words, ok) ------------------------------

def _verdict(row, formula):
    v = verify(row.loss, {row.wrt: formula}, at=row.at, data=row.data)[row.wrt]
    e = v.explanation
    return (e.kind if e else None), (e.text if e else v.diagnosis), v.ok


def run_string(row):
    return _verdict(row, row.string)


def run_callable(row):
    return _verdict(row, row.fn)


def run_quiz(row):
    """The row's net in the stepper; the quiz answered rightly up to the row's step, then with the
    learner's number there (computed from the hand values)."""
    values = {k: Value(v, label=k) for k, v in row.at.items()}
    stepper = Stepper(row.loss(**values))
    quiz = stepper.quiz()
    node, target, given = row.quiz
    while not quiz.done:
        f = quiz.frame
        names = stepper.names
        if f.phase == "backward" and names[id(f.input)] == target and (
                names[id(f.node)] == node or (node == "last" and stepper.last_touch[id(f.input)] == f.k)):
            v = quiz.answer(given(row.hand(**row.at)))
            return (None if v.kind == "wrong" else v.kind), v.hint, v.ok
        quiz.answer(f.answer)
    raise AssertionError(f"{row.id}: no quiz step from {node} to {target}")


def run_check(row):
    """The same net and the same slip, written as a derivation document and read by ``check FILE``."""
    from microreg.document import check_document
    text, samples = row.doc
    r = check_document(text, samples=samples)[-1]
    words = r.explanation.translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789"))   # w₁ written, w1 as verify's label
    return r.mistake, words, r.verdict == "ok"


def run_code(row):
    """The learner's numpy cost and backward pass: one function returning their gradients."""
    cost, grads = row.code
    v = verify(cost, grads, at=row.at)[row.wrt]
    e = v.explanation
    return (e.kind if e else None), (e.text if e else v.diagnosis), v.ok


#: The front ends of the one search.
FRONT_ENDS = {"string": run_string, "callable": run_callable, "quiz": run_quiz, "code": run_code, "check": run_check}

CASES = [pytest.param(row, front, id=f"{row.id} | {front}") for row in ROWS for front in row.fronts]


@pytest.mark.parametrize("row, front", CASES)
def test_every_kind_is_named_the_same_by_every_front_end(row, front):
    kind, text, ok = FRONT_ENDS[front](row)
    if row.id == "right":
        assert ok and kind in (None, "right"), (front, text)
        if front == "quiz":
            assert text.startswith("correct: ∂L/∂w1 += δ1 · x = ") and text.endswith(
                "(the upstream gradient times the local derivative)"), text
        return
    assert not ok, (front, text)
    assert kind == row.kind, f"{front}: {kind!r} ({text})"
    if row.kind is None:
        assert ("no single mistake" in text) if front != "quiz" else text.startswith("not quite"), text
    elif front == "check":          # a document also says where the mean is defined: "(L (line 4) is a mean …)"
        assert text.startswith(row.text), f"{front}:\n  got      {text}\n  expected {row.text}"
    else:
        assert text == row.text, f"{front}:\n  got      {text}\n  expected {row.text}"


def test_every_kind_has_a_row():
    from microreg.mistakes import KINDS
    assert {r.kind for r in ROWS} - {None} == set(KINDS)


def test_a_reversed_difference_never_names_a_node_the_learner_did_not_write():
    # the output is labelled z2: no ŷ in the words, and the plain sign flip names no node either
    for formula in (r"2 (y - z_2) a_1", lambda y, z2, a1: 2 * (y - z2) * a1, "-2 * (z2 - y) * a1",
                    lambda y, z2, a1: -(2 * (z2 - y) * a1)):
        v = verify(net_a("z2"), {"w2": formula}, at=AT_A)["w2"]
        assert "ŷ" not in v.diagnosis and "y_hat" not in v.diagnosis, v.diagnosis
    for formula in ("-2 * (z2 - y) * a1", lambda y, z2, a1: -(2 * (z2 - y) * a1)):   # a minus too many
        v = verify(net_a("z2"), {"w2": formula}, at=AT_A)["w2"]
        assert [e.kind for e in v.explanations] == ["factor"] and "the sign is flipped" in v.diagnosis, v.diagnosis

    # said in the learner's own order: a learner who wrote ŷ − y where y − ŷ belongs hears that
    def loss(w, t):                       # L = ½(t − ŷ)², ŷ = w·x: ∂L/∂t = t − ŷ, ∂L/∂w = (ŷ − t)·x
        return 0.5 * (t - named("ŷ", w * data(X, "x"))) ** 2
    for formula in ("y_hat - t", lambda y_hat, t: y_hat - t):
        v = verify(loss, {"t": formula}, at={"w": 0.2, "t": 0.9})["t"]
        assert v.explanation.text == "you wrote ŷ − t where t − ŷ belongs (the difference the wrong way round)", \
            v.diagnosis
    v = verify(loss, {"w": "(t - y_hat) * x"}, at={"w": 0.2, "t": 0.9})["w"]
    assert v.explanation.text == "you wrote t − ŷ where ŷ − t belongs (the difference the wrong way round)", \
        v.diagnosis


@pytest.mark.parametrize("labels", [(r"\hat{y}", "a_1", "z^{(1)}"), ("y_hat", "a1", "z1")])
def test_words_show_labels_the_way_the_learner_reads_them(labels):
    out, a, z = labels

    def loss(w1, b1, w2, b2):
        x, y = data(X, "x"), data(Y, "y")
        z1 = named(z, affine([w1], [x], b1))
        a1 = named(a, z1.sigmoid())
        return (named(out, affine([w2], [a1], b2)) - y) ** 2
    v = verify(loss, {"w1": "2 * (y_hat - y) * w2 * x"}, at=AT_A)["w1"]
    shown = {"a_1": "a₁", "a1": "a1", "z^{(1)}": "z⁽¹⁾", "z1": "z1"}
    a, z = shown[a], shown[z]
    expected = f"you left out ∂{a}/∂{z} = σ({z})·(1 − σ({z})) (a forgotten local derivative)"
    assert v.explanation.text == expected, v.diagnosis
    assert "\\" not in v.diagnosis and "_" not in v.diagnosis


def test_an_explanation_holds_at_every_point():
    # a₁ where x belongs at the given point only, something else near it: not explained
    def lucky(y_hat, y, w2, z1, a1, x, w1):
        right = 2 * (y_hat - y) * w2 * dsig(z1)
        return right * a1 if w1 == AT_A["w1"] else right * (a1 + 0.01)
    v = verify(net_a(), {"w1": lucky}, at=AT_A)["w1"]
    assert v.explanations == [] and "no single mistake" in v.diagnosis, v.diagnosis


def test_a_correct_formula_is_never_explained_on_any_net():
    rights = [(net_a(), AT_A, None, {"w1": "2 * (y_hat - y) * w2 * sigmoid_prime(z1) * x", "b2": "2 * (y_hat - y)"}),
              (net_b, AT_A, None, {"w2": r"2 (a_2 - y) \sigma'(z_2) a_1"}),
              (net_d, {"w": 0.6}, None, {"w": "2 * (s - t) * (x + 1 - q**2)"}),
              (net_f, {"w": 0.3, "b": -0.1}, None, {"w": "mean(2 * (y_hat - y) * x)"}),
              (net_h, {"w": 0.7, "b": -0.4}, None, {"w": "(p - y) * x", "b": "p - y"})]
    for loss, at, data_, hand in rights:
        report = verify(loss, hand, at=at, data=data_)
        assert report.ok and all(v.explanations == [] for v in report), str(report)


# --- the search itself, called the way the document checker will call it -----------------------------

def _points_a(n=4, seed=3):
    """Graphs of net A at n points, ∂L/∂z1 (an intermediate node) as the target, and hand values."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        p = {k: float(v) for k, v in zip(AT_A, rng.normal(size=4))}
        values = {k: Value(v, label=k) for k, v in p.items()}
        loss = net_a()(**values)
        z1 = next(node for node in _nodes(loss) if node.label == "z1")
        out.append((Graph(loss, z1, data={"x": X, "y": Y}), hand_a(**p)))
    return out


def _nodes(root):
    from microreg.engine import topological_order
    return topological_order(root)


def test_the_search_takes_an_intermediate_node_as_its_target():
    points = _points_a()
    graphs = [g for g, _ in points]
    # ∂L/∂z1 = 2(ŷ − y)·w2·σ'(z1); the learner writes σ(z1) for σ'(z1)
    hand = [2 * h["e"] * h["w2"] * sig(h["z1"]) for _, h in points]
    d = explain(graphs, hand, wrt="z1")
    assert [e.kind for e in d.explanations][:1] == ["wrong derivative"], d.words()
    assert words(d.explanations[0]) == f"∂a1/∂z1 taken as σ(z1) instead of {SP}: σ where σ' belongs"
    assert d.explanations[0].to_dict()["kind"] == "wrong derivative"


def test_substitutions_through_the_callback_name_the_learners_own_places():
    # what the document checker gives: occurrences of its formula tree and a callback that
    # re-evaluates it with one changed. Here the formula is ∂L/∂z1 = 2(y − ŷ)·w2·σ'(z1), its places
    # ("y − ŷ", a difference) and (w2, a name), re-evaluated by hand.
    points = _points_a()
    graphs = [g for g, _ in points]
    hs = [h for _, h in points]

    def formula(h, reverse=False, w2=None, drop_w2=False):
        diff = (h["yh"] - Y) if reverse else (Y - h["yh"])
        factor = 1.0 if drop_w2 else (h["w2"] if w2 is None else w2)
        return 2 * diff * factor * dsig(h["z1"])

    occurrences = [Occurrence("diff", "y − ŷ", kind="difference", reversed="ŷ − y"),
                   Occurrence("w2", "w2", values=[h["w2"] for h in hs], factor=True)]
    quantities = [Quantity("w1", [h["w1"] for h in hs]), Quantity("w2", [h["w2"] for h in hs])]
    asked = []

    def substitute(occ, rep):
        asked.append((occ.key, rep if rep in (ONE, REVERSED) else rep.label))
        for h in hs:
            if rep is REVERSED:
                yield formula(h, reverse=True)
            elif rep is ONE:
                yield formula(h, drop_w2=True)
            else:
                yield formula(h, w2=h[rep.label])

    d = explain(graphs, [formula(h) for h in hs], wrt="z1", occurrences=occurrences, quantities=quantities,
                substitute=substitute)
    assert words(d.explanations[0]) == "you wrote y − ŷ where ŷ − y belongs (the difference the wrong way round)"
    assert ("w2", "w2") not in asked, "a quantity is never tried in its own place"


def test_the_module_examples_run():
    import doctest

    import microreg.mistakes
    result = doctest.testmod(microreg.mistakes)
    assert result.failed == 0 and result.attempted > 0, result


def test_factor_causes_name_the_sizes():
    assert factor_cause(5.0, {"m": 5}) == "m = 5 times autograd: a sum where the loss takes a mean (a missing 1/m)"
    assert factor_cause(3.0, [("h", 3, "hidden units")]).startswith("h = 3 times autograd: h is the number of hidden")
    assert factor_cause(-1.0) == "the sign is flipped (a difference the wrong way round, or a minus lost)"
    assert factor_cause(1.37) is None
    assert words(Explanation("factor", (), factor=2.0)).startswith("off by a constant factor 2: twice autograd")


def test_a_functions_transpose_is_said_without_guessing_which_way():
    at = {"W1": np.array([[0.4, -0.3], [0.8, 0.2]]), "W2": np.array([[-0.6, 0.9], [0.3, 0.5]])}

    def hand(W2, h2, h1, t, x):           # W2 where W2ᵀ belongs, in numpy code: which way cannot be seen
        return np.outer((W2 @ (2 * (h2 - t) * (1 - h2 ** 2))) * (1 - h1 ** 2), x)
    v = verify(net_layers, {"W1": hand}, at=at, data={"x": XV, "t": TV})
    assert v["W1"].explanation.text == "W2 transposed: a transpose missing or one too many", v["W1"].diagnosis


def test_bad_input_is_refused_or_said_plainly():
    w = Value(0.5, label="w")
    batch = (w * np.array([1.0, 2.0])) ** 2
    with pytest.raises(ValueError, match="the loss must be one number"):
        Graph(batch, w)
    (graph, _), = _points_a(1)
    with pytest.raises(ValueError, match="element"):
        explain([graph], [np.zeros(3)])
    with pytest.raises(ValueError, match="quantity 'w1' has 2 value"):
        explain([graph], [0.1], quantities=[Quantity("w1", [0.1, 0.2])])
    d = explain([graph], [float("nan")])          # a nan from the learner: no story, the numbers kept
    assert d.explanations == [] and not d.ok and math.isnan(d.worst[3])


def test_a_quiz_step_lists_its_slips_simplest_first():
    # L = w·x: the step ∂L/∂w += ∂L/∂L · x, right answer x = 2 (by hand): forgetting x gives 1,
    # the wrong factor gives w = 0.5, x applied twice 4; a bare factor comes after the graph's slips
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    L = w * x
    L.label = "L"
    q = Stepper(L).quiz()
    q.answer(1.0)
    slips = dict((round(v, 9), h) for v, h in q.slips())
    assert slips[1.0] == "you left out ∂L/∂w = x (a forgotten local derivative)"
    assert slips[0.5] == "∂(w·x)/∂w taken as w instead of x (the wrong factor of a product)"
    assert slips[4.0] == "∂L/∂w = x applied twice (an extra local derivative)"
    assert slips[-2.0].startswith("off by a constant factor -1: the sign is flipped")
    assert q.answer(4.0).kind == "extra derivative"          # a slip of the graph before the factor 2
