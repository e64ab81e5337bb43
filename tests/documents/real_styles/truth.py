"""Ground truth for the real-style derivation corpus (issue 18 §5), worked out with sympy, never with microreg.

``DOCS[file]`` is a `Doc`: the style its notation follows, the model it derives (``models``: sympy models
built by ``models.py``; a claim names its model when the document has several), every claim it makes, the lines
whose equations hold no claim (``defs``), and the public sources whose notation it follows (``sources``).

Where a claim sits
- ``line``: the 1-based line of the file where the claim's right-hand side starts. In a notebook ``cell`` is
  the cell's 1-based position among all the notebook's cells (markdown and code, as a person counts them:
  ``nb.cells[cell - 1]``) and ``line`` the 1-based line inside that cell's source.
- ``n``: the claim's position among the claims of that line, left to right, from 0. Definitions are not
  claims and take no number: in ``z = w x + b, \\quad \\frac{\\partial z}{\\partial w} = x`` the claim is n = 0.
  A chain ``a = b = c`` whose first link defines gives a claim per later link; a chain whose first link is
  itself a claim gives a claim per link. Every link of a chain is compared with the chain's first left side.
- ``text``: what the line shows of the claim (the test checks it is there, whitespace aside).
- ``defs``: lines (``(cell, line)`` in a notebook) with equations but no claim: definitions, assumptions
  (``\\sum_k y_k = 1``), the given values of a worked example (``x = -3``), a chain that only introduces names
  (``\\hat{y} = a = \\sigma(z)``), a known function's defining formula standing alone
  (``\\sigma(z) = \\frac{1}{1+e^{-z}}``: reading it as a definition or as a true identity are both right). A row
  judged wrong there is a false alarm; a row judged right there is harmless.

Verdicts
- "ok": the written right side equals the true value; "factor": it is ``factor`` times the true value
  (``"m"``, ``"n"``, ``"1/m"``, ``"-1"``, ``"1/2"``, ``"2"``; m and n are the model's number of examples); "wrong":
  neither; "unchecked": a careful reader cannot check it
  (``why`` says what is missing: a Jacobian, a schema over any parameter, prose).
- ``truth(M)`` and ``written(M)`` build the two sides in sympy from the model ``M`` (its leaves and node
  placeholders, ``M.d(target, wrt)`` for an exact derivative). A name the document defined earlier means its
  definition, never the document's own formula for it, so each claim is judged alone.
- ``kind`` names the planted mistake from ``MISTAKES``; ``mistake`` says it as a teacher would; ``explain``
  lists words a right explanation names (the symbol that should be there, the one that is).
- ``note`` records a convention the verdict depends on (course ``dZ`` is m·∂J/∂Z, one-hot targets, SGD's
  one-sample loss, a kink's value at 0).
"""

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

HERE = Path(__file__).resolve().parent


def _load_models():
    spec = importlib.util.spec_from_file_location("real_styles_models", HERE / "models.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


models = _load_models()
ew, had, rowsum, colsum, stack = models.ew, models.had, models.rowsum, models.colsum, models.stack
sigmoid, dsigmoid, tanh, dtanh, relu, drelu, leaky, dleaky = (
    models.sigmoid, models.dsigmoid, models.tanh, models.dtanh, models.relu, models.drelu, models.leaky,
    models.dleaky)
Matrix, Rational = sp.Matrix, sp.Rational

# The planted mistakes, in a teacher's words.
MISTAKES = {
    "missing 1/m": "the 1/m of a mean loss is missing",
    "sign": "the sign is flipped (y − ŷ where ŷ − y belongs, or an update that climbs)",
    "wrong layer": "a quantity of the wrong layer (a^{[2]} where a^{[1]} belongs, a^l where a^{l-1} belongs)",
    "sigma for sigma'": "σ where σ' belongs",
    "sigma' twice": "σ' applied twice (p(1 − p)(p − y) for a logistic output with log loss)",
    "tanh' as 1 - a": "tanh' written as 1 − a instead of 1 − a²",
    "one-sample rule": "one sample's gradient stated as the gradient of a mean loss",
    "wrong identity": "a wrong identity (σ'(z) = σ(z)(1 + σ(z)))",
    "missing transpose": "a missing or misplaced transpose in a vectorised form whose sizes differ",
    "forgotten local derivative": "a local derivative of the chain is left out",
    "extra factor": "a factor that does not belong (2/m under a 1/(2m) loss)",
    "wrong factor": "the wrong factor of a product (w where x belongs)",
    "missing 2": "the 2 of a square is missing under a loss without ½",
}


@dataclass(frozen=True)
class Claim:
    line: int
    n: int
    text: str
    verdict: str
    truth: object = None
    written: object = None
    factor: str = None
    kind: str = None
    mistake: str = None
    explain: tuple = ()
    note: str = None
    why: str = None
    cell: int = None
    model: str = None

    @property
    def where(self):
        return (self.cell, self.line) if self.cell is not None else self.line


@dataclass
class Doc:
    style: str
    model: str
    models: dict
    claims: list
    defs: list = field(default_factory=list)
    sources: tuple = ()


def C(line, n, text, verdict, truth=None, written=None, **kw):
    return Claim(line, n, text, verdict, truth, written, **kw)


DOCS = {}


# --- course_shallow_tanh.md ------------------------------------------------------------------------------

def _dz(M, Z):
    """The course's dZ: every example's ∂L/∂z, i.e. m · ∂J/∂Z for the mean loss J."""
    return M.m * M.d("J", Z)


DOCS["course_shallow_tanh.md"] = Doc(
    style="course notebook text (deeplearning.ai week 3), vectorised, samples as columns",
    model="one tanh hidden layer, sigmoid output, mean log loss; X is n_x × m",
    models={"net": lambda: models.course_net(m=3, nx=2, nh=4, hidden="tanh", out="sigmoid")},
    sources=("github.com/abdulrahman-1212/Planar_data_classification_with_one_hidden_layer (README.md)",
             "community.deeplearning.ai/t/dz-1-derivation/59528"),
    defs=[11, 12, 13, 14, 16, 17, 21],
    claims=[
        C(27, 0, r"= \frac{1}{m} (a^{[2](i)} - y^{(i)})", "ok",
          lambda M: M.d("J", "Z2"), lambda M: (M.A2 - M.Y) / M.m,
          note="∂J/∂z₂⁽ⁱ⁾ of the mean cost, one entry per example"),
        C(29, 0, r"= \sum_i \frac{\partial \mathcal{J} }{ \partial z_{2}^{(i)} } a^{[1] (i) T}", "ok",
          lambda M: M.d("J", "W2"),
          lambda M: sum((M.d("J", "Z2")[0, i] * M.A1[:, i].T for i in range(M.m)), sp.zeros(1, 4))),
        C(31, 0, r"W_2^T \frac{\partial \mathcal{J} }{ \partial z_{2}^{(i)} } * ( 1 - (a^{[1] (i)})^2)", "ok",
          lambda M: M.d("J", "Z1"),
          lambda M: Matrix.hstack(*[had(M.W2.T * M.d("J", "Z2")[0, i], ew(lambda a: 1 - a ** 2, M.A1[:, i]))
                                    for i in range(M.m)])),
        C(33, 0, r"= \sum_i \frac{\partial \mathcal{J} }{ \partial z_{1}^{(i)} }  x^{(i) T}", "ok",
          lambda M: M.d("J", "W1"),
          lambda M: sum((M.d("J", "Z1")[:, i] * M.X[:, i].T for i in range(M.m)), sp.zeros(4, 2))),
        C(42, 0, r"dZ^{[2]} = A^{[2]} - Y", "ok",
          lambda M: _dz(M, "Z2"), lambda M: M.A2 - M.Y,
          note="course convention: dZ holds each example's ∂L/∂z (m·∂J/∂Z); the 1/m enters at dW and db"),
        C(44, 0, r"dW^{[2]} = \frac{1}{m} dZ^{[2]} A^{[1]T}", "ok",
          lambda M: M.d("J", "W2"), lambda M: _dz(M, "Z2") * M.A1.T / M.m,
          note="course convention: dW is ∂J/∂W"),
        C(46, 0, r"db^{[2]} = \frac{1}{m} np.sum(dZ^{[2]}, axis = 1, keepdims = True)", "ok",
          lambda M: M.d("J", "b2"), lambda M: rowsum(_dz(M, "Z2")) / M.m,
          note="np.sum(…, axis = 1, keepdims = True) is the sum over the examples (columns)"),
        C(48, 0, r"g^{[1]'}(Z^{[1]}) = 1 - (A^{[1]})^2", "ok",
          lambda M: M.local("A1", "Z1"), lambda M: ew(lambda a: 1 - a ** 2, M.A1)),
        C(50, 0, r"dZ^{[1]} = W^{[2]T} dZ^{[2]} * (1 - A^{[1]})", "wrong",
          lambda M: _dz(M, "Z1"), lambda M: had(M.W2.T * _dz(M, "Z2"), ew(lambda a: 1 - a, M.A1)),
          kind="tanh' as 1 - a", mistake="tanh'(z) is 1 − a², not 1 − a", explain=("tanh", "1 - a^2")),
        C(52, 0, r"dW^{[1]} = dZ^{[1]} X^T", "factor", lambda M: M.d("J", "W1"),
          lambda M: _dz(M, "Z1") * M.X.T, factor="m",
          kind="missing 1/m", mistake="dW^{[1]} needs the 1/m of the mean cost", explain=("1/m",)),
        C(54, 0, r"db^{[1]} = \frac{1}{m} np.sum(dZ^{[1]}, axis = 1, keepdims = True)", "ok",
          lambda M: M.d("J", "b1"), lambda M: rowsum(_dz(M, "Z1")) / M.m),
        C(56, 0, r"\theta = \theta - \alpha \frac{\partial J }{ \partial \theta }", "unchecked",
          why="θ stands for any parameter: a schema, not an equation of this model"),
    ])


# --- course_deep_relu.ipynb ------------------------------------------------------------------------------

def _layers(M, f):
    """A formula stated for every layer l = 1 … L, as one column of all its entries."""
    return stack([f(l) for l in range(1, M.L + 1)])


def _g_prime(M, l):
    Z = M.mat(f"Z{l}")
    return ew(dsigmoid if l == M.L else drelu, Z)


DOCS["course_deep_relu.ipynb"] = Doc(
    style="course notebook (deeplearning.ai week 4), L layers, vectorised, samples as columns",
    model="[LINEAR -> RELU] x 2 -> LINEAR -> SIGMOID, sizes 2-4-5-1, mean log loss; A[0] = X is n0 × m",
    models={"net": lambda: models.deep_course_net(m=3, sizes=(2, 4, 5, 1), hidden="relu"),
            "z": lambda: models.scalars("z")},
    sources=("github.com/tanchinluh/neuralnetwork (macros/new/linear_backward.sci: the course's linear_backward)",
             "github.com/zgwl/deep-learning (README.md)"),
    defs=[(1, 6), (1, 8), (2, 5), (4, 3), (6, 8)],
    claims=[
        C(6, 0, r"= \frac{1}{m} dZ^{[l]} A^{[l-1] T}", "ok", cell=4,
          truth=lambda M: _layers(M, lambda l: M.d("J", f"W{l}")),
          written=lambda M: _layers(M, lambda l: _dz(M, f"Z{l}") * M.mat(f"A{l - 1}").T / M.m),
          note="course convention: dZ is m·∂J/∂Z (one column per example), dW is ∂J/∂W; checked for l = 1, 2, 3"),
        C(7, 0, r"= \frac{1}{m} \sum_{i = 1}^{m} dZ^{[l](i)}", "ok", cell=4,
          truth=lambda M: _layers(M, lambda l: M.d("J", f"b{l}")),
          written=lambda M: _layers(M, lambda l: rowsum(_dz(M, f"Z{l}")) / M.m)),
        C(8, 0, r"= W^{[l]} dZ^{[l]}", "wrong", cell=4,
          truth=lambda M: _layers(M, lambda l: M.m * M.d("J", f"A{l - 1}")),
          written=lambda M: _layers(M, lambda l: M.mat(f"W{l}") * _dz(M, f"Z{l}")),
          kind="missing transpose", mistake="dA^{[l-1]} needs W^{[l]T}: W^{[l]} dZ^{[l]} does not even have a size",
          explain=("transpose", "W^{[l]T}"), note="course convention: dA is m·∂J/∂A"),
        C(5, 0, r"dZ^{[l]} = dA^{[l]} * g'(Z^{[l]})", "ok", cell=5,
          truth=lambda M: _layers(M, lambda l: _dz(M, f"Z{l}")),
          written=lambda M: _layers(M, lambda l: had(M.m * M.d("J", f"A{l}"), _g_prime(M, l)))),
        C(9, 0, r"\text{ReLU}'(z) = \begin{cases} 1 & \text{if } z > 0 \\ 0 & \text{if } z \le 0 \end{cases}", "ok",
          cell=5, model="z",
          truth=lambda M: sp.diff(relu(M.z), M.z), written=lambda M: sp.Piecewise((1, M.z > 0), (0, True)),
          note="the value at z = 0 is a convention (ReLU has no derivative there); checked away from 0"),
        C(5, 0, r"dA^{[L]} = - \left(\frac{Y}{A^{[L]}} - \frac{1-Y}{1-A^{[L]}}\right)", "ok", cell=6,
          truth=lambda M: M.m * M.d("J", "A3"),
          written=lambda M: -(M.Y.applyfunc(lambda v: v) .multiply_elementwise(ew(lambda a: 1 / a, M.A3))
                              - ew(lambda v: 1 - v, M.Y).multiply_elementwise(ew(lambda a: 1 / (1 - a), M.A3))),
          note="course convention: dA^{[L]} is each example's ∂L/∂a"),
        C(7, 0, r"dZ^{[L]} = A^{[L]} - Y", "ok", cell=6,
          truth=lambda M: _dz(M, "Z3"), written=lambda M: M.A3 - M.Y),
        C(10, 0, r"dW^{[2]} = \frac{1}{m} dZ^{[2]} A^{[2]T}", "wrong", cell=6,
          truth=lambda M: M.d("J", "W2"), written=lambda M: _dz(M, "Z2") * M.A2.T / M.m,
          kind="wrong layer", mistake="dW^{[2]} takes A^{[1]T}, the layer's input, not A^{[2]T}",
          explain=("A^{[1]}", "A^{[2]}")),
        C(12, 0, r"db^{[3]} = \frac{1}{m} \sum_{i=1}^{m} dZ^{[3](i)}", "ok", cell=6,
          truth=lambda M: M.d("J", "b3"), written=lambda M: rowsum(_dz(M, "Z3")) / M.m),
        C(14, 0, r"dZ^{[1]} = W^{[2]T} dZ^{[2]} * \mathbb{1}\{Z^{[1]} > 0\}", "ok", cell=6,
          truth=lambda M: _dz(M, "Z1"), written=lambda M: had(M.W2.T * _dz(M, "Z2"), ew(drelu, M.Z1))),
        C(3, 0, r"W^{[l]} = W^{[l]} - \alpha \text{ } dW^{[l]}", "ok", cell=8,
          truth=lambda M: _layers(M, lambda l: M.d("J", f"W{l}")),
          written=lambda M: _layers(M, lambda l: M.d("J", f"W{l}")),
          note="an update is a claim about the gradient it uses: dW^{[l]}, the course's name for ∂J/∂W^{[l]}"),
        C(4, 0, r"b^{[l]} = b^{[l]} - \alpha \text{ } db^{[l]}", "ok", cell=8,
          truth=lambda M: _layers(M, lambda l: M.d("J", f"b{l}")),
          written=lambda M: _layers(M, lambda l: M.d("J", f"b{l}")),
          note="an update is a claim about the gradient it uses: db^{[l]}, the course's ∂J/∂b^{[l]}"),
    ])


# --- helpers for written sides that differentiate or name symbols -----------------------------------------

def sym(M, name):
    """A leaf's or node's sympy symbols (a scalar when 1 × 1), for a written side that differentiates."""
    s = M.symbols(name)
    return s[0, 0] if s.shape == (1, 1) else s


def at(M, expr):
    """A symbolic written side taken at the current point."""
    return expr.xreplace(M._pt)


def per_sample(M, f):
    """A formula stated for example i, for every i, as one column."""
    return stack([f(i) for i in range(M.m)])


# --- ng_linreg_univariate.md -------------------------------------------------------------------------------

def _ng_grad(M):
    """(∂J/∂θ0, ∂J/∂θ1) with θ0 the intercept b and θ1 the slope w."""
    return stack([M.d("J", "b"), M.d("J", "w")])


DOCS["ng_linreg_univariate.md"] = Doc(
    style="course lecture notes (Andrew Ng's Machine Learning, week 1), h_theta and J(theta_0, theta_1)",
    model="h_θ(x) = θ0 + θ1 x, J = 1/(2m) Σ (h − y)² (θ0 is models' b, θ1 is w); a worked example at fixed numbers",
    models={"lin": lambda: models.linear_1d(m=3, loss="2m"),
            "example": lambda: models.linear_1d(m=3, loss="2m", fixed=(("x", (1, 2, 3)), ("y", (2, 4, 5)),
                                                                        ("w", 1), ("b", 0)))},
    sources=("qinuu.com/2019/03/25/2-linear-regression-with-one-variable (notes of the course)",
             "it.newban.cn/archives/30015 (gradient descent for linear regression, cs229 notes)"),
    defs=[6, 10, 44],
    claims=[
        C(18, 0, r"\theta_j := \theta_j - \alpha \frac{\partial}{\partial \theta_j} J(\theta_0, \theta_1)", "ok",
          _ng_grad, _ng_grad,
          note="an update is a claim about the gradient it uses; here the derivative itself, for j = 0 and 1"),
        C(24, 0, r"= \frac{\partial}{\partial \theta_j} \frac{1}{2m} \sum_{i=1}^{m} \left( \theta_0 + \theta_1 x^{(i)} - y^{(i)} \right)^2",
          "ok", _ng_grad,
          lambda M: stack([at(M, sp.diff(Rational(1, 2 * M.m) * sum((sym(M, "b") + sym(M, "w") * M.x[i] - M.y[i]) ** 2
                                                                     for i in range(M.m)), v))
                           for v in (sym(M, "b"), sym(M, "w"))])),
        C(26, 0, r"= \frac{1}{m} \sum_{i=1}^{m} \left( h_\theta(x^{(i)}) - y^{(i)} \right)", "ok",
          lambda M: M.d("J", "b"), lambda M: sum(M.yhat[i] - M.y[i] for i in range(M.m)) / M.m),
        C(28, 0, r"= \frac{1}{m} \sum_{i=1}^{m} \left( h_\theta(x^{(i)}) - y^{(i)} \right) \cdot x^{(i)}", "ok",
          lambda M: M.d("J", "w"), lambda M: sum((M.yhat[i] - M.y[i]) * M.x[i] for i in range(M.m)) / M.m),
        C(34, 0, r"\theta_0 := \theta_0 - \alpha \frac{1}{m} \sum_{i=1}^{m} \left( h_\theta(x^{(i)}) - y^{(i)} \right)", "ok",
          lambda M: M.d("J", "b"), lambda M: sum(M.yhat[i] - M.y[i] for i in range(M.m)) / M.m,
          note="an update is a claim about the gradient it uses"),
        C(36, 0, r"\theta_1 := \theta_1 - \alpha \frac{1}{m} \sum_{i=1}^{m} \left( h_\theta(x^{(i)}) - y^{(i)} \right)", "wrong",
          lambda M: M.d("J", "w"), lambda M: sum(M.yhat[i] - M.y[i] for i in range(M.m)) / M.m,
          kind="forgotten local derivative", mistake="θ1's update lost the factor x^{(i)} (∂h_θ/∂θ1)",
          explain=("x^{(i)}",)),
        C(46, 0, r"= \frac{1}{3}\left( (1 - 2) \cdot 1 + (2 - 4) \cdot 2 + (3 - 5) \cdot 3 \right)", "ok",
          lambda M: M.d("J", "w"), lambda M: Rational(1, 3) * ((1 - 2) * 1 + (2 - 4) * 2 + (3 - 5) * 3),
          model="example", note="a value at the stated point (θ0, θ1) = (0, 1) and the stated data"),
        C(46, 1, r"= -\frac{11}{3}", "ok", lambda M: M.d("J", "w"), lambda M: Rational(-11, 3), model="example"),
    ])


# --- ml_spec_linreg_lab.md ---------------------------------------------------------------------------------

DOCS["ml_spec_linreg_lab.md"] = Doc(
    style="course lab notebook text (Coursera ML Specialization C1 W1), f_{w,b}(x^{(i)}), J(w,b), \\tag, \\lbrace",
    model="f_{w,b}(x) = w x + b, J(w,b) = 1/(2m) Σ (f − y)²",
    models={"lin": lambda: models.linear_1d(m=3, loss="2m")},
    sources=("github.com/karikarshivani/supervised-machine-learning (Glossary.md)",
             "coursera.org/learn/machine-learning/ungradedLab/lE1al/optional-lab-gradient-descent (as mirrored in public notes)"),
    defs=[18, 20],
    claims=[
        C(25, 0, r"w &= w -  \alpha \frac{\partial J(w,b)}{\partial w}", "ok",
          lambda M: M.d("J", "w"), lambda M: M.d("J", "w"), note="an update is a claim about the gradient it uses"),
        C(26, 0, r"b &= b -  \alpha \frac{\partial J(w,b)}{\partial b}", "ok",
          lambda M: M.d("J", "b"), lambda M: M.d("J", "b"), note="an update is a claim about the gradient it uses"),
        C(33, 0, r"&= \frac{1}{m} \sum\limits_{i = 0}^{m-1} (f_{w,b}(x^{(i)}) - y^{(i)})x^{(i)}", "ok",
          lambda M: M.d("J", "w"), lambda M: sum((M.yhat[i] - M.y[i]) * M.x[i] for i in range(M.m)) / M.m),
        C(34, 0, r"&= \frac{2}{m} \sum\limits_{i = 0}^{m-1} (f_{w,b}(x^{(i)}) - y^{(i)})", "factor",
          lambda M: M.d("J", "b"), lambda M: 2 * sum(M.yhat[i] - M.y[i] for i in range(M.m)) / M.m, factor="2",
          kind="extra factor", mistake="under the 1/(2m) cost the 2 cancels: ∂J/∂b is 1/m Σ (f − y), not 2/m",
          explain=("1/m", "2")),
        C(40, 0, r"= 2\left(f_{w,b}(x^{(i)}) - y^{(i)}\right) x^{(i)}", "ok",
          lambda M: per_sample(M, lambda i: M.d(f"sq{i}", "w")),
          lambda M: per_sample(M, lambda i: 2 * (M.yhat[i] - M.y[i]) * M.x[i])),
        C(42, 0, r"= 2\left(f_{w,b}(x^{(i)}) - y^{(i)}\right)", "ok",
          lambda M: per_sample(M, lambda i: M.d(f"sq{i}", "b")),
          lambda M: per_sample(M, lambda i: 2 * (M.yhat[i] - M.y[i]))),
    ])


# --- ml_spec_logistic_lab.md -------------------------------------------------------------------------------

DOCS["ml_spec_logistic_lab.md"] = Doc(
    style="course lab notebook text (Coursera ML Specialization C1 W3), \\mathbf vectors, f_{\\mathbf{w},b}, g(z), regularized",
    model="f = g(w·x + b), mean log loss + λ/(2m) Σ w_j²; X holds the examples as columns in the model (rows in the text)",
    models={"reg": lambda: models.logistic(m=3, nx=2, reg=True),
            "noreg": lambda: models.logistic(m=3, nx=2),
            "z": lambda: models.scalars("z")},
    sources=("github.com/TernFolbaek/machine-learning-regularization (regularization.md)",
             "stats.stackexchange.com/questions/258709 (logistic regression gradient of weights)"),
    defs=[6, 8, 10, 14],
    claims=[
        C(19, 0, r"&= \frac{1}{m} \sum\limits_{i = 0}^{m-1} (f_{\mathbf{w},b}(\mathbf{x}^{(i)}) - y^{(i)})x_{j}^{(i)} + \frac{\lambda}{m} w_j",
          "ok", lambda M: M.d("J", "w"),
          lambda M: sum(((M.A[0, i] - M.Y[0, i]) * M.X[:, i] for i in range(M.m)), sp.zeros(2, 1)) / M.m
          + M.lam / M.m * M.w),
        C(20, 0, r"&= \frac{1}{m} \sum\limits_{i = 0}^{m-1} (y^{(i)} - f_{\mathbf{w},b}(\mathbf{x}^{(i)}))", "factor",
          lambda M: M.d("J", "b"), lambda M: sum(M.Y[0, i] - M.A[0, i] for i in range(M.m)) / M.m, factor="-1",
          kind="sign", mistake="∂J/∂b is the mean of f − y, not of y − f", explain=("f - y", "sign")),
        C(23, 0, r"g'(z) = g(z)(1 - g(z))", "ok", lambda M: sp.diff(sigmoid(M.z), M.z),
          lambda M: sigmoid(M.z) * (1 - sigmoid(M.z)), model="z"),
        C(26, 0, r"= f_{\mathbf{w},b}(\mathbf{x}^{(i)}) - y^{(i)}", "ok",
          lambda M: Matrix([[M.d(f"L{i}", "Z")[0, i] for i in range(M.m)]]), lambda M: M.A - M.Y,
          note="∂loss/∂z of each example's own loss"),
        C(28, 0, r"\frac{\partial J}{\partial w_j} = \frac{1}{m}\sum_{i=0}^{m-1}(f_{\mathbf{w},b}(\mathbf{x}^{(i)}) - y^{(i)}) x_j^{(i)}",
          "ok", lambda M: M.d("J", "w"),
          lambda M: sum(((M.A[0, i] - M.Y[0, i]) * M.X[:, i] for i in range(M.m)), sp.zeros(2, 1)) / M.m,
          model="noreg"),
        C(32, 0, r"\nabla_{\mathbf{w}} J = \frac{1}{m} \mathbf{X}^T (\mathbf{f} - \mathbf{y}) + \frac{\lambda}{m} \mathbf{w}", "ok",
          lambda M: M.d("J", "w"), lambda M: M.X * (M.A - M.Y).T / M.m + M.lam / M.m * M.w,
          note="the text's X has the examples as rows: it is the model's X transposed"),
    ])


def ind(A, test=lambda v: v > 0):
    """The indicator 1(A > 0) entry by entry: 1 where the test holds, 0 elsewhere (0 at 0)."""
    return ew(lambda v: sp.Integer(1) if bool(test(v)) else sp.Integer(0), A)


# --- nielsen_bp_equations.md -------------------------------------------------------------------------------

def _bp4(M, l, prev=None):
    """The matrix [a^{prev}_k δ^l_j]_{jk} with δ^l = ∂C/∂z^l (prev = l − 1 unless stated)."""
    delta = M.d("C", f"z{l}")
    a = M.mat(f"a{l - 1 if prev is None else prev}")
    w = M.mat(f"w{l}")
    return Matrix(w.shape[0], w.shape[1], lambda j, k: a[k] * delta[j])


DOCS["nielsen_bp_equations.md"] = Doc(
    style="textbook chapter notes (Nielsen, Neural Networks and Deep Learning ch. 2), BP1-BP4 with \\tag, \\equiv, \\nabla_a C",
    model="a 2-4-3 sigmoid network for one input x (layers 1, 2, 3 = L), quadratic cost C = ½‖y − a^L‖²",
    models={"net": lambda: models.nielsen_net(sizes=(2, 4, 3))},
    sources=("neuralnetworksanddeeplearning.com/chap2.html (as quoted in public notes)",
             "github.com/ezalos/NotYetSelfAware (maths.md)"),
    defs=[7, 9, 10, 16],
    claims=[
        C(12, 0, r"= \frac{1}{2} \sum_j (y_j - a^L_j)^2", "ok",
          lambda M: M.C, lambda M: Rational(1, 2) * sum((M.y[j] - M.a3[j]) ** 2 for j in range(3)),
          note="a chain whose first link defines C: the second link is an identity (the norm written out)"),
        C(20, 0, r"\delta^L_j = \frac{\partial C}{\partial a^L_j} \sigma'(z^L_j)", "ok",
          lambda M: M.d("C", "z3"), lambda M: had(M.d("C", "a3"), ew(dsigmoid, M.z3))),
        C(24, 0, r"\delta^L = \nabla_a C \odot \sigma'(z^L)", "ok",
          lambda M: M.d("C", "z3"), lambda M: had(M.d("C", "a3"), ew(dsigmoid, M.z3))),
        C(26, 0, r"\nabla_a C = (a^L - y)", "ok", lambda M: M.d("C", "a3"), lambda M: M.a3 - M.y),
        C(26, 1, r"\delta^L = (a^L - y) \odot \sigma'(z^L)", "ok",
          lambda M: M.d("C", "z3"), lambda M: had(M.a3 - M.y, ew(dsigmoid, M.z3))),
        C(30, 0, r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)", "ok",
          lambda M: M.d("C", "z2"), lambda M: had(M.w3.T * M.d("C", "z3"), ew(dsigmoid, M.z2)),
          note="checked for l = 2, the one layer below L"),
        C(34, 0, r"\frac{\partial C}{\partial b^l_j} = \delta^l_j", "ok",
          lambda M: stack([M.d("C", "b2"), M.d("C", "b3")]), lambda M: stack([M.d("C", "z2"), M.d("C", "z3")])),
        C(38, 0, r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j", "ok",
          lambda M: stack([M.d("C", "w2"), M.d("C", "w3")]), lambda M: stack([_bp4(M, 2), _bp4(M, 3)])),
        C(40, 0, r"\frac{\partial C}{\partial w} = a_{\rm in} \delta_{\rm out}", "unchecked",
          why="a mnemonic: w, a_in and δ_out name no particular weight, activation or error of the network"),
        C(43, 0, r"\frac{\partial C}{\partial w^L_{jk}} = a^{L-1}_k \delta^L_j", "ok",
          lambda M: M.d("C", "w3"), lambda M: _bp4(M, 3)),
        C(44, 0, r"\frac{\partial C}{\partial w^l} = \delta^l (a^{l-1})^T", "ok",
          lambda M: stack([M.d("C", "w2"), M.d("C", "w3")]),
          lambda M: stack([M.d("C", "z2") * M.a1.T, M.d("C", "z3") * M.a2.T])),
    ])


# --- nielsen_student_mistakes.md ---------------------------------------------------------------------------

DOCS["nielsen_student_mistakes.md"] = Doc(
    style="personal study notes on a textbook chapter (Nielsen ch. 2-3, cross-entropy cost), layers as ^{(l)}, \\partial_b, \\nabla_b",
    model="a 2-4-3 sigmoid network for one input (layers 1, 2, 3 = L), cross-entropy cost; the quadratic cost for item 5",
    models={"xent": lambda: models.nielsen_net(sizes=(2, 4, 3), cost="xent"),
            "quad": lambda: models.nielsen_net(sizes=(2, 4, 3)),
            "z": lambda: models.scalars("z")},
    sources=("datascience.stackexchange.com/questions/27267 (Nielsen ch. 3: σ'(z) = a(1 − a) cancels)",
             "compphysics.github.io/MachineLearning/doc/pub/week42 (backpropagation with superscript layers)"),
    defs=[4, 5, 7, 17],
    claims=[
        C(10, 0, r"= \frac{a^{(L)}_j - y_j}{a^{(L)}_j (1 - a^{(L)}_j)}", "ok",
          lambda M: M.d("C", "a3"), lambda M: Matrix(3, 1, lambda j, _: (M.a3[j] - M.y[j]) / (M.a3[j] * (1 - M.a3[j])))),
        C(10, 1, r"\delta^{(L)} = a^{(L)} - y", "ok", lambda M: M.d("C", "z3"), lambda M: M.a3 - M.y,
          note="σ output with cross-entropy cost: σ' cancels"),
        C(12, 0, r"\delta^{(l)} = \left( (W^{(l+1)})^T \delta^{(l+1)} \right) \odot \sigma(z^{(l)})", "wrong",
          lambda M: M.d("C", "z2"), lambda M: had(M.w3.T * M.d("C", "z3"), ew(sigmoid, M.z2)),
          kind="sigma for sigma'", mistake="the local derivative is σ'(z^{(l)}), not σ(z^{(l)})",
          explain=("σ'", "σ")),
        C(13, 0, r"\partial_{b^{(l)}} C = \delta^{(l)}", "ok",
          lambda M: stack([M.d("C", "b2"), M.d("C", "b3")]), lambda M: stack([M.d("C", "z2"), M.d("C", "z3")])),
        C(13, 1, r"\nabla_{b^{(l)}} C = \delta^{(l)}", "ok",
          lambda M: stack([M.d("C", "b2"), M.d("C", "b3")]), lambda M: stack([M.d("C", "z2"), M.d("C", "z3")])),
        C(15, 0, r"= \delta^{(l)}_j \, a^{(l)}_k", "wrong",
          lambda M: M.d("C", "w2"), lambda M: _bp4(M, 2, prev=2),
          kind="wrong layer", mistake="the weight's input is a^{(l-1)}_k, not a^{(l)}_k",
          explain=("a^{(l-1)}", "a^{(l)}"),
          note="checked at l = 2; at l = 3 a^{(3)}_k does not even exist for every k"),
        C(16, 0, r"\sigma'(z) = \sigma(z)(1 - \sigma(z))", "ok", lambda M: sp.diff(sigmoid(M.z), M.z),
          lambda M: sigmoid(M.z) * (1 - sigmoid(M.z)), model="z"),
        C(18, 0, r"\delta^{(L)}_{\text{quad}} = (a^{(L)} - y) \odot \sigma'(z^{(L)})", "ok",
          lambda M: M.d("C", "z3"), lambda M: had(M.a3 - M.y, ew(dsigmoid, M.z3)), model="quad"),
    ])


# --- cs231n_twolayer_softmax.md ----------------------------------------------------------------------------

DOCS["cs231n_twolayer_softmax.md"] = Doc(
    style="course notes (Stanford CS231n, neural networks case study), samples as rows, H = max(0, XW_1 + b_1), L2",
    model="X N × D = 5 × 2 (samples as rows), ReLU hidden 4, C = 3 classes, one-hot labels, softmax with mean cross-entropy + ½λ Σ W² over W_1 and W_2",
    models={"net": lambda: models.rows_net(N=5, D=2, H=4, C=3, hidden="relu", out="softmax", reg="half")},
    sources=("cs231n.github.io/neural-networks-case-study (as quoted on stackoverflow.com/questions/32258773)",
             "github.com/g-eoj/cs231n (two-layer backprop notebook)"),
    defs=[6, 11, 15],
    claims=[
        C(19, 0, r"\frac{\partial L_i }{ \partial f_k } = p_k - \mathbb{1}(y_i = k)", "ok",
          lambda M: M.N * M.d("Ldata", "S"), lambda M: M.P - M.Y,
          note="one example's loss L_i (so N·∂L_data/∂f); the labels as one-hot rows Y"),
        C(24, 0, r"\frac{\partial L}{\partial f} = \frac{1}{N}(P - Y)", "ok",
          lambda M: M.d("L", "S"), lambda M: (M.P - M.Y) / M.N),
        C(28, 0, r"\frac{\partial L}{\partial W_2} = H^T \frac{\partial L}{\partial f} + \lambda W_2", "ok",
          lambda M: M.d("L", "W2"), lambda M: M.H.T * M.d("L", "S") + M.lam * M.W2),
        C(28, 1, r"\frac{\partial L}{\partial b_2} = \sum_i \left(\frac{\partial L}{\partial f}\right)_{i,:}", "ok",
          lambda M: M.d("L", "b2"), lambda M: colsum(M.d("L", "S"))),
        C(30, 0, r"\frac{\partial L}{\partial H} = \frac{\partial L}{\partial f} W_2^T", "ok",
          lambda M: M.d("L", "H"), lambda M: M.d("L", "S") * M.W2.T),
        C(34, 0, r"= \frac{\partial L}{\partial H} \odot \mathbb{1}(H > 0)", "ok",
          lambda M: M.d("L", "Z1"), lambda M: had(M.d("L", "H"), ind(M.H)),
          note="∂L/∂(XW_1 + b_1) names the hidden layer's input by its formula"),
        C(36, 0, r"\frac{\partial L}{\partial W_1} = X \frac{\partial L}{\partial (XW_1 + b_1)} + \lambda W_1", "wrong",
          lambda M: M.d("L", "W1"), lambda M: M.X * M.d("L", "Z1") + M.lam * M.W1,
          kind="missing transpose", mistake="with examples as rows the weight gradient is X^T times the upstream gradient",
          explain=("X^T", "transpose")),
        C(36, 1, r"\frac{\partial L}{\partial b_1} = \sum_i \left(\frac{\partial L}{\partial (XW_1 + b_1)}\right)_{i,:}", "ok",
          lambda M: M.d("L", "b1"), lambda M: colsum(M.d("L", "Z1"))),
        C(40, 0, r"= \frac{1}{2} \lambda W_2", "factor", lambda M: M.d("R", "W2"), lambda M: M.lam * M.W2 / 2,
          factor="1/2", kind="missing 2", mistake="the derivative of ½λW² is λW: the 2 of the square cancels the ½",
          explain=("λW_2", "2")),
    ])


# --- softmax_ce_blog.md ------------------------------------------------------------------------------------

def _dlog_p(M):
    """∂L/∂o_i written as −Σ_k y_k (1/p_k) ∂p_k/∂o_i, the Jacobian of the softmax put in."""
    jac = M.jac("p", "o")
    return Matrix(3, 1, lambda i, _: -sum(M.y[k] * jac[k, i] / M.p[k] for k in range(3)))


DOCS["softmax_ce_blog.md"] = Doc(
    style="blog post / Q&A answer (math.stackexchange-like), softmax + cross-entropy for one example, aligned chain, \\color, \\large",
    model="scores o (3 classes), p = softmax(o), one-hot y, L = −Σ_j y_j log p_j",
    models={"one": lambda: models.softmax_one(C=3)},
    sources=("bootmath.com/derivative-of-softmax-loss-function.html", "sunhaozhe.github.io/blogs/2019/10/03/matrix-calculus"),
    defs=[6, 8, 10, 27],
    claims=[
        C(12, 0, r"\frac{\partial p_j}{\partial o_i} = p_i(1 - p_i), \quad i = j", "ok",
          lambda M: Matrix([M.jac("p", "o")[i, i] for i in range(3)]),
          lambda M: Matrix([M.p[i] * (1 - M.p[i]) for i in range(3)]),
          note="one entry of the softmax's Jacobian, under the condition i = j (a condition, not an equation)"),
        C(14, 0, r"\frac{\partial p_j}{\partial o_i} = -p_i p_j, \quad i \neq j", "ok",
          lambda M: Matrix([M.jac("p", "o")[j, i] for i in range(3) for j in range(3) if i != j]),
          lambda M: Matrix([-M.p[i] * M.p[j] for i in range(3) for j in range(3) if i != j])),
        C(19, 0, r"= -\sum_k y_k \frac{\partial \log p_k}{\partial o_i}", "ok", lambda M: M.d("L", "o"), _dlog_p),
        C(19, 1, r"= -\sum_k y_k \frac{1}{p_k} \frac{\partial p_k}{\partial o_i}", "ok", lambda M: M.d("L", "o"), _dlog_p),
        C(20, 0, r"&= -y_i(1 - p_i) - \sum_{k \neq i} y_k \frac{1}{p_k}\left({\color{red}{-p_k p_i}}\right)", "ok",
          lambda M: M.d("L", "o"),
          lambda M: Matrix(3, 1, lambda i, _: -M.y[i] * (1 - M.p[i])
                           - sum(M.y[k] / M.p[k] * (-M.p[k] * M.p[i]) for k in range(3) if k != i))),
        C(21, 0, r"&= -y_i + y_i p_i + \sum_{k \neq i} y_k p_i", "ok", lambda M: M.d("L", "o"),
          lambda M: Matrix(3, 1, lambda i, _: -M.y[i] + M.y[i] * M.p[i] + sum(M.y[k] * M.p[i] for k in range(3) if k != i))),
        C(22, 0, r"&= p_i \left( \sum_k y_k \right) - y_i", "ok", lambda M: M.d("L", "o"),
          lambda M: Matrix(3, 1, lambda i, _: M.p[i] * sum(M.y) - M.y[i])),
        C(23, 0, r"&= y_i - p_i", "factor", lambda M: M.d("L", "o"), lambda M: M.y - M.p, factor="-1",
          kind="sign", mistake="p_i Σ y_k − y_i is p_i − y_i (one-hot y), not y_i − p_i", explain=("p_i - y_i",),
          note="uses the one-hot assumption Σ_k y_k = 1"),
        C(26, 0, r"\nabla_o L = y - p", "factor", lambda M: M.d("L", "o"), lambda M: M.y - M.p, factor="-1",
          kind="sign", mistake="the gradient on the scores is p − y", explain=("p - y",)),
    ])


# --- logreg_blog_unicode.md --------------------------------------------------------------------------------

DOCS["logreg_blog_unicode.md"] = Doc(
    style="blog post (Medium-like) with plain Unicode math (σ, ŷ, ∂, ·, −, ²) inside $...$, one example",
    model="z = w_1 x_1 + w_2 x_2 + b, ŷ = σ(z), log loss L(y, ŷ)",
    models={"one": lambda: models.logistic_one(nx=2), "z": lambda: models.scalars("z")},
    sources=("ronny.rest/blog/post_2017_08_12_logistic_regression_derivative",
             "github.com/odys-z/hello (acsl-pydev/numpy/np1.py: Unicode ∂L / ∂ŷ notes)"),
    defs=[6],
    claims=[
        C(10, 0, r"∂L/∂ŷ = −y/ŷ + (1 − y)/(1 − ŷ)", "ok", lambda M: M.d("L", "a"),
          lambda M: -M.y / M.a + (1 - M.y) / (1 - M.a)),
        C(12, 0, r"∂ŷ/∂z = σ(z)(1 − σ(z))", "ok", lambda M: M.local("a", "z"),
          lambda M: sigmoid(M.z) * (1 - sigmoid(M.z))),
        C(12, 1, r"= ŷ(1 − ŷ)", "ok", lambda M: M.local("a", "z"), lambda M: M.a * (1 - M.a)),
        C(16, 0, r"∂L/∂z = ∂L/∂ŷ · ∂ŷ/∂z", "ok", lambda M: M.d("L", "z"),
          lambda M: M.d("L", "a") * M.local("a", "z")),
        C(16, 1, r"= ŷ(1 − ŷ)(ŷ − y)", "wrong", lambda M: M.d("L", "z"), lambda M: M.a * (1 - M.a) * (M.a - M.y),
          kind="sigma' twice", mistake="∂L/∂ŷ · ŷ(1 − ŷ) is ŷ − y: σ' was applied on top of a result that already has it",
          explain=("ŷ - y", "σ'")),
        C(20, 0, r"∂L/∂w_1 = (ŷ − y) · x_1", "ok", lambda M: M.d("L", "w")[0], lambda M: (M.a - M.y) * M.x[0]),
        C(22, 0, r"∂L/∂w_2 = (ŷ − y) · w_2", "wrong", lambda M: M.d("L", "w")[1], lambda M: (M.a - M.y) * M.w[1],
          kind="wrong factor", mistake="∂z/∂w_2 is x_2, not w_2", explain=("x_2", "w_2")),
        C(24, 0, r"∂L/∂b = ŷ − y", "ok", lambda M: M.d("L", "b"), lambda M: M.a - M.y),
        C(26, 0, r"tanh'(z) = 1 − tanh²(z)", "ok", lambda M: sp.diff(tanh(M.z), M.z), lambda M: 1 - tanh(M.z) ** 2,
          model="z"),
    ])


# --- logreg_vectorised.ipynb -------------------------------------------------------------------------------

def _own(M, prefix, node):
    """Each example's own loss differentiated in its own column of a node: [∂L^{(i)}/∂node_{·,i}]."""
    return Matrix([[M.d(f"{prefix}{i}", node)[0, i] for i in range(M.m)]])


DOCS["logreg_vectorised.ipynb"] = Doc(
    style="course notebook (deeplearning.ai week 2, logistic regression with a neural network mindset), samples as columns",
    model="A = σ(wᵀX + b), X is n_x × m = 2 × 3, mean log loss J; per-example losses L^{(i)}",
    models={"lr": lambda: models.logistic(m=3, nx=2)},
    sources=("deeplearning.ai 'Logistic Regression with a Neural Network mindset' (equations (1)-(8))",
             "github.com/nitishp/ml_notes (deep_learning/neural_network_basics/Week2.md)"),
    defs=[(2, 4), (2, 5), (2, 6), (2, 9), (5, 1)],
    claims=[
        C(3, 0, r"= (a^{(1)}, a^{(2)}, ..., a^{(m-1)}, a^{(m)})", "ok", cell=4,
          truth=lambda M: ew(sigmoid, M.w.T * M.X + M.b * sp.ones(1, M.m)), written=lambda M: M.A,
          note="a chain whose first link defines A: the row of the a^{(i)}, elided in the obvious pattern"),
        C(7, 0, r"\frac{\partial J}{\partial w} = \frac{1}{m}X(A-Y)", "wrong", cell=4,
          truth=lambda M: M.d("J", "w"), written=lambda M: M.X * (M.A - M.Y) / M.m,
          kind="missing transpose", mistake="X is n_x × m and A − Y is 1 × m: the product needs (A − Y)^T",
          explain=("(A-Y)^T", "transpose")),
        C(8, 0, r"\frac{\partial J}{\partial b} = \frac{1}{m} \sum_{i=1}^m (a^{(i)}-y^{(i)})", "ok", cell=4,
          truth=lambda M: M.d("J", "b"), written=lambda M: sum(M.A - M.Y) / M.m),
        C(3, 0, r"\frac{\partial \mathcal{L}}{\partial a} = -\frac{y}{a} + \frac{1-y}{1-a}", "ok", cell=5,
          truth=lambda M: _own(M, "L", "A"),
          written=lambda M: Matrix([[-M.Y[i] / M.A[i] + (1 - M.Y[i]) / (1 - M.A[i]) for i in range(M.m)]]),
          note="one example's loss, for each example"),
        C(3, 1, r"\frac{da}{dz} = a(1-a)", "ok", cell=5,
          truth=lambda M: M.local("A", "Z"), written=lambda M: had(M.A, ew(lambda a: 1 - a, M.A))),
        C(3, 2, r"\frac{\partial \mathcal{L}}{\partial z} = a - y", "ok", cell=5,
          truth=lambda M: _own(M, "L", "Z"), written=lambda M: M.A - M.Y),
        C(5, 0, r"\frac{\partial \mathcal{L}}{\partial w} = x^{(i)}(a^{(i)} - y^{(i)})", "ok", cell=5,
          truth=lambda M: per_sample(M, lambda i: M.d(f"L{i}", "w")),
          written=lambda M: per_sample(M, lambda i: M.X[:, i] * (M.A[i] - M.Y[i])),
          note="what one example's loss contributes, for each example"),
        C(6, 0, r"\frac{\partial \mathcal{L}}{\partial b} = a^{(i)} - y^{(i)}", "ok", cell=5,
          truth=lambda M: per_sample(M, lambda i: M.d(f"L{i}", "b")),
          written=lambda M: per_sample(M, lambda i: M.A[i] - M.Y[i])),
        C(3, 0, r"\theta = \theta - \alpha \text{ } d\theta", "unchecked", cell=7,
          why="θ stands for any parameter: a schema, not an equation of this model"),
        C(4, 0, r"= \sum_{i=1}^m (a^{(i)}-y^{(i)})", "factor", cell=7,
          truth=lambda M: M.d("J", "b"), written=lambda M: sum(M.A - M.Y), factor="m",
          kind="missing 1/m", mistake="db is ∂J/∂b of the mean cost: 1/m Σ (a^{(i)} − y^{(i)}), as in (8)",
          explain=("1/m",), note="db = ∂J/∂b: the first link defines the shorthand"),
    ])


# --- mse_three_factors.md ----------------------------------------------------------------------------------

def _res_sum(M, weight=lambda M, i: 1):
    return sum((M.yhat[i] - M.y[i]) * weight(M, i) for i in range(M.m))


DOCS["mse_three_factors.md"] = Doc(
    style="blog post (data-science interview prep) on MSE, ½MSE and SSE; the slope is called m, n data points",
    model="ŷ_i = m x_i + b (the models' w is the slope m) on n = 4 points; MSE = 1/n Σ r², J = 1/(2n) Σ r², SSE = Σ r²",
    models={"mse": lambda: models.linear_1d(m=4, loss="n"), "half": lambda: models.linear_1d(m=4, loss="2m"),
            "sse": lambda: models.linear_1d(m=4, loss="sum")},
    sources=("github.com/fishitmo/Data-Science-Interview-Preparation (MSE gradients)",
             "math.techqa.club/how-to-calculate-gradient-for-this-multivariable-function-2580076"),
    defs=[4, 10],
    claims=[
        C(13, 0, r"= -\;\frac{2}{n}\sum_{i=1}^{n}x_i\,(y_i - \hat y_i)", "ok",
          lambda M: M.d("J", "w"), lambda M: -2 * sum(M.x[i] * (M.y[i] - M.yhat[i]) for i in range(M.m)) / M.m,
          note="m is the slope here, not a number of samples"),
        C(13, 1, r"= \frac{2}{n}\sum_{i=1}^{n}(\hat y_i - y_i)\,x_i", "ok",
          lambda M: M.d("J", "w"), lambda M: 2 * _res_sum(M, lambda M, i: M.x[i]) / M.m),
        C(15, 0, r"\frac{\partial\,\mathrm{MSE}}{\partial b} = 2\sum_{i=1}^{n}(\hat y_i - y_i)", "factor",
          lambda M: M.d("J", "b"), lambda M: 2 * _res_sum(M), factor="n",
          kind="missing 1/m", mistake="the MSE's 1/n is missing from ∂MSE/∂b", explain=("1/n",)),
        C(17, 0, r"= -2x_i(y_i - \hat y_i)", "ok",
          lambda M: per_sample(M, lambda i: M.d(f"sq{i}", "w")),
          lambda M: per_sample(M, lambda i: -2 * M.x[i] * (M.y[i] - M.yhat[i]))),
        C(21, 0, r"\frac{\partial J}{\partial m} = \frac{1}{n}\sum_{i=1}^{n}(\hat y_i - y_i)\,x_i", "ok",
          lambda M: M.d("J", "w"), lambda M: _res_sum(M, lambda M, i: M.x[i]) / M.m, model="half"),
        C(21, 1, r"\frac{\partial J}{\partial b} = \frac{1}{n}\sum_{i=1}^{n}(\hat y_i - y_i)", "ok",
          lambda M: M.d("J", "b"), lambda M: _res_sum(M) / M.m, model="half"),
        C(25, 0, r"\frac{\partial\,\mathrm{SSE}}{\partial m} = \sum_{i=1}^{n}(\hat y_i - y_i)\,x_i", "factor",
          lambda M: M.d("J", "w"), lambda M: _res_sum(M, lambda M, i: M.x[i]), factor="1/2", model="sse",
          kind="missing 2", mistake="without a ½ in the loss the 2 of the square stays: 2 Σ (ŷ − y) x",
          explain=("2",)),
        C(25, 1, r"\frac{\partial\,\mathrm{SSE}}{\partial b} = 2\sum_{i=1}^{n}(\hat y_i - y_i)", "ok",
          lambda M: M.d("J", "b"), lambda M: 2 * _res_sum(M), model="sse"),
    ])


# --- poly_regression.tex -----------------------------------------------------------------------------------

def _poly_res(M, i):
    return M.h[i] - M.y[i]


DOCS["poly_regression.tex"] = Doc(
    style="lecture notes turned LaTeX article, polynomial regression, equation and align with \\label and \\eqref",
    model="h_w(x) = w_1 + w_2 x + w_3 x², J(w) = 1/(2n) Σ (h − y)² on n = 3 observations",
    models={"poly": lambda: models.poly2(m=3)},
    sources=("forgejo.lguegan.com/loic/machine-learning (linear_regression/polynomial.org)",
             "community.deeplearning.ai/t/cost-function-for-polynomial-regression/158463"),
    defs=[12, 16, 31],
    claims=[
        C(22, 0, r"= \frac{1}{n} \sum_{i=1}^{n} \left(h_w(x^{(i)}) - y^{(i)}\right) \frac{\partial h_w(x^{(i)})}{\partial w_k}", "ok",
          lambda M: stack([M.d("J", f"w{k}") for k in (1, 2, 3)]),
          lambda M: stack([sum(_poly_res(M, i) * M.jac("h", f"w{k}")[i, 0] for i in range(M.m)) / M.m for k in (1, 2, 3)])),
        C(24, 0, r"\frac{\partial h_w(x)}{\partial w_1} = 1", "ok", lambda M: M.jac("h", "w1"),
          lambda M: per_sample(M, lambda i: 1), note="for every x^{(i)}"),
        C(24, 1, r"\frac{\partial h_w(x)}{\partial w_2} = x", "ok", lambda M: M.jac("h", "w2"),
          lambda M: per_sample(M, lambda i: M.x[i])),
        C(24, 2, r"\frac{\partial h_w(x)}{\partial w_3} = x^2", "ok", lambda M: M.jac("h", "w3"),
          lambda M: per_sample(M, lambda i: M.x[i] ** 2)),
        C(26, 0, r"&= \frac{1}{n} \sum_{i=1}^{n} \left(h_w(x^{(i)}) - y^{(i)}\right)", "ok",
          lambda M: M.d("J", "w1"), lambda M: sum(_poly_res(M, i) for i in range(M.m)) / M.m),
        C(27, 0, r"&= \frac{1}{n} \sum_{i=1}^{n} \left(h_w(x^{(i)}) - y^{(i)}\right) x^{(i)}", "ok",
          lambda M: M.d("J", "w2"), lambda M: sum(_poly_res(M, i) * M.x[i] for i in range(M.m)) / M.m),
        C(28, 0, r"&= \frac{1}{n} \sum_{i=1}^{n} \left(h_w(x^{(i)}) - y^{(i)}\right) x^{(i)}", "wrong",
          lambda M: M.d("J", "w3"), lambda M: sum(_poly_res(M, i) * M.x[i] for i in range(M.m)) / M.m,
          kind="wrong factor", mistake="∂h_w/∂w_3 is (x^{(i)})², not x^{(i)}", explain=("(x^{(i)})^2", "x^2")),
        C(32, 0, r"\nabla_w J = \frac{1}{n}\Phi^\top(\Phi w - y)", "ok",
          lambda M: stack([M.d("J", f"w{k}") for k in (1, 2, 3)]),
          lambda M: (lambda Phi: Phi.T * (Phi * Matrix([M.w1, M.w2, M.w3]) - M.y) / M.m)(
              Matrix(M.m, 3, lambda i, k: M.x[i] ** k))),
        C(36, 0, r"w_3 \leftarrow w_3 - \frac{\eta}{n} \sum_{i=1}^{n} \left(h_w(x^{(i)}) - y^{(i)}\right) \left(x^{(i)}\right)^2", "ok",
          lambda M: M.d("J", "w3"), lambda M: sum(_poly_res(M, i) * M.x[i] ** 2 for i in range(M.m)) / M.m,
          note="an update is a claim about the gradient it uses (η/n = η · 1/n)"),
    ])


# --- backprop_lecture.tex ----------------------------------------------------------------------------------

DOCS["backprop_lecture.tex"] = Doc(
    style="lecture notes turned LaTeX (CS229-like notes on backpropagation), [\\ell] layers, \\coloneqq, \\triangleq, \\bm, align",
    model="one example x ∈ R², ReLU layers of widths 4 and 5, a sigmoid output, cross-entropy loss (N = 3 layers)",
    models={"net": lambda: models.deep_course_net(m=1, sizes=(2, 4, 5, 1), hidden="relu"),
            "z": lambda: models.scalars("z")},
    sources=("CS229 'Additional Notes on Backpropagation' (z^{[l]} = W^{[l]} a^{[l-1]} + b^{[l]}, g^{[N]})",
             "github.com/PedroNJorge/numpy-mlp-from-scratch (docs/index.md)"),
    defs=[7, 9, 10, 12, 15, 23, 30],
    claims=[
        C(19, 0, r"\sigma'(z) = \sigma(z)\bigl(1 + \sigma(z)\bigr)", "wrong", lambda M: sp.diff(sigmoid(M.z), M.z),
          lambda M: sigmoid(M.z) * (1 + sigmoid(M.z)), model="z",
          kind="wrong identity", mistake="σ'(z) = σ(z)(1 − σ(z)), with a minus", explain=("1 - σ(z)",)),
        C(19, 1, r"g'(z) = \mathbb{1}\{z > 0\}", "ok", lambda M: sp.diff(relu(M.z), M.z),
          lambda M: sp.Piecewise((1, M.z > 0), (0, True)), model="z",
          note="the value at the kink z = 0 is the stated convention; checked away from 0"),
        C(20, 0, r"\nabla_{\hat{y}} \mathcal{L} = \frac{\hat{y} - y}{\hat{y}(1 - \hat{y})}", "ok",
          lambda M: M.d("J", "A3"), lambda M: (M.A3 - M.Y) / (M.A3 * (1 - M.A3))),
        C(25, 0, r"&= \nabla_{\hat{y}} \mathcal{L} \odot \sigma'(z^{[N]})", "ok",
          lambda M: M.d("J", "Z3"), lambda M: M.d("J", "A3") * dsigmoid(M.Z3)),
        C(25, 1, r"= \hat{y} - y", "ok", lambda M: M.d("J", "Z3"), lambda M: M.A3 - M.Y),
        C(26, 0, r"&= \left( W^{[\ell+1]\top} \delta^{[\ell+1]} \right) \odot g^{[\ell]}(z^{[\ell]})", "wrong",
          lambda M: stack([M.d("J", "Z1"), M.d("J", "Z2")]),
          lambda M: stack([had(M.W2.T * M.d("J", "Z2"), ew(relu, M.Z1)), had(M.W3.T * M.d("J", "Z3"), ew(relu, M.Z2))]),
          kind="sigma for sigma'", mistake="the recursion multiplies by g^{[ℓ]}'(z^{[ℓ]}), the derivative, not g^{[ℓ]}(z^{[ℓ]})",
          explain=("g'", "derivative")),
        C(27, 0, r"&= \delta^{[\ell]} \, a^{[\ell-1]\top}", "ok",
          lambda M: stack([M.d("J", f"W{l}") for l in (1, 2, 3)]),
          lambda M: stack([M.d("J", f"Z{l}") * M.mat(f"A{l - 1}").T for l in (1, 2, 3)]),
          note="checked for ℓ = 1, 2, 3"),
        C(28, 0, r"&= \delta^{[\ell]}", "ok", lambda M: stack([M.d("J", f"b{l}") for l in (1, 2, 3)]),
          lambda M: stack([M.d("J", f"Z{l}") for l in (1, 2, 3)])),
    ])


# --- regression_net_gather.tex -----------------------------------------------------------------------------

def _rg_res(M, i):
    return M.S[i, 0] - M.Y[i, 0]


DOCS["regression_net_gather.tex"] = Doc(
    style="textbook-like LaTeX handout, one tanh hidden layer for regression written unit by unit, gather, equation*, \\[ \\]",
    model="n = 3 samples as rows, 2 inputs, 4 tanh units, linear output, J = 1/n Σ (ŷ − y)²; w^{(1)}_{jk} is W1[k, j]",
    models={"net": lambda: models.rows_net(N=3, D=2, H=4, C=1, hidden="tanh", out="mse"),
            "u": lambda: models.scalars("u")},
    sources=("github.com/blackKeys17/blackkeys17.github.io (content/posts/neural_net_maths: per-unit sums)",
             "compphysics.github.io/MachineLearning/doc/pub/week42 (δ with per-unit sums)"),
    defs=[9, 10, 14],
    claims=[
        C(19, 0, r"\frac{\partial J}{\partial b^{(2)}} = \frac{2}{n} \sum_{i=1}^{n} (\hat{y}_i - y_i)", "ok",
          lambda M: M.d("L", "b2"), lambda M: 2 * sum(_rg_res(M, i) for i in range(M.N)) / M.N),
        C(20, 0, r"\frac{\partial J}{\partial w^{(2)}_j} = 2 \sum_{i=1}^{n} (\hat{y}_i - y_i)\, h_{ij}", "factor",
          lambda M: M.d("L", "W2"),
          lambda M: Matrix(4, 1, lambda j, _: 2 * sum(_rg_res(M, i) * M.H[i, j] for i in range(M.N))), factor="n",
          kind="missing 1/m", mistake="the mean's 1/n is missing: 2/n Σ (ŷ_i − y_i) h_{ij}", explain=("1/n", "2/n")),
        C(21, 0, r"\tanh'(u) = 1 - \tanh^2(u)", "ok", lambda M: sp.diff(tanh(M.u), M.u),
          lambda M: 1 - tanh(M.u) ** 2, model="u"),
        C(21, 1, r"\frac{d}{du}\tanh(u) = \operatorname{sech}^2(u)", "ok", lambda M: sp.diff(tanh(M.u), M.u),
          lambda M: sp.sech(M.u) ** 2, model="u"),
        C(23, 0, r"= \frac{2}{n} (\hat{y}_i - y_i)\, w^{(2)}_j", "ok", lambda M: M.d("L", "H"),
          lambda M: Matrix(M.N, 4, lambda i, j: 2 * _rg_res(M, i) * M.W2[j, 0] / M.N)),
        C(26, 0, r"= \frac{2}{n} \sum_{i=1}^{n} (\hat{y}_i - y_i)\, w^{(2)}_j \left(1 - h_{ij}^2\right)", "ok",
          lambda M: M.d("L", "b1").T,
          lambda M: Matrix(4, 1, lambda j, _: 2 * sum(_rg_res(M, i) * M.W2[j, 0] * (1 - M.H[i, j] ** 2)
                                                      for i in range(M.N)) / M.N)),
        C(27, 0, r"= \frac{2}{n} \sum_{i=1}^{n} (\hat{y}_i - y_i)\, w^{(2)}_j \left(1 - h_{ij}\right) x_{ik}", "wrong",
          lambda M: M.d("L", "W1").T,
          lambda M: Matrix(4, 2, lambda j, k: 2 * sum(_rg_res(M, i) * M.W2[j, 0] * (1 - M.H[i, j]) * M.X[i, k]
                                                      for i in range(M.N)) / M.N),
          kind="tanh' as 1 - a", mistake="tanh' is 1 − h², as in the line above: 1 − h_{ij} drops the square",
          explain=("1 - h_{ij}^2",)),
    ])


# --- from_scratch_mlp_readme.md ----------------------------------------------------------------------------

DOCS["from_scratch_mlp_readme.md"] = Doc(
    style="GitHub README of a from-scratch numpy MLP: a Markdown table with $$ in its cells, bullets, bare sigmoid(z), fenced code",
    model="X N × D = 4 × 2 (rows), 3 sigmoid hidden units, 1 sigmoid output, L = ½ Σ (Ŷ − Y)² over samples (no mean)",
    models={"net": lambda: models.rows_net(N=4, D=2, H=3, C=1, hidden="sigmoid", out="sigmoid_half"),
            "z": lambda: models.scalars("z")},
    sources=("github.com/AbdalrhmanFouadOsama2004/CNSASS2 (README.md)", "github.com/kingster121/nnfs (README.md)"),
    defs=[9, 20, 25],
    claims=[
        C(13, 0, r"\delta_2 = (\hat{Y} - Y) \odot \hat{Y} \odot (1 - \hat{Y})", "ok",
          lambda M: M.d("L", "S"), lambda M: had(had(M.Yhat - M.Y, M.Yhat), ew(lambda v: 1 - v, M.Yhat)),
          note="δ_k is defined on the line above as ∂L/∂Z_k; Z_2 is the models' S"),
        C(14, 0, r"\frac{\partial L}{\partial W_2} = A_1^T \delta_2", "ok",
          lambda M: M.d("L", "W2"), lambda M: M.H.T * M.d("L", "S")),
        C(15, 0, r"\delta_1 = \delta_2 W_2^T", "wrong", lambda M: M.d("L", "Z1"), lambda M: M.d("L", "S") * M.W2.T,
          kind="forgotten local derivative", mistake="δ_1 needs ⊙ A_1 ⊙ (1 − A_1), the sigmoid's derivative at Z_1",
          explain=("sigmoid'", "A_1(1 - A_1)")),
        C(16, 0, r"\frac{\partial L}{\partial W_1} = X^T \delta_1", "ok",
          lambda M: M.d("L", "W1"), lambda M: M.X.T * M.d("L", "Z1")),
        C(21, 0, r"\frac{\partial L}{\partial \hat{Y}} = 2(\hat{Y} - Y)", "factor",
          lambda M: M.d("L", "Yhat"), lambda M: 2 * (M.Yhat - M.Y), factor="2",
          kind="extra factor", mistake="the ½ of the loss cancels the 2 of the square: ∂L/∂Ŷ = Ŷ − Y", explain=("½", "2")),
        C(22, 0, r"\frac{d}{dz} sigmoid(z) = sigmoid(z)(1 - sigmoid(z))", "ok", lambda M: sp.diff(sigmoid(M.z), M.z),
          lambda M: sigmoid(M.z) * (1 - sigmoid(M.z)), model="z"),
        C(23, 0, r"\frac{\partial L}{\partial b_2} = \mathbf{1}^T \delta_2", "ok",
          lambda M: M.d("L", "b2"), lambda M: colsum(M.d("L", "S"))),
        C(23, 1, r"\frac{\partial L}{\partial b_1} = \mathbf{1}^T \delta_1", "ok",
          lambda M: M.d("L", "b1"), lambda M: colsum(M.d("L", "Z1"))),
        C(24, 0, r"W \leftarrow W - \eta \frac{\partial L}{\partial W}", "unchecked",
          why="W stands for every weight matrix: a schema, not an equation of this model"),
    ])


# --- dl_course_logreg_single.md ----------------------------------------------------------------------------

DOCS["dl_course_logreg_single.md"] = Doc(
    style="course lecture notes (deeplearning.ai week 2 computation graph): da, dz, dw_1 shorthand, one example then m",
    model="one example: z = w_1 x_1 + w_2 x_2 + b, a = σ(z), log loss; then m = 3 examples with the mean J",
    models={"one": lambda: models.logistic_one(nx=2), "m": lambda: models.logistic(m=3, nx=2)},
    sources=("community.deeplearning.ai/t/could-someone-help-explain-about-this-to-me/336971",
             "github.com/nitishp/ml_notes (Week2.md: the loop over m examples)"),
    defs=[5, 25],
    claims=[
        C(9, 0, r"= -\frac{y}{a} + \frac{1-y}{1-a}", "ok", lambda M: M.d("L", "a"),
          lambda M: -M.y / M.a + (1 - M.y) / (1 - M.a), note="da is the course's name for dL/da"),
        C(11, 0, r"\frac{da}{dz} = a(1 - a)", "ok", lambda M: M.local("a", "z"), lambda M: M.a * (1 - M.a)),
        C(13, 0, r"= \frac{d\mathcal{L}}{da}\cdot\frac{da}{dz}", "ok", lambda M: M.d("L", "z"),
          lambda M: M.d("L", "a") * M.local("a", "z")),
        C(13, 1, r"= a - y", "ok", lambda M: M.d("L", "z"), lambda M: M.a - M.y),
        C(15, 0, r"= x_1 \cdot dz", "ok", lambda M: M.d("L", "w")[0], lambda M: M.x[0] * M.d("L", "z")),
        C(17, 0, r"dw_2 = x_1 \cdot dz", "wrong", lambda M: M.d("L", "w")[1], lambda M: M.x[0] * M.d("L", "z"),
          kind="wrong factor", mistake="dw_2 = x_2 · dz: w_2 multiplies x_2, not x_1", explain=("x_2", "x_1")),
        C(19, 0, r"db = dz", "ok", lambda M: M.d("L", "b"), lambda M: M.d("L", "z")),
        C(27, 0, r"= \frac{1}{m}\sum_{i=1}^{m} \frac{\partial}{\partial w_1}\mathcal{L}(a^{(i)}, y^{(i)})", "ok",
          lambda M: M.d("J", "w")[0], lambda M: sum(M.d(f"L{i}", "w")[0] for i in range(M.m)) / M.m, model="m"),
        C(29, 0, r"dw_1 = \frac{1}{m}\sum_{i=1}^{m} x_1^{(i)} dz^{(i)}", "ok",
          lambda M: M.d("J", "w")[0], lambda M: sum(M.X[0, i] * (M.A[i] - M.Y[i]) for i in range(M.m)) / M.m,
          model="m", note="on m examples dw_1 is ∂J/∂w_1 and dz^{(i)} = a^{(i)} − y^{(i)} is one example's dL/dz"),
        C(42, 0, r"\frac{\partial J}{\partial b} = a^{(i)} - y^{(i)}", "wrong",
          lambda M: M.d("J", "b"), lambda M: M.A[0] - M.Y[0], model="m",
          kind="one-sample rule", mistake="J is a mean over the examples: ∂J/∂b = 1/m Σ_i (a^{(i)} − y^{(i)})",
          explain=("1/m", "sum")),
        C(44, 0, r"dZ = A - Y", "ok", lambda M: M.m * M.d("J", "Z"), lambda M: M.A - M.Y, model="m",
          note="course convention: dZ is m·∂J/∂Z"),
        C(44, 1, r"dw = \frac{1}{m} X\, dZ^T", "ok", lambda M: M.d("J", "w"),
          lambda M: M.X * (M.m * M.d("J", "Z")).T / M.m, model="m"),
        C(44, 2, r"db = \frac{1}{m}\,\text{np.sum}(dZ)", "ok", lambda M: M.d("J", "b"),
          lambda M: sum(M.m * M.d("J", "Z")) / M.m, model="m"),
    ])


# --- activations_cheatsheet.md -----------------------------------------------------------------------------

DOCS["activations_cheatsheet.md"] = Doc(
    style="personal cheat sheet / blog on activations: \\operatorname{ReLU}, \\mathrm{LeakyReLU}, cases, \\dot\\sigma, \\frac{d}{dz}",
    model="identities in z; then one example through 3 leaky-ReLU units (slope 0.01) and a linear output, L = ½(ŷ − y)²",
    models={"z": lambda: models.scalars("z"),
            "net": lambda: models.course_net(m=1, nx=2, nh=3, ny=1, hidden="leaky", out="linear")},
    sources=("stats.stackexchange.com/questions/275521 (derivative of leaky ReLU)",
             "gmse.de/math-test (activation units and derivatives)"),
    defs=[20, 26, 36, 37],
    claims=[
        C(6, 0, r"= \frac{1}{1 + e^{-z}}", "ok", lambda M: sigmoid(M.z), lambda M: 1 / (1 + sp.exp(-M.z)),
          note="a chain whose first link defines a: σ(z) = 1/(1 + e^{−z}) is then an identity"),
        C(8, 0, r"\frac{d}{dz}\sigma(z) = \sigma(z)\,(1 - \sigma(z))", "ok", lambda M: sp.diff(sigmoid(M.z), M.z),
          lambda M: sigmoid(M.z) * (1 - sigmoid(M.z))),
        C(8, 1, r"= a(1 - a)", "ok", lambda M: sp.diff(sigmoid(M.z), M.z),
          lambda M: sigmoid(M.z) * (1 - sigmoid(M.z)), note="a = σ(z) from line 6"),
        C(10, 0, r"\dot\sigma = \sigma(1 - \sigma)", "ok", lambda M: sp.diff(sigmoid(M.z), M.z),
          lambda M: sigmoid(M.z) * (1 - sigmoid(M.z)), note="functions without their argument"),
        C(14, 0, r"= \frac{e^z - e^{-z}}{e^z + e^{-z}}", "ok", lambda M: tanh(M.z),
          lambda M: (sp.exp(M.z) - sp.exp(-M.z)) / (sp.exp(M.z) + sp.exp(-M.z))),
        C(16, 0, r"\tanh'(z) = 1 + \tanh^2(z)", "wrong", lambda M: sp.diff(tanh(M.z), M.z),
          lambda M: 1 + tanh(M.z) ** 2,
          kind="wrong identity", mistake="tanh'(z) = 1 − tanh²(z), with a minus", explain=("1 - \\tanh^2",)),
        C(22, 0, r"\operatorname{ReLU}'(z) = \begin{cases} 1, & \text{if } z > 0 \\ 0, & \text{otherwise} \end{cases}", "ok",
          lambda M: sp.diff(relu(M.z), M.z), lambda M: sp.Piecewise((1, M.z > 0), (0, True)),
          note="the value at z = 0 is a convention; checked away from 0"),
        C(28, 0, r"\mathrm{LeakyReLU}'(z) = \begin{cases} 1, & z > 0 \\ 0.01, & z \le 0 \end{cases}", "ok",
          lambda M: sp.diff(leaky(M.z), M.z), lambda M: sp.Piecewise((1, M.z > 0), (Rational(1, 100), True)),
          note="the value at z = 0 is a convention; checked away from 0"),
        C(32, 0, r"\frac{d}{dz}\ln(1 + e^{z}) = \sigma(z)", "ok", lambda M: sp.diff(sp.log(1 + sp.exp(M.z)), M.z),
          lambda M: sigmoid(M.z)),
        C(39, 0, r"\frac{\partial L}{\partial v} = (\hat y - y)\, h", "ok", lambda M: M.d("J", "W2").T,
          lambda M: (M.A2 - M.Y) * M.A1, model="net", note="v is a column, vᵀ = W2"),
        C(39, 1, r"\frac{\partial L}{\partial W} = \left( (\hat y - y)\, v \odot g'(Wx + b) \right) x^T", "ok",
          lambda M: M.d("J", "W1"), lambda M: had((M.A2 - M.Y) * M.W2.T, ew(dleaky, M.Z1)) * M.X.T, model="net"),
        C(41, 0, r"\frac{\partial L}{\partial b} = (\hat y - y)\, v \odot g(Wx + b)", "wrong",
          lambda M: M.d("J", "b1"), lambda M: had((M.A2 - M.Y) * M.W2.T, ew(leaky, M.Z1)), model="net",
          kind="sigma for sigma'", mistake="the bias gradient takes g'(Wx + b), the derivative, as the line above does",
          explain=("g'", "derivative")),
    ])


# --- two_hidden_relu_course.md -----------------------------------------------------------------------------

def _cols(M, f):
    """Σ_i f(i) over the examples."""
    return sum((f(i) for i in range(1, M.m)), f(0))


DOCS["two_hidden_relu_course.md"] = Doc(
    style="course-style lecture notes (deeplearning.ai notation) written per example with a^{[l](i)}, dz^{[l](i)}",
    model="2-4-5-1 net, ReLU, ReLU, sigmoid, mean log loss over m = 3 examples (columns)",
    models={"net": lambda: models.deep_course_net(m=3, sizes=(2, 4, 5, 1), hidden="relu"),
            "z": lambda: models.scalars("z")},
    sources=("math.techqa.club/understanding-the-equations-of-backpropagation-2827437",
             "community.deeplearning.ai/t/derivation-of-dz-1/24551"),
    defs=[5, 7, 9, 11],
    claims=[
        C(15, 0, r"dz^{[3](i)} = a^{[3](i)} - y^{(i)}", "ok", lambda M: _dz(M, "Z3"), lambda M: M.A3 - M.Y,
          note="course convention: dz^{[l](i)} is example i's ∂L/∂z, the i-th column of m·∂J/∂Z"),
        C(17, 0, r"dz^{[2](i)} = W^{[3]T} dz^{[3](i)} \odot g^{[2]'}(z^{[2](i)})", "ok", lambda M: _dz(M, "Z2"),
          lambda M: Matrix.hstack(*[had(M.W3.T * _dz(M, "Z3")[:, i], ew(drelu, M.Z2[:, i])) for i in range(M.m)])),
        C(19, 0, r"dz^{[1](i)} = W^{[2]T} dz^{[2](i)} \odot g^{[1]'}(z^{[1](i)})", "ok", lambda M: _dz(M, "Z1"),
          lambda M: Matrix.hstack(*[had(M.W2.T * _dz(M, "Z2")[:, i], ew(drelu, M.Z1[:, i])) for i in range(M.m)])),
        C(21, 0, r"g^{[l]'}(z) = \mathbb{1}(z > 0)", "ok", lambda M: sp.diff(relu(M.z), M.z),
          lambda M: sp.Piecewise((1, M.z > 0), (0, True)), model="z", note="ReLU's derivative, 0 taken at the kink"),
        C(23, 0, r"dW^{[3]} = \frac{1}{m}\sum_{i=1}^{m} dz^{[3](i)} a^{[2](i)T}", "ok", lambda M: M.d("J", "W3"),
          lambda M: _cols(M, lambda i: _dz(M, "Z3")[:, i] * M.A2[:, i].T) / M.m),
        C(23, 1, r"db^{[3]} = \frac{1}{m}\sum_{i=1}^{m} dz^{[3](i)}", "ok", lambda M: M.d("J", "b3"),
          lambda M: _cols(M, lambda i: _dz(M, "Z3")[:, i]) / M.m),
        C(25, 0, r"dW^{[2]} = \frac{1}{m}\sum_{i=1}^{m} dz^{[2](i)} a^{[2](i)T}", "wrong", lambda M: M.d("J", "W2"),
          lambda M: _cols(M, lambda i: _dz(M, "Z2")[:, i] * M.A2[:, i].T) / M.m,
          kind="wrong layer", mistake="dW^{[2]} takes the layer's input a^{[1](i)}, not a^{[2](i)}",
          explain=("a^{[1](i)}", "a^{[2](i)}")),
        C(27, 0, r"dW^{[1]} = \frac{1}{m}\sum_{i=1}^{m} dz^{[1](i)} x^{(i)T}", "ok", lambda M: M.d("J", "W1"),
          lambda M: _cols(M, lambda i: _dz(M, "Z1")[:, i] * M.A0[:, i].T) / M.m),
        C(27, 1, r"db^{[1]} = \sum_{i=1}^{m} dz^{[1](i)}", "factor", lambda M: M.d("J", "b1"),
          lambda M: _cols(M, lambda i: _dz(M, "Z1")[:, i]), factor="m",
          kind="missing 1/m", mistake="db^{[1]} averages like db^{[3]}: 1/m Σ_i dz^{[1](i)}", explain=("1/m",)),
    ])


# --- ng_multivariate_vectorised.md -------------------------------------------------------------------------

def _ng_res(M, i):
    return M.h[i] - M.y[i]


DOCS["ng_multivariate_vectorised.md"] = Doc(
    style="course lecture notes (Andrew Ng's Machine Learning, week 2), x_0 = 1, an elided sum with \\cdots, \\vec{y}, vectorised",
    model="h_θ(x) = θᵀx with x_0 = 1 and n = 2 features; m = 4 examples as the rows of X (4 × 3); J = 1/(2m) Σ r²",
    models={"lin": lambda: models.linear_theta(m=4, n=2)},
    sources=("laugh12321.cn/2019/03/09/Gradient_Descent (θ_j updates with x_j^{(i)})",
             "lioninawhat.com/blog/gradient-descent.html"),
    defs=[4, 8, 14, 36],
    claims=[
        C(6, 0, r"= \theta^T x", "ok", lambda M: M.X * M.theta, lambda M: per_sample(M, lambda i: (M.theta.T * M.X[i, :].T)[0]),
          note="the elided sum θ_0 x_0 + ⋯ + θ_n x_n defines h; checked for every example with n = 2"),
        C(12, 0, r"\theta_j := \theta_j - \alpha \frac{1}{m}\sum_{i=1}^{m}\left(h_\theta(x^{(i)}) - y^{(i)}\right) x_j^{(i)}", "ok",
          lambda M: M.d("J", "theta"),
          lambda M: Matrix(3, 1, lambda j, _: sum(_ng_res(M, i) * M.X[i, j] for i in range(M.m)) / M.m),
          note="an update is a claim about the gradient it uses; checked for j = 0, 1, 2"),
        C(16, 0, r"\theta_0 := \theta_0 - \alpha \frac{1}{m}\sum_{i=1}^{m}\left(h_\theta(x^{(i)}) - y^{(i)}\right) x_0^{(i)}", "ok",
          lambda M: M.d("J", "theta")[0], lambda M: sum(_ng_res(M, i) * M.X[i, 0] for i in range(M.m)) / M.m),
        C(18, 0, r"\theta_1 := \theta_1 - \alpha \frac{1}{m}\sum_{i=1}^{m}\left(h_\theta(x^{(i)}) - y^{(i)}\right) x_1^{(i)}", "ok",
          lambda M: M.d("J", "theta")[1], lambda M: sum(_ng_res(M, i) * M.X[i, 1] for i in range(M.m)) / M.m),
        C(21, 0, r"\frac{\partial J(\theta)}{\partial \theta_j} = \left(h_\theta(x^{(i)}) - y^{(i)}\right) x_j^{(i)}", "wrong",
          lambda M: M.d("J", "theta"), lambda M: Matrix(3, 1, lambda j, _: _ng_res(M, 0) * M.X[0, j]),
          kind="one-sample rule", mistake="J(θ) is the mean over the m examples; one example's term is not ∂J/∂θ_j",
          explain=("1/m", "sum"), note="stochastic gradient descent uses one example's loss, but the text names ∂J(θ)"),
        C(27, 0, r"J(\theta) = \frac{1}{2m}(X\theta - \vec{y})^T(X\theta - \vec{y})", "ok",
          lambda M: M.J, lambda M: ((M.X * M.theta - M.y).T * (M.X * M.theta - M.y))[0] / (2 * M.m),
          note="J is defined above; restating it in matrix form is a claim that the two agree"),
        C(29, 0, r"\nabla J(\theta) = \frac{1}{m} X^T (X\theta - \vec{y})", "ok",
          lambda M: M.d("J", "theta"), lambda M: M.X.T * (M.X * M.theta - M.y) / M.m),
        C(33, 0, r"\theta := \theta - \frac{\alpha}{m} X (X\theta - \vec{y})", "wrong",
          lambda M: M.d("J", "theta"), lambda M: M.X * (M.X * M.theta - M.y) / M.m,
          kind="missing transpose", mistake="X is m × (n+1): the update needs X^T (Xθ − y), as in ∇J above",
          explain=("X^T", "transpose")),
        C(35, 0, r"\theta = (X^T X)^{-1} X^T \vec{y}", "unchecked",
          why="the normal equation names the minimiser; it is not an identity at a random θ"),
    ])


# --- softmax_regression.ipynb ------------------------------------------------------------------------------

def _softmax_blocks(M):
    """Each example's C × C Jacobian ∂ŷ^{(i)}/∂z^{(i)}, stacked."""
    expr, Z = M._nodes["P"][1], M.symbols("Z")
    blocks = [Matrix(M.C, M.C, lambda k, j: sp.diff(expr[k, i], Z[j, i])).xreplace(M._pt) for i in range(M.m)]
    return stack(blocks)


DOCS["softmax_regression.ipynb"] = Doc(
    style="course-style notebook (softmax regression, deeplearning.ai course 2 notation), \\mathrm{softmax}, \\sum_k over classes",
    model="Z = WX + b, Ŷ = softmax over each column, 3 classes, X is 2 × 4, one-hot Y, mean cross-entropy J",
    models={"soft": lambda: models.softmax_regression(m=4, nx=2, C=3)},
    sources=("553668.com/manong/1173660.html (derivative of the softmax loss, ∂L/∂o_i = p_i − y_i)",
             "zakariapz.github.io/posts/2025-03-19-derivative-of-the-cross-entropy-loss-with-softmax"),
    defs=[(1, 4), (2, 3), (2, 7)],
    claims=[
        C(3, 0, r"\frac{\partial \mathcal{L}^{(i)}}{\partial \hat{y}_k^{(i)}} = -\frac{y_k^{(i)}}{\hat{y}_k^{(i)}}", "ok", cell=4,
          truth=lambda M: M.m * M.d("J", "P"), written=lambda M: Matrix(3, M.m, lambda k, i: -M.Y[k, i] / M.P[k, i]),
          note="one example's loss; m·∂J/∂ŷ since J is the mean"),
        C(5, 0, r"\frac{\partial \mathcal{L}^{(i)}}{\partial z_k^{(i)}} = \hat{y}_k^{(i)} - y_k^{(i)}", "ok", cell=4,
          truth=lambda M: M.m * M.d("J", "Z"), written=lambda M: M.P - M.Y, note="needs the one-hot y (Σ_k y_k = 1)"),
        C(5, 1, r"dZ = \hat{Y} - Y", "ok", cell=4, truth=lambda M: M.m * M.d("J", "Z"), written=lambda M: M.P - M.Y,
          note="course convention: dZ is m·∂J/∂Z"),
        C(7, 0, r"\frac{\partial J}{\partial W} = \frac{1}{m} (\hat{Y} - Y) X^T", "ok", cell=4,
          truth=lambda M: M.d("J", "W"), written=lambda M: (M.P - M.Y) * M.X.T / M.m),
        C(9, 0, r"\frac{\partial J}{\partial b} = \frac{1}{m} \sum_{i=1}^{m} (\hat{y}^{(i)} - y^{(i)})", "ok", cell=4,
          truth=lambda M: M.d("J", "b"), written=lambda M: rowsum(M.P - M.Y) / M.m),
        C(11, 0, r"\frac{\partial J}{\partial W} = (\hat{y}^{(i)} - y^{(i)})\, x^{(i)T}", "wrong", cell=4,
          truth=lambda M: M.d("J", "W"), written=lambda M: (M.P[:, 0] - M.Y[:, 0]) * M.X[:, 0].T,
          kind="one-sample rule", mistake="that is one example's gradient; ∂J/∂W of the mean cost averages all m of them",
          explain=("1/m", "sum")),
        C(3, 0, r"= \mathrm{diag}(\hat{y}^{(i)}) - \hat{y}^{(i)} \hat{y}^{(i)T}", "ok", cell=5,
          truth=_softmax_blocks,
          written=lambda M: stack([sp.diag(*M.P[:, i]) - M.P[:, i] * M.P[:, i].T for i in range(M.m)])),
        C(4, 0, r"\frac{\partial Z}{\partial W} = X^T", "unchecked", cell=5,
          why="a Jacobian of a matrix by a matrix written as a matrix: no layout makes it an equation"),
    ])


# --- bce_vs_mse_blog.md ------------------------------------------------------------------------------------

DOCS["bce_vs_mse_blog.md"] = Doc(
    style="blog post comparing ½(a − y)² and binary cross-entropy for a sigmoid output, \\mathcal{L}_{\\text{…}}, \\ln, \\bm, a table",
    model="one example: z = wᵀx + b, a = σ(z); L_MSE = ½(a − y)² and L_BCE = −[y ln a + (1 − y) ln(1 − a)]",
    models={"mse": lambda: models.logistic_one(nx=2, loss="mse"), "bce": lambda: models.logistic_one(nx=2)},
    sources=("github.com/Colelyman/tensorflow (notes on Nielsen ch. 3: cross-entropy and the learning slowdown)",
             "github.com/MarkusThill/MarkusThill.github.io (_posts/2025-08-02-neural-nets-and-backprop.md)"),
    defs=[4, 8, 20],
    claims=[
        C(12, 0, r"= \frac{\partial \mathcal{L}_{\text{MSE}}}{\partial a}\,\frac{\partial a}{\partial z}", "ok",
          lambda M: M.d("L", "z"), lambda M: M.d("L", "a") * M.local("a", "z")),
        C(12, 1, r"= (a - y)\,a(1 - a)", "ok", lambda M: M.d("L", "z"), lambda M: (M.a - M.y) * M.a * (1 - M.a)),
        C(16, 0, r"= (a - y)\,a(1 - a)\,\bm{x}", "ok", lambda M: M.d("L", "w"), lambda M: (M.a - M.y) * M.a * (1 - M.a) * M.x),
        C(22, 0, r"= \frac{a - y}{a(1 - a)}", "ok", lambda M: M.d("L", "a"), lambda M: (M.a - M.y) / (M.a * (1 - M.a)),
          model="bce"),
        C(26, 0, r"\frac{\partial \mathcal{L}_{\text{BCE}}}{\partial z} = a - y", "ok",
          lambda M: M.d("L", "z"), lambda M: M.a - M.y, model="bce"),
        C(28, 0, r"\frac{\partial \mathcal{L}_{\text{BCE}}}{\partial \bm{w}} = (a - y)\,a(1 - a)\,\bm{x}", "wrong",
          lambda M: M.d("L", "w"), lambda M: (M.a - M.y) * M.a * (1 - M.a) * M.x, model="bce",
          kind="sigma' twice", mistake="with cross-entropy ∂L/∂z is already a − y: the a(1 − a) was cancelled, not kept",
          explain=("a - y", "a(1 - a)")),
        C(30, 0, r"\frac{\partial \mathcal{L}_{\text{BCE}}}{\partial b} = a - y", "ok",
          lambda M: M.d("L", "b"), lambda M: M.a - M.y, model="bce"),
        C(36, 0, r"\frac{\partial \mathcal{L}_{\text{MSE}}}{\partial z} = a - y", "wrong",
          lambda M: M.d("L", "z"), lambda M: M.a - M.y,
          kind="forgotten local derivative", mistake="under the squared error the sigmoid's a(1 − a) stays: (a − y) a(1 − a)",
          explain=("a(1 - a)", "σ'")),
        C(37, 0, r"\frac{\partial \mathcal{L}_{\text{BCE}}}{\partial z} = a - y", "ok",
          lambda M: M.d("L", "z"), lambda M: M.a - M.y, model="bce"),
    ])


# --- numpy_mlp_rows.md -------------------------------------------------------------------------------------

DOCS["numpy_mlp_rows.md"] = Doc(
    style="blog post deriving a numpy MLP's backward pass by hand, samples as rows, \\boldsymbol, \\operatorname{ReLU}, ^\\top",
    model="X N × D = 5 × 2 (rows), 4 ReLU units, one linear output, L = 1/N Σ (ŷ_i − y_i)²",
    models={"net": lambda: models.rows_net(N=5, D=2, H=4, C=1, hidden="relu", out="mse")},
    sources=("torchedup.dev/problems/backprop-mlp (z1 = x@W1 + b1 in rows)",
             "docs.google.com lecture 'Neural Networks and Backpropagation' (numpy two-layer MLP, cs231n-based)"),
    defs=[7, 9],
    claims=[
        C(13, 0, r"= \frac{2}{N}(\hat{\boldsymbol{y}} - \boldsymbol{y})", "ok",
          lambda M: M.d("L", "S"), lambda M: 2 * (M.S - M.Y) / M.N),
        C(15, 0, r"\frac{\partial L}{\partial \boldsymbol{W}_2} = \boldsymbol{H}^\top \frac{\partial L}{\partial \hat{\boldsymbol{y}}}", "ok",
          lambda M: M.d("L", "W2"), lambda M: M.H.T * M.d("L", "S")),
        C(15, 1, r"\frac{\partial L}{\partial b_2} = \sum_{i=1}^{N} \frac{\partial L}{\partial \hat{y}_i}", "ok",
          lambda M: M.d("L", "b2"), lambda M: sum(M.d("L", "S"))),
        C(17, 0, r"= \frac{\partial L}{\partial \hat{\boldsymbol{y}}}\, \boldsymbol{W}_2^\top", "ok",
          lambda M: M.d("L", "H"), lambda M: M.d("L", "S") * M.W2.T),
        C(19, 0, r"= \frac{\partial L}{\partial \boldsymbol{H}} \odot \mathbb{1}[\boldsymbol{Z} > 0]", "ok",
          lambda M: M.d("L", "Z1"), lambda M: had(M.d("L", "H"), ind(M.Z1))),
        C(21, 0, r"\frac{\partial L}{\partial \boldsymbol{W}_1} = \boldsymbol{X}^\top \frac{\partial L}{\partial \boldsymbol{Z}}", "ok",
          lambda M: M.d("L", "W1"), lambda M: M.X.T * M.d("L", "Z1")),
        C(21, 1, r"\frac{\partial L}{\partial \boldsymbol{b}_1} = \boldsymbol{1}^\top \frac{\partial L}{\partial \boldsymbol{Z}}", "ok",
          lambda M: M.d("L", "b1"), lambda M: colsum(M.d("L", "Z1"))),
    ])


# --- update_rules_cheatsheet.md ----------------------------------------------------------------------------

DOCS["update_rules_cheatsheet.md"] = Doc(
    style="cheat sheet / Q&A answer: gradient-descent update rules as bullet lists, batch and stochastic, \\mathbf vectors",
    model="linear regression (J = 1/(2m) Σ r²), logistic regression (mean log loss), softmax regression (one-hot, mean CE)",
    models={"lin": lambda: models.linear_1d(m=3, loss="2m"), "log": lambda: models.logistic(m=3, nx=2),
            "soft": lambda: models.softmax_regression(m=4, nx=2, C=3)},
    sources=("github.com/AshishSinha5/course_notes (the LMS rule θ_j := θ_j + α(y^{(i)} − h_θ(x^{(i)}))x_j^{(i)})",
             "github.com/steevmi1/cdl-ai (nndl/Notes/Week02.md)"),
    defs=[6, 13],
    claims=[
        C(8, 0, r"w := w - \alpha \frac{1}{m}\sum_{i=1}^{m}(\hat y^{(i)} - y^{(i)})\,x^{(i)}", "ok",
          lambda M: M.d("J", "w"), lambda M: sum((M.yhat[i] - M.y[i]) * M.x[i] for i in range(M.m)) / M.m,
          note="an update is a claim about the gradient it uses"),
        C(9, 0, r"b := b + \alpha \frac{1}{m}\sum_{i=1}^{m}(\hat y^{(i)} - y^{(i)})", "factor",
          lambda M: M.d("J", "b"), lambda M: -sum(M.yhat[i] - M.y[i] for i in range(M.m)) / M.m, factor="-1",
          kind="sign", mistake="b := b + α·(gradient) climbs the cost: the update subtracts", explain=("-", "sign")),
        C(10, 0, r"w := w + \alpha\,(y^{(i)} - \hat y^{(i)})\,x^{(i)}", "ok",
          lambda M: per_sample(M, lambda i: M.d(f"sq{i}", "w") / 2),
          lambda M: per_sample(M, lambda i: -(M.y[i] - M.yhat[i]) * M.x[i]),
          note="stochastic: the gradient of example i's own loss ½(ŷ − y)², so the one-example form is right here"),
        C(11, 0, r"w := w - \alpha\,(\hat y^{(i)} - y^{(i)})\,x^{(i)}", "wrong",
          lambda M: M.d("J", "w"), lambda M: (M.yhat[0] - M.y[0]) * M.x[0],
          kind="one-sample rule", mistake="the batch update averages over the m examples: 1/m Σ_i (ŷ − y) x",
          explain=("1/m", "sum")),
        C(15, 0, r"\mathbf{w} := \mathbf{w} - \alpha \frac{1}{m}\sum_{i=1}^{m}(\hat y^{(i)} - y^{(i)})\,\mathbf{x}^{(i)}", "ok",
          lambda M: M.d("J", "w"),
          lambda M: sum(((M.A[i] - M.Y[i]) * M.X[:, i] for i in range(M.m)), sp.zeros(2, 1)) / M.m, model="log"),
        C(16, 0, r"b := b - \alpha \frac{1}{m}\sum_{i=1}^{m}(\hat y^{(i)} - y^{(i)})", "ok",
          lambda M: M.d("J", "b"), lambda M: sum(M.A[i] - M.Y[i] for i in range(M.m)) / M.m, model="log"),
        C(21, 0, r"\mathbf{W} := \mathbf{W} - \alpha \frac{1}{m}\sum_{i=1}^{m}(\hat{\mathbf{y}}^{(i)} - \mathbf{y}^{(i)})\,\mathbf{x}^{(i)\top}", "ok",
          lambda M: M.d("J", "W"),
          lambda M: sum(((M.P[:, i] - M.Y[:, i]) * M.X[:, i].T for i in range(M.m)), sp.zeros(3, 2)) / M.m, model="soft"),
    ])


# --- tanh_regression.ipynb ---------------------------------------------------------------------------------

DOCS["tanh_regression.ipynb"] = Doc(
    style="student homework notebook, course layer notation with ∂J symbols (not dW), tanh hidden layer, regression, columns",
    model="4 tanh units, linear output Ŷ = W2 A1 + b2, J = 1/(2m) Σ (ŷ − y)², X is 2 × 3; and one example (m = 1)",
    models={"net": lambda: models.course_net(m=3, nx=2, nh=4, ny=1, hidden="tanh", out="linear"),
            "one": lambda: models.course_net(m=1, nx=2, nh=4, ny=1, hidden="tanh", out="linear"),
            "u": lambda: models.scalars("u")},
    sources=("github.com/abdulrahman-1212/Planar_data_classification_with_one_hidden_layer (tanh backward, 1 − a²)",
             "community.deeplearning.ai/t/missing-intution-on-tanh-in-back-prop-programming-assignment-2/581594"),
    defs=[(2, 3), (2, 5)],
    claims=[
        C(3, 0, r"\frac{\partial J}{\partial \hat{Y}} = \frac{1}{m}(\hat{Y} - Y)", "ok", cell=4,
          truth=lambda M: M.d("J", "A2"), written=lambda M: (M.A2 - M.Y) / M.m),
        C(5, 0, r"\frac{\partial J}{\partial W^{[2]}} = \frac{1}{m} \frac{\partial J}{\partial \hat{Y}} A^{[1]T}", "factor", cell=4,
          truth=lambda M: M.d("J", "W2"), written=lambda M: M.d("J", "A2") * M.A1.T / M.m, factor="1/m",
          kind="extra factor", mistake="∂J/∂Ŷ already carries the 1/m; a second 1/m divides by m twice",
          explain=("1/m", "twice")),
        C(7, 0, r"\frac{\partial J}{\partial b^{[2]}} = \sum_{i=1}^{m} \frac{\partial J}{\partial \hat{y}^{(i)}}", "ok", cell=4,
          truth=lambda M: M.d("J", "b2"), written=lambda M: rowsum(M.d("J", "A2"))),
        C(9, 0, r"\tanh'(Z^{[1]}) = 1 - \tanh^2(Z^{[1]})", "ok", cell=4,
          truth=lambda M: M.local("A1", "Z1"), written=lambda M: ew(lambda z: 1 - tanh(z) ** 2, M.Z1)),
        C(9, 1, r"= 1 - (A^{[1]})^2", "ok", cell=4,
          truth=lambda M: M.local("A1", "Z1"), written=lambda M: ew(lambda a: 1 - a ** 2, M.A1)),
        C(11, 0, r"\frac{\partial J}{\partial Z^{[1]}} = W^{[2]T} \frac{\partial J}{\partial \hat{Y}} \odot \tanh'(Z^{[1]})", "ok", cell=4,
          truth=lambda M: M.d("J", "Z1"), written=lambda M: had(M.W2.T * M.d("J", "A2"), ew(dtanh, M.Z1))),
        C(13, 0, r"\frac{\partial J}{\partial W^{[1]}} = \frac{\partial J}{\partial Z^{[1]}} X^T", "ok", cell=4,
          truth=lambda M: M.d("J", "W1"), written=lambda M: M.d("J", "Z1") * M.X.T),
        C(13, 1, r"\frac{\partial J}{\partial b^{[1]}} = \sum_{i} \frac{\partial J}{\partial z^{[1](i)}}", "ok", cell=4,
          truth=lambda M: M.d("J", "b1"), written=lambda M: rowsum(M.d("J", "Z1"))),
        C(1, 0, r"\frac{\partial J}{\partial \hat{y}} = \hat{y} - y", "ok", cell=6, model="one",
          truth=lambda M: M.d("J", "A2"), written=lambda M: M.A2 - M.Y, note="with m = 1 the 1/(2m) is ½"),
        C(2, 0, r"\tanh'(0) = 0", "wrong", cell=6, model="u",
          truth=lambda M: sp.diff(tanh(M.u), M.u).subs(M.u, 0), written=lambda M: sp.Integer(0),
          kind="wrong identity", mistake="tanh'(0) = 1 − tanh²(0) = 1: tanh is steepest at 0, not flat",
          explain=("1",)),
    ])


# --- computation_graph_cs231n.md ---------------------------------------------------------------------------

DOCS["computation_graph_cs231n.md"] = Doc(
    style="course notes (CS231n backpropagation intuitions): gates and local gradients, numbers, \\left. \\right| evaluation",
    model="q = x + y, f = q z; a sigmoid neuron f = σ(w_0 x_0 + w_1 x_1 + w_2); worked examples at fixed numbers",
    models={"addmul": lambda: models.add_mul(),
            "addmul_at": lambda: models.add_mul(fixed=(("x", -3), ("y", 4), ("z", 2))),
            "t": lambda: models.scalars("t"),
            "neuron": lambda: models.sigmoid_neuron(),
            "neuron_at": lambda: models.sigmoid_neuron(fixed=(("w", (1, -2, 0)), ("x", (2, 1))))},
    sources=("github.com/Rockung/sma (the CS231n sigmoid-neuron circuit, f(w, x) = σ(w_0 x_0 + w_1 x_1 + w_2))",
             "flossy-vulcanodon-74c.notion.site/Backpropagation-and-Neural-Networks-974bd04b6195496c80b57d87f42cdd56"),
    defs=[6, 12, 18, 23, 29],
    claims=[
        C(7, 0, r"\frac{\partial f}{\partial q} = z", "ok", lambda M: M.d("f", "q"), lambda M: M.z),
        C(7, 1, r"\frac{\partial f}{\partial z} = q", "ok", lambda M: M.d("f", "z"), lambda M: M.q),
        C(7, 2, r"\frac{\partial q}{\partial x} = \frac{\partial q}{\partial y}", "ok",
          lambda M: M.d("q", "x"), lambda M: M.d("q", "y"),
          note="a chain whose first link is itself a claim: ∂q/∂x = ∂q/∂y, then = 1"),
        C(7, 3, r"= 1", "ok", lambda M: M.d("q", "x"), lambda M: sp.Integer(1)),
        C(10, 0, r"= \frac{\partial f}{\partial q} \frac{\partial q}{\partial x}", "ok",
          lambda M: M.d("f", "x"), lambda M: M.d("f", "q") * M.d("q", "x")),
        C(10, 1, r"= z", "ok", lambda M: M.d("f", "x"), lambda M: M.z),
        C(14, 0, r"\right|_{(x, y, z) = (-3, 4, 2)} = 2", "ok", lambda M: M.d("f", "x"), lambda M: sp.Integer(2),
          model="addmul_at", note="a value at the stated point"),
        C(21, 0, r"\frac{d\sigma(t)}{dt} = (1 - \sigma(t))\,\sigma(t)", "ok", lambda M: sp.diff(sigmoid(M.t), M.t),
          lambda M: (1 - sigmoid(M.t)) * sigmoid(M.t), model="t"),
        C(25, 0, r"\frac{\partial f}{\partial w_0} = (1 - f)\, f\, x_0", "ok", lambda M: M.d("f", "w")[0],
          lambda M: (1 - M.f) * M.f * M.x[0], model="neuron"),
        C(25, 1, r"\frac{\partial f}{\partial w_1} = (1 - f)\, f", "wrong", lambda M: M.d("f", "w")[1],
          lambda M: (1 - M.f) * M.f, model="neuron",
          kind="forgotten local derivative", mistake="w_1 is multiplied by x_1 in t: ∂f/∂w_1 = (1 − f) f x_1",
          explain=("x_1",)),
        C(25, 2, r"\frac{\partial f}{\partial w_2} = (1 - f)\, f", "ok", lambda M: M.d("f", "w")[2],
          lambda M: (1 - M.f) * M.f, model="neuron"),
        C(27, 0, r"\frac{\partial f}{\partial x_0} = (1 - f)\, f\, w_0", "ok", lambda M: M.d("f", "x")[0],
          lambda M: (1 - M.f) * M.f * M.w[0], model="neuron"),
        C(27, 1, r"\frac{\partial f}{\partial x_1} = (1 - f)\, f\, w_0", "wrong", lambda M: M.d("f", "x")[1],
          lambda M: (1 - M.f) * M.f * M.w[0], model="neuron",
          kind="wrong factor", mistake="x_1 is multiplied by w_1: ∂f/∂x_1 = (1 − f) f w_1", explain=("w_1", "w_0")),
        C(31, 0, r"= 0.25 \cdot 2", "ok", lambda M: M.d("f", "w")[0], lambda M: Rational(1, 4) * 2, model="neuron_at",
          note="a value at the stated point"),
        C(31, 1, r"= 0.5", "ok", lambda M: M.d("f", "w")[0], lambda M: Rational(1, 2), model="neuron_at"),
    ])


# --- matrix_calculus_bold.md -------------------------------------------------------------------------------

DOCS["matrix_calculus_bold.md"] = Doc(
    style="blog post on matrix calculus: \\mathbf, \\boldsymbol, ^\\top, \\nabla_{\\mathbf{w}}, norms, sums over samples (no 1/n)",
    model="least squares L = ½‖Xw − y‖² (X 4 × 2, no intercept); logistic NLL summed over 4 examples, no intercept",
    models={"ls": lambda: models.linear_vec(m=4, d=2, loss="half_sum"),
            "nll": lambda: models.logistic(m=4, nx=2, mean=False, bias=False),
            "t": lambda: models.scalars("t")},
    sources=("stats.stackexchange.com/questions/258709 (∑ (s(wᵀx_i) − y_i) x_i)",
             "huggingface.co/datasets/nvidia/Nemotron-CC-Math-v1 ('Logistic Regression: Gradients', Xᵀ(σ(Xw) − y))"),
    defs=[21],
    claims=[
        C(9, 0, r"= \frac{1}{2}\sum_{i=1}^{n}(\mathbf{x}_i^\top \mathbf{w} - y_i)^2", "ok",
          lambda M: M.J, lambda M: Rational(1, 2) * sum(((M.X[i, :] * M.w)[0] - M.y[i]) ** 2 for i in range(M.m)),
          note="a chain whose first link defines L: the norm written out"),
        C(11, 0, r"L(\mathbf{w}) = \frac{1}{2}\mathbf{w}^\top\mathbf{X}^\top\mathbf{X}\mathbf{w} - \mathbf{y}^\top\mathbf{X}\mathbf{w} + \frac{1}{2}\mathbf{y}^\top\mathbf{y}", "ok",
          lambda M: M.J, lambda M: (M.w.T * M.X.T * M.X * M.w / 2 - M.y.T * M.X * M.w + M.y.T * M.y / 2)[0],
          note="L is defined above; expanding it is a claim that the two agree"),
        C(12, 0, r"\nabla_{\mathbf{w}}(\mathbf{w}^\top \mathbf{A} \mathbf{w}) = 2\mathbf{A}\mathbf{w}", "unchecked",
          why="a rule for any symmetric A: A is not a quantity of this model"),
        C(14, 0, r"\nabla_{\mathbf{w}} L = \mathbf{X}^\top\mathbf{X}\mathbf{w} - \mathbf{X}^\top\mathbf{y}", "ok",
          lambda M: M.d("J", "w"), lambda M: M.X.T * M.X * M.w - M.X.T * M.y),
        C(14, 1, r"= \mathbf{X}^\top(\mathbf{y} - \mathbf{X}\mathbf{w})", "factor",
          lambda M: M.d("J", "w"), lambda M: M.X.T * (M.y - M.X * M.w), factor="-1",
          kind="sign", mistake="XᵀXw − Xᵀy = Xᵀ(Xw − y): the factored form flipped the sign", explain=("Xw - y",)),
        C(16, 0, r"\nabla_{\mathbf{w}} \|\mathbf{w}\|^2 = \mathbf{w}", "factor",
          lambda M: at(M, Matrix([sp.diff(sum(v ** 2 for v in sym(M, "w")), v) for v in sym(M, "w")])), lambda M: M.w,
          factor="1/2", kind="missing 2", mistake="the gradient of ‖w‖² is 2w", explain=("2w",)),
        C(23, 0, r"\sigma'(t) = \sigma(t)(1 - \sigma(t))", "ok", lambda M: sp.diff(sigmoid(M.t), M.t),
          lambda M: sigmoid(M.t) * (1 - sigmoid(M.t)), model="t"),
        C(25, 0, r"\nabla_{\boldsymbol{\beta}}\,\ell = \sum_{i=1}^{n}\left(\sigma(\mathbf{x}_i^\top\boldsymbol{\beta}) - y_i\right)\mathbf{x}_i", "ok",
          lambda M: M.d("J", "w"),
          lambda M: sum(((sigmoid((M.w.T * M.X[:, i])[0]) - M.Y[i]) * M.X[:, i] for i in range(M.m)), sp.zeros(2, 1)),
          model="nll", note="β is the models' w; the text's rows x_iᵀ are the model's columns"),
        C(25, 1, r"= \mathbf{X}^\top\left(\sigma(\mathbf{X}\boldsymbol{\beta}) - \mathbf{y}\right)", "ok",
          lambda M: M.d("J", "w"), lambda M: M.X * (ew(sigmoid, (M.w.T * M.X).T) - M.Y.T), model="nll"),
    ])


# --- sloppy_student_notes.md -------------------------------------------------------------------------------

DOCS["sloppy_student_notes.md"] = Doc(
    style="a student's sloppy notes: mixed $ and $$, \\text{} and \\mbox remarks, \\displaystyle, \\bigl, \\newline, ; \\text{and} separators",
    model="one example x ∈ R², 3 tanh units h = tanh(W_1 x + b_1), ŷ = σ(w_2ᵀh + b_2), log loss",
    models={"net": lambda: models.course_net(m=1, nx=2, nh=3, ny=1, hidden="tanh", out="sigmoid"),
            "z": lambda: models.scalars("z")},
    sources=("community.deeplearning.ai/t/week-3-computing-derivatives-for-shallow-network/91279",
             "github.com/zhumingyi94/mydailynote (Zettelkasten/Backpropagation.md: quick personal notes)"),
    defs=[4, 5],
    claims=[
        C(8, 0, r"\frac{\partial \mathcal L}{\partial \hat y} = \frac{\hat y - y}{\hat y(1-\hat y)}", "ok",
          lambda M: M.d("J", "A2"), lambda M: (M.A2 - M.Y) / (M.A2 * (1 - M.A2))),
        C(8, 1, r"\frac{\partial \hat y}{\partial z_2} = \hat y(1-\hat y)", "ok",
          lambda M: M.local("A2", "Z2"), lambda M: M.A2 * (1 - M.A2)),
        C(8, 2, r"\frac{\partial \mathcal L}{\partial z_2} = \hat y - y", "ok", lambda M: M.d("J", "Z2"), lambda M: M.A2 - M.Y),
        C(9, 0, r"= \hat y(1-\hat y)(\hat y - y)\, h", "wrong", lambda M: M.d("J", "W2").T,
          lambda M: M.A2 * (1 - M.A2) * (M.A2 - M.Y) * M.A1,
          kind="sigma' twice", mistake="∂L/∂z_2 = ŷ − y already contains σ': ∂L/∂w_2 = (ŷ − y) h",
          explain=("(\\hat y - y) h", "σ'"), note="w_2 is a column, w_2ᵀ = W2"),
        C(10, 0, r"\frac{\partial \mathcal L}{\partial b_2} = \hat y\!-\!y~", "ok", lambda M: M.d("J", "b2"), lambda M: M.A2 - M.Y),
        C(13, 0, r"\frac{\partial \mathcal L}{\partial h} = (\hat y - y)\, w_2", "ok", lambda M: M.d("J", "A1"),
          lambda M: (M.A2 - M.Y) * M.W2.T),
        C(13, 1, r"\frac{\partial \mathcal L}{\partial z_1} = (\hat y - y)\, w_2 \odot (1 - h)", "wrong",
          lambda M: M.d("J", "Z1"), lambda M: had((M.A2 - M.Y) * M.W2.T, ew(lambda h: 1 - h, M.A1)),
          kind="tanh' as 1 - a", mistake="tanh' at z_1 is 1 − h², as the notes themselves remember below",
          explain=("1 - h^2",)),
        C(14, 0, r"\frac{\partial \mathcal L}{\partial W_1} = \frac{\partial \mathcal L}{\partial z_1}\, x^T", "ok",
          lambda M: M.d("J", "W1"), lambda M: M.d("J", "Z1") * M.X.T),
        C(14, 1, r"\frac{\partial \mathcal L}{\partial b_1} = \frac{\partial \mathcal L}{\partial z_1}", "ok",
          lambda M: M.d("J", "b1"), lambda M: M.d("J", "Z1")),
        C(16, 0, r"\tanh'(z) = 1 - \tanh^2(z)", "ok", lambda M: sp.diff(tanh(M.z), M.z), lambda M: 1 - tanh(M.z) ** 2,
          model="z"),
        C(16, 1, r"\sigma' = \sigma(1-\sigma)", "ok", lambda M: sp.diff(sigmoid(M.z), M.z),
          lambda M: sigmoid(M.z) * (1 - sigmoid(M.z)), model="z"),
    ])


# --- html_comment_and_fence.md -----------------------------------------------------------------------------

def _lv_res(M, i):
    return M.yhat[i] - M.y[i]


DOCS["html_comment_and_fence.md"] = Doc(
    style="project wiki page (GitHub-flavoured Markdown): \\( \\) and \\[ \\] delimiters, math in an HTML comment, fenced code",
    model="ŷ_i = wᵀx_i + b with two features, n = 4 samples as rows, J = 1/n Σ (ŷ − y)²",
    models={"lin": lambda: models.linear_vec(m=4, d=2, loss="n")},
    sources=("github.com/fishitmo/Data-Science-Interview-Preparation (2/n gradients)",
             "borjarequena.github.io/Neural-Network-Course/course/linear_regression.html (backslash-paren inline math)"),
    defs=[4, 5],
    claims=[
        C(8, 0, r"\frac{\partial J}{\partial \mathbf{w}} = \frac{2}{n}\sum_{i=1}^{n} (\hat{y}_i - y_i)\,\mathbf{x}_i", "ok",
          lambda M: M.d("J", "w"), lambda M: 2 * sum((_lv_res(M, i) * M.X[i, :].T for i in range(M.m)), sp.zeros(2, 1)) / M.m),
        C(9, 0, r"\frac{\partial J}{\partial b} = \frac{2}{n}\sum_{i=1}^{n} (\hat{y}_i - y_i)", "ok",
          lambda M: M.d("J", "b"), lambda M: 2 * sum(_lv_res(M, i) for i in range(M.m)) / M.m),
        C(11, 0, r"\frac{\partial J}{\partial \hat{y}_i} = \frac{2}{n}(\hat{y}_i - y_i)", "ok",
          lambda M: M.d("J", "yhat"), lambda M: 2 * (M.yhat - M.y) / M.m),
        C(12, 0, r"\frac{\partial^2 J}{\partial b^2} = 2", "ok", lambda M: M.d2("J", "b", "b"), lambda M: sp.Integer(2),
          note="a second derivative, constant for a quadratic loss"),
        C(15, 0, r"\nabla_{\mathbf{w}} J = \frac{2}{n} X^\top (X\mathbf{w} + b\mathbf{1} - \mathbf{y})", "ok",
          lambda M: M.d("J", "w"), lambda M: 2 * M.X.T * (M.X * M.w + M.b * sp.ones(M.m, 1) - M.y) / M.m,
          note="inside an HTML comment: still the document's math"),
        C(31, 0, r"\frac{\partial}{\partial b}(\hat{y}_i - y_i)^2 = 2(\hat{y}_i - y_i)", "ok",
          lambda M: per_sample(M, lambda i: M.d(f"sq{i}", "b")), lambda M: per_sample(M, lambda i: 2 * _lv_res(M, i))),
    ])


# --- dl_book_notation.md -----------------------------------------------------------------------------------

DOCS["dl_book_notation.md"] = Doc(
    style="open textbook chapter (d2l.ai-like): := and \\overset{\\text{def}}{=} definitions, \\partial_{\\mathbf{w}} shorthand, \\frac{dl}{dw}",
    model="ŷ = wᵀx + b, l^{(i)} = ½(ŷ − y)², L = 1/n Σ l^{(i)} over n = 4 examples (rows); one feature for dl/dw",
    models={"vec": lambda: models.linear_vec(m=4, d=2, loss="half_mean"),
            "one": lambda: models.linear_1d(m=3, loss="half")},
    sources=("d2l.ai/chapter_linear-networks/linear-regression-scratch.html (as discussed on its forum)",
             "compphysics.github.io/MachineLearning/doc/pub/week40 (minibatches B_k, ∇_β C as a sum)"),
    defs=[4, 6, 10],
    claims=[
        C(14, 0, r"\partial_{\mathbf{w}} l^{(i)} = \mathbf{x}^{(i)}\left(\mathbf{w}^\top \mathbf{x}^{(i)} + b - y^{(i)}\right)", "ok",
          lambda M: per_sample(M, lambda i: M.d(f"half{i}", "w")),
          lambda M: per_sample(M, lambda i: M.X[i, :].T * ((M.w.T * M.X[i, :].T)[0] + M.b - M.y[i]))),
        C(14, 1, r"\partial_b l^{(i)} = \mathbf{w}^\top \mathbf{x}^{(i)} + b - y^{(i)}", "ok",
          lambda M: per_sample(M, lambda i: M.d(f"half{i}", "b")),
          lambda M: per_sample(M, lambda i: (M.w.T * M.X[i, :].T)[0] + M.b - M.y[i])),
        C(16, 0, r"\frac{dl}{dw} = x\,(w x + b - y)", "ok", lambda M: per_sample(M, lambda i: M.d(f"sq{i}", "w") / 2),
          lambda M: per_sample(M, lambda i: M.x[i] * (M.w * M.x[i] + M.b - M.y[i])), model="one",
          note="one example's ½(wx + b − y)², for each example"),
        C(20, 0, r"\mathbf{w} \leftarrow \mathbf{w} - \frac{\eta}{|\mathcal{B}|} \sum_{i \in \mathcal{B}} \partial_{\mathbf{w}} l^{(i)}(\mathbf{w}, b)", "unchecked",
          why="the minibatch B is not fixed by the text: the gradient it uses depends on which examples are drawn"),
        C(24, 0, r"\partial_{\mathbf{w}} L = \frac{1}{n}\sum_{i=1}^{n}\mathbf{x}^{(i)}\left(\hat{y}^{(i)} - y^{(i)}\right)", "ok",
          lambda M: M.d("J", "w"), lambda M: sum((M.X[i, :].T * _lv_res(M, i) for i in range(M.m)), sp.zeros(2, 1)) / M.m),
        C(24, 1, r"\partial_b L = \frac{1}{n}\sum_{i=1}^{n}\left(\hat{y}^{(i)} - y^{(i)}\right)", "ok",
          lambda M: M.d("J", "b"), lambda M: sum(_lv_res(M, i) for i in range(M.m)) / M.m),
        C(26, 0, r"\partial_b l^{(i)} = \hat{y}^{(i)} - y^{(i)}", "factor",
          lambda M: per_sample(M, lambda i: M.d(f"sq{i}", "b")), lambda M: per_sample(M, lambda i: _lv_res(M, i)),
          factor="1/2", kind="missing 2", mistake="without the ½ the square's 2 stays: ∂_b l^{(i)} = 2(ŷ^{(i)} − y^{(i)})",
          explain=("2",), note="l^{(i)} is redefined on this line as the square without ½"),
    ])
