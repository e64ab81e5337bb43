"""Autograd against the documents' closed-form gradients (shared/seeds/000, 001, 002)."""

import numpy as np
import pytest

from microreg import Value
from microreg import derivations as d
from microreg.check import _autograd


def _rand(seed, f, H):
    rng = np.random.default_rng(seed)
    return rng, {"w1": rng.normal(size=(H, f)), "b1": rng.normal(size=H), "w2": rng.normal(size=H),
                 "b2": float(rng.normal())}


@pytest.mark.parametrize("seed,f,H", [(0, 1, 1), (1, 1, 4), (2, 3, 2), (3, 2, 5), (4, 4, 3)])
def test_document_000_one_sample_equals_autograd(seed, f, H):
    rng, p = _rand(seed, f, H)
    x, y = rng.normal(size=f), float(rng.normal())
    _, auto = _autograd(lambda **v: d.two_layer_loss(**v, x=x, y=y), p)
    hand = d.two_layer_grads(**p, x=x, y=y)
    for name in ("w1", "b1", "w2", "b2"):
        assert np.allclose(hand[name], auto[name], rtol=1e-10, atol=1e-14), f"{name}: doc {hand[name]} vs autograd {auto[name]}"


@pytest.mark.parametrize("seed,f,H,m", [(0, 1, 3, 5), (1, 2, 4, 17), (2, 3, 2, 40)])
def test_document_000_batch_corrected_equals_autograd_and_as_written_is_m_times(seed, f, H, m):
    rng, p = _rand(seed, f, H)
    X, Y = rng.normal(size=(m, f)), rng.normal(size=m)
    _, auto = _autograd(lambda **v: d.two_layer_loss(**v, x=X, y=Y), p)
    corrected = d.two_layer_grads_batch_corrected(**p, X=X, Y=Y)
    written = d.two_layer_grads_batch(**p, X=X, Y=Y)
    for name in ("w1", "b1", "w2", "b2"):
        assert np.allclose(corrected[name], auto[name], rtol=1e-10, atol=1e-14), f"{name}: {corrected[name]} vs {auto[name]}"
        assert np.allclose(written[name], m * np.asarray(auto[name]), rtol=1e-10, atol=1e-13), name


def test_document_000_batch_mean_of_per_sample_grads():
    # an independent route: the batch gradient is the mean of document 000's per-sample ones
    rng, p = _rand(9, 2, 3)
    X, Y = rng.normal(size=(7, 2)), rng.normal(size=7)
    per = [d.two_layer_grads(**p, x=x, y=y) for x, y in zip(X, Y)]
    corrected = d.two_layer_grads_batch_corrected(**p, X=X, Y=Y)
    for name in ("w1", "b1", "w2", "b2"):
        assert np.allclose(np.mean([g[name] for g in per], axis=0), corrected[name], rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_document_001_delta_recursion(seed):
    rng = np.random.default_rng(seed)
    L = int(rng.integers(2, 6))
    w, b = list(rng.normal(size=L)), list(rng.normal(size=L))
    x, y = float(rng.normal()), float(rng.uniform())
    ws, bs = [Value(v) for v in w], [Value(v) for v in b]
    d.chain_cost(ws, bs, x, y).backward()
    right = d.chain_grads(w, b, x, y, as_written=False)
    assert np.allclose(right["w"], [v.grad for v in ws], rtol=1e-10) and np.allclose(right["b"], [v.grad for v in bs], rtol=1e-10)
    written = d.chain_grads(w, b, x, y, as_written=True)
    assert np.isclose(written["b"][-1], bs[-1].grad), "δ⁽ᴸ⁾ (output layer) is right as written"
    assert not np.isclose(written["b"][-2], bs[-2].grad), "δ⁽ᴸ⁻¹⁾ as written uses σ'(z⁽ᴸ⁾)"


@pytest.mark.parametrize("widths", [[3, 1], [2, 3, 2], [4, 1, 3, 2]])
def test_document_001_multivariate_equals_autograd(widths):
    rng = np.random.default_rng(len(widths))
    sizes = [2] + widths
    W = [rng.normal(size=(sizes[i + 1], sizes[i])) for i in range(len(widths))]
    B = [rng.normal(size=s) for s in widths]
    x, y = rng.normal(size=2), rng.uniform(size=widths[-1])
    params = {f"w{i}": W[i] for i in range(len(W))} | {f"b{i}": B[i] for i in range(len(B))}
    n = len(W)
    _, auto = _autograd(lambda **v: d.multivariate_cost([v[f"w{i}"] for i in range(n)], [v[f"b{i}"] for i in range(n)], x, y), params)
    hand = d.multivariate_grads(W, B, x, y)
    for i in range(n):
        assert np.allclose(hand["w"][i], auto[f"w{i}"], rtol=1e-10, atol=1e-15), f"w{i + 1}"
        assert np.allclose(hand["b"][i], auto[f"b{i}"], rtol=1e-10, atol=1e-15), f"b{i + 1}"


def test_document_002_linear_regression():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, 12)
    y = 3 * x - 1 + rng.normal(size=12)
    b1, b0 = Value(0.4), Value(0.2)
    d.linreg_mse(b1, b0, x, y).backward()
    right = d.linreg_mse_grad_corrected(0.4, 0.2, x, y)
    assert np.isclose(right["beta1"], b1.grad) and np.isclose(right["beta0"], b0.grad)
    written = d.linreg_mse_grad_as_written(0.4, 0.2, x, y)
    assert np.isclose(written["beta0"], 12 * b0.grad), "the document drops U's 1/n"
    r1, r0 = Value(0.4), Value(0.2)
    d.linreg_rmse(r1, r0, x, y).backward()
    right = d.linreg_rmse_grad_corrected(0.4, 0.2, x, y)
    assert np.isclose(right["beta1"], r1.grad) and np.isclose(right["beta0"], r0.grad)


def _numpy_version(f):
    """The document's formula computed by the numpy code of microreg.derivations, for a string Formula."""
    at, data = f.at, f.data
    if f.document == "000":
        if "one sample" in f.formula:
            return d.two_layer_grads(**at, x=data["x"], y=data["y"])
        fn = d.two_layer_grads_batch if "as written" in f.formula else d.two_layer_grads_batch_corrected
        return fn(**at, X=data["x"], Y=data["y"])
    if f.document == "001" and "w1" in at and np.ndim(at["w1"]) == 0:
        g = d.chain_grads([at["w1"], at["w2"], at["w3"]], [at["b1"], at["b2"], at["b3"]], data["x"], data["y"],
                          as_written="as written" in f.formula)
        return {f"{k}{l}": g[k][l - 1] for k in "wb" for l in (1, 2, 3)}
    if f.document == "001":
        g = d.multivariate_grads([at["w1"], at["w2"], at["w3"]], [at["b1"], at["b2"], at["b3"]], data["x"], data["y"])
        return {f"{k}{l}": g[k][l - 1] for k in "wb" for l in (1, 2, 3)}
    rmse = "RMSE" in f.formula
    fn = {(False, True): d.linreg_mse_grad_as_written, (False, False): d.linreg_mse_grad_corrected,
          (True, True): d.linreg_rmse_grad_as_written, (True, False): d.linreg_rmse_grad_corrected}[
        (rmse, "as written" in f.formula)]
    return fn(at["beta1"], at["beta0"], data["x"], data["y"])


def test_the_documents_formulas_as_strings_equal_their_numpy_code():
    from microreg.check import verify
    strings = [f for f in d.FORMULAS if any(isinstance(h, str) for h in f.hand.values())]
    assert {f.document for f in strings} == {"000", "001", "002"} and len(strings) >= 10
    for f in strings:
        report = verify(f.loss, f.hand, f.at, n=f.n, data=f.data, nearby=0, explain=False)
        expected = _numpy_version(f)
        for name in f.hand:
            got = report[name].hand
            assert np.allclose(got, expected[name], rtol=1e-10, atol=1e-13), \
                f"{f.formula} {name}: the string gives {got}, the numpy code {expected[name]}"
