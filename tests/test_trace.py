"""microreg.trace: a learner's numpy forward pass run on Values, named with the learner's names.

Every gradient is checked against central finite differences of the same function run on plain
numbers (numpy itself, no microreg), or against a closed form written out here.
"""

import math
import sys

import numpy as np
import pytest

from microreg import Value
from microreg.step import Stepper
from microreg.trace import TracedArray, TraceError, trace

RNG = np.random.default_rng(7)
W0 = RNG.normal(size=(3, 4))
X0 = RNG.normal(size=(4, 5))
Y_IDX = np.array([0, 2, 1, 1, 0])


def fd(f, params, h=1e-6):
    """Central differences of f(**params) (plain numbers) for every element of every parameter."""
    def at(p):
        return float(np.squeeze(np.asarray(f(**p), dtype=float)))
    out = {}
    for name, value in params.items():
        arr = np.array(value, dtype=float)
        g = np.zeros(arr.shape)
        for idx in np.ndindex(arr.shape):
            up, down = arr.copy(), arr.copy()
            up[idx] += h
            down[idx] -= h
            g[idx] = (at({**params, name: up if arr.ndim else float(up)})
                      - at({**params, name: down if arr.ndim else float(down)})) / (2 * h)
        out[name] = g
    return out


def softmax_nll(W, b):
    scores = X0.T @ W.T + b
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    return -np.mean(np.log(probs[np.arange(5), Y_IDX]))


def in_place(W, b):
    A = np.tanh(W @ X0).copy()
    A += b
    A[np.arange(3), [0, 1, 2]] -= 1.0
    A *= 0.5
    return np.sum(A ** 2)


# name → f(W, b): W a (3, 4) array, b a float; each written as a learner writes numpy
FEATURES = {
    "np.dot": lambda W, b: np.sum(np.dot(W, X0)),
    "@": lambda W, b: np.sum((W @ X0) ** 2),
    "np.matmul": lambda W, b: np.sum(np.matmul(W, X0) * b),
    "X.dot(W.T) (a float array's method)": lambda W, b: np.sum(X0.T.dot(W.T) ** 2),
    "W.dot(X)": lambda W, b: np.sum(W.dot(X0) ** 2),
    ".T and reshape": lambda W, b: np.sum(W.T.reshape(2, 6) ** 3),
    "np.tanh": lambda W, b: np.sum(np.tanh(W)),
    "np.exp": lambda W, b: np.sum(np.exp(W * b)),
    "np.log": lambda W, b: np.sum(np.log(W * W + 1.0)),
    "np.sqrt": lambda W, b: np.sum(np.sqrt(W * W + b * b)),
    "np.power": lambda W, b: np.sum(np.power(W, 3)),
    "np.square": lambda W, b: np.sum(np.square(W - b)),
    "np.abs": lambda W, b: np.sum(np.abs(W)),
    "np.sum axis keepdims": lambda W, b: np.sum(np.sum(W, axis=1, keepdims=True) ** 2),
    "np.mean axis": lambda W, b: np.sum(np.mean(W, axis=0) ** 2),
    "np.mean": lambda W, b: np.mean(W ** 2),
    "np.maximum(0, Z)": lambda W, b: np.sum(np.maximum(0, W @ X0 + b) ** 2),
    "np.maximum(Z, 0.0)": lambda W, b: np.sum(np.maximum(W @ X0, 0.0) ** 2),
    "stable softmax with np.max and fancy indexing": softmax_nll,
    "np.where": lambda W, b: np.sum(np.where(W > 0, W, 0.1 * W) ** 2),
    "float(np.squeeze(cost))": lambda W, b: float(np.squeeze(np.sum(np.tanh(W) ** 2) / 4)),
    ".copy(), +=, -= on fancy indexing, *=": in_place,
    "a float b beside an array": lambda W, b: np.sum(1 / (1 + np.exp(-(np.dot(W, X0) + b)))),
    "b + array": lambda W, b: np.sum((b + np.dot(W, X0)) ** 2),
    "np.exp of one number": lambda W, b: np.exp(np.dot(W[0], X0[:, 0]) + b),
    "np.squeeze(np.array(cost)) (a 0-d array)": lambda W, b: np.squeeze(np.array(np.sum(W) * b)),
    "np.log1p": lambda W, b: np.sum(np.log1p(W ** 2)),
    "iterating a row": lambda W, b: sum(np.exp(w) for w in W[0]),
    "np.linalg.norm": lambda W, b: np.linalg.norm(W) * b,
    "builtin max of two numbers": lambda W, b: max(W[0, 0], W[1, 1]) * b,
    "np.log of np.clip (numbers beside Values)": lambda W, b: np.sum(np.log(np.clip(W * W, 1e-8, 1.0))),
    "np.exp of np.where(Z > 0, Z, 0)": lambda W, b: np.sum(np.exp(np.where(W > 0, W, 0))),
    "np.argmax as an index": lambda W, b: np.sum(W[np.arange(3), np.argmax(W, axis=1)]) * b,
    "np.sign, np.round, np.isnan: constants": lambda W, b: np.sum(W * np.sign(W) + W * np.round(W)
                                                                   + np.where(np.isnan(W), 0.0, W)),
}


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_numpy_code_traces_and_autograd_matches_finite_differences(name):
    f = FEATURES[name]
    point = {"W": W0, "b": 0.7}
    t = trace(f, point)
    assert isinstance(t.loss, Value) and t.loss.data == pytest.approx(float(np.squeeze(f(W0, 0.7))))
    auto, want = t.backward(), fd(f, point)
    assert auto["W"].shape == W0.shape and isinstance(auto["b"], float)
    assert np.allclose(auto["W"], want["W"], rtol=1e-5, atol=1e-7), f"{auto['W']}\n{want['W']}"
    assert auto["b"] == pytest.approx(float(want["b"]), rel=1e-5, abs=1e-7)


def test_relu_of_np_maximum_is_a_relu_node_per_element():
    t = trace(lambda W: np.sum(np.maximum(0, W)), {"W": W0})
    A = [n for n in _nodes(t.loss) if n._op == "relu"]
    assert len(A) == W0.size


def test_a_float_parameter_reaches_the_code_as_a_0d_array_and_comes_back_as_a_value():
    seen = {}

    def f(w, b):
        seen["b"] = b
        return np.sum(w * b)
    t = trace(f, {"w": np.ones(3), "b": 2.0})
    assert isinstance(seen["b"], np.ndarray) and seen["b"].shape == ()
    assert isinstance(t.params["b"], Value) and t.params["b"].label == "b"
    assert t.backward()["b"] == 3.0


# --- what cannot be traced: one line, the numpy function, the learner's line -------------------------

def _inv(W, b):
    return np.sum(np.linalg.inv(W[:, :3]))


def _float64(W, b):
    return np.sum(W * np.float64(W[0, 0]))


def _astype(W, b):
    return np.sum(W.astype(np.float64))


def _asarray(W, b):
    return np.sum(np.asarray(W, dtype=float) * W)


def _math_exp(W, b):
    return np.sum(W) * math.exp(W[0, 0])


def _sin(W, b):
    return np.sum(np.sin(W))


def _float_array(W, b):
    Z = np.zeros((3, 4))
    Z += W
    return np.sum(Z)


UNTRACEABLE = [(_inv, "np.linalg.inv", 1), (_float64, "np.float64", 1), (_astype, ".astype(float64)", 1),
               (_asarray, "np.asarray", 1), (_math_exp, "math.exp", 1), (_sin, "np.sin", 1),
               (_float_array, "np.add", 2)]


@pytest.mark.parametrize("f, function, line", UNTRACEABLE, ids=[u[1] for u in UNTRACEABLE])
def test_what_cannot_be_traced_is_one_line_naming_the_function_and_the_line(f, function, line):
    with pytest.raises(TraceError) as info:
        trace(f, {"W": W0, "b": 0.5})
    err = info.value
    text = str(err)
    assert "\n" not in text
    assert err.function == function, text
    assert err.lineno == f.__code__.co_firstlineno + line, text
    assert f"test_trace.py:{err.lineno}" in text and function in text
    assert err.source and err.source in text


def test_data_may_become_plain_numbers_a_traced_value_may_not():
    def one_hot_cost(W, X, Y):
        labels = Y.astype(int)                       # data: fine
        first = int(Y[0, 0]) + float(X[0, 0]) * 0.0  # data: fine
        scores = W @ X
        return -np.sum(scores[labels[0], np.arange(5)]) + first
    Y = np.array([[0.0, 2.0, 1.0, 1.0, 0.0]])
    t = trace(one_hot_cost, {"W": W0}, X0, Y)
    assert np.allclose(t.backward()["W"], fd(lambda W: one_hot_cost(W, X0, Y), {"W": W0})["W"], atol=1e-7)
    with pytest.raises(TraceError, match=r"int\(\) cannot run on traced values \(it turns a traced value into a "
                                         r"plain integer"):
        trace(lambda W: np.sum(W) * int(W[0, 0]), {"W": W0})


def test_an_error_of_the_code_itself_is_raised_as_it_is():
    def bad(W, b):
        return np.sum(np.dot(W, W))          # (3, 4)·(3, 4): fails on plain numbers too
    with pytest.raises(ValueError, match="not aligned"):
        trace(bad, {"W": W0, "b": 0.5})


def test_an_assertion_that_only_fails_on_values_is_named():
    def propagate(w, b, X):
        A = 1 / (1 + np.exp(-(np.dot(w.T, X) + b)))
        db = np.mean(A)
        assert db.dtype == float
        return -np.mean(np.log(A))
    with pytest.raises(TraceError, match=r"test_trace.py:\d+ \(assert db.dtype == float\): an assertion fails"):
        trace(propagate, {"w": np.ones((4, 1)), "b": 0.0}, X0)


def test_a_loss_that_is_no_number_or_a_number_from_nowhere_is_refused():
    with pytest.raises(TraceError, match=r"returned \(an array of shape \(3, 5\), a dict\): no single number"):
        trace(lambda W: (W @ X0, {}), {"W": W0})
    with pytest.raises(TraceError, match=r"returned the plain number 1.0, which no traced value gave"):
        trace(lambda W: 1.0, {"W": W0})


def test_the_loss_is_found_where_course_code_returns_it():
    w = {"W": W0}
    assert trace(lambda W: ({"dW": None}, np.squeeze(np.sum(W))), w).loss.data == pytest.approx(W0.sum())
    kept = trace(lambda W: ({"dW": None}, np.sum(W, axis=(0, 1), keepdims=True)), w)     # a (1, 1) cost
    assert kept.loss.data == pytest.approx(W0.sum())
    assert trace(lambda W: (np.sum(W), {"W": W * 2}), w).loss.data == pytest.approx(W0.sum())


def test_bad_parameters_are_named():
    with pytest.raises(TypeError, match=r"parameter 'W' must be a number or an array of numbers"):
        trace(lambda W: W, {"W": "abc"})
    with pytest.raises(ValueError, match=r"parameter 'W' holds a value that is not finite"):
        trace(lambda W: W, {"W": np.array([1.0, np.nan])})


def test_the_tracer_is_off_afterwards_and_a_previous_one_is_put_back():
    calls = []

    def other(frame, event, arg):
        calls.append(event)
        return None
    old = sys.gettrace()
    sys.settrace(other)
    try:
        trace(lambda W: np.sum(W), {"W": W0})
        assert sys.gettrace() is other
        with pytest.raises(TraceError):
            trace(_inv, {"W": W0, "b": 0.0})
        assert sys.gettrace() is other
    finally:
        sys.settrace(old)


# --- the learner's names -------------------------------------------------------------------------------

def sigmoid(z):
    s = 1 / (1 + np.exp(-z))
    return s


def forward_propagation(X, parameters):
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = sigmoid(Z2)
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    return A2, cache


def compute_cost(A2, Y):
    m = Y.shape[1]
    logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)
    cost = -np.sum(logprobs) / m
    return float(np.squeeze(cost))


def course_cost(X, Y, parameters):
    A2, cache = forward_propagation(X, parameters)
    return compute_cost(A2, Y)


COURSE = {"W1": RNG.normal(size=(3, 2)), "b1": RNG.normal(size=(3, 1)),
          "W2": RNG.normal(size=(1, 3)), "b2": RNG.normal(size=(1, 1))}
XC, YC = RNG.normal(size=(2, 4)), np.array([[1.0, 0.0, 0.0, 1.0]])


def _nodes(root):
    from microreg.engine import topological_order
    return topological_order(root)


def test_arrays_are_named_element_by_element_with_the_learners_names():
    t = trace(course_cost, COURSE, XC, YC)
    assert {"Z1", "A1", "Z2", "A2", "logprobs", "cost"} == set(t.arrays)
    assert t.arrays["A1"][2][0].label == "A1[2][0]" and t.arrays["A1"][2][0]._op == "tanh"
    assert t.arrays["Z1"][1][3].label == "Z1[1][3]"
    assert t.arrays["A2"][0][1].label == "A2[0][1]"            # not the helper's s
    assert "s" not in t.arrays and "z" not in t.arrays
    assert t.loss.label == "cost"
    labels = {str(n.label) for n in _nodes(t.loss) if n.label}
    assert {"W1[2][1]", "b2[0][0]", "X[1][3]", "Y[0][2]", "logprobs[0][0]"} <= labels
    # labels read the way check.py reads array elements: base name, then [i][j]
    from microreg.check import _LABEL
    assert _LABEL.match("A1[2][0]").groups() == ("A1", "[2][0]")


def test_a_helper_called_once_per_layer_numbers_its_names():
    def linear(A, W, b):
        Z = W @ A + b
        return Z

    def net(X, parameters):
        A = X
        for l in (1, 2, 3):
            Z = linear(A, parameters[f"W{l}"], parameters[f"b{l}"])
            A = np.tanh(Z)
        return np.sum(A ** 2)
    params = {f"{k}{l}": RNG.normal(size=(2, 2) if k == "W" else (2, 1)) for l in (1, 2, 3) for k in "Wb"}
    X = RNG.normal(size=(2, 3))
    t = trace(net, params, X)
    assert {"Z1", "Z2", "Z3", "A1", "A2", "A3"} <= set(t.arrays), list(t.arrays)
    assert t.arrays["Z2"][1][0].label == "Z2[1][0]"
    assert t.arrays["A3"][0][0]._op == "tanh" and t.arrays["A3"][0][0]._prev[0].label == "Z3[0][0]"
    auto, want = t.backward(), fd(lambda **p: net(X, p), params)
    assert all(np.allclose(auto[k], want[k], rtol=1e-5, atol=1e-7) for k in params)


def test_a_returned_dict_names_the_arrays():
    def forward(X, params):
        Z1 = np.dot(params["W1"], X)
        A1 = np.tanh(Z1)
        return {"Z1": Z1, "activations": A1, "loss": np.sum(A1)}

    def cost(X, params):
        return forward(X, params)["loss"]
    t = trace(cost, {"W1": COURSE["W1"]}, XC)
    assert t.arrays["A1"][0][0].label == "A1[0][0]" and t.loss.label == "loss"
    assert "activations" not in t.arrays        # the same nodes: the forward's local A1 named them first


def test_names_never_clash_with_parameters_or_data():
    def f(X, parameters):
        grads = {"W1": parameters["W1"] * 2.0}          # a dict key equal to a parameter's name
        X = np.tanh(grads["W1"] @ X)                       # a local rebinding the data's name
        return np.sum(X)
    t = trace(f, {"W1": COURSE["W1"]}, XC)
    labels = [str(n.label) for n in _nodes(t.loss) if n.label and n._prev]
    assert not any(label.startswith(("W1[", "X[")) for label in labels), labels
    assert {"W1_2", "X_2"} <= set(t.arrays)


# --- how the parameters reach the code -----------------------------------------------------------------

def test_keywords_a_dict_or_in_place_as_the_code_takes_them():
    def propagate(w, b, X, Y):                       # keywords, data after them
        A = 1 / (1 + np.exp(-(np.dot(w.T, X) + b)))
        cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
        return {"dw": None}, np.squeeze(np.array(cost))
    t = trace(propagate, {"w": np.array([[0.3], [-0.2]]), "b": 0.1}, XC, YC)
    assert set(t.data) == {"X", "Y"} and t.data["X"][1][2].label == "X[1][2]"

    t1 = trace(course_cost, COURSE, XC, YC)                 # a dict named parameters
    t2 = trace(lambda p: course_cost(XC, YC, p), COURSE)    # a dict as the only argument
    t3 = trace(course_cost, COURSE, XC, YC, pass_params="dict")
    assert t1.loss.data == t2.loss.data == t3.loss.data

    class Net:
        def __init__(self):
            self.params = {k: v.copy() for k, v in COURSE.items()}

        def loss(self, X, y):
            return course_cost(X, y, self.params)
    net = Net()
    before = {k: v.copy() for k, v in net.params.items()}
    t4 = trace(net.loss, net.params, XC, YC)               # in place: the net reads self.params
    assert t4.loss.data == pytest.approx(t1.loss.data)
    assert all(np.array_equal(net.params[k], before[k]) and net.params[k].dtype == float for k in before)
    assert np.allclose(t4.backward()["W1"], t1.backward()["W1"])


def test_parameters_read_in_place_are_put_back_when_the_code_fails():
    class Net:
        def __init__(self):
            self.params = {"W": W0.copy()}

        def loss(self, X):
            return np.sum(np.linalg.inv(self.params["W"][:, :3]) @ X[:3])
    net = Net()
    with pytest.raises(TraceError, match="np.linalg.inv"):
        trace(net.loss, net.params, X0)
    assert net.params["W"].dtype == float and np.array_equal(net.params["W"], W0)


def test_an_unknown_way_to_pass_parameters_is_refused():
    with pytest.raises(ValueError, match="pass_params must be"):
        trace(course_cost, COURSE, XC, YC, pass_params="positional")


# --- against closed forms --------------------------------------------------------------------------------

def test_logistic_regression_against_its_closed_form():
    # J = −(1/m) Σ [y log a + (1 − y) log(1 − a)], a = σ(wᵀx + b): ∂J/∂w = X(A − Y)ᵀ/m, ∂J/∂b = mean(A − Y)
    X, Y = RNG.normal(size=(3, 7)), (RNG.uniform(size=(1, 7)) > 0.5) * 1.0
    w, b = RNG.normal(size=(3, 1)), -0.4

    def propagate(w, b, X, Y):
        m = X.shape[1]
        A = 1 / (1 + np.exp(-(np.dot(w.T, X) + b)))
        return -(1 / m) * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    g = trace(propagate, {"w": w, "b": b}, X, Y).backward()
    A = 1 / (1 + np.exp(-(w.T @ X + b)))
    assert np.allclose(g["w"], X @ (A - Y).T / 7, rtol=1e-10, atol=1e-12)
    assert g["b"] == pytest.approx(float(np.mean(A - Y)), rel=1e-10)


def test_the_course_two_layer_net_against_its_closed_form():
    # the backprop formulas of a tanh/sigmoid net with cross-entropy, samples as columns
    g = trace(course_cost, COURSE, XC, YC).backward()
    W1, b1, W2, b2 = (COURSE[k] for k in ("W1", "b1", "W2", "b2"))
    A1 = np.tanh(W1 @ XC + b1)
    A2 = 1 / (1 + np.exp(-(W2 @ A1 + b2)))
    dZ2 = A2 - YC
    dZ1 = (W2.T @ dZ2) * (1 - A1 ** 2)
    want = {"W2": dZ2 @ A1.T / 4, "b2": dZ2.sum(axis=1, keepdims=True) / 4,
            "W1": dZ1 @ XC.T / 4, "b1": dZ1.sum(axis=1, keepdims=True) / 4}
    for k in want:
        assert np.allclose(g[k], want[k], rtol=1e-10, atol=1e-12), k


# --- the stepper shows the learner's own forward and backward pass -------------------------------------

def test_the_stepper_steps_through_a_traced_loss_with_the_learners_names():
    t = trace(course_cost, COURSE, XC, YC)
    stepper = Stepper(t.loss)
    text = "\n".join(stepper.text(k) for k in range(len(stepper)))
    assert "A1[2][0] = tanh(Z1[2][0])" in text
    assert "∂cost/∂Z1[2][0] += ∂cost/∂A1[2][0] · (1 − tanh²(Z1[2][0]))" in text
    names = [stepper.name(n) for n in stepper.nodes]
    assert "X[1][0]" in names and "W1[0][1]" in names
    grads = t.backward()
    final = stepper.state(len(stepper) - 1)
    w = t.params["W1"][0][1]
    assert final[1][stepper.index[id(w)]] == pytest.approx(grads["W1"][0][1])


def test_a_traced_array_keeps_one_number_traced():
    t = trace(lambda W: np.sum([np.exp(w) for w in W[0]]), {"W": W0})
    assert t.loss.data == pytest.approx(float(np.sum(np.exp(W0[0]))))
    arr = np.empty((2,), dtype=object).view(TracedArray)
    arr[0], arr[1] = Value(1.0), Value(2.0)
    assert isinstance(arr[0], TracedArray) and arr[0].shape == () and float(arr[1]) == 2.0


def test_the_module_docstring_runs():
    import doctest

    import microreg.trace
    assert doctest.testmod(microreg.trace).failed == 0
