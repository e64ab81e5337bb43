"""The corpus's models in sympy: leaves (parameters, data), named nodes, losses, and exact derivatives.

A model is a list of definitions in order; every node has a matrix of placeholder symbols. A derivative of the
loss with respect to a leaf or a node (``∂J/∂W1``, ``∂J/∂Z2``) is the chain rule summed over the definitions in
reverse order, each local derivative taken by sympy from the node's definition; tests/test_corpus_truth.py checks
this against sympy's derivative of the whole loss written out in the leaves. Values come from a forward pass
at a random point drawn from a fixed seed. Nothing here runs microreg.

Shapes follow each document: course notes keep samples as columns (``X`` is features × m), CS231n-style notes
keep samples as rows (``X`` is N × D). Sizes are small and different from one another (features 2, hidden 3, 4
or 5 units, classes 3, samples 3, 4 or 5) so that a missing transpose cannot hide behind a square matrix.
"""

import functools
import math
import random

import sympy as sp

# --- activations and their derivatives (what a document's σ, σ', tanh', ReLU' mean) ------------------------

_t = sp.Symbol("t", real=True)
SIGMOID = sp.Lambda(_t, 1 / (1 + sp.exp(-_t)))
LEAK = sp.Rational(1, 100)      # a leaky ReLU's slope for z < 0 when a document does not name one


def sigmoid(x):
    return SIGMOID(x)


def dsigmoid(x):
    return sigmoid(x) * (1 - sigmoid(x))


def tanh(x):
    return sp.tanh(x)


def dtanh(x):
    return 1 - sp.tanh(x) ** 2


def relu(x):
    return sp.Max(0, x)


def drelu(x):
    return sp.Heaviside(x)


def leaky(x, a=LEAK):
    return sp.Piecewise((x, x > 0), (a * x, True))


def dleaky(x, a=LEAK):
    return sp.Piecewise((1, x > 0), (a, True))


ACTS = {"sigmoid": (sigmoid, dsigmoid), "tanh": (tanh, dtanh), "relu": (relu, drelu), "leaky": (leaky, dleaky),
        "linear": (lambda x: x, lambda x: sp.Integer(1))}


# --- matrix helpers a written formula uses ------------------------------------------------------------------

def ew(f, A):
    """f applied to every entry (σ(Z), g'(Z), log A)."""
    return A.applyfunc(f) if isinstance(A, sp.MatrixBase) else f(A)


def had(A, B):
    """The elementwise (Hadamard) product A ⊙ B, or A * B in the course's numpy notation."""
    if not isinstance(A, sp.MatrixBase) or not isinstance(B, sp.MatrixBase):
        return A * B
    if A.shape != B.shape:
        raise sp.ShapeError(f"⊙ of {A.shape} and {B.shape}")
    return A.multiply_elementwise(B)


def rowsum(A):
    """np.sum(A, axis=1, keepdims=True): the sum over columns, a column."""
    return A * sp.ones(A.shape[1], 1)


def colsum(A):
    """np.sum(A, axis=0, keepdims=True): the sum over rows, a row."""
    return sp.ones(1, A.shape[0]) * A


def bcol(b, m):
    """A column b repeated for m samples (b + WX in numpy broadcasting)."""
    return b * sp.ones(1, m)


def brow(b, n):
    """A row b repeated for n samples (XW + b with samples as rows)."""
    return sp.ones(n, 1) * b


def softmax_cols(Z):
    """Each column of Z through the softmax (classes down a column)."""
    E = Z.applyfunc(sp.exp)
    return sp.Matrix(Z.shape[0], Z.shape[1], lambda k, i: E[k, i] / sum(E[:, i]))


def softmax_rows(Z):
    """Each row of Z through the softmax (classes along a row)."""
    E = Z.applyfunc(sp.exp)
    return sp.Matrix(Z.shape[0], Z.shape[1], lambda i, k: E[i, k] / sum(E[i, :]))


def stack(parts):
    """Several matrices as one column of their entries (a formula stated for every layer l)."""
    out = []
    for p in parts:
        out.extend(list(p) if isinstance(p, sp.MatrixBase) else [p])
    return sp.Matrix(out)


# --- the model ----------------------------------------------------------------------------------------------

class Model:
    """Leaves and named nodes; ``M.name`` is a leaf's symbols or a node's placeholders (a scalar if 1 × 1)."""

    def __init__(self, **sizes):
        self.sizes = dict(sizes)
        self.m = sizes.get("m", 1)
        self._leaves = {}     # name -> Matrix of symbols
        self._kinds = {}      # name -> how to draw its values
        self._nodes = {}      # name -> (placeholders, definition)
        self._fixed = {}
        self._order = []
        self._d = {}
        self._loc = None
        self._num = {}
        self.numeric = True
        self._pt = None

    # building
    def fix(self, name, values):
        """Give a leaf fixed values (a worked example with numbers) instead of random ones."""
        self._fixed[name] = [sp.nsimplify(v) for v in (values if isinstance(values, (tuple, list)) else [values])]

    def leaf(self, name, rows=1, cols=1, kind="real"):
        mat = sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}_{j}"))
        self._leaves[name] = mat
        self._kinds[name] = kind
        return self._public(mat)

    def node(self, name, expr):
        expr = expr if isinstance(expr, sp.MatrixBase) else sp.Matrix([[expr]])
        ph = sp.Matrix(expr.shape[0], expr.shape[1], lambda i, j: sp.Symbol(f"{name}__{i}_{j}"))
        self._nodes[name] = (ph, expr)
        self._order.append(name)
        return self._public(ph)

    @staticmethod
    def _public(mat):
        return mat[0, 0] if mat.shape == (1, 1) else mat

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._leaves or name in self._nodes:
            return self._public(self.mat(name))
        if name in self.sizes:
            return self.sizes[name]
        raise AttributeError(f"the model has no leaf or node {name!r}")

    def mat(self, name):
        """A leaf's or node's values at the current point as a matrix, even when 1 × 1 (its symbols for a model
        of free symbols, or before a point is chosen)."""
        sym = self._leaves[name] if name in self._leaves else self._nodes[name][0]
        if self._pt is None or not self.numeric:
            return sym
        key = (name, self._pt.seed)
        if key not in self._num:
            self._num[key] = sym.xreplace(self._pt)
        return self._num[key]

    def symbols(self, name):
        return self._leaves[name] if name in self._leaves else self._nodes[name][0]

    # derivatives
    def at(self, point):
        """Take derivatives at this point (a dict from `point`) from now on."""
        self._pt = point
        return self

    def d(self, target, wrt):
        """∂target/∂wrt at the current point, with the shape of wrt (a scalar for a 1 × 1 wrt); for a node this
        is the partial derivative with everything upstream of it held, what a backward pass calls its gradient."""
        adj = self._adjoints(target)
        return self._public(self.symbols(wrt).applyfunc(lambda v: sp.Float(adj.get(v, 0.0))))

    def expanded(self, target):
        """target written in the leaves alone (every node put in): for differentiating the whole loss."""
        sub = {}
        for name in self._order:
            ph, expr = self._nodes[name]
            sub.update(zip(ph, expr.xreplace(sub)))
        return self.symbols(target).xreplace(sub)

    def d2(self, target, u, v):
        """∂²target/∂u∂v for two scalar leaves, at the current point: sympy on the loss written in the leaves."""
        whole = self.expanded(target)[0, 0]
        return sp.diff(whole, self.symbols(u)[0, 0], self.symbols(v)[0, 0]).xreplace(self._pt)

    def _locals(self):
        """For every node entry, sympy's derivative of its definition in each symbol the definition uses."""
        if self._loc is None:
            self._loc = {}
            for name in self._order:
                ph, expr = self._nodes[name]
                for s, e in zip(ph, expr):
                    self._loc[s] = [(x, sp.diff(e, x)) for x in sorted(e.free_symbols, key=str)]
        return self._loc

    def _adjoints(self, target):
        """∂target/∂s for every leaf and node symbol s at the current point: the chain rule summed over the
        definitions in reverse order, each local derivative from sympy, taken at the point."""
        key = (target, self._pt.seed)
        if key not in self._d:
            pt, loc = self._pt, self._locals()
            adj = {self.symbols(target)[0, 0]: 1.0}
            for name in reversed(self._order):
                for s in self._nodes[name][0]:
                    a = adj.get(s)
                    if not a:
                        continue
                    for x, dx in loc[s]:
                        adj[x] = adj.get(x, 0.0) + a * float(dx.xreplace(pt))
            self._d[key] = adj
        return self._d[key]

    def local(self, out, wrt):
        """∂out/∂wrt entry by entry for an elementwise node (σ'(Z) as the diagonal of a Jacobian)."""
        ph, expr = self._nodes[out]
        var = self.symbols(wrt)
        out = sp.Matrix(expr.shape[0], expr.shape[1], lambda i, j: sp.diff(expr[i, j], var[i, j]))
        return self._public(out.xreplace(self._pt) if self._pt is not None and self.numeric else out)

    def jac(self, out, wrt):
        """The Jacobian ∂out_j/∂wrt_i of a node's definition in a direct input, rows j, columns i."""
        expr = self._nodes[out][1]
        var = self.symbols(wrt)
        jm = sp.Matrix(len(expr), len(var), lambda j, i: sp.diff(expr[j], var[i]))
        return jm.xreplace(self._pt) if self._pt is not None and self.numeric else jm

    # numbers
    def point(self, seed):
        """Values for every leaf and node placeholder at a random point (deterministic for a seed)."""
        self._pt = None
        rng = random.Random(seed)
        vals = Point(seed)
        for name, mat in self._leaves.items():
            kind = self._kinds[name]
            if name in self._fixed:
                vals.update(zip(mat, self._fixed[name]))
                continue
            rows, cols = mat.shape
            if kind == "onehot_cols":
                for j in range(cols):
                    hot = rng.randrange(rows)
                    for i in range(rows):
                        vals[mat[i, j]] = sp.Integer(int(i == hot))
                continue
            if kind == "onehot_rows":
                for i in range(rows):
                    hot = rng.randrange(cols)
                    for j in range(cols):
                        vals[mat[i, j]] = sp.Integer(int(j == hot))
                continue
            for s in mat:
                vals[s] = _draw(rng, kind)
        for name in self._order:
            ph, expr = self._nodes[name]
            val = expr.xreplace(vals)
            vals.update(zip(ph, val))
        return vals


class Point(dict):
    """Values at a point, named by the seed that drew them (caches key on it)."""

    def __init__(self, seed):
        super().__init__()
        self.seed = seed


def _draw(rng, kind):
    if kind == "binary":
        return sp.Integer(rng.randrange(2))
    if kind == "prob":
        return sp.Float(rng.uniform(0.05, 0.95))
    if kind == "positive":
        return sp.Float(rng.uniform(0.2, 2.0))
    if kind == "one":
        return sp.Integer(1)
    if isinstance(kind, tuple) and kind[0] == "fixed":
        return sp.sympify(kind[1])
    while True:          # "real": away from 0, where ReLU and leaky ReLU have their kink
        v = rng.uniform(-1.5, 1.5)
        if abs(v) > 0.05:
            return sp.Float(v)


def numbers(expr, vals):
    """The entries of a written or true value at a point, as a list of floats (a scalar is one entry)."""
    mat = expr if isinstance(expr, sp.MatrixBase) else sp.Matrix([[expr]])
    out = []
    for e in mat.xreplace(vals):
        v = complex(sp.N(e))
        if v.imag != 0 or not math.isfinite(v.real):
            raise ValueError(f"not a real number: {e}")
        out.append(v.real)
    return mat.shape, out


# --- the models the documents derive ------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def linear_1d(m=3, loss="2m", fixed=None):
    """ŷ = w x + b on m samples; loss "2m": 1/(2m) Σ r², "n": 1/n Σ r², "sum": Σ r², "half": ½ Σ r²; nodes
    sq0, sq1, … hold each sample's squared residual. fixed: ((leaf, values), …) for a worked example."""
    M = Model(m=m)
    w, b = M.leaf("w"), M.leaf("b")
    x, y = M.leaf("x", m, 1), M.leaf("y", m, 1)
    yhat = M.node("yhat", x * w + sp.ones(m, 1) * b)
    sq = [M.node(f"sq{i}", (yhat[i] - y[i]) ** 2) for i in range(m)]
    scale = {"2m": sp.Rational(1, 2 * m), "n": sp.Rational(1, m), "sum": 1, "half": sp.Rational(1, 2)}[loss]
    M.node("J", scale * sum(sq))
    for name, values in fixed or ():
        M.fix(name, values)
    return M


@functools.lru_cache(maxsize=None)
def linear_theta(m=4, n=2):
    """h_θ(x) = θ_0 x_0 + … + θ_n x_n with x_0 = 1, samples as rows of X (m × (n+1)); J = 1/(2m) Σ r²."""
    M = Model(m=m, n=n)
    theta = M.leaf("theta", n + 1, 1)
    ones_col = M.leaf("x0", m, 1, kind="one")
    feats = M.leaf("xf", m, n)
    X = ones_col.row_join(feats)
    M.node("X", X)
    y = M.leaf("y", m, 1)
    h = M.node("h", X * theta)
    M.node("J", sp.Rational(1, 2 * m) * sum(v ** 2 for v in (h - y)))
    return M


@functools.lru_cache(maxsize=None)
def linear_vec(m=4, d=2, loss="n"):
    """ŷ = Xw + b with X m × d (rows); nodes sq_i = r_i², half_i = ½ r_i²; J = 1/n Σ r² ("n"), 1/n Σ ½ r²
    ("half_mean") or ½ Σ r² with no bias ("half_sum", least squares ½‖Xw − y‖²)."""
    M = Model(m=m, d=d)
    X, w = M.leaf("X", m, d), M.leaf("w", d, 1)
    y = M.leaf("y", m, 1)
    if loss == "half_sum":
        yhat = M.node("yhat", X * w)
    else:
        b = M.leaf("b")
        yhat = M.node("yhat", X * w + sp.ones(m, 1) * b)
    sq = [M.node(f"sq{i}", (yhat[i] - y[i]) ** 2) for i in range(m)]
    half = [M.node(f"half{i}", sp.Rational(1, 2) * (yhat[i] - y[i]) ** 2) for i in range(m)]
    J = {"n": sp.Rational(1, m) * sum(sq), "half_mean": sp.Rational(1, m) * sum(half), "half_sum": sum(half)}[loss]
    M.node("J", J)
    return M


@functools.lru_cache(maxsize=None)
def add_mul(fixed=None):
    """cs231n's first circuit: q = x + y, f = q z."""
    M = Model()
    x, y, z = M.leaf("x"), M.leaf("y"), M.leaf("z")
    q = M.node("q", x + y)
    M.node("f", q * z)
    for name, values in fixed or ():
        M.fix(name, values)
    return M


@functools.lru_cache(maxsize=None)
def sigmoid_neuron(fixed=None):
    """A 2-input sigmoid neuron: t = w_0 x_0 + w_1 x_1 + w_2, f = σ(t)."""
    M = Model()
    w, x = M.leaf("w", 3, 1), M.leaf("x", 2, 1)
    t = M.node("t", w[0] * x[0] + w[1] * x[1] + w[2])
    M.node("f", sigmoid(t))
    for name, values in fixed or ():
        M.fix(name, values)
    return M


@functools.lru_cache(maxsize=None)
def poly2(m=3, scale="2n"):
    """h_w(x) = w_1 + w_2 x + w_3 x²; J = 1/(2n) Σ (h - y)²."""
    M = Model(m=m)
    w1, w2, w3 = M.leaf("w1"), M.leaf("w2"), M.leaf("w3")
    x, y = M.leaf("x", m, 1), M.leaf("y", m, 1)
    h = M.node("h", sp.Matrix([w1 + w2 * x[i] + w3 * x[i] ** 2 for i in range(m)]))
    c = {"2n": sp.Rational(1, 2 * m), "n": sp.Rational(1, m)}[scale]
    M.node("J", c * sum(v ** 2 for v in (h - y)))
    return M


@functools.lru_cache(maxsize=None)
def logistic(m=3, nx=2, reg=False, mean=True, bias=True):
    """ŷ = σ(wᵀx + b) for m samples (columns of X, nx × m), J = mean log loss (+ λ/(2m) Σ w² with reg);
    mean=False sums the losses instead, bias=False drops b."""
    M = Model(m=m, nx=nx)
    w = M.leaf("w", nx, 1)
    b = M.leaf("b") if bias else 0
    X = M.leaf("X", nx, m)
    Y = M.leaf("Y", 1, m, kind="binary")
    Z = M.node("Z", w.T * X + b * sp.ones(1, m))
    A = M.node("A", ew(sigmoid, Z))
    losses = []
    for i in range(m):
        a, y = A[0, i], Y[0, i]
        losses.append(M.node(f"L{i}", -(y * sp.log(a) + (1 - y) * sp.log(1 - a))))
    J = (sp.Rational(1, m) if mean else 1) * sum(losses)
    if reg:
        lam = M.leaf("lam", kind="positive")
        J += lam / (2 * m) * sum(v ** 2 for v in w)
    M.node("J", J)
    return M


@functools.lru_cache(maxsize=None)
def logistic_one(nx=2, loss="bce"):
    """One sample: z = w·x + b, a = σ(z), L = log loss ("bce") or ½(a − y)² ("mse")."""
    M = Model(m=1, nx=nx)
    w, b = M.leaf("w", nx, 1), M.leaf("b")
    x = M.leaf("x", nx, 1)
    y = M.leaf("y", kind="binary" if loss == "bce" else "prob")
    z = M.node("z", (w.T * x)[0, 0] + b)
    a = M.node("a", sigmoid(z))
    if loss == "bce":
        M.node("L", -(y * sp.log(a) + (1 - y) * sp.log(1 - a)))
    else:
        M.node("L", sp.Rational(1, 2) * (a - y) ** 2)
    return M


@functools.lru_cache(maxsize=None)
def softmax_regression(m=4, nx=2, C=3):
    """Z = WX + b, Ŷ = softmax over each column (C classes), one-hot Y, J = −1/m Σ_i Σ_k y log ŷ."""
    M = Model(m=m, nx=nx, C=C)
    W, b = M.leaf("W", C, nx), M.leaf("b", C, 1)
    X = M.leaf("X", nx, m)
    Y = M.leaf("Y", C, m, kind="onehot_cols")
    Z = M.node("Z", W * X + bcol(b, m))
    P = M.node("P", softmax_cols(Z))
    M.node("J", -sp.Rational(1, m) * sum(Y[k, i] * sp.log(P[k, i]) for k in range(C) for i in range(m)))
    return M


@functools.lru_cache(maxsize=None)
def softmax_one(C=3):
    """One sample's scores o (C classes), p = softmax(o), one-hot y, L = −Σ_k y_k log p_k."""
    M = Model(C=C)
    o = M.leaf("o", C, 1)
    y = M.leaf("y", C, 1, kind="onehot_cols")
    p = M.node("p", softmax_cols(o))
    M.node("L", -sum(y[k] * sp.log(p[k]) for k in range(C)))
    return M


@functools.lru_cache(maxsize=None)
def course_net(m=3, nx=2, nh=4, ny=1, hidden="tanh", out="sigmoid"):
    """deeplearning.ai's shallow net, samples as columns: Z1 = W1 X + b1, A1 = g(Z1), Z2 = W2 A1 + b2,
    A2 = σ(Z2) with the mean log loss (out="sigmoid") or A2 = Z2 with the mean ½-squared error ("linear")."""
    M = Model(m=m, nx=nx, nh=nh, ny=ny)
    g = ACTS[hidden][0]
    for name, r, c in (("W1", nh, nx), ("b1", nh, 1), ("W2", ny, nh), ("b2", ny, 1), ("X", nx, m)):
        M.leaf(name, r, c)
    M.leaf("Y", ny, m, kind="binary" if out == "sigmoid" else "real")
    S = M.symbols
    M.node("Z1", S("W1") * S("X") + bcol(S("b1"), m))
    M.node("A1", ew(g, S("Z1")))
    M.node("Z2", S("W2") * S("A1") + bcol(S("b2"), m))
    Y = S("Y")
    if out == "sigmoid":
        M.node("A2", ew(sigmoid, S("Z2")))
        A2 = S("A2")
        M.node("J", -sp.Rational(1, m) * sum(Y[k, i] * sp.log(A2[k, i]) + (1 - Y[k, i]) * sp.log(1 - A2[k, i])
                                             for k in range(ny) for i in range(m)))
    else:
        M.node("A2", S("Z2"))
        A2 = S("A2")
        M.node("J", sp.Rational(1, 2 * m) * sum((A2[k, i] - Y[k, i]) ** 2 for k in range(ny) for i in range(m)))
    return M


@functools.lru_cache(maxsize=None)
def deep_course_net(m=3, sizes=(2, 4, 3, 1), hidden="relu"):
    """deeplearning.ai's L-layer net, samples as columns: Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l]) for
    hidden layers, σ at the last; J = mean log loss. Names: W1.., b1.., Z1.., A0 = X, A1.., AL = A{L}."""
    L = len(sizes) - 1
    M = Model(m=m, L=L)
    g = ACTS[hidden][0]
    M.leaf("A0", sizes[0], m)
    A = M.symbols("A0")
    for l in range(1, L + 1):
        M.leaf(f"W{l}", sizes[l], sizes[l - 1])
        M.leaf(f"b{l}", sizes[l], 1)
        M.node(f"Z{l}", M.symbols(f"W{l}") * A + bcol(M.symbols(f"b{l}"), m))
        M.node(f"A{l}", ew(sigmoid if l == L else g, M.symbols(f"Z{l}")))
        A = M.symbols(f"A{l}")
    M.leaf("Y", sizes[L], m, kind="binary")
    Y = M.symbols("Y")
    M.node("J", -sp.Rational(1, m) * sum(Y[k, i] * sp.log(A[k, i]) + (1 - Y[k, i]) * sp.log(1 - A[k, i])
                                         for k in range(sizes[L]) for i in range(m)))
    return M


@functools.lru_cache(maxsize=None)
def nielsen_net(sizes=(2, 4, 3), act="sigmoid", cost="quadratic"):
    """Nielsen's network for one input x: z^l = w^l a^{l-1} + b^l, a^l = σ(z^l), C = ½ Σ_j (y_j − a^L_j)²
    (cost="quadratic") or the cross-entropy −Σ_j [y ln a + (1 − y) ln(1 − a)] ("xent"). Names: w2, b2, z2,
    a2, …, a1 = x (layers numbered from 1 as in the book)."""
    L = len(sizes)
    M = Model(L=L)
    f = ACTS[act][0]
    a = M.leaf("a1", sizes[0], 1)
    for l in range(2, L + 1):
        w, b = M.leaf(f"w{l}", sizes[l - 1], sizes[l - 2]), M.leaf(f"b{l}", sizes[l - 1], 1)
        z = M.node(f"z{l}", w * a + b)
        a = M.node(f"a{l}", ew(f, z))
    y = M.leaf("y", sizes[-1], 1, kind="prob")
    if cost == "quadratic":
        M.node("C", sp.Rational(1, 2) * sum((y[j] - a[j]) ** 2 for j in range(sizes[-1])))
    else:
        M.node("C", -sum(y[j] * sp.log(a[j]) + (1 - y[j]) * sp.log(1 - a[j]) for j in range(sizes[-1])))
    return M


@functools.lru_cache(maxsize=None)
def rows_net(N=5, D=2, H=4, C=3, hidden="relu", out="softmax", reg=None):
    """CS231n's two-layer net, samples as rows: H = g(X W1 + b1), S = H W2 + b2; out="softmax": P = softmax
    of each row, one-hot Y, L = 1/N Σ_i −log p_{i,y_i} (+ ½λ Σ W² for reg="half", λ Σ W² for reg="full");
    out="mse": L = 1/N Σ (S − Y)²; out="sigmoid_half": Ŷ = σ(S), L = ½ Σ (Ŷ − Y)² summed over samples."""
    M = Model(m=N, N=N, D=D, H=H, C=C)
    g = ACTS[hidden][0]
    X = M.leaf("X", N, D)
    W1, b1 = M.leaf("W1", D, H), M.leaf("b1", 1, H)
    W2, b2 = M.leaf("W2", H, C), M.leaf("b2", 1, C)
    Z1 = M.node("Z1", X * W1 + brow(b1, N))
    Hn = M.node("H", ew(g, Z1))
    S = M.node("S", Hn * W2 + brow(b2, N))
    if out == "softmax":
        Y = M.leaf("Y", N, C, kind="onehot_rows")
        P = M.node("P", softmax_rows(S))
        data = -sp.Rational(1, N) * sum(Y[i, k] * sp.log(P[i, k]) for i in range(N) for k in range(C))
    elif out == "mse":
        Y = M.leaf("Y", N, C)
        data = sp.Rational(1, N) * sum((S[i, k] - Y[i, k]) ** 2 for i in range(N) for k in range(C))
    else:
        Y = M.leaf("Y", N, C, kind="prob")
        Yh = M.node("Yhat", ew(sigmoid, S))
        data = sp.Rational(1, 2) * sum((Yh[i, k] - Y[i, k]) ** 2 for i in range(N) for k in range(C))
    Ld = M.node("Ldata", data)
    if reg:
        lam = M.leaf("lam", kind="positive")
        c = sp.Rational(1, 2) if reg == "half" else 1
        R = M.node("R", c * lam * (sum(v ** 2 for v in W1) + sum(v ** 2 for v in W2)))
        M.node("L", Ld + R)
    else:
        M.node("L", Ld)
    return M


@functools.lru_cache(maxsize=None)
def scalars(*names, **kinds):
    """Free scalars for identities (σ'(z) = σ(z)(1 − σ(z))): every name a real leaf unless kinds says."""
    M = Model()
    M.numeric = False
    for n in names:
        M.leaf(n, kind=kinds.get(n, "real"))
    return M
