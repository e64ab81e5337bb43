"""The documents' networks: names, forward values, batches, losses, training, saving."""

import json
import math
import os

import numpy as np
import pytest

from microreg import Value
from microreg.derivations import two_layer_forward
from microreg.nn import (DeepNet, SGD, Adam, LinearRegression, ModelFileError, TwoLayerNet, fit, half_mse,
                         load_model, mse, rmse, squared_error)


def test_parameter_names_follow_the_documents():
    net = TwoLayerNet(2, 3, seed=0)
    names = [n for n, _ in net.named_parameters()]
    assert names[:3] == ["w1[0][0]", "w1[0][1]", "w1[1][0]"]
    assert names[6:] == ["b1[0]", "b1[1]", "b1[2]", "w2[0]", "w2[1]", "w2[2]", "b2"]
    assert all(p.label == n for n, p in net.named_parameters())
    assert [n for n, _ in LinearRegression(2).named_parameters()] == ["w[0]", "w[1]", "b"]
    assert [n for n, _ in DeepNet(2, [1, 1]).named_parameters()] == ["w1[0][0]", "w1[0][1]", "b1[0]", "w2[0][0]", "b2[0]"]


def _arrays(net):
    w1 = np.array([[p.data for p in row] for row in net.w1])
    return w1, np.array([p.data for p in net.b1]), np.array([p.data for p in net.w2]), net.b2.data


@pytest.mark.parametrize("seed", range(3))
def test_two_layer_forward_equals_the_documents_numpy(seed):
    rng = np.random.default_rng(seed)
    net = TwoLayerNet(3, 5, seed=seed)
    x = rng.normal(size=3)
    expected = two_layer_forward(*_arrays(net), x)["y_hat"]   # z1 = w1 x + b1, a1 = σ(z1), z2 = w2 a1 + b2
    assert math.isclose(net(list(x)).data, expected, rel_tol=1e-12), f"{net(list(x)).data} vs {expected}"


def test_batch_call_equals_sample_calls():
    rng = np.random.default_rng(1)
    net = TwoLayerNet(2, 4, seed=1)
    X = rng.normal(size=(6, 2))
    batch = net(X).data
    loop = [net(list(x)).data for x in X]
    assert np.allclose(batch, loop, rtol=1e-13), f"{batch} vs {loop}"


def test_mlp_shapes_one_neuron_layer_and_activations():
    m = DeepNet(3, [4, 1, 2, 1], activation="tanh", output_activation="linear", seed=0)
    out = m([0.1, -0.2, 0.3])
    assert isinstance(out, Value)
    two = DeepNet(3, [1, 2], seed=0)([1.0, 2.0, 3.0])
    assert isinstance(two, list) and len(two) == 2
    for act in ("sigmoid", "tanh", "relu", "linear"):
        DeepNet(2, [3, 1], activation=act, seed=0)(np.ones((5, 2)))
    with pytest.raises(ValueError, match="activation must be one of"):
        DeepNet(2, [3], activation="swish")


def test_wrong_feature_count_is_named():
    with pytest.raises(ValueError, match="expects 2 features per sample, got 3"):
        TwoLayerNet(2, 3)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="expects 2 features per sample, got 1"):
        TwoLayerNet(2, 3)(np.ones((4, 1)))


def test_loss_conventions():
    pred, y = Value(np.array([1.0, 2.0, 4.0])), np.array([0.0, 2.0, 1.0])
    # residuals 1, 0, 3: Σ r² = 10; mean 10/3; half 10/6; rmse √(10/3)
    assert math.isclose(squared_error(pred, y).data, 10.0)
    assert math.isclose(mse(pred, y).data, 10 / 3)
    assert math.isclose(half_mse(pred, y).data, 10 / 6)
    assert math.isclose(rmse(pred, y).data, math.sqrt(10 / 3))
    assert squared_error(Value(3.0), 1.0).data == 4.0   # one sample: (a − y)²


def test_fit_learns_a_line_like_least_squares():
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, 100)
    y = 2 * x + 1 + 0.3 * rng.normal(size=100)
    model = LinearRegression(1, seed=0)
    history = fit(model, x[:, None], y, loss=mse, epochs=300, lr=0.1, progress=False)
    beta, *_ = np.linalg.lstsq(np.c_[x, np.ones_like(x)], y, rcond=None)
    assert history[-1] < history[0] and history.stopped is None
    assert np.allclose([model.w[0].data, model.b.data], beta, atol=1e-6), f"{model.state_dict()} vs lstsq {beta}"


def test_fit_stops_on_a_non_finite_loss_with_a_clear_message():
    x = np.linspace(-3, 3, 50)
    model = LinearRegression(1, seed=0)
    history = fit(model, x[:, None], 100 * x, epochs=200, lr=50.0, progress=False)
    assert history.stopped and "learning rate" in history.stopped and len(history) < 200
    assert all(math.isfinite(p.data) for p in model.parameters())
    restored = mse(model(x[:, None]), 100 * x).data
    assert restored == history[-1], f"parameters of the last finite loss: {restored} vs {history[-1]}"


def test_adam_and_sgd_reduce_the_loss():
    rng = np.random.default_rng(2)
    X = rng.uniform(-2, 2, (80, 1))
    y = np.sin(X[:, 0])
    for make in (lambda ps: SGD(ps, lr=0.5), lambda ps: Adam(ps, lr=0.02)):
        net = TwoLayerNet(1, 8, seed=0)
        h = fit(net, X, y, epochs=300, optimizer=make(net.parameters()), progress=False)
        assert h[-1] < 0.2 * h[0], f"{h[0]} → {h[-1]}"


def test_save_load_round_trip_and_atomic(tmp_path):
    net = TwoLayerNet(2, 3, seed=4)
    path = tmp_path / "model.json"
    net.save(path, note="hello")
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"], "no temporary file left behind"
    again = load_model(path)
    assert again.state_dict() == net.state_dict() and again.extra == {"note": "hello"}
    assert again([0.3, -0.1]).data == net([0.3, -0.1]).data
    m = DeepNet(2, [3, 1], activation="tanh", seed=1)
    m.save(tmp_path / "mlp.json")
    assert load_model(tmp_path / "mlp.json").config() == m.config()


@pytest.mark.parametrize("content,words", [
    ("{not json", "line 1, column 2: not valid JSON"),
    ('{"format": "other"}', "key 'format'"),
    ('{"format": "microreg-model", "model": "Nope", "config": {}, "parameters": {}}', "key 'model': unknown model 'Nope'"),
    ('{"format": "microreg-model", "model": "LinearRegression", "config": {"n_features": 1}, '
     '"parameters": {"w[0]": 1.0}}', "key 'config': LinearRegression with this config has 2 parameters, key 'parameters' holds 1"),
    ('{"format": "microreg-model", "model": "LinearRegression", "config": {"n_features": 1}, '
     '"parameters": {"w[0]": 1.0, "c": 2}}', "key 'parameters'.*missing \\['b'\\], unexpected \\['c'\\]"),
    ('{"format": "microreg-model", "model": "LinearRegression", "config": {"n_features": 1}, '
     '"parameters": {"w[0]": "x", "b": 0}}', "parameter 'w\\[0\\]' must be a finite number"),
    ('{"format": "microreg-model", "model": "LinearRegression", "config": {"n_features": 1}}', "key 'parameters' is missing"),
])
def test_corrupt_model_files_name_file_and_key(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ModelFileError, match=words) as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_missing_model_file():
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model("/nonexistent/model.json")


def test_zero_grad_and_json_is_plain(tmp_path):
    net = LinearRegression(1)
    mse(net(np.ones((3, 1))), np.zeros(3)).backward()
    assert any(p.grad != 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad == 0.0 for p in net.parameters())
    net.save(tmp_path / "m.json")
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["model"] == "LinearRegression" and set(doc["parameters"]) == {"w[0]", "b"}
    assert os.stat(tmp_path / "m.json").st_mode & 0o044, "readable like any other file"


# --- model files that would crash or hang the loader (issue 14) ----------------------------------

def _doc(model="TwoLayerNet", config=None, parameters=None):
    return {"format": "microreg-model", "version": 1, "model": model,
            "config": {"n_features": 1, "n_hidden": 1} if config is None else config,
            "parameters": {"w1[0][0]": 0.5, "b1[0]": 0.0, "w2[0]": 1.0, "b2": 0.0} if parameters is None else parameters}


@pytest.mark.parametrize("doc,words", [
    (_doc(config={"n_features": 1, "n_hidden": 0}), "key 'config.n_hidden' must be a whole number ≥ 1, got 0"),
    (_doc(config={"n_features": -1, "n_hidden": 1}), "key 'config.n_features' must be a whole number ≥ 1, got -1"),
    (_doc(config={"n_features": 1.5, "n_hidden": 1}), "key 'config.n_features' must be a whole number ≥ 1, got 1.5"),
    (_doc(config={"n_features": True, "n_hidden": 1}), "key 'config.n_features' must be a whole number ≥ 1, got True"),
    (_doc(config={"n_features": 1, "n_hidden": 1, "depth": 3}), "key 'config': unknown keys \\['depth'\\]"),
    (_doc(config=[1]), "key 'config' must be an object"),
    (_doc(model=[1]), "key 'model': unknown model \\[1\\]"),
    (_doc(model="MLP", config={"n_inputs": 1, "layer_sizes": [0]}), "key 'config.layer_sizes' must be a list"),
    (_doc(model="MLP", config={"n_inputs": 1, "layer_sizes": [1], "activation": "swish"}),
     "key 'config.activation' must be one of"),
    (_doc(config={"n_features": 1, "n_hidden": 30000000}),
     "key 'config': TwoLayerNet with this config has 90000001 parameters, key 'parameters' holds 4"),
])
def test_bad_configs_are_model_file_errors_naming_the_key(tmp_path, doc, words):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=words):
        load_model(path)


@pytest.mark.parametrize("text,words", [
    ('{"format": "microreg-model", "model": "TwoLayerNet", "config": {"n_features": 1e400, "n_hidden": 1}, '
     '"parameters": {}}', "key 'config.n_features' must be a whole number ≥ 1, got inf"),
    ('{"format": "microreg-model", "model": "TwoLayerNet", "config": {"n_features": 1' + "0" * 400 + ', "n_hidden": 1}, '
     '"parameters": {}}', "key 'config': TwoLayerNet with this config has"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ('{"format": "microreg-model", "model": "TwoLayerNet", "config": {"n_features": 1' + "0" * 5000 + '}}',
     "not valid JSON"),
])
def test_huge_numbers_and_deep_nesting_are_model_file_errors(tmp_path, text, words):
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(ModelFileError, match=words) as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_load_is_linear_in_the_parameter_count(tmp_path):
    # 40,401 parameters: with a set rebuilt per key this took tens of seconds; linear, well under one
    import time
    net = TwoLayerNet(200, 200, seed=0)
    net.save(tmp_path / "big.json")
    start = time.perf_counter()
    again = load_model(tmp_path / "big.json")
    seconds = time.perf_counter() - start
    assert again.state_dict() == net.state_dict()
    assert seconds < 10, f"loading 40,401 parameters took {seconds:.1f}s"


def test_save_refuses_a_nan_parameter_by_name(tmp_path):
    net = TwoLayerNet(1, 2, seed=0)
    net.w2[1].data = float("nan")
    (tmp_path / "m.json").write_text("old")
    with pytest.raises(ValueError, match="parameter 'w2\\[1\\]' is nan"):
        net.save(tmp_path / "m.json")
    assert (tmp_path / "m.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_an_interrupted_save_leaves_no_temporary_file_and_the_old_file(tmp_path, monkeypatch):
    (tmp_path / "m.json").write_text("old")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        LinearRegression(1).save(tmp_path / "m.json")
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"] and (tmp_path / "m.json").read_text() == "old"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads file names from /proc (Linux)")
def test_save_fsyncs_the_file_and_its_folder(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.path.realpath(f"/proc/self/fd/{fd}")), real(fd)))
    LinearRegression(1).save(tmp_path / "m.json")
    assert len(synced) == 2, synced
    assert os.path.dirname(synced[0]) == str(tmp_path.resolve()) and synced[1] == str(tmp_path.resolve()), synced


# --- fit's errors (issue 14) -----------------------------------------------------------------------

def test_fit_unknown_loss_lists_the_losses():
    with pytest.raises(ValueError, match="unknown loss 'nope' \\(losses: mse, half_mse, squared_error, rmse\\)"):
        fit(LinearRegression(1), np.ones((3, 1)), np.ones(3), loss="nope", progress=False)


def test_fit_names_nan_in_the_data_not_the_learning_rate():
    X = np.ones((4, 2))
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="the data X\\[2, 1\\] is nan") as info:
        fit(LinearRegression(2), X, np.ones(4), progress=False)
    assert "learning rate" not in str(info.value)
    with pytest.raises(ValueError, match="the data y\\[0\\] is inf"):
        fit(LinearRegression(1), np.ones((2, 1)), [np.inf, 1.0], progress=False)


# --- validation, best epoch, patience, weight decay ----------------------------------------------

def test_validation_keeps_the_best_epoch_and_patience_stops():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 1))
    y = X[:, 0] + 0.1 * rng.normal(size=30)
    Xv = rng.normal(size=(30, 1))
    yv = 3 * Xv[:, 0]    # a validation set the training data disagrees with: its best epoch comes early
    net = LinearRegression(1, seed=0)
    h = fit(net, X, y, epochs=500, lr=0.1, validation=(Xv, yv), patience=20, progress=False)
    assert len(h.validation) == len(h) < 500 and h.early_stop and "epoch" in h.early_stop
    best = int(np.argmin(h.validation)) + 1
    assert h.best_epoch == best and len(h) == best + 20, (h.best_epoch, best, len(h))
    kept = mse(net(Xv), yv).data
    assert math.isclose(kept, min(h.validation), rel_tol=1e-12), f"kept parameters score {kept}, best {min(h.validation)}"


def test_weight_decay_is_the_l2_penalty():
    # minimising 1/n Σ (w x + b − y)² + ½·λ·(w² + b²): the normal equations (XᵀX/n·2 + λI) β = 2Xᵀy/n
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, 50)
    y = 3 * x + 1 + 0.2 * rng.normal(size=50)
    lam = 0.5
    A = np.c_[x, np.ones_like(x)]
    beta = np.linalg.solve(2 * A.T @ A / 50 + lam * np.eye(2), 2 * A.T @ y / 50)
    net = LinearRegression(1, seed=0)
    fit(net, x[:, None], y, epochs=2000, optimizer=SGD(net.parameters(), lr=0.1, weight_decay=lam), progress=False)
    got = [net.w[0].data, net.b.data]
    assert np.allclose(got, beta, atol=1e-6), f"{got} vs closed form {beta}"


def test_a_failed_write_names_the_users_path_not_the_temporary_file():
    # /proc takes no new files: mkstemp fails there, and the error must name what the user asked for
    from microreg.files import atomic_write
    with pytest.raises(OSError) as info:
        atomic_write("/proc/microreg-model.json", "{}")
    assert info.value.filename == "/proc/microreg-model.json", f"got {info.value.filename!r}"
