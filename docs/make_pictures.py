"""Make the pictures README.md shows (deterministic: the same file every run).

    python docs/make_pictures.py
"""

import os

from microreg import Value
from microreg.viz import draw_graph

HERE = os.path.dirname(os.path.abspath(__file__))


def readme_example():
    """The README's ten-line example, with its intermediate nodes named for the picture."""
    x = Value(2.0, label="x")
    w = Value(-0.5, label="w")
    b = Value(1.0, label="b")
    z = w * x + b
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    L = (a - 1.0) ** 2
    L.label = "L"
    L.backward()
    return L


if __name__ == "__main__":
    path = draw_graph(readme_example()).save(os.path.join(HERE, "graph.svg"))
    print(f"wrote {path}")
