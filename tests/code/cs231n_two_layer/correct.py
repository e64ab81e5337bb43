# style: CS231n-like assignment, TwoLayerNet with ReLU and softmax, L2 regularisation,
# samples as rows: X is (N, D), y holds class indices; loss(X, y, reg) returns (loss, grads).
import numpy as np


class TwoLayerNet(object):
    """input - fully connected layer - ReLU - fully connected layer - softmax"""

    def __init__(self, input_size, hidden_size, output_size, std=1e-1, seed=0):
        rng = np.random.RandomState(seed)
        self.params = {}
        self.params["W1"] = std * rng.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = std * rng.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        N, D = X.shape

        # forward pass
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2
        if y is None:
            return scores

        shifted = scores - np.max(scores, axis=1, keepdims=True)
        exp_scores = np.exp(shifted)
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        data_loss = -np.sum(np.log(probs[np.arange(N), y])) / N
        reg_loss = reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        loss = data_loss + reg_loss

        # backward pass
        grads = {}
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads["W2"] = hidden.T.dot(dscores) + 2 * reg * W2
        grads["b2"] = np.sum(dscores, axis=0)
        dhidden = dscores.dot(W2.T)
        dhidden[hidden <= 0] = 0
        grads["W1"] = X.T.dot(dhidden) + 2 * reg * W1
        grads["b1"] = np.sum(dhidden, axis=0)

        return loss, grads
