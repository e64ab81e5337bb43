"""The ground truth of the learner-style numpy corpus, written down by hand, independently of microreg.

Each style (a folder) has a ``correct.py`` written the way a real assignment writes it, and
planted-mistake versions: ``correct.py`` with the lines of `Planted.edits` changed (and nothing
else: tests/test_code_corpus.py checks the diff). ``wrong`` names the gradients whose numbers are
wrong, ``shape`` those of the wrong shape (the numbers may be right); every other gradient is
right. The test checks all of that with central finite differences of the learner's own cost on
plain numbers, never with microreg. ``words`` are the learner's names an explanation of the
mistake should speak of (for the mistake search, issue 20 §4).

Gradients are named by what they are the gradient of: a parameter (``W1``, ``b``), or for a
backward helper checked on its own, the helper's input (``dx`` of ``affine_backward`` is ``x``).
"""

from dataclasses import dataclass, field

#: The kinds of mistake, in a teacher's words (issue 20 §4).
KINDS = (
    "wrong local derivative",            # tanh' as 1 − A, σ' as 1 − A², tanh' as 1 − Z²
    "local derivative applied twice",    # logistic regression's σ'·(A − Y)
    "forgotten relu mask",
    "relu mask on the wrong array",
    "regularisation gradient missing",
    "regularisation gradient halved",
    "wrong layer's cache",
    "sum over the wrong axis",
    "lost keepdims",
    "missing 1/m",
    "sign",
    "missing transpose",
)


@dataclass(frozen=True)
class Planted:
    style: str               # the folder
    file: str                # the variant's file name in it
    mistake: str             # what a teacher would say
    kind: str                # one of KINDS
    edits: tuple             # (line of correct.py, line of the variant), stripped; None: added / removed
    wrong: tuple = ()        # gradients whose numbers are wrong
    shape: tuple = ()        # gradients whose shape is wrong
    words: tuple = field(default=())


STYLES = {
    "course_two_layer": "course assignment: tanh hidden layer, sigmoid output, cross-entropy, samples as columns",
    "logistic_regression": "course assignment: logistic regression with a float b, samples as columns",
    "cs231n_two_layer": "CS231n-like TwoLayerNet.loss(X, y, reg): ReLU, softmax, L2, samples as rows",
    "l_layer": "course assignment: L-layer net built from helpers with caches (layers 4-4-4-1)",
    "cs231n_layers": "CS231n-like layer helpers: affine, relu, softmax_loss, each (out, cache) / (dout, cache)",
}

PLANTED = [
    # --- course_two_layer: backward_propagation(parameters, cache, X, Y) --------------------------------
    Planted("course_two_layer", "tanh_prime_as_1_minus_a.py", "tanh' written as 1 − A1 (where 1 − A1² belongs)",
            "wrong local derivative",
            (("dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))", "dZ1 = np.dot(W2.T, dZ2) * (1 - A1)"),),
            wrong=("W1", "b1"), words=("A1", "Z1")),
    Planted("course_two_layer", "tanh_prime_of_z.py", "tanh' written as 1 − Z1² (the pre-activation where A1 belongs)",
            "wrong local derivative",
            ((None, 'Z1 = cache["Z1"]'),
             ("dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))", "dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(Z1, 2))")),
            wrong=("W1", "b1"), words=("Z1", "A1")),
    Planted("course_two_layer", "tanh_prime_as_a_1_minus_a.py", "tanh' written as A1(1 − A1), σ's derivative",
            "wrong local derivative",
            (("dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))", "dZ1 = np.dot(W2.T, dZ2) * (A1 * (1 - A1))"),),
            wrong=("W1", "b1"), words=("A1", "Z1")),
    Planted("course_two_layer", "sign_y_minus_a.py", "dZ2 = Y − A2 where A2 − Y belongs (every gradient's sign)",
            "sign", (("dZ2 = A2 - Y", "dZ2 = Y - A2"),),
            wrong=("W1", "b1", "W2", "b2"), words=("A2", "Y")),
    Planted("course_two_layer", "dw1_missing_1_over_m.py", "dW1 without the 1/m of the mean cost",
            "missing 1/m", (("dW1 = (1 / m) * np.dot(dZ1, X.T)", "dW1 = np.dot(dZ1, X.T)"),),
            wrong=("W1",), words=("dW1", "m")),
    Planted("course_two_layer", "db1_wrong_axis.py", "db1 summed over the units (axis 0) instead of the samples",
            "sum over the wrong axis",
            (("db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)", "db1 = (1 / m) * np.sum(dZ1, axis=0, keepdims=True)"),),
            shape=("b1",), words=("db1", "dZ1", "axis")),
    Planted("course_two_layer", "db1_lost_keepdims.py", "db1 summed without keepdims: shape (n_h,) where b1 is (n_h, 1)",
            "lost keepdims",
            (("db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)", "db1 = (1 / m) * np.sum(dZ1, axis=1)"),),
            shape=("b1",), words=("db1", "keepdims")),

    # --- logistic_regression: propagate(w, b, X, Y) -> (grads, cost) ---------------------------------
    Planted("logistic_regression", "sigma_prime_twice.py", "σ' applied on top of A − Y (p(1 − p)(p − y) for p − y)",
            "local derivative applied twice",
            (("dw = (1 / m) * np.dot(X, (A - Y).T)", "dw = (1 / m) * np.dot(X, ((A - Y) * A * (1 - A)).T)"),
             ("db = (1 / m) * np.sum(A - Y)", "db = (1 / m) * np.sum((A - Y) * A * (1 - A))")),
            wrong=("w", "b"), words=("A",)),
    Planted("logistic_regression", "sign_dw.py", "dw with Y − A where A − Y belongs",
            "sign", (("dw = (1 / m) * np.dot(X, (A - Y).T)", "dw = (1 / m) * np.dot(X, (Y - A).T)"),),
            wrong=("w",), words=("A", "Y")),
    Planted("logistic_regression", "db_missing_1_over_m.py", "db summed without the 1/m",
            "missing 1/m", (("db = (1 / m) * np.sum(A - Y)", "db = np.sum(A - Y)"),),
            wrong=("b",), words=("db", "m")),
    Planted("logistic_regression", "dw_transposed.py", "dw computed as (A − Y)Xᵀ: shape (1, n), the transpose of w's",
            "missing transpose",
            (("dw = (1 / m) * np.dot(X, (A - Y).T)", "dw = (1 / m) * np.dot(A - Y, X.T)"),
             ("assert dw.shape == w.shape", None)),
            shape=("w",), words=("dw", "X")),

    # --- cs231n_two_layer: TwoLayerNet.loss(X, y, reg) -> (loss, grads) -------------------------------
    Planted("cs231n_two_layer", "forgot_relu_mask.py", "the ReLU's mask left out of dhidden",
            "forgotten relu mask", (("dhidden[hidden <= 0] = 0", None),),
            wrong=("W1", "b1"), words=("hidden", "dhidden")),
    Planted("cs231n_two_layer", "relu_mask_on_dhidden.py", "the ReLU's mask taken from dhidden, not from hidden",
            "relu mask on the wrong array", (("dhidden[hidden <= 0] = 0", "dhidden[dhidden <= 0] = 0"),),
            wrong=("W1", "b1"), words=("hidden", "dhidden")),
    Planted("cs231n_two_layer", "reg_grad_missing.py", "the regularisation's gradient left out of W2's",
            "regularisation gradient missing",
            (('grads["W2"] = hidden.T.dot(dscores) + 2 * reg * W2', 'grads["W2"] = hidden.T.dot(dscores)'),),
            wrong=("W2",), words=("reg", "W2")),
    Planted("cs231n_two_layer", "reg_grad_halved.py", "the regularisation's gradient halved (reg·W1 for 2·reg·W1)",
            "regularisation gradient halved",
            (('grads["W1"] = X.T.dot(dhidden) + 2 * reg * W1', 'grads["W1"] = X.T.dot(dhidden) + reg * W1'),),
            wrong=("W1",), words=("reg", "W1")),
    Planted("cs231n_two_layer", "w2_not_transposed.py", "dscores·W2 where dscores·W2ᵀ belongs (W2 is square)",
            "missing transpose", (("dhidden = dscores.dot(W2.T)", "dhidden = dscores.dot(W2)"),),
            wrong=("W1", "b1"), words=("W2", "dscores")),
    Planted("cs231n_two_layer", "b2_wrong_axis.py", "b2's gradient summed over the classes (axis 1), not the samples",
            "sum over the wrong axis",
            (('grads["b2"] = np.sum(dscores, axis=0)', 'grads["b2"] = np.sum(dscores, axis=1)'),),
            shape=("b2",), words=("dscores", "axis")),
    Planted("cs231n_two_layer", "missing_1_over_n.py", "dscores not divided by N (the loss is a mean)",
            "missing 1/m", (("dscores /= N", None),),
            wrong=("W1", "b1", "W2", "b2"), words=("dscores", "N")),

    # --- l_layer: the helpers of an L-layer net --------------------------------------------------------
    Planted("l_layer", "sigmoid_prime_1_minus_s2.py", "σ' written as 1 − s² (tanh's derivative) in sigmoid_backward",
            "wrong local derivative", (("dZ = dA * s * (1 - s)", "dZ = dA * (1 - s ** 2)"),),
            wrong=("W1", "b1", "W2", "b2", "W3", "b3"), words=("s", "dZ")),
    Planted("l_layer", "relu_backward_no_mask.py", "relu_backward passes dA through without the mask",
            "forgotten relu mask", (("dZ[Z <= 0] = 0", None),),
            wrong=("W1", "b1", "W2", "b2"), words=("Z", "dZ")),
    Planted("l_layer", "relu_mask_on_da.py", "relu_backward masks where dA ≤ 0 instead of where Z ≤ 0",
            "relu mask on the wrong array", (("dZ[Z <= 0] = 0", "dZ[dA <= 0] = 0"),),
            wrong=("W1", "b1", "W2", "b2"), words=("dA", "Z")),
    Planted("l_layer", "wrong_layer_cache.py", "every hidden layer's backward uses the last hidden layer's cache",
            "wrong layer's cache", (("current_cache = caches[l]", "current_cache = caches[L - 2]"),),
            wrong=("W1", "b1"), words=("caches", "current_cache")),
    Planted("l_layer", "dw_missing_1_over_m.py", "linear_backward's dW without the 1/m",
            "missing 1/m", (("dW = np.dot(dZ, A_prev.T) / m", "dW = np.dot(dZ, A_prev.T)"),),
            wrong=("W1", "W2", "W3"), words=("dW", "m")),
    Planted("l_layer", "db_lost_keepdims.py", "linear_backward's db summed without keepdims",
            "lost keepdims", (("db = np.sum(dZ, axis=1, keepdims=True) / m", "db = np.sum(dZ, axis=1) / m"),),
            shape=("b1", "b2", "b3"), words=("db", "keepdims")),

    # --- cs231n_layers: each backward helper against its forward ----------------------------------------
    Planted("cs231n_layers", "softmax_sign.py", "softmax_loss adds 1 at the correct class instead of subtracting it",
            "sign", (("dx[np.arange(N), y] -= 1", "dx[np.arange(N), y] += 1"),),
            wrong=("softmax_loss.x",), words=("dx", "probs")),
    Planted("cs231n_layers", "softmax_one_hot_not_subtracted.py",
            "softmax_loss's dx is probs / N: the 1 of the correct class never subtracted",
            "wrong local derivative", (("dx[np.arange(N), y] -= 1", None),),
            wrong=("softmax_loss.x",), words=("dx", "probs", "y")),
    Planted("cs231n_layers", "softmax_missing_1_over_n.py", "softmax_loss's dx not divided by N",
            "missing 1/m", (("dx /= N", None),),
            wrong=("softmax_loss.x",), words=("dx", "N")),
    Planted("cs231n_layers", "affine_db_wrong_axis.py", "affine_backward sums dout over axis 1 for db",
            "sum over the wrong axis", (("db = np.sum(dout, axis=0)", "db = np.sum(dout, axis=1)"),),
            shape=("affine.b",), words=("db", "dout")),
    Planted("cs231n_layers", "affine_dx_not_transposed.py", "affine_backward's dx = dout·w where dout·wᵀ belongs",
            "missing transpose", (("dx = dout.dot(w.T).reshape(x.shape)", "dx = dout.dot(w).reshape(x.shape)"),),
            wrong=("affine.x",), words=("w", "dout")),
    Planted("cs231n_layers", "relu_mask_on_dout.py", "relu_backward masks with dout > 0 instead of x > 0",
            "relu mask on the wrong array", (("dx = dout * (x > 0)", "dx = dout * (dout > 0)"),),
            wrong=("relu.x",), words=("x", "dout")),
]
