"""micrograd's own code runs unchanged on microreg: its README example, the classes of its nn module
with their meaning and defaults, and the training loop of its demo notebook (moons, MLP(2, [16, 16, 1]))
reaching the accuracy and loss micrograd's saved notebook shows. Only the import lines differ."""

import random

import numpy as np
import pytest

from microreg import Value
from microreg.nn import MLP, Layer, Neuron, fit, load_model, mse


def make_moons(n_samples=100, noise=None):
    """scikit-learn's make_moons (random_state=None: numpy's global generator), step for step, so the
    test needs no scikit-learn; with it installed, its own function is used instead (same numbers)."""
    try:
        from sklearn.datasets import make_moons as sk_make_moons
    except ImportError:
        pass
    else:
        return sk_make_moons(n_samples=n_samples, noise=noise)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer_x, outer_y = np.cos(np.linspace(0, np.pi, n_out)), np.sin(np.linspace(0, np.pi, n_out))
    inner_x, inner_y = 1 - np.cos(np.linspace(0, np.pi, n_in)), 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5
    X = np.vstack([np.append(outer_x, inner_x), np.append(outer_y, inner_y)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)
    np.random.mtrand._rand.shuffle(order)          # sklearn.utils.shuffle on the global RandomState
    X, y = X[order], y[order]
    if noise is not None:
        X += np.random.mtrand._rand.normal(scale=noise, size=X.shape)
    return X, y


# The cells of micrograd's demo.ipynb after its imports, as written there (the plots left out).
DEMO = '''
np.random.seed(1337)
random.seed(1337)

X, y = make_moons(n_samples=100, noise=0.1)

y = y*2 - 1 # make y be -1 or 1

model = MLP(2, [16, 16, 1]) # 2-layer neural network
print(model)
print("number of parameters", len(model.parameters()))

# loss function
def loss(batch_size=None):

    # inline DataLoader :)
    if batch_size is None:
        Xb, yb = X, y
    else:
        ri = np.random.permutation(X.shape[0])[:batch_size]
        Xb, yb = X[ri], y[ri]
    inputs = [list(map(Value, xrow)) for xrow in Xb]

    # forward the model to get scores
    scores = list(map(model, inputs))

    # svm "max-margin" loss
    losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(yb, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    # L2 regularization
    alpha = 1e-4
    reg_loss = alpha * sum((p*p for p in model.parameters()))
    total_loss = data_loss + reg_loss

    # also get accuracy
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
    return total_loss, sum(accuracy) / len(accuracy)

total_loss, acc = loss()
print(total_loss, acc)

# optimization
for k in range(STEPS):

    # forward
    total_loss, acc = loss()

    # backward
    model.zero_grad()
    total_loss.backward()

    # update (sgd)
    learning_rate = 1.0 - 0.9*k/100
    for p in model.parameters():
        p.data -= learning_rate * p.grad

    if k % 1 == 0:
        print(f"step {k} loss {total_loss.data}, accuracy {acc*100}%")
'''


def run_demo(value, mlp, steps):
    lines = []
    env = {"np": np, "random": random, "make_moons": make_moons, "Value": value, "MLP": mlp, "STEPS": steps,
           "print": lambda *args: lines.append(" ".join(map(str, args)))}
    exec(DEMO, env)
    return lines, env["model"]


def step_line(line):
    """('step 99', loss, accuracy %) from micrograd's 'step 99 loss 0.0109…, accuracy 100.0%'."""
    head, _, rest = line.partition(" loss ")
    loss_text, _, acc = rest.partition(", accuracy ")
    return head, float(loss_text), float(acc.rstrip("%"))


def test_micrograds_demo_loop_reaches_its_accuracy_unchanged():
    lines, model = run_demo(Value, MLP, 100)
    # micrograd's demo.ipynb, as saved with its outputs, ends with this line (MLP of 337 parameters):
    #   step 99 loss 0.010978370135492717, accuracy 100.0%
    head, loss, acc = step_line(lines[-1])
    assert head == "step 99" and acc == 100.0, lines[-1]
    assert loss == pytest.approx(0.010978370135492717, rel=1e-6), lines[-1]
    assert lines[1] == "number of parameters 337"
    assert lines[0] == "MLP(2, [16, 16, 1]): 2 → 16 relu → 16 relu → 1 linear, 337 parameters"


def test_the_demos_first_steps_match_micrograd_itself():
    engine = pytest.importorskip("micrograd.engine")
    nn = pytest.importorskip("micrograd.nn")
    theirs, their_model = run_demo(engine.Value, nn.MLP, 2)
    ours, our_model = run_demo(Value, MLP, 2)
    assert [p.data for p in our_model.parameters()] == pytest.approx([p.data for p in their_model.parameters()],
                                                                      rel=1e-9, abs=1e-12)
    for a, b in zip(theirs[3:], ours[3:]):
        (ha, la, aa), (hb, lb, ab) = step_line(a), step_line(b)
        assert (ha, aa) == (hb, ab) and la == pytest.approx(lb, rel=1e-9), (a, b)


def test_micrograds_classes_have_its_meaning_and_defaults():
    nn = pytest.importorskip("micrograd.nn")
    random.seed(7)
    theirs = nn.MLP(3, [4, 2])
    random.seed(7)
    ours = MLP(3, [4, 2])
    # same weights from the same `random` draws, in micrograd's parameter order; biases start at 0
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    assert [len(layer.neurons) for layer in ours.layers] == [4, 2]
    assert [n.nonlin for n in ours.layers[0].neurons] == [True] * 4      # relu hidden layer
    assert [n.nonlin for n in ours.layers[1].neurons] == [False] * 2     # linear last layer
    x = [0.5, -1.5, 2.0]
    assert [v.data for v in ours(x)] == pytest.approx([v.data for v in theirs(x)], rel=1e-12)
    # a neuron on its own: relu(w·x + b), its parameters the weights then the bias
    random.seed(3)
    n = Neuron(2)
    random.seed(3)
    m = nn.Neuron(2)
    assert [p.data for p in n.parameters()] == [p.data for p in m.parameters()]
    out = n([Value(1.0), Value(-2.0)])
    assert out.data == pytest.approx(m([1.0, -2.0]).data, rel=1e-12)
    assert out.data >= 0.0 and out._op == "relu"
    assert Neuron(2, nonlin=False)([1.0, -2.0])._op == "affine"


def test_every_model_prints_what_it_is():
    random.seed(0)
    assert repr(Neuron(3)) == "ReLUNeuron(3)" and repr(Neuron(3, nonlin=False)) == "LinearNeuron(3)"
    assert repr(Layer(2, 5)) == "Layer(2, 5): 5 × ReLUNeuron(2)"
    from microreg.nn import DeepNet, LinearRegression, TwoLayerNet
    # parameter counts by hand: 1·16 + 16 + 16 + 1 = 49; 2·3 + 3 + 3·1 + 1 = 13; 3 + 1 = 4
    assert repr(TwoLayerNet(1, 16)) == "TwoLayerNet(1, 16): 1 → 16 sigmoid → 1 linear, 49 parameters"
    assert repr(DeepNet(2, [3, 1])) == "DeepNet(2, [3, 1]): 2 → 3 sigmoid → 1 linear, 13 parameters"
    assert repr(LinearRegression(3)) == "LinearRegression(3): ŷ = w·x + b, 4 parameters"
    assert "object at 0x" not in repr(MLP(2, [3, 1]))


def test_a_one_neuron_layer_returns_a_list_and_the_mlp_a_value():
    random.seed(0)
    assert isinstance(Layer(2, 1)([1.0, 2.0]), list)
    assert isinstance(MLP(2, [3, 1])([1.0, 2.0]), Value)
    assert isinstance(MLP(2, [3, 2])([1.0, 2.0]), list)


def test_an_mlp_trains_with_fit_on_batches_and_saves(tmp_path):
    random.seed(0)
    X = np.linspace(-2, 2, 40)[:, None]
    y = np.abs(X[:, 0])                           # |x| = relu(x) + relu(−x): two relu units suffice
    model = MLP(1, [8, 1])
    history = fit(model, X, y, loss=mse, epochs=400, lr=0.05, progress=False)
    assert history[-1] < 0.01 < history[0], (history[0], history[-1])
    model.save(tmp_path / "mlp.json")
    state = random.getstate()
    again = load_model(tmp_path / "mlp.json")
    assert random.getstate() == state, "loading a model does not move the caller's random numbers"
    assert repr(again) == repr(model) and again([0.7]).data == pytest.approx(model([0.7]).data)
