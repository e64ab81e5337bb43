"""microreg: a tiny scalar autograd engine for learning, teaching and checking backpropagation.

    >>> from microreg import Value
    >>> x = Value(3.0, label="x")
    >>> y = x * x + 2 * x      # dy/dx = 2x + 2 = 8
    >>> y.backward()
    >>> x.grad
    8.0
"""

from .engine import (DivisionByZeroError, MathDomainError, Step, Value, affine, grad,
                     topological_order)

__version__ = "0.1.0"

__all__ = ["Value", "affine", "grad", "topological_order", "Step", "MathDomainError",
           "DivisionByZeroError", "__version__"]
