"""nn at its edges (trial 14): numpy hyper-parameters, bad sizes, odd inputs, clear errors."""

import json
import math
from fractions import Fraction

import numpy as np
import pytest

from microreg import Value
from microreg.nn import (DeepNet, SGD, Adam, LinearRegression, ModelFileError, TwoLayerNet, fit, load_model, mse,
                         squared_error)


def _line(w=2.0, b=1.0):
    """ŷ = 2x + 1: a model whose every output can be worked out by hand."""
    m = LinearRegression(1, seed=0)
    m.w[0].data, m.b.data = w, b
    return m


# --- optimisers keep .data a Python float (finding 1) --------------------------------------------

HYPER_TYPES = [np.float64(0.1), np.float32(0.1), np.array(0.1), np.linspace(0.1, 0.01, 5)[0], Fraction(1, 10)]


@pytest.mark.parametrize("lr", HYPER_TYPES, ids=["float64", "float32", "0-d array", "linspace", "Fraction"])
def test_sgd_with_a_numpy_learning_rate_keeps_floats(lr):
    w = Value(2.0, label="w")
    (w * w).backward()               # ∂(w²)/∂w = 2w = 4
    SGD([w], lr=lr).step()           # 2 − 0.1·4 = 1.6
    assert type(w.data) is float, f"w.data is a {type(w.data).__name__}"
    assert math.isclose(w.data, 1.6, rel_tol=1e-6), f"{w.data} vs 1.6"
    w.grad = 0.0
    s = w.sigmoid()                  # σ(1.6) = 1/(1 + e^−1.6) = 1/1.2018965 = 0.8320184
    s.backward()                     # this crashed once .data was an np.float64
    assert math.isclose(s.data, 0.8320184, rel_tol=1e-6), f"{s.data} vs 0.8320184"
    assert math.isclose(w.grad, 0.8320184 * (1 - 0.8320184), rel_tol=1e-6), f"{w.grad} vs σ(1−σ) = 0.1397642"


def test_adam_with_numpy_hyper_parameters_keeps_floats():
    w = Value(2.0, label="w")
    opt = Adam([w], lr=np.float64(0.1), betas=np.array([0.9, 0.999]), eps=np.float32(1e-8),
               weight_decay=np.float64(0.01))
    (w * w).backward()
    opt.step()
    # t = 1: m̂ = g, v̂ = g², so the step is lr·g/(|g| + eps) = 0.1 (g = 2w + 0.01·w = 4.02 > 0)
    assert type(w.data) is float, f"w.data is a {type(w.data).__name__}"
    assert math.isclose(w.data, 1.9, rel_tol=1e-7), f"{w.data} vs 1.9"


def test_fit_with_a_numpy_learning_rate_then_predicts():
    X = np.linspace(-1, 1, 20)[:, None]
    net = TwoLayerNet(1, 3, seed=0)
    fit(net, X, np.sin(X[:, 0]), epochs=3, lr=np.float64(0.1), progress=False)
    kinds = {type(p.data).__name__ for p in net.parameters()}
    assert kinds == {"float"}, kinds
    assert math.isfinite(net([0.5]).data)


def test_a_learning_rate_schedule_from_numpy():
    w = Value(1.0, label="w")
    opt = SGD([w], lr=0.1)
    for lr in np.linspace(0.5, 0.1, 3):          # 0.5, 0.3, 0.1
        opt.lr = lr
        opt.zero_grad()
        (w * w).backward()
        opt.step()                                # w ← w·(1 − 2·lr)
    # 1 · (1 − 1.0) · … = 0: the first step lands on the minimum and stays there
    assert type(w.data) is float and w.data == 0.0, repr(w.data)


@pytest.mark.parametrize("make,error,words", [
    (lambda ps: SGD(ps, lr="0.1"), TypeError, "SGD lr must be a number, got str '0.1'"),
    (lambda ps: SGD(ps, lr=-0.1), ValueError, "SGD lr must be a finite number ≥ 0, got -0.1"),
    (lambda ps: SGD(ps, lr=float("nan")), ValueError, "SGD lr must be a finite number ≥ 0, got nan"),
    (lambda ps: SGD(ps, lr=True), TypeError, "SGD lr must be a number, got bool True"),
    (lambda ps: SGD(ps, lr=10 ** 400), ValueError, "SGD lr must be a finite number"),
    (lambda ps: SGD(ps, weight_decay=-1), ValueError, "SGD weight_decay must be a finite number ≥ 0, got -1"),
    (lambda ps: Adam(ps, lr=np.float64("inf")), ValueError, "Adam lr must be a finite number ≥ 0, got inf"),
    (lambda ps: Adam(ps, betas=(0.9, 1.0)), ValueError, "Adam betas\\[1\\] must be a finite number ≥ 0 and < 1"),
    (lambda ps: Adam(ps, betas=0.9), TypeError, "Adam betas must be a pair"),
    (lambda ps: Adam(ps, eps=None), TypeError, "Adam eps must be a number, got NoneType None"),
    (lambda ps: SGD([], lr=0.1), ValueError, "SGD got an empty list of parameters"),
    (lambda ps: SGD([1.0], lr=0.1), TypeError, "SGD: parameter 0 is a float \\(1.0\\), not a Value"),
    (lambda ps: SGD(LinearRegression(1)), TypeError, "pass model.parameters\\(\\)"),
])
def test_bad_hyper_parameters_are_refused_by_name(make, error, words):
    with pytest.raises(error, match=words):
        make(LinearRegression(1).parameters())


def test_setting_a_bad_learning_rate_later_is_refused():
    opt = SGD(LinearRegression(1).parameters())
    with pytest.raises(ValueError, match="SGD lr must be a finite number ≥ 0, got -1"):
        opt.lr = -1
    assert opt.lr == 0.1


def test_sgd_takes_named_parameters_as_pytorch_does():
    m = _line()
    L = mse(m(np.array([[1.0]])), np.array([0.0]))   # (2·1 + 1 − 0)² = 9: ∂/∂w = 2·3·1 = 6, ∂/∂b = 6
    L.backward()
    SGD(m.named_parameters(), lr=0.1).step()
    assert math.isclose(m.w[0].data, 2.0 - 0.6) and math.isclose(m.b.data, 1.0 - 0.6), m.state_dict()


# --- an optimiser step never writes into the caller's array (finding 12) -------------------------

@pytest.mark.parametrize("make,expected", [
    (lambda ps: SGD(ps, lr=0.1), [0.8, 1.6]),    # w − 0.1·2w = 0.8·w
    (lambda ps: Adam(ps, lr=0.1), [0.9, 1.9]),   # t = 1: w − 0.1·sign(2w)
])
def test_a_step_on_a_batch_parameter_leaves_the_callers_array_alone(make, expected):
    init = np.array([1.0, 2.0])
    w = Value(init, label="w")
    (w * w).sum().backward()                      # ∂/∂w = 2w = [2, 4]
    make([w]).step()
    assert init.tolist() == [1.0, 2.0], f"the caller's array became {init}"
    assert np.allclose(w.data, expected, rtol=1e-7), f"{w.data} vs {expected}"


# --- model files (findings 9, 10) -----------------------------------------------------------------

def test_a_huge_integer_parameter_is_a_model_file_error(tmp_path):
    path = tmp_path / "m.json"
    LinearRegression(1, seed=0).save(path)
    doc = json.loads(path.read_text())
    text = json.dumps(doc).replace('"b": 0.0', '"b": ' + "1" * 400)
    assert "1" * 400 in text
    path.write_text(text)
    with pytest.raises(ModelFileError, match="key 'parameters': parameter 'b' must be a finite number, got 1111") as info:
        load_model(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("make,error,words", [
    (lambda: TwoLayerNet(1, 0), ValueError, "TwoLayerNet n_hidden must be a whole number ≥ 1, got 0"),
    (lambda: TwoLayerNet(-1, 3), ValueError, "TwoLayerNet n_features must be a whole number ≥ 1, got -1"),
    (lambda: TwoLayerNet(1, -2), ValueError, "TwoLayerNet n_hidden must be a whole number ≥ 1, got -2"),
    (lambda: TwoLayerNet(2.0, 3), TypeError, "TwoLayerNet n_features must be a whole number ≥ 1, got float 2.0"),
    (lambda: TwoLayerNet(True, 3), TypeError, "TwoLayerNet n_features must be a whole number ≥ 1, got bool True"),
    (lambda: LinearRegression(0), ValueError, "LinearRegression n_features must be a whole number ≥ 1, got 0"),
    (lambda: LinearRegression("2"), TypeError, "LinearRegression n_features must be a whole number ≥ 1, got str '2'"),
    (lambda: DeepNet(0, [1]), ValueError, "DeepNet n_inputs must be a whole number ≥ 1, got 0"),
    (lambda: DeepNet(2, 3), TypeError, "DeepNet layer_sizes must be a list of widths, one per layer \\(e.g. \\[16, 1\\]\\), got int 3"),
    (lambda: DeepNet(2, []), ValueError, "DeepNet layer_sizes must list at least one width"),
    (lambda: DeepNet(2, [3, 0]), ValueError, "DeepNet layer_sizes\\[1\\] must be a whole number ≥ 1, got 0"),
    (lambda: DeepNet(2, [3, 2.5]), TypeError, "DeepNet layer_sizes\\[1\\] must be a whole number ≥ 1, got float 2.5"),
])
def test_bad_sizes_are_named_in_one_line(make, error, words):
    with pytest.raises(error, match=words) as info:
        make()
    assert "\n" not in str(info.value)


def test_numpy_integer_sizes_are_whole_numbers(tmp_path):
    net = TwoLayerNet(np.int64(2), np.int64(3), seed=0)
    net.save(tmp_path / "m.json")             # json refused np.int64 before
    assert json.loads((tmp_path / "m.json").read_text())["config"] == {"n_features": 2, "n_hidden": 3}
    assert DeepNet(2, np.array([3, 1])).layer_sizes == [3, 1]


@pytest.mark.parametrize("key", ["model", "format", "parameters", "config", "version"])
def test_save_refuses_an_extra_named_like_the_files_own_keys(tmp_path, key):
    path = tmp_path / "m.json"
    path.write_text("old")
    with pytest.raises(ValueError, match=f"the extra '{key}' would overwrite the file's own key"):
        LinearRegression(1).save(path, **{key: "x"})
    assert path.read_text() == "old"


def test_load_on_a_class_refuses_another_model(tmp_path):
    _line().save(tmp_path / "lr.json")
    with pytest.raises(ModelFileError, match="holds a LinearRegression, not a TwoLayerNet"):
        TwoLayerNet.load(tmp_path / "lr.json")
    again = LinearRegression.load(tmp_path / "lr.json")
    assert again.state_dict() == {"w[0]": 2.0, "b": 1.0}


# --- fit's errors (finding 11, 17) ---------------------------------------------------------------

X10 = np.linspace(-1, 1, 10)[:, None]
Y10 = 2 * X10[:, 0] + 1


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(loss=lambda p, t: (p - t) ** 2), ValueError,
     "fit: the loss <lambda> returned a batch of 10 values, not one number: reduce it first"),
    (dict(loss=lambda p, t: 3.0), TypeError, "fit: the loss <lambda> returned float 3.0, not a Value"),
    (dict(validation=(X10[:3],)), ValueError, "fit: validation must be a pair \\(X_val, y_val\\), got a tuple of 1"),
    (dict(validation=X10), ValueError, "fit: validation must be a pair .*got an array of shape \\(10, 1\\)"),
    (dict(patience=3), ValueError, "fit: patience counts epochs without a better validation loss: give validation"),
])
def test_fit_refuses_malformed_arguments_clearly(kwargs, error, words):
    with pytest.raises(error, match=words):
        fit(LinearRegression(1, seed=0), X10, Y10, epochs=2, progress=False, **kwargs)


def test_rmse_at_a_perfect_fit_does_not_blame_the_learning_rate():
    # ŷ = 2x fits y = 2x exactly: rmse = √0 = 0, and ∂√u/∂u = ∞ times a zero residual is nan
    h = fit(_line(2.0, 0.0), X10, 2 * X10[:, 0], loss="rmse", epochs=3, progress=False)
    assert h.stopped and "no derivative" in h.stopped and "train with mse" in h.stopped, h.stopped
    assert "probably too large" not in h.stopped, h.stopped


def test_a_two_output_network_is_named_by_the_loss_and_fit():
    m = DeepNet(1, [2, 2], seed=0)
    with pytest.raises(TypeError, match="mse: the prediction is a list of 2 Values \\(a network with 2 outputs\\)"):
        mse(m(X10), Y10)
    with pytest.raises(TypeError, match="squared_error: the prediction is a list of 2 Values"):
        squared_error(m(X10), Y10)
    with pytest.raises(ValueError, match="fit: the model has 2 outputs"):
        fit(m, X10, Y10, progress=False)


# --- odd but legal inputs to a model (finding 17) --------------------------------------------------

def test_a_0d_array_is_one_number():
    assert _line()(np.array(0.5)).data == 2.0   # 2·0.5 + 1


def test_ragged_rows_name_the_row():
    with pytest.raises(ValueError, match="expects 2 features per sample, but row 1 \\(counting from 0\\) has 1 values"):
        TwoLayerNet(2, 3)([[0.5, -1.0], [1.0]])
    with pytest.raises(ValueError, match="row 1 \\(counting from 0\\) is 3.0, not a row of values"):
        TwoLayerNet(2, 3)([[0.5, -1.0], 3.0])


class _Table:
    """What a pandas DataFrame looks like to a model: iterating gives the column names (the trap:
    list(df) is ['a', 'b']), ``__array__`` gives the rows. Lets the test below run without pandas."""

    def __init__(self, columns):
        self.columns = columns

    def __iter__(self):
        return iter(self.columns)

    def __len__(self):
        return len(self.columns)

    def __array__(self, dtype=None, copy=None):
        return np.array(list(zip(*self.columns.values())), dtype=dtype)


def test_a_table_object_with_array_is_read_by_rows_not_by_its_column_names():
    m = LinearRegression(2, seed=0)
    m.w[0].data, m.w[1].data, m.b.data = 2.0, 3.0, 1.0
    table = _Table({"a": [1.0, 0.0], "b": [2.0, 1.0]})
    assert m(table).data.tolist() == [9.0, 4.0]    # 2·1 + 3·2 + 1, 2·0 + 3·1 + 1
    with pytest.raises(ValueError, match="LinearRegression: the input holds something that is not a number"):
        m(_Table({"a": ["x", "y"], "b": [1.0, 2.0]}))


def test_a_dataframe_is_read_by_rows():
    pd = pytest.importorskip("pandas", reason="pandas is not a dependency; the _Table test covers the same path")
    m = LinearRegression(2, seed=0)
    m.w[0].data, m.w[1].data, m.b.data = 2.0, 3.0, 1.0
    df = pd.DataFrame({"a": [1.0, 0.0], "b": [2.0, 1.0]})
    assert m(df).data.tolist() == [9.0, 4.0]       # 2·1 + 3·2 + 1, 2·0 + 3·1 + 1
    with pytest.raises(ValueError, match="LinearRegression: the input holds something that is not a number"):
        m(pd.DataFrame({"a": ["x", "y"], "b": [1.0, 2.0]}))


def test_every_loss_names_itself_for_a_two_output_network():
    from microreg.nn import half_mse, rmse
    pred = DeepNet(1, [2, 2], seed=0)(X10)
    for loss in (half_mse, rmse):
        with pytest.raises(TypeError, match=f"^{loss.__name__}: the prediction is a list of 2 Values"):
            loss(pred, Y10)


def test_save_names_a_parameter_that_is_not_a_number_and_an_extra_that_is_not_json(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("old")
    net = TwoLayerNet(1, 2, seed=0)
    net.b2.data = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="cannot save TwoLayerNet: parameter 'b2' is array\\(\\[1., 2.\\]\\), not a number"):
        net.save(path)
    with pytest.raises(TypeError, match="cannot save LinearRegression: an extra is not JSON \\(.*set.*\\): nothing was written"):
        LinearRegression(1).save(path, note={1, 2})
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["m.json"]


@pytest.mark.parametrize("X,y,kwargs,words", [
    ([[1.0, 2.0], [3.0]], [1.0, 2.0], {}, "fit: X must be numbers in rows of equal length"),
    (np.ones((2, 1)), ["a", "b"], {}, "fit: y must be numbers in rows of equal length"),
    (np.ones((2, 1, 1)), np.ones(2), {}, "fit: X must be an \\(N, f\\) array, one row per sample; got shape \\(2, 1, 1\\)"),
    (np.ones((2, 1)), np.ones((2, 2)), {}, "fit: y must hold one value per row, shape \\(N,\\) or \\(N, 1\\); got shape \\(2, 2\\)"),
    (np.ones((2, 1)), np.ones(2), {"epochs": 1.5}, "fit: epochs must be a whole number ≥ 0, got 1.5"),
    (np.ones((2, 1)), np.ones(2), {"epochs": -1}, "fit: epochs must be a whole number ≥ 0, got -1"),
])
def test_fit_names_malformed_data(X, y, kwargs, words):
    with pytest.raises(ValueError, match=words):
        fit(LinearRegression(1), X, y, progress=False, **kwargs)


def test_load_state_dict_takes_numpy_numbers():
    m = LinearRegression(1)
    m.load_state_dict({"w[0]": np.float32(0.5), "b": np.int64(2)})   # 0.5 is exact in float32
    assert m.state_dict() == {"w[0]": 0.5, "b": 2.0} and type(m.b.data) is float, m.state_dict()


def _old_trained_file(tmp_path):
    """A microreg train file in the old format (features, target, two scalers): loads as a TrainedModel."""
    path = tmp_path / "trained.json"
    _line(0.5, 0.25).save(path, features=["x"], target="y", x_scaler={"mean": [10.0], "std": [2.0]},
                          y_scaler={"mean": [100.0], "std": [4.0]})
    return path


def test_a_trained_model_refuses_a_preparation_extra_and_load_checks_its_network(tmp_path):
    path = _old_trained_file(tmp_path)
    model = LinearRegression.load(path)          # a TrainedModel around a LinearRegression
    assert np.allclose(model([[14.0]]), [105.0])   # z = (14 − 10)/2 = 2; 0.5·2 + 0.25 = 1.25; 1.25·4 + 100
    with pytest.raises(ModelFileError, match="holds a LinearRegression, not a TwoLayerNet"):
        TwoLayerNet.load(path)
    with pytest.raises(ValueError, match="the extra 'preparation' would overwrite the file's own key"):
        model.save(tmp_path / "again.json", preparation={})
    assert not (tmp_path / "again.json").exists()


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(callback=3), TypeError, "fit: callback must be a function of \\(epoch, loss\\), got int 3"),
    (dict(optimizer="adam"), TypeError, "fit: optimizer must be an SGD or Adam over the model's parameters"),
    (dict(optimizer=SGD(LinearRegression(1).parameters())), ValueError,
     "fit: the optimizer updates none of this model's parameters"),
])
def test_fit_checks_its_callback_and_optimizer(kwargs, error, words):
    with pytest.raises(error, match=words):
        fit(LinearRegression(1), X10, Y10, epochs=2, progress=False, **kwargs)


def test_an_array_of_text_and_an_empty_table_are_named():
    with pytest.raises(ValueError, match="LinearRegression: the input holds something that is not a number"):
        LinearRegression(1)(np.array([["a"], ["b"]]))
    with pytest.raises(ValueError, match="fit: X has no rows: there is nothing to train on"):
        fit(LinearRegression(1), np.empty((0, 1)), np.empty(0), progress=False)


def test_a_diverging_run_still_blames_the_learning_rate():
    # y = 100x with lr 50: each step overshoots further; the loss overflows, not a kink of the loss
    x = np.linspace(-3, 3, 50)
    h = fit(LinearRegression(1, seed=0), x[:, None], 100 * x, epochs=200, lr=50.0, progress=False)
    assert h.stopped and "the learning rate 50.0 is probably too large" in h.stopped, h.stopped


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: SGD(ps, lr=0.1, weight_decay=0.5),
                                  lambda ps: Adam(ps, lr=0.1)])
def test_a_parameter_whose_grad_is_none_is_skipped_like_pytorch(make):
    # trial15 #2: p.grad = None (PyTorch's reset) for a parameter the loss does not reach made
    # step() fail with a bare TypeError. torch.optim skips such a parameter; so do we. The others
    # move as usual: x = 2, grad 4 (d(x²)/dx), SGD lr 0.1 → 1.6; with weight decay 0.5:
    # 2 − 0.1·(4 + 0.5·2) = 1.5; Adam's first step moves by lr·g/(|g| + eps) → 1.9 (to 3e-10).
    first, x, extra = Value(3.0, label="first"), Value(2.0, label="x"), Value(1.0, label="extra")
    for p in (first, x, extra):
        p.grad = None
    (x * x).backward()
    opt = make([first, x, extra])
    opt.step()
    assert first.data == 3.0 and extra.data == 1.0, f"first {first.data}, extra {extra.data}: moved"
    expected = {0.0: 1.6, 0.5: 1.5}[opt.weight_decay] if type(opt) is SGD else 1.9
    assert abs(x.data - expected) < 1e-9, f"x {x.data}, by hand {expected}"


def test_a_grad_that_is_not_a_number_is_named_by_the_step():
    p = Value(1.0, label="w")
    p.grad = "0.5"
    with pytest.raises(TypeError, match="the grad of w is str"):
        SGD([p], lr=0.1).step()


def test_a_parameter_listed_twice_is_stepped_once_with_a_warning():
    # trial15 #3: SGD([p, p]) stepped p twice (1 − 2·0.1·1 = 0.8); PyTorch warns and steps once: 0.9.
    p = Value(1.0, label="p")
    p.grad = 1.0
    with pytest.warns(UserWarning, match="parameter p is listed more than once"):
        opt = SGD([p, p], lr=0.1)
    opt.step()
    assert abs(p.data - 0.9) < 1e-12, f"p {p.data}, by hand 0.9"


def test_adam_refuses_eps_zero():
    # trial15 #5: eps = 0 was accepted, then a zero grad divided 0 by 0 in step()
    with pytest.raises(ValueError, match="Adam eps must be > 0"):
        Adam([Value(1.0)], eps=0)


@pytest.mark.parametrize("make, expected", [(lambda ps: SGD(ps, lr=0.1), 0.8), (lambda ps: Adam(ps, lr=0.1), 1.9)])
def test_a_step_after_backward_with_create_graph_uses_the_grads_numbers(make, expected):
    # trial15: after backward(create_graph=True) the grads are Values; SGD put a Value into .data
    # (the next forward failed far from the cause) and Adam failed in np.sqrt. PyTorch steps with
    # the grads' numbers. x = 2, y = x³: dy/dx = 3x² = 12; SGD: 2 − 0.1·12 = 0.8;
    # Adam's first step: 2 − 0.1·12/(12 + 1e-8) = 1.9 (to 1e-10).
    x = Value(2.0, label="x")
    (x ** 3).backward(create_graph=True)
    assert isinstance(x.grad, Value)
    make([x]).step()
    assert x.data.__class__ is float and abs(x.data - expected) < 1e-9, f"x.data {x.data!r}, by hand {expected}"


def test_fit_refuses_lr_beside_an_optimizer_a_model_that_is_not_one_and_a_progress_that_is_not_a_bool():
    # trial15 #11: fit(lr=0.5, optimizer=SGD(..., lr=0.01)) trained at 0.01 without a word;
    # progress='no' printed progress; fit(a function, ...) was a bare AttributeError.
    m = LinearRegression(1, seed=0)
    with pytest.raises(ValueError, match=r"fit: lr=0.5 and an optimizer were both given; .* own lr \(0.01\)"):
        fit(m, X10, Y10, lr=0.5, optimizer=SGD(m.parameters(), lr=0.01), progress=False)
    with pytest.raises(TypeError, match="fit: progress must be True or False, got 'no'"):
        fit(m, X10, Y10, progress="no")
    with pytest.raises(TypeError, match="fit: model must be a microreg model"):
        fit(lambda x: x, X10, Y10, progress=False)
    # lr alone still sets the default SGD's rate: one step of 1-D least squares from w = b = 0 on
    # y = 2x + 1 moves b by lr·2·mean(y) (d mse/db = −2·mean(y − 0) at w = b = 0)
    m = LinearRegression(1, seed=0)
    m.w[0].data, m.b.data = 0.0, 0.0
    X = np.array([[0.0], [1.0]])
    y = np.array([1.0, 3.0])
    fit(m, X, y, epochs=1, lr=0.25, progress=False)
    assert abs(m.b.data - 0.25 * 2 * 2.0) < 1e-12, f"b {m.b.data}, by hand 1.0"


def test_a_model_file_of_another_version_or_with_a_key_twice_is_refused(tmp_path):
    # trial15 #10: version 2 (a newer microreg) or "1" loaded as version 1; a key given twice
    # loaded with the last value, silently.
    path = tmp_path / "m.json"
    LinearRegression(1, seed=0).save(path)
    doc = json.loads(path.read_text())
    for bad in (2, "1"):
        path.write_text(json.dumps({**doc, "version": bad}))
        with pytest.raises(ModelFileError, match=r"key 'version': this microreg reads version 1 model files; "
                                                 r"the file says (2|'1')"):
            load_model(path)
    text = json.dumps(doc).replace('"b": ', '"b": 99.0, "b": ')
    path.write_text(text)
    with pytest.raises(ModelFileError, match="key 'b' appears twice"):
        load_model(path)
