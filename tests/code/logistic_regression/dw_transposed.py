# style: course assignment (deeplearning.ai-like), logistic regression, w is (n, 1), b a float,
# samples as columns: X is (n, m), Y is (1, m); propagate returns (grads, cost).
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def initialize_with_zeros(dim):
    w = np.zeros((dim, 1))
    b = 0.0
    return w, b


def propagate(w, b, X, Y):
    """
    w -- weights, (n, 1)
    b -- bias, a scalar
    X -- data, (n, m)
    Y -- labels 0/1, (1, m)

    Returns grads = {"dw": dw, "db": db} and the cost (negative log-likelihood).
    """
    m = X.shape[1]

    # forward: from X to the cost
    A = sigmoid(np.dot(w.T, X) + b)
    cost = -(1 / m) * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))

    # backward: the gradients
    dw = (1 / m) * np.dot(A - Y, X.T)
    db = (1 / m) * np.sum(A - Y)

    cost = np.squeeze(np.array(cost))
    grads = {"dw": dw, "db": db}
    return grads, cost
