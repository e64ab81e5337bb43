"""microreg.backprop: a learner's numpy backward pass checked the way their code is written.

The nets here are written in the styles courses use (samples as columns with a dict of parameters;
samples as rows with (loss, grads); layer helpers with caches). Every autograd number a test relies
on is checked against central finite differences of the learner's own cost on plain numbers, and
every planted mistake is written here by hand, with the words a teacher would use.
"""

import numpy as np
import pytest

from microreg.backprop import problem_sizes, verify_backward, verify_pair
from microreg.check import verify
from microreg.trace import TraceError

RNG = np.random.default_rng(20)
X = RNG.normal(size=(3, 6))                       # 3 features, m = 6 samples as columns
Y = (RNG.uniform(size=(1, 6)) > 0.5) * 1.0
PARAMS = {"W1": RNG.normal(size=(4, 3)), "b1": RNG.normal(size=(4, 1)) * 0.1,
          "W2": RNG.normal(size=(1, 4)), "b2": RNG.normal(size=(1, 1)) * 0.1}


def fd(cost, params, h=1e-6):
    """Central differences of cost(params) (plain numbers) for every element of every parameter."""
    out = {}
    for name, value in params.items():
        arr = np.array(value, dtype=float)
        g = np.zeros(arr.shape)
        for idx in np.ndindex(arr.shape):
            up, down = arr.copy(), arr.copy()
            up[idx] += h
            down[idx] -= h
            g[idx] = (float(cost({**params, name: up})) - float(cost({**params, name: down}))) / (2 * h)
        out[name] = g
    return out


# --- a course-style net: forward_propagation(X, parameters), backward_propagation(parameters, cache, X, Y) ---

def forward_propagation(X, parameters):
    Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = np.dot(parameters["W2"], A1) + parameters["b2"]
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    m = Y.shape[1]
    cost = -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m
    return float(np.squeeze(cost))


def backward_propagation(parameters, cache, X, Y, slip=None):
    m = X.shape[1]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y if slip != "sign" else Y - A2
    dW2 = np.dot(dZ2, A1.T) / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    tanh_prime = {"1 - A": 1 - A1, "A(1 - A)": A1 * (1 - A1), "1 - Z^2": 1 - cache["Z1"] ** 2,
                  "A^2": A1 ** 2}.get(slip, 1 - A1 ** 2)
    dZ1 = np.dot(parameters["W2"].T, dZ2) * tanh_prime
    dW1 = np.dot(dZ1, X.T) / m if slip != "1/m" else np.dot(dZ1, X.T)
    db1 = np.sum(dZ1, axis=1, keepdims=slip != "keepdims") / m
    if slip == "axis":
        db1 = np.sum(dZ1, axis=0, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def cost_of(X, Y, parameters):
    return compute_cost(forward_propagation(X, parameters)[0], Y)


def grads_of(slip=None):
    def grads(X, Y, parameters):
        A2, cache = forward_propagation(X, parameters)
        return backward_propagation(parameters, cache, X, Y, slip)
    return grads


def test_autograd_of_the_traced_course_net_matches_finite_differences():
    report = verify(cost_of, grads_of(), at=PARAMS, args=(X, Y))
    want = fd(lambda p: cost_of(X, Y, p), PARAMS)
    for name in PARAMS:
        assert np.allclose(report[name].autograd, want[name], rtol=1e-5, atol=1e-8), name
    assert report.ok, str(report)


@pytest.mark.parametrize("seed", range(4))
def test_a_correct_implementation_is_never_flagged(seed):
    rng = np.random.default_rng(seed)
    at = {k: rng.normal(size=v.shape) for k, v in PARAMS.items()}
    assert verify(cost_of, grads_of(), at=at, args=(X, Y)).ok
    net = Net(seed)
    assert verify_pair(net.loss, at=net.params, args=(XR, YR), kwargs={"reg": 0.1}).ok
    for forward, backward, inputs in HELPERS:
        assert verify_backward(forward, backward, at=inputs(rng)).ok, forward.__name__


# each planted slip: the parameters it makes wrong, and what the words must say (in the code's names)
SLIPS = {
    "1 - A": ({"W1", "b1"}, "∂A1/∂Z1 taken as 1 − A1 instead of 1 − tanh²(Z1): tanh' taken as 1 − a, on every "
                            "element of A1"),
    "A(1 - A)": ({"W1", "b1"}, "∂A1/∂Z1 taken as A1·(1 − A1) instead of 1 − tanh²(Z1): σ's derivative a(1 − a) "
                               "used for tanh', on every element of A1"),
    "1 - Z^2": ({"W1", "b1"}, "∂A1/∂Z1 taken as 1 − Z1² instead of 1 − tanh²(Z1): 1 − a² written with the input "
                              "for the output, on every element of A1"),
    "A^2": ({"W1", "b1"}, "∂A1/∂Z1 taken as A1² instead of 1 − tanh²(Z1): tanh' taken as a² (the 1 − of 1 − a² left "
                          "out), on every element of A1"),      # seen in a learner's code: dZ1 = (W2' * dZ2) .* A1.^2
    "sign": ({"W1", "b1", "W2", "b2"}, "off by a constant factor -1: the sign is flipped: ∂cost/∂Z2 is (A2 − Y)/m "
                                       "(σ with cross-entropy), so Y − A2 is the difference the wrong way round"),
    "1/m": ({"W1"}, "off by a constant factor 6: m = 6 times autograd: a sum where the loss takes a mean (a missing "
                    "1/m)"),
    "keepdims": ({"b1"}, "shape (4,) where ∂cost/∂b1 has shape (4, 1): a lost keepdims"),
    "axis": ({"b1"}, "shape (1, 6) where ∂cost/∂b1 has shape (4, 1): summed over the wrong axis: yours keeps an axis "
                     "of m = 6 (samples)"),
}


@pytest.mark.parametrize("slip", sorted(SLIPS))
def test_every_planted_slip_is_caught_and_named_in_the_learners_names(slip):
    wrong, text = SLIPS[slip]
    report = verify(cost_of, grads_of(slip), at=PARAMS, args=(X, Y))
    assert {v.name for v in report if not v.ok} == wrong, str(report)
    for name in wrong:
        assert report[name].diagnosis.startswith(text), report[name].diagnosis


# --- how the parameters and the gradients reach the code --------------------------------------------------

def test_the_parameters_as_keywords_and_gradients_keyed_d_name():
    Xl, Yl = X[:, :4], Y[:, :4]
    seen = []

    def cost(w, b):
        A = 1 / (1 + np.exp(-(np.dot(w.T, Xl) + b)))
        return -np.mean(Yl * np.log(A) + (1 - Yl) * np.log(1 - A))

    def grads(w, b):
        seen.append((type(w), type(b)))
        A = 1 / (1 + np.exp(-(np.dot(w.T, Xl) + b)))
        return {"dw": np.dot(Xl, (A - Yl).T) / 4, "db": np.sum(A - Yl) / 4}
    at = {"w": np.array([[0.2], [-0.4], [0.1]]), "b": 0.3}
    report = verify(cost, grads, at=at)
    assert report.ok and len(report) == 2, str(report)
    assert all(t == (np.ndarray, float) for t in seen) and len(seen) == 5      # plain numbers, at every point
    want = fd(lambda p: cost(p["w"], p["b"]), at)
    assert np.allclose(report["w"].autograd, want["w"], rtol=1e-5) and abs(report["b"].autograd - want["b"]) < 1e-6


@pytest.mark.parametrize("key", ["W1", "dW1", "grad_W1"])
def test_gradients_keyed_by_name_dname_or_grad_name(key):
    def grads(X, Y, parameters):
        g = grads_of()(X, Y, parameters)
        return {key.replace("W1", k[1:]): v for k, v in g.items()}
    assert verify(cost_of, grads, at=PARAMS, args=(X, Y)).ok


def test_a_tuple_with_the_grads_dict_and_the_cost_as_propagate_returns():
    def propagate(X, Y, parameters):
        return grads_of()(X, Y, parameters), cost_of(X, Y, parameters)
    assert verify(propagate, propagate, at=PARAMS, args=(X, Y)).ok
    assert verify_pair(propagate, at=PARAMS, args=(X, Y)).ok


def test_a_gradient_the_code_does_not_return_is_said_with_the_keys_it_has():
    def grads(X, Y, parameters):
        g = grads_of()(X, Y, parameters)
        del g["db2"]
        return g
    v = verify(cost_of, grads, at=PARAMS, args=(X, Y))["b2"]
    assert not v.ok and v.kind == "missing"
    assert v.diagnosis == "no gradient for b2: your gradients have no key 'b2', 'db2' or 'grad_b2' (keys: dW1, db1, dW2)"


# --- CS231n style: samples as rows, net.loss(X, y, reg) -> (loss, grads), parameters read in place -------

XR, YR = RNG.normal(size=(7, 4)), np.array([0, 2, 1, 1, 0, 2, 2])     # N = 7 samples, D = 4, C = 3 classes


class Net:
    def __init__(self, seed=0, slip=None):
        rng = np.random.default_rng(seed)
        self.params = {"W1": rng.normal(size=(4, 5)), "b1": rng.normal(size=5),
                       "W2": rng.normal(size=(5, 3)), "b2": rng.normal(size=3)}
        self.slip = slip

    def loss(self, X, y=None, reg=0.0):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        N = X.shape[0]
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
        loss = -np.sum(np.log(probs[np.arange(N), y])) / N + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads["W2"] = hidden.T.dot(dscores) + (2 * reg * W2 if self.slip != "reg" else 0)
        grads["b2"] = np.sum(dscores, axis=0)
        dhidden = dscores.dot(W2.T)
        if self.slip == "mask on dhidden":
            dhidden[dhidden <= 0] = 0
        elif self.slip != "no mask":
            dhidden[hidden <= 0] = 0
        grads["W1"] = X.T.dot(dhidden) + (2 * reg * W1 if self.slip != "half reg" else reg * W1)
        grads["b1"] = np.sum(dhidden, axis=0)
        return loss, grads


def test_a_net_that_reads_its_parameters_in_place_matches_finite_differences():
    net = Net(1)
    report = verify_pair(net.loss, at=net.params, args=(XR, YR), kwargs={"reg": 0.1})
    saved = {k: v.copy() for k, v in net.params.items()}

    def cost(p):
        net.params.update(p)
        return net.loss(XR, YR, reg=0.1)[0]
    want = fd(cost, dict(saved))
    net.params.update(saved)
    for name in saved:
        assert np.allclose(report[name].autograd, want[name], rtol=1e-5, atol=1e-8), name
    assert report.ok
    assert all(np.array_equal(net.params[k], saved[k]) for k in saved)      # the net's own numbers put back


NET_SLIPS = {
    "no mask": ({"W1", "b1"}, "you left out ∂hidden/∂(the input of hidden) = [the input of hidden > 0] (a forgotten "
                              "local derivative), on every element of hidden"),
    "mask on dhidden": ({"W1", "b1"}, "∂hidden/∂(the input of hidden) taken as [dhidden > 0] instead of [the input of "
                                      "hidden > 0]: relu's mask taken from the upstream gradient dhidden"),
    "reg": ({"W2"}, "yours leaves out the gradient of the regularisation term"),
    "half reg": ({"W1"}, "∂(W1²)/∂W1 taken as W1 instead of 2·W1: the 2 of a square (d(u²) = 2u du) left out (in "),
}


@pytest.mark.parametrize("slip", sorted(NET_SLIPS))
def test_every_planted_slip_of_a_cs231n_net_is_named(slip):
    wrong, text = NET_SLIPS[slip]
    net = Net(2, slip)
    report = verify_pair(net.loss, at=net.params, args=(XR, YR), kwargs={"reg": 0.1})
    assert {v.name for v in report if not v.ok} == wrong, str(report)
    for name in wrong:
        assert report[name].diagnosis.startswith(text), report[name].diagnosis
        if "reg" in slip:
            assert "coefficient reg" in report[name].diagnosis


# --- backward helpers alone, as vector-Jacobian products ----------------------------------------------------

def relu(Z):
    A = np.maximum(0, Z)
    return A, Z


def relu_backward(dA, cache):
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid(Z):
    A = 1 / (1 + np.exp(-Z))
    return A, Z


def sigmoid_backward(dA, cache):
    s = 1 / (1 + np.exp(-cache))
    return dA * s * (1 - s)


def linear_forward(A, W, b):
    return np.dot(W, A) + b, (A, W, b)


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    return np.dot(W.T, dZ), np.dot(dZ, A_prev.T), np.sum(dZ, axis=1, keepdims=True)


def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return loss, dx / N


HELPERS = [
    (relu, relu_backward, lambda rng: {"Z": rng.normal(size=(3, 5))}),
    (sigmoid, sigmoid_backward, lambda rng: (rng.normal(size=(3, 5)),)),
    (linear_forward, linear_backward, lambda rng: (rng.normal(size=(4, 5)), rng.normal(size=(4, 4)),
                                                   rng.normal(size=(4, 1)))),
]


def test_a_helper_is_checked_against_the_closed_form_vjp():
    # relu: the VJP of A = max(0, Z) with upstream dA is dA ⊙ [Z > 0]; the verdict's numbers are the
    # learner's own and autograd's, and autograd's is that closed form
    Z = np.array([[0.5, -1.0], [2.0, -0.3]])
    report = verify_backward(relu, relu_backward, at={"Z": Z}, nearby=0)
    v = report["Z"]
    dA = v.hand / np.where(Z > 0, 1.0, np.nan)                 # the upstream the learner's helper received
    assert np.allclose(v.autograd, np.where(Z > 0, dA, 0.0)) and v.ok
    # linear: dA_prev = Wᵀ dZ, dW = dZ A_prevᵀ, db = Σ dZ over the samples
    rng = np.random.default_rng(5)
    report = verify_backward(linear_forward, linear_backward, at=HELPERS[2][2](rng))
    assert report.ok and [v.name for v in report] == ["A", "W", "b"]


HELPER_SLIPS = [
    ("relu without its mask", relu, lambda dA, cache: np.array(dA, copy=True), {"Z"},
     "you left out ∂A/∂Z = [Z > 0] (a forgotten local derivative), on every element of A"),
    ("relu masked where dA ≤ 0", relu, lambda dA, cache: dA * (dA > 0), {"Z"},
     "∂A/∂Z taken as [dA > 0] instead of [Z > 0]: relu's mask taken from the upstream gradient dA = ∂L/∂A, not from "
     "relu's input, on every element of A"),
    ("σ' as 1 − s²", sigmoid, lambda dA, cache: dA * (1 - (1 / (1 + np.exp(-cache))) ** 2), {"Z"},
     "∂A/∂Z taken as 1 − A² instead of σ(Z)·(1 − σ(Z)): tanh's derivative 1 − a² used for σ', on every element of A"),
    ("linear without Wᵀ (a square W)", linear_forward, lambda dZ, c: (np.dot(c[1], dZ), np.dot(dZ, c[0].T),
                                                                      np.sum(dZ, axis=1, keepdims=True)), {"A"},
     "W transposed: a transpose missing or one too many"),
    ("db lost keepdims", linear_forward, lambda dZ, c: (np.dot(c[1].T, dZ), np.dot(dZ, c[0].T), np.sum(dZ, axis=1)),
     {"b"}, "shape (4,) where ∂L/∂b has shape (4, 1): a lost keepdims"),
]


@pytest.mark.parametrize("case", HELPER_SLIPS, ids=[c[0] for c in HELPER_SLIPS])
def test_a_helpers_slip_is_caught_and_named(case):
    _, forward, backward, wrong, text = case
    inputs = next(h[2] for h in HELPERS if h[0] is forward)(np.random.default_rng(8))
    report = verify_backward(forward, backward, at=inputs)
    assert {v.name for v in report if not v.ok} == wrong, str(report)
    if text:
        for name in wrong:
            assert report[name].diagnosis.startswith(text), report[name].diagnosis


def test_a_softmax_loss_backward_is_a_pair():
    x, y = RNG.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
    report = verify_pair(softmax_loss, at={"x": x}, args=(y,))
    want = fd(lambda p: softmax_loss(p["x"], y)[0], {"x": x})
    assert report.ok and np.allclose(report["x"].autograd, want["x"], rtol=1e-5, atol=1e-8)

    def no_mean(x, y):
        loss, dx = softmax_loss(x, y)
        return loss, dx * x.shape[0]
    v = verify_pair(no_mean, at={"x": x}, args=(y,))["x"]
    assert v.diagnosis.startswith("off by a constant factor 5: N = 5 times autograd"), v.diagnosis

    def one_hot(sign):                 # dx = (probs ± one-hot)/N, or probs/N: the cross-entropy's slips
        def loss_and_dx(x, y):
            loss, dx = softmax_loss(x, y)
            N = x.shape[0]
            dx[np.arange(N), y] += (1 + sign) / N
            return loss, dx
        return loss_and_dx
    said = {1: "∂log_probs/∂x taken as −one-hot − softmax(x) instead of one-hot − softmax(x): the one-hot added, "
               "not subtracted", 0: "∂log_probs/∂x taken as −softmax(x) instead of one-hot − softmax(x): the "
                                    "one-hot of the correct class left out"}
    for sign, text in said.items():
        v = verify_pair(one_hot(sign), at={"x": x}, args=(y,))["x"]
        assert v.diagnosis.startswith(text) and "on every element of log_probs" in v.diagnosis, v.diagnosis


def test_a_sigmoid_written_out_is_sigmoid_to_the_search():
    # logistic regression with σ written as 1/(1 + np.exp(−z)) and σ'(z) = A(1 − A) applied on top of A − Y
    Xl, Yl = X[:, :5], Y[:, :5]

    def cost(w, b):
        A = 1 / (1 + np.exp(-(np.dot(w.T, Xl) + b)))
        return -np.sum(Yl * np.log(A) + (1 - Yl) * np.log(1 - A)) / 5

    def grads(w, b):
        A = 1 / (1 + np.exp(-(np.dot(w.T, Xl) + b)))
        dZ = (A - Yl) * A * (1 - A)
        return {"dw": np.dot(Xl, dZ.T) / 5, "db": np.sum(dZ) / 5}
    report = verify(cost, grads, at={"w": np.array([[0.3], [-0.2], [0.5]]), "b": 0.1})
    for v in report:
        assert v.diagnosis == ("∂A/∂(the input of A) = σ(the input of A)·(1 − σ(the input of A)) applied twice (an "
                               "extra local derivative), on every element of A"), v.diagnosis


# --- what cannot be checked is said in one line ----------------------------------------------------------------

def test_untraceable_code_gets_its_one_line_error():
    def cost(W):
        return np.sum(np.linalg.inv(W))                                     # computes in C on plain floats
    with pytest.raises(TraceError) as err:
        verify(cost, lambda W: {"dW": -np.linalg.inv(W).T @ np.ones((2, 2)) @ np.linalg.inv(W).T},
               at={"W": np.array([[2.0, 0.5], [0.1, 1.0]])})
    text = str(err.value)
    assert "\n" not in text and "test_backprop.py:" in text and "np.linalg.inv" in text, text


def test_bad_calls_are_refused_in_one_line():
    with pytest.raises(TypeError, match="'at' must be a dict"):
        verify(cost_of, grads_of(), at=[1.0, 2.0], args=(X, Y))
    with pytest.raises(TypeError, match=r"returned 1 gradient\(s\) for 3 input\(s\)"):
        verify_backward(linear_forward, lambda dZ, cache: dZ, at=HELPERS[2][2](RNG))
    with pytest.raises(TypeError, match="<lambda> returned None: return the gradients"):
        verify(cost_of, lambda X, Y, parameters: None, at=PARAMS, args=(X, Y))
    with pytest.raises(TypeError, match="must return \\(loss, grads\\)"):
        verify_pair(lambda w: np.sum(w ** 2), at={"w": np.ones(3)})


# --- the sizes, the report ------------------------------------------------------------------------------------

def test_the_sizes_are_named_from_the_shapes_and_the_codes_own_names():
    sizes = problem_sizes(PARAMS, [X, Y], {"m": 6, "L": 2})
    assert sizes == [("m", 6.0, "samples"), ("n", 3.0, "features"), ("n_h", 4.0, "hidden units")]
    net = Net()
    sizes = problem_sizes(net.params, [XR, YR], {"N": 7, "D": 4})
    assert sizes == [("N", 7.0, "samples"), ("D", 4.0, "features"), ("n_h", 5.0, "hidden units")]


def test_the_report_shows_the_worst_element_in_a_notebook(capsys):
    report = verify(cost_of, grads_of("1 - A"), at=PARAMS, args=(X, Y))
    page = report._repr_html_()
    assert page.count("outline:2px") == 2                       # the furthest-off element of W1 and of b1
    a, h = report["W1"].autograd, report["W1"].hand
    worst = np.unravel_index(int(np.argmax(np.abs(h - a))), a.shape)
    idx = "".join(f"[{i}]" for i in worst)
    cell = page[page.index(f'title="W1{idx}: autograd {a[worst]:.6g}, yours {h[worst]:.6g}"') - 120:]
    assert "outline:2px" in cell[:200]
    report.show()                                               # outside Jupyter: the text table
    assert "MISMATCH" in capsys.readouterr().out
