"""The source documents' hand-derived gradients, in numpy, written as each document writes them.

Three documents (in ``shared/seeds/``) derive gradients by hand:

- **000** (``000_5f857489b6c6c18e.txt``): the two-layer net, sigmoid hidden layer, linear output,
  L = 1/(2m) Σ (ŷᵢ − yᵢ)², and its update rules.
- **001** (``001_eeca50faed54cd79.txt``, "Neural Nets: From Linear Regression to Deep Nets"): the
  L-layer net with C = (a⁽ᴸ⁾ − y)², the error δ and its backward recursion, scalar and multivariate.
- **002** (``002_399cf672b943209f.txt``, "Deep Learning: Regression feat. Linear algebra"): linear
  regression y = β1·x + β0 with U = 1/n Σ ε², its gradient, and the RMSE gradient.

Each function below is one formula, in the document's notation, with the document's words in
its docstring. Where the formula does not agree with autograd (the verifier finds which, see
``microreg check``), the document's version stays as written and a ``*_corrected`` version
stands beside it, with what is wrong said in both docstrings.

`FORMULAS` lists every formula with the autograd loss it claims to differentiate and the points
to check it at; ``microreg.check.check_documents()`` runs them all through ``verify``.
"""

import numpy as np

#: What each source document is, in one line (the command line says it the first time it names one).
DOCUMENTS = {
    "000": "a two-layer regression net, derived by hand (sigmoid hidden layer, linear output)",
    "001": "\"Neural Nets: From Linear Regression to Deep Nets\": the δ rule of an L-layer net",
    "002": "\"Deep Learning: Regression feat. Linear algebra\": linear regression's MSE and RMSE gradients",
}

from .engine import Value, affine
from .nn import half_mse

# --- shared pieces --------------------------------------------------------------------------------


def sigmoid(z):
    """σ(z) = 1/(1 + e^(−z)), numerically stable."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z):
    """σ'(z) = σ(z)(1 − σ(z)) (document 000: "σ'(z_1) = σ(z_1)(1 − σ(z_1))")."""
    s = sigmoid(z)
    return s * (1.0 - s)


# === document 000: the two-layer regression net ====================================================

def two_layer_forward(w1, b1, w2, b2, x):
    """z1 = w1·x + b1, a1 = σ(z1), z2 = w2·a1 + b2, ŷ = z2 (document 000).

    One sample: x (f,), w1 (H, f), b1 (H,), w2 (H,), b2 a number. A batch: x (m, f), and each
    returned array gains a leading axis of m samples.
    """
    x = np.asarray(x, dtype=np.float64)
    z1 = x @ np.asarray(w1).T + b1
    a1 = sigmoid(z1)
    z2 = a1 @ np.asarray(w2) + b2
    return {"z1": z1, "a1": a1, "z2": z2, "y_hat": z2}


def two_layer_grads(w1, b1, w2, b2, x, y):
    """Document 000's gradients for one sample, exactly as written:

        ∂L/∂z2 = ∂L/∂ŷ = (ŷ − y)
        ∂L/∂w2 = (ŷ − y) · a1
        ∂L/∂b2 = (ŷ − y)
        ∂L/∂z1 = (ŷ − y) · w2 · σ'(z1)
        ∂L/∂w1 = (ŷ − y) · w2 · x · σ'(z1)
        ∂L/∂b1 = (ŷ − y) · w2 · σ'(z1)

    For one sample (m = 1), L = ½(ŷ − y)² and these are right: the ½ cancels the 2 of the square.
    ``∂L/∂w1`` for f features is the outer product: entry [j][k] is (ŷ − y)·w2[j]·σ'(z1[j])·x[k].
    """
    f = two_layer_forward(w1, b1, w2, b2, x)
    r = f["y_hat"] - y                          # (ŷ − y)
    dz1 = r * np.asarray(w2) * sigmoid_prime(f["z1"])
    return {"w1": np.outer(dz1, x), "b1": dz1, "w2": r * f["a1"], "b2": r, "z1": dz1, "z2": r}


def two_layer_grads_batch(w1, b1, w2, b2, X, Y):
    """Document 000's formulas applied to a batch of m samples as written, with (ŷ − y) a vector:

        ∂L/∂w2 = (ŷ − y) · a1       →  Σᵢ (ŷᵢ − yᵢ) a1ᵢ
        ∂L/∂b2 = (ŷ − y)            →  Σᵢ (ŷᵢ − yᵢ)
        ∂L/∂w1 = (ŷ − y) · w2 · x · σ'(z1), ∂L/∂b1 = (ŷ − y) · w2 · σ'(z1)   (likewise summed)

    The document's loss is L = 1/(2m) Σᵢ (ŷᵢ − yᵢ)², but its ∂L/∂z2 = (ŷ − y) drops the 1/m:
    every gradient here is **m times too large** (see `two_layer_grads_batch_corrected`).
    With a fixed learning rate that is only a rescaled step, which is why it still trains.
    """
    f = two_layer_forward(w1, b1, w2, b2, X)
    r = f["y_hat"] - np.asarray(Y, dtype=np.float64)      # (m,)
    dz1 = r[:, None] * np.asarray(w2)[None, :] * sigmoid_prime(f["z1"])  # (m, H)
    return {"w1": dz1.T @ np.asarray(X, dtype=np.float64), "b1": dz1.sum(0), "w2": r @ f["a1"], "b2": r.sum()}


def two_layer_grads_batch_corrected(w1, b1, w2, b2, X, Y):
    """The batch gradients of L = 1/(2m) Σ (ŷᵢ − yᵢ)²: document 000's, each divided by m.

    ∂L/∂z2ᵢ = (ŷᵢ − yᵢ)/m; the rest follows by the same chain rule.
    """
    m = np.asarray(X).shape[0]
    return {k: v / m for k, v in two_layer_grads_batch(w1, b1, w2, b2, X, Y).items()}


def two_layer_loss(w1, b1, w2, b2, x, y):
    """The autograd side: document 000's L = 1/(2m) Σ (ŷ − y)², built from Values.

    ``w1`` etc. are Values or numpy object arrays of Values (what ``verify`` passes); x is one
    sample (f,) or a batch (m, f) of floats.
    """
    x = np.asarray(x, dtype=np.float64)
    inputs = [Value(x[:, k]) for k in range(x.shape[1])] if x.ndim == 2 else list(x)
    w1 = np.asarray(w1, dtype=object).reshape(len(b1), -1)
    a1 = []
    for j in range(len(b1)):
        z = _named(affine(w1[j], inputs, b1[j]), f"z1[{j}]")
        a1.append(_named(z.sigmoid(), f"a1[{j}]"))
    y_hat = _named(affine(list(w2), a1, b2), "y_hat")
    return half_mse(y_hat, y)


def _named(node, label):
    """Label a node with the document's name for it, so formulas written in that notation can use it."""
    node.label = label
    return node


# === document 001: the L-layer net and the δ recursion ==============================================

def chain_forward(w, b, x):
    """z⁽ˡ⁾ = w⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = σ(z⁽ˡ⁾), a⁽⁰⁾ = x, for one neuron per layer (document 001).

    ``w``, ``b``: sequences of L numbers (w[0] is w⁽¹⁾). Returns the lists z (L) and a (L + 1).
    """
    a, z = [float(x)], []
    for wl, bl in zip(w, b):
        z.append(wl * a[-1] + bl)
        a.append(float(sigmoid(z[-1])))
    return z, a


def delta_output(a_L, y, z_L):
    """δ⁽ᴸ⁾ := ∂C/∂z⁽ᴸ⁾ = 2(a⁽ᴸ⁾ − y) σ'(z⁽ᴸ⁾)   ("... error output layer", document 001)."""
    return 2.0 * (a_L - y) * sigmoid_prime(z_L)


def delta_before_output_as_written(delta_L, w_L, z_L):
    """δ⁽ᴸ⁻¹⁾ = δ⁽ᴸ⁾ w⁽ᴸ⁾ σ'(z⁽ᴸ⁾)   ("... error hidden layer", document 001, as written).

    **Wrong**: the document writes σ'(z⁽ᴸ⁾) where the chain rule gives σ'(z⁽ᴸ⁻¹⁾), since
    a⁽ᴸ⁻¹⁾ = σ(z⁽ᴸ⁻¹⁾). Its own general rule, `delta_hidden`, has it right.
    """
    return delta_L * w_L * sigmoid_prime(z_L)


def delta_before_output_corrected(delta_L, w_L, z_L_minus_1):
    """δ⁽ᴸ⁻¹⁾ = δ⁽ᴸ⁾ w⁽ᴸ⁾ σ'(z⁽ᴸ⁻¹⁾): document 001's hidden-layer error with the right σ' argument."""
    return delta_L * w_L * sigmoid_prime(z_L_minus_1)


def delta_hidden(delta_next, w_next, z_l):
    """δ⁽ˡ⁾ = ∂C/∂z⁽ˡ⁾ = δ⁽ˡ⁺¹⁾ w⁽ˡ⁺¹⁾ σ'(z⁽ˡ⁾)   ("... l-th error hidden layer", document 001)."""
    return delta_next * w_next * sigmoid_prime(z_l)


def grad_weight(delta_l, a_prev):
    """∂C/∂w⁽ˡ⁾ = δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ (document 001)."""
    return delta_l * a_prev


def grad_bias(delta_l):
    """∂C/∂b⁽ˡ⁾ = ∂C/∂a⁽ˡ⁾ ∂a⁽ˡ⁾/∂z⁽ˡ⁾ ∂z⁽ˡ⁾/∂b⁽ˡ⁾ = δ⁽ˡ⁾·1 (document 001)."""
    return delta_l


def chain_grads(w, b, x, y, as_written=True):
    """All of document 001's scalar backprop for a chain of L one-neuron layers.

    δ⁽ᴸ⁾ by `delta_output`; δ⁽ᴸ⁻¹⁾ by the document's own formula (`delta_before_output_as_written`)
    when ``as_written``, else by the corrected one; every earlier δ⁽ˡ⁾ by `delta_hidden`. Then
    ∂C/∂w⁽ˡ⁾ = δ⁽ˡ⁾a⁽ˡ⁻¹⁾ and ∂C/∂b⁽ˡ⁾ = δ⁽ˡ⁾. Returns {"w": [...], "b": [...], "delta": [...]}.
    """
    z, a = chain_forward(w, b, x)
    L = len(w)
    delta = [0.0] * L
    delta[L - 1] = delta_output(a[L], y, z[L - 1])
    for l in range(L - 2, -1, -1):
        if l == L - 2:
            delta[l] = (delta_before_output_as_written(delta[L - 1], w[L - 1], z[L - 1]) if as_written
                        else delta_before_output_corrected(delta[L - 1], w[L - 1], z[l]))
        else:
            delta[l] = delta_hidden(delta[l + 1], w[l + 1], z[l])
    return {"w": [float(grad_weight(delta[l], a[l])) for l in range(L)],
            "b": [float(grad_bias(delta[l])) for l in range(L)], "delta": [float(d) for d in delta]}


def chain_cost(w, b, x, y):
    """The autograd side of document 001: C = (a⁽ᴸ⁾ − y)² for a chain of sigmoid neurons; the
    nodes are labelled z1, a1, z2, a2, … (z⁽ˡ⁾, a⁽ˡ⁾)."""
    a = x
    for layer, (wl, bl) in enumerate(zip(w, b), start=1):
        z = _named(wl * a + bl, f"z{layer}")
        a = _named(z.sigmoid(), f"a{layer}")
    return (a - y) ** 2


def multivariate_grads(weights, biases, x, y):
    """Document 001's backprop equations in the multivariate setting (⊙ is the Hadamard product):

        δ⁽ᴸ⁾ = ∇ₐC ⊙ σ'(z⁽ᴸ⁾)
        δ⁽ˡ⁾ = ((w⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ⊙ σ'(z⁽ˡ⁾)
        ∂C/∂b⁽ˡ⁾ⱼ = δ⁽ˡ⁾ⱼ
        ∂C/∂w⁽ˡ⁾ⱼ,ₖ = δ⁽ˡ⁾ⱼ a⁽ˡ⁻¹⁾ₖ

    ``weights[l]`` is w⁽ˡ⁺¹⁾ with shape (n_l, n_(l−1)); every layer applies σ (sigmoid), and
    C = Σⱼ (a⁽ᴸ⁾ⱼ − yⱼ)², so ∇ₐC = 2(a⁽ᴸ⁾ − y). Returns {"w": [...], "b": [...], "delta": [...]}.
    """
    a, z = [np.asarray(x, dtype=np.float64)], []
    for W, bias in zip(weights, biases):
        z.append(np.asarray(W) @ a[-1] + bias)
        a.append(sigmoid(z[-1]))
    L = len(weights)
    delta = [None] * L
    delta[L - 1] = 2.0 * (a[L] - y) * sigmoid_prime(z[L - 1])
    for l in range(L - 2, -1, -1):
        delta[l] = (np.asarray(weights[l + 1]).T @ delta[l + 1]) * sigmoid_prime(z[l])
    return {"w": [np.outer(delta[l], a[l]) for l in range(L)], "b": [delta[l] for l in range(L)], "delta": delta}


def multivariate_cost(weights, biases, x, y):
    """The autograd side: C = Σⱼ (a⁽ᴸ⁾ⱼ − yⱼ)² through sigmoid layers, from object arrays of Values."""
    a = list(x)
    for layer, (W, bias) in enumerate(zip(weights, biases), start=1):
        z = [_named(affine(W[j], a, bias[j]), f"z{layer}[{j}]") for j in range(len(bias))]
        a = [_named(zj.sigmoid(), f"a{layer}[{j}]") for j, zj in enumerate(z)]
    total = 0.0
    for aj, yj in zip(a, np.atleast_1d(y)):
        total = (aj - float(yj)) ** 2 + total
    return total


# === document 002: linear regression, MSE and RMSE =================================================

def linreg_residuals(beta1, beta0, x, y):
    """ε = β1 x + β0 − y (document 002)."""
    return beta1 * np.asarray(x, dtype=np.float64) + beta0 - np.asarray(y, dtype=np.float64)


def linreg_mse_grad_as_written(beta1, beta0, x, y):
    """Document 002's ∇U for U = 1/n Σ ε², as written:

        ∇U = Σᵢ [ 2(β1 xᵢ + β0 − yᵢ) ;  2 β1 (β1 xᵢ + β0 − yᵢ) ]

    returned as {"beta0": first row, "beta1": second row}. Two mistakes: the 1/n of U is
    dropped (both rows are n times too large), and the second row has β1 where the chain rule
    gives xᵢ (∂ε/∂β1 = xᵢ). See `linreg_mse_grad_corrected`.
    """
    e = linreg_residuals(beta1, beta0, x, y)
    return {"beta0": float(np.sum(2 * e)), "beta1": float(np.sum(2 * beta1 * e))}


def linreg_mse_grad_corrected(beta1, beta0, x, y):
    """∇U for U = 1/n Σ ε²: ∂U/∂β0 = (2/n) Σ εᵢ, ∂U/∂β1 = (2/n) Σ xᵢ εᵢ."""
    x = np.asarray(x, dtype=np.float64)
    e = linreg_residuals(beta1, beta0, x, y)
    return {"beta0": float(np.mean(2 * e)), "beta1": float(np.mean(2 * x * e))}


def linreg_rmse_grad_as_written(beta1, beta0, x, y):
    """Document 002's gradient of U = √(Σ ε²), as written:

        ∇U = ½ Σᵢ [ 1/|ε| ;  β1/|ε| ]

    **Wrong**: d√s/ds = 1/(2√s) applies to the whole sum s = Σ ε², and the chain rule then
    multiplies by ∂s/∂β = 2 Σ εᵢ ∂εᵢ/∂β; the ½ and 1/|ε| per term do not follow, and β1 again
    stands where xᵢ belongs. See `linreg_rmse_grad_corrected`.
    """
    e = np.abs(linreg_residuals(beta1, beta0, x, y))
    return {"beta0": float(0.5 * np.sum(1 / e)), "beta1": float(0.5 * np.sum(beta1 / e))}


def linreg_rmse_grad_corrected(beta1, beta0, x, y):
    """∇U for U = √(Σ ε²): ∂U/∂β0 = Σ εᵢ / U, ∂U/∂β1 = Σ xᵢ εᵢ / U."""
    x = np.asarray(x, dtype=np.float64)
    e = linreg_residuals(beta1, beta0, x, y)
    u = np.sqrt(np.sum(e * e))
    return {"beta0": float(np.sum(e) / u), "beta1": float(np.sum(x * e) / u)}


def linreg_mse(beta1, beta0, x, y):
    """The autograd side of document 002: U = 1/n Σ (β1 xᵢ + β0 − yᵢ)², on one batch node ε."""
    e = _named(beta1 * np.asarray(x, dtype=np.float64) + beta0 - np.asarray(y, dtype=np.float64), "epsilon")
    return (e * e).mean()


def linreg_rmse(beta1, beta0, x, y):
    """The autograd side of document 002's RMSE case: U = √(Σ ε²) (no 1/n, as the document writes it)."""
    e = _named(beta1 * np.asarray(x, dtype=np.float64) + beta0 - np.asarray(y, dtype=np.float64), "epsilon")
    return _named((e * e).sum() ** 0.5, "U")


# === the registry the verifier runs ================================================================

class Formula:
    """One hand-derived formula to check: which document, what it says, and how to test it.

    ``loss(**params)`` builds the autograd Value; ``hand[name]`` is the formula for parameter
    ``name``: a function of the parameters, or a string in the document's own notation (names:
    the parameters, the labelled nodes of ``loss``'s graph, and ``data``); ``at`` the points;
    ``n`` the number of samples (to name 1/n factors) and ``letter`` the document's name for it;
    ``expect`` what a correct verifier must conclude ("match", "factor" or "wrong"), and
    ``explains`` the kinds of explanation it must give (e.g. ("wrong factor",)).
    """

    def __init__(self, document, formula, loss, hand, at, n=None, expect="match", note="", data=None,
                 letter="n", explains=()):
        self.document, self.formula, self.loss, self.hand = document, formula, loss, hand
        self.at, self.n, self.expect, self.note = at, n, expect, note
        self.data, self.letter, self.explains = data, letter, tuple(explains)


def _data(seed, n=8, f=2):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, f))
    Y = np.sin(X.sum(1)) + 0.1 * rng.normal(size=n)
    return X, Y


def _two_layer_point(seed, f=2, H=3):
    rng = np.random.default_rng(seed)
    return {"w1": rng.normal(size=(H, f)), "b1": rng.normal(size=H), "w2": rng.normal(size=H),
            "b2": float(rng.normal())}


def _formulas():
    out = []
    X, Y = _data(0)
    x1, y1 = X[0], float(Y[0])
    p000 = _two_layer_point(1)

    # 000, one sample
    def loss1(w1, b1, w2, b2):
        return two_layer_loss(w1, b1, w2, b2, x1, y1)

    texts = {"w1": "∂L/∂w1 = (ŷ − y)·w2·x·σ'(z1)", "b1": "∂L/∂b1 = (ŷ − y)·w2·σ'(z1)",
             "w2": "∂L/∂w2 = (ŷ − y)·a1", "b2": "∂L/∂b2 = (ŷ − y)"}
    for name, text in texts.items():
        out.append(Formula("000", text + "  (one sample)", loss1,
                           {name: lambda w1, b1, w2, b2, name=name: two_layer_grads(w1, b1, w2, b2, x1, y1)[name]},
                           p000, n=1, letter="m"))

    # 000, one sample, the formulas as the document writes them (ŷ, a1, z1 are labelled nodes)
    latex000 = {"w1": r"(\hat{y} - y) \cdot w_2 \cdot x \cdot \sigma'(z_1)",
                "b1": r"(\hat{y} - y) \cdot w_2 \cdot \sigma'(z_1)",
                "w2": r"(\hat{y} - y) \cdot a_1", "b2": r"(\hat{y} - y)"}
    out.append(Formula("000", "the four rules, as LaTeX strings  (one sample)", loss1, dict(latex000), p000, n=1,
                       data={"x": x1, "y": y1}, letter="m"))

    # 000, a batch of m samples
    def lossm(w1, b1, w2, b2):
        return two_layer_loss(w1, b1, w2, b2, X, Y)

    for fn, expect, tag in ((two_layer_grads_batch, "factor", "as written"),
                            (two_layer_grads_batch_corrected, "match", "corrected: ÷ m")):
        for name, text in texts.items():
            out.append(Formula("000", f"{text}  (batch of m = {len(Y)}, {tag})", lossm,
                               {name: lambda w1, b1, w2, b2, name=name, fn=fn: fn(w1, b1, w2, b2, X, Y)[name]},
                               p000, n=len(Y), expect=expect, letter="m"))

    # the same strings on the batch: each applied per sample and summed, as the document does
    # (its ∂L/∂z2 = (ŷ − y) drops the 1/m of L = 1/(2m) Σ (ŷᵢ − yᵢ)²)
    out.append(Formula("000", f"the four rules, as LaTeX strings  (batch of m = {len(Y)}, as written)", lossm,
                       dict(latex000), p000, n=len(Y), expect="factor", data={"x": X, "y": Y}, letter="m",
                       explains=("one sample",)))
    out.append(Formula("000", f"the four rules ÷ m, as LaTeX strings  (batch of m = {len(Y)}, corrected)", lossm,
                       {k: r"\frac{1}{m}\sum_{i=1}^{m} " + v.replace(r"(\hat{y} - y)", r"(\hat{y}_i - y_i)")
                        for k, v in latex000.items()},
                       p000, n=len(Y), data={"x": X, "y": Y}, letter="m"))

    # 001, a chain of L = 3 one-neuron sigmoid layers: parameters w1, w2, w3, b1, b2, b3
    rng = np.random.default_rng(2)
    pc = {f"{k}{l}": float(v) for k in "wb" for l, v in zip((1, 2, 3), rng.normal(size=3))}
    xc, yc = 0.7, 0.2

    def chain_loss(w1, w2, w3, b1, b2, b3):
        return chain_cost([w1, w2, w3], [b1, b2, b3], xc, yc)

    def chain_hand(key, layer, as_written=True):
        def h(w1, w2, w3, b1, b2, b3):
            return chain_grads([w1, w2, w3], [b1, b2, b3], xc, yc, as_written)[key][layer - 1]
        return h

    out.append(Formula("001", "δ⁽ᴸ⁾ = 2(a⁽ᴸ⁾ − y)σ'(z⁽ᴸ⁾), checked as ∂C/∂b⁽ᴸ⁾ = δ⁽ᴸ⁾  (L = 3)", chain_loss,
                       {"b3": chain_hand("b", 3)}, pc))
    out.append(Formula("001", "∂C/∂w⁽ᴸ⁾ = δ⁽ᴸ⁾a⁽ᴸ⁻¹⁾", chain_loss, {"w3": chain_hand("w", 3)}, pc))
    out.append(Formula("001", "δ⁽ᴸ⁻¹⁾ = δ⁽ᴸ⁾w⁽ᴸ⁾σ'(z⁽ᴸ⁾)  (as written), checked as ∂C/∂b⁽ᴸ⁻¹⁾", chain_loss,
                       {"b2": chain_hand("b", 2)}, pc, expect="wrong"))
    out.append(Formula("001", "δ⁽ᴸ⁻¹⁾ = δ⁽ᴸ⁾w⁽ᴸ⁾σ'(z⁽ᴸ⁻¹⁾)  (corrected), checked as ∂C/∂b⁽ᴸ⁻¹⁾", chain_loss,
                       {"b2": chain_hand("b", 2, as_written=False)}, pc))
    out.append(Formula("001", "δ⁽ˡ⁾ = δ⁽ˡ⁺¹⁾w⁽ˡ⁺¹⁾σ'(z⁽ˡ⁾), ∂C/∂w⁽ˡ⁾ = δ⁽ˡ⁾a⁽ˡ⁻¹⁾, ∂C/∂b⁽ˡ⁾ = δ⁽ˡ⁾  (every layer)",
                       chain_loss, {f"{k}{l}": chain_hand(k, l, as_written=False) for k in "wb" for l in (1, 2, 3)},
                       pc))

    # 001 as strings, with L = 3 (δ⁽ᴸ⁾ = 2(a⁽ᴸ⁾ − y)σ'(z⁽ᴸ⁾) written out where the document uses δ)
    dL = r"2(a^{(3)} - y)\sigma'(z^{(3)})"
    out += [
        Formula("001", "∂C/∂b⁽ᴸ⁾ = δ⁽ᴸ⁾, ∂C/∂w⁽ᴸ⁾ = δ⁽ᴸ⁾a⁽ᴸ⁻¹⁾  (LaTeX strings, L = 3)", chain_loss,
                {"b3": dL, "w3": dL + r" a^{(2)}"}, pc, data={"x": xc, "y": yc}),
        Formula("001", "δ⁽ᴸ⁻¹⁾ = δ⁽ᴸ⁾w⁽ᴸ⁾σ'(z⁽ᴸ⁾)  (as written, a LaTeX string), checked as ∂C/∂b⁽ᴸ⁻¹⁾", chain_loss,
                {"b2": dL + r" w^{(3)} \sigma'(z^{(3)})"}, pc, data={"x": xc, "y": yc}, expect="wrong",
                explains=("wrong node",)),
        Formula("001", "δ⁽ᴸ⁻¹⁾ = δ⁽ᴸ⁾w⁽ᴸ⁾σ'(z⁽ᴸ⁻¹⁾)  (corrected, a LaTeX string), checked as ∂C/∂b⁽ᴸ⁻¹⁾", chain_loss,
                {"b2": dL + r" w^{(3)} \sigma'(z^{(2)})", "w2": dL + r" w^{(3)} \sigma'(z^{(2)}) a^{(1)}"}, pc,
                data={"x": xc, "y": yc}),
    ]

    # 001, multivariate: widths 2 → 3 → 2 → 1
    rng = np.random.default_rng(3)
    shapes = [(3, 2), (2, 3), (1, 2)]
    pm = {f"w{l + 1}": rng.normal(size=s) for l, s in enumerate(shapes)}
    pm.update({f"b{l + 1}": rng.normal(size=s[0]) for l, s in enumerate(shapes)})
    xm, ym = np.array([0.5, -1.2]), np.array([0.3])

    def multi_loss(w1, w2, w3, b1, b2, b3):
        return multivariate_cost([w1, w2, w3], [b1, b2, b3], xm, ym)

    def multi_hand(key, l):
        return lambda w1, w2, w3, b1, b2, b3: multivariate_grads([w1, w2, w3], [b1, b2, b3], xm, ym)[key][l]

    hand = {f"w{l + 1}": multi_hand("w", l) for l in range(3)}
    hand.update({f"b{l + 1}": multi_hand("b", l) for l in range(3)})
    out.append(Formula("001", "δ⁽ˡ⁾ = ((w⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾) ⊙ σ'(z⁽ˡ⁾), ∂C/∂w⁽ˡ⁾ⱼₖ = δ⁽ˡ⁾ⱼa⁽ˡ⁻¹⁾ₖ, ∂C/∂b⁽ˡ⁾ⱼ = δ⁽ˡ⁾ⱼ",
                       multi_loss, hand, pm))
    d3 = r"(2(a^{(3)} - y) \odot \sigma'(z^{(3)}))"
    d2 = r"(((w^{(3)})^T " + d3 + r") \odot \sigma'(z^{(2)}))"
    out.append(Formula("001", "δ⁽ᴸ⁻¹⁾ = ((w⁽ᴸ⁾)ᵀδ⁽ᴸ⁾) ⊙ σ'(z⁽ᴸ⁻¹⁾), ∂C/∂w⁽ᴸ⁻¹⁾ = δ⁽ᴸ⁻¹⁾(a⁽ᴸ⁻²⁾)ᵀ  (LaTeX strings)",
                       multi_loss, {"b3": d3, "b2": d2, "w2": d2 + r" (a^{(1)})^T"}, pm, data={"x": xm, "y": ym}))

    # 002, linear regression on n points
    rng = np.random.default_rng(4)
    xl = rng.uniform(-2, 2, 10)
    yl = 1.5 * xl + 0.5 + 0.3 * rng.normal(size=10)
    pl = {"beta1": 0.8, "beta0": -0.3}

    def lin(fn):
        return lambda beta1, beta0: fn(beta1, beta0, xl, yl)

    def hand_of(fn, key):
        return lambda beta1, beta0: fn(beta1, beta0, xl, yl)[key]

    out += [
        Formula("002", "∂U/∂β0 = Σ 2(β1xᵢ + β0 − yᵢ)  (as written)", lin(linreg_mse),
                {"beta0": hand_of(linreg_mse_grad_as_written, "beta0")}, pl, n=10, data={"x": xl, "y": yl}, expect="factor"),
        Formula("002", "∂U/∂β1 = Σ 2β1(β1xᵢ + β0 − yᵢ)  (as written)", lin(linreg_mse),
                {"beta1": hand_of(linreg_mse_grad_as_written, "beta1")}, pl, n=10, data={"x": xl, "y": yl}, expect="wrong"),
        Formula("002", "∂U/∂β0 = (2/n) Σ εᵢ, ∂U/∂β1 = (2/n) Σ xᵢεᵢ  (corrected)", lin(linreg_mse),
                {"beta0": hand_of(linreg_mse_grad_corrected, "beta0"),
                 "beta1": hand_of(linreg_mse_grad_corrected, "beta1")}, pl, n=10),
        Formula("002", "RMSE: ∂U/∂β0 = ½ Σ 1/|ε|  (as written)", lin(linreg_rmse),
                {"beta0": hand_of(linreg_rmse_grad_as_written, "beta0")}, pl, n=10, expect="wrong"),
        Formula("002", "RMSE: ∂U/∂β1 = ½ Σ β1/|ε|  (as written)", lin(linreg_rmse),
                {"beta1": hand_of(linreg_rmse_grad_as_written, "beta1")}, pl, n=10, expect="wrong"),
        Formula("002", "RMSE: ∂U/∂β0 = Σ εᵢ/U, ∂U/∂β1 = Σ xᵢεᵢ/U  (corrected)", lin(linreg_rmse),
                {"beta0": hand_of(linreg_rmse_grad_corrected, "beta0"),
                 "beta1": hand_of(linreg_rmse_grad_corrected, "beta1")}, pl, n=10),
    ]
    # 002 as strings in the document's notation (x, y data; ε and U labelled nodes)
    d002 = {"x": xl, "y": yl}
    out += [
        Formula("002", "∂U/∂β0 = Σ 2(β1xᵢ + β0 − yᵢ)  (as written, a LaTeX string)", lin(linreg_mse),
                {"beta0": r"\sum_{i=1}^{n} 2(\beta_1 x_i + \beta_0 - y_i)"}, pl, n=10, data=d002, expect="factor",
                explains=("factor",)),
        Formula("002", "∂U/∂β1 = Σ 2β1(β1xᵢ + β0 − yᵢ)  (as written, a LaTeX string)", lin(linreg_mse),
                {"beta1": r"\sum_{i=1}^{n} 2\beta_1(\beta_1 x_i + \beta_0 - y_i)"}, pl, n=10, data=d002,
                expect="wrong", explains=("wrong factor",)),
        Formula("002", "∂U/∂β0 = (2/n) Σ εᵢ, ∂U/∂β1 = (2/n) Σ xᵢεᵢ  (corrected, LaTeX strings)", lin(linreg_mse),
                {"beta0": r"\frac{2}{n}\sum_{i=1}^{n} \epsilon_i", "beta1": r"\frac{2}{n}\sum_{i=1}^{n} x_i \epsilon_i"},
                pl, n=10, data=d002),
        Formula("002", "RMSE: ∇U = ½ Σ [1/|ε| ; β1/|ε|]  (as written, LaTeX strings)", lin(linreg_rmse),
                {"beta0": r"\frac{1}{2}\sum_{i=1}^{n} \frac{1}{|\epsilon_i|}",
                 "beta1": r"\frac{1}{2}\sum_{i=1}^{n} \frac{\beta_1}{|\epsilon_i|}"}, pl, n=10, data=d002,
                expect="wrong"),
        Formula("002", "RMSE: ∂U/∂β0 = Σ εᵢ/U, ∂U/∂β1 = Σ xᵢεᵢ/U  (corrected, LaTeX strings)", lin(linreg_rmse),
                {"beta0": r"\frac{\sum_i \epsilon_i}{U}", "beta1": r"\frac{\sum_i x_i \epsilon_i}{U}"}, pl, n=10,
                data=d002),
    ]
    return out


FORMULAS = _formulas()
