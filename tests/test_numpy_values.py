"""Values inside numpy arrays, without the tracer: what numpy's object arrays call on each element.

numpy runs a ufunc on an object array by calling each element's method of the same name
(``np.tanh`` → ``.tanh()``, ``np.sqrt`` → ``.sqrt()``, ``np.abs`` → ``abs()``), reductions and
``np.dot`` with ``+`` and ``*``, and ``np.maximum``/``np.max``/``np.where`` with comparisons. These
tests pin what `Value` gives numpy for that: comparisons on the numbers held, ``float()``, ``abs``,
``sqrt``, and a Value beside an array that is not a batch.
"""

import math

import numpy as np
import pytest

from microreg import Value


def values(name, arr):
    arr = np.asarray(arr, dtype=float)
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = Value(float(arr[idx]), label=name + "".join(f"[{i}]" for i in idx))
    return out


def grads(arr):
    return np.vectorize(lambda v: v.grad, otypes=[float])(arr)


def test_comparisons_compare_the_numbers_held():
    a, b = Value(2.0), Value(-1.0)
    assert (a > b, a >= b, a < b, a <= b) == (True, True, False, False)
    assert (a > 1, 1 < a, 3 > a, a <= 2.0) == (True, True, True, True)
    assert a == a and not (a == Value(2.0)), "== stays identity: nodes are dict keys"
    assert hash(a) == hash(a)
    batch = Value(np.array([1.0, -2.0, 3.0]))
    assert (batch > 0).tolist() == [True, False, True]
    assert (values("x", [[1.0, -1.0]]) > 0).tolist() == [[True, False]]
    assert (Value(0.5) < values("x", [1.0, 0.0])).tolist() == [True, False]


def test_a_relu_mask_chosen_by_a_comparison_is_a_constant():
    # np.maximum(0, z) on an object array picks 0 or the element itself: z's grad is the mask
    z = values("z", [[1.5, -0.5], [-2.0, 0.25]])
    a = np.maximum(0, z)
    loss = np.sum(a * a)                 # Σ relu(z)²: ∂/∂z = 2z where z > 0, else 0
    loss.backward()
    assert np.allclose(grads(z), [[3.0, 0.0], [0.0, 0.5]])


def test_the_max_of_a_row_gets_the_gradient_of_the_element_chosen():
    s = values("s", [[1.0, 3.0, 2.0]])
    m = np.max(s, axis=1, keepdims=True)  # picks s[0][1]
    (np.sum(m) * 2.0).backward()
    assert grads(s).tolist() == [[0.0, 2.0, 0.0]]


def test_float_gives_the_number_of_a_scalar_node_and_refuses_a_batch():
    v = Value(0.25) * 4.0
    assert float(v) == 1.0 and float(np.squeeze(np.array(v))) == 1.0
    assert math.exp(Value(0.0)) == 1.0
    with pytest.raises(TypeError, match=r"float\(\): .* is a batch of 2 values"):
        float(Value(np.array([1.0, 2.0])))


@pytest.mark.parametrize("x", [-1.5, -0.2, 0.7, 2.0])
def test_abs_and_sqrt_match_finite_differences(x):
    h = 1e-6
    for fn, plain in ((lambda v: abs(v) * v, lambda t: abs(t) * t),
                      (lambda v: (v * v + 1.0).sqrt(), lambda t: math.sqrt(t * t + 1.0))):
        v = Value(x)
        out = fn(v)
        out.backward()
        assert out.data == pytest.approx(plain(x))
        assert v.grad == pytest.approx((plain(x + h) - plain(x - h)) / (2 * h), rel=1e-6)


def test_abs_at_zero_takes_pytorchs_subgradient():
    v = Value(0.0)
    abs(v).backward()
    assert v.grad == 0.0


def test_numpy_calls_abs_and_sqrt_on_object_arrays():
    x = values("x", [[4.0, -9.0]])
    r = np.sqrt(np.abs(x))
    assert [e.data for e in r.ravel()] == [2.0, 3.0]
    np.sum(r).backward()           # ∂√|x|/∂x = sign(x) / (2√|x|)
    assert np.allclose(grads(x), [[0.25, -1 / 6]])


def test_a_value_beside_an_array_of_values_runs_element_by_element():
    # logistic regression's np.dot(w.T, X) + b with a float parameter b
    w, b = values("w", [[0.5], [-1.0]]), Value(0.3, label="b")
    X = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]])
    z = np.dot(w.T, X) + b
    assert z.shape == (1, 3) and z.dtype == object
    assert np.allclose([e.data for e in z.ravel()], [0.3, 2.3, -2.7])
    z2 = b + np.dot(w.T, X)
    assert [e.data for e in z2.ravel()] == [e.data for e in z.ravel()]
    np.sum(z * z).backward()        # ∂/∂b Σ z² = 2 Σ z = 2 (0.3 + 2.3 − 2.7)
    assert b.grad == pytest.approx(-0.2)


def test_a_value_beside_a_2d_array_of_numbers_keeps_numpys_shape():
    w, X = Value(2.0, label="w"), np.array([[1.0, 2.0], [3.0, 4.0]])
    for out in (w * X, X * w, X - w, w / X, X ** w):
        assert out.shape == (2, 2) and all(isinstance(e, Value) for e in out.ravel())
    assert [e.data for e in (X - w).ravel()] == [-1.0, 0.0, 1.0, 2.0]
    # a 1-D array of numbers is still a batch: one node
    assert isinstance(w * np.array([1.0, 2.0]), Value)


def test_a_0d_array_holding_a_value_is_that_value_in_arithmetic():
    b = Value(1.5)
    box = np.array(b)
    out = Value(2.0) * box
    assert isinstance(out, Value) and out.data == 3.0
