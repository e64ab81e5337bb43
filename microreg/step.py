"""Step through backpropagation one chain-rule application at a time.

    >>> from microreg import Value
    >>> from microreg.step import Stepper
    >>> w, x = Value(0.5, label="w"), Value(2.0, label="x")
    >>> L = (w * x).tanh()
    >>> L.label = "L"
    >>> s = Stepper(L)
    >>> len(s)                     # the seed ∂L/∂L = 1, then one step per (node, input) edge
    4
    >>> print(s.goto(2).text().splitlines()[1])
    ∂L/∂w += ∂L/∂t1 · x = 0.42 × 2 = 0.8399

A `Stepper` replays the records of ``root.backward_steps()``, the engine's own backward walk, so
what it shows is the arithmetic ``backward()`` does. ``next()``, ``prev()`` and ``goto(k)`` move
between steps and restore every grad exactly as it was at that step; ``text()`` says the step in
words and numbers with the rule-table formula; ``check()`` compares a finished gradient with a
finite difference.

Front ends: ``widget()`` for Jupyter (ipywidgets), ``to_html(path)`` for one standalone web page,
and ``run_terminal()`` for ``microreg step``.
"""

import math

import numpy as np

from .engine import topological_order
from .nn import ModelFileError, TwoLayerNet, atomic_write, load_model

ndarray = np.ndarray


def group(name):
    """Put a name in parentheses when an operator stands outside any parentheses in it."""
    depth = 0
    for ch in name:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch in " +−-·×/^*":
            return f"({name})"
    return name


def _fmt(x, fmt="{:.4g}"):
    if isinstance(x, ndarray):
        head = ", ".join(fmt.format(v) for v in x[:3])
        return f"[{head}{', …' if x.shape[0] > 3 else ''}]"
    return fmt.format(x)


class Stepper:
    """Backprop of ``root``, one step at a time (step 0 is the seed ∂root/∂root = 1).

    ``names`` optionally maps id(Value) to a display name for unlabelled nodes; others get
    ``t1, t2, …`` (constants show their value). Constructing a Stepper runs the backward pass
    (the grads end as ``backward()`` leaves them) and then rewinds to step 0.
    """

    def __init__(self, root, names=None, fmt="{:.4g}"):
        self.root, self.fmt = root, fmt
        self.order = topological_order(root)
        self.names = self._name_nodes(names or {})
        self.leaf_before = {id(n): n.grad for n in self.order if n._rule is None}
        self.records = list(root.backward_steps())
        self.final = {id(n): n.grad for n in self.order}
        # how many contributions each node receives, and which contribution each record is
        self.fan_in, self.nth = {}, []
        for r in self.records:
            self.fan_in[id(r.input)] = self.fan_in.get(id(r.input), 0) + 1
            self.nth.append(self.fan_in[id(r.input)])
        self.last_touch = {id(r.input): r.k for r in self.records}
        self.position = 0
        self._apply_state(0)

    # --- names ---------------------------------------------------------------------------------
    def _name_nodes(self, given):
        names, counter = {}, 0
        for n in self.order:
            if id(n) in given:
                names[id(n)] = given[id(n)]
            elif n.label is not None:
                names[id(n)] = n.label
            elif n is self.root:
                names[id(n)] = "L"
            elif n._rule is None and n.data.__class__ is float:
                names[id(n)] = self.fmt.format(n.data)
            else:
                counter += 1
                names[id(n)] = f"t{counter}"
        return names

    def name(self, node):
        """The node's name, in parentheses when it holds an operator: ``(ŷ − y)``, not ``ŷ − y``."""
        return group(self.names[id(node)])

    # --- moving --------------------------------------------------------------------------------
    def __len__(self):
        return len(self.records) + 1

    def _state_at(self, k):
        """{id(node): grad} after step k (0 = only the seed)."""
        state = {}
        for n in self.order:
            if n._rule is None:
                state[id(n)] = self.leaf_before[id(n)]
            else:
                state[id(n)] = 0.0
        root = self.root
        seed = 1.0
        state[id(root)] = seed if root._rule is not None else self.leaf_before[id(root)] + seed
        for r in self.records[:k]:
            state[id(r.input)] = r.grad
        return state

    def _apply_state(self, k):
        state = self._state_at(k)
        for n in self.order:
            n.grad = state[id(n)]

    def goto(self, k):
        """Move to step k (0 ≤ k < len), restoring every node's grad as it was there."""
        if not 0 <= k < len(self):
            raise IndexError(f"step {k} is out of range: this backward pass has steps 0 to {len(self) - 1}")
        self.position = k
        self._apply_state(k)
        return self

    def next(self):
        """One step forward (stays on the last step at the end)."""
        if self.position < len(self) - 1:
            r = self.records[self.position]
            r.input.grad = r.grad
            self.position += 1
        return self

    def prev(self):
        """One step back (stays on step 0 at the start)."""
        if self.position > 0:
            self.position -= 1
            r = self.records[self.position]
            r.input.grad = r.before
        return self

    @property
    def record(self):
        """The engine's `Step` record of the current step (None at step 0, the seed)."""
        return self.records[self.position - 1] if self.position > 0 else None

    # --- words ---------------------------------------------------------------------------------
    def text(self, k=None):
        """The current step (or step k) in words and numbers, with the formula from the rule table."""
        k = self.position if k is None else k
        fmt = self.fmt
        root = self.name(self.root)
        if k == 0:
            return (f"Step 1 / {len(self)}: start at the output\n"
                    f"∂{root}/∂{root} = 1: the gradient of the output with respect to itself seeds the backward pass.")
        r = self.records[k - 1]
        node, child = self.name(r.node), self.name(r.input)
        input_names = [self.name(c) for c in r.node._prev]
        wrt, local_expr = r.op.local_expression(r.position, input_names)
        formula = r.op.formula(r.position, input_names)
        upstream_expr = f"∂{root}/∂{node}"
        product = f"{_fmt(r.upstream, fmt)} × {_fmt(r.local, fmt)} = {_fmt(r.contribution, fmt)}"
        lines = [f"Step {k + 1} / {len(self)}: {node} = {r.op.expression(input_names)}  ({r.op.name})",
                 f"∂{root}/∂{child} += {upstream_expr} · {local_expr} = {product}"]
        lines.append(f"  local derivative (rule table): {formula}")
        lines.append(f"  upstream gradient {upstream_expr} = {_fmt(r.upstream, fmt)}")
        fan = self.fan_in[id(r.input)]
        nth = self.nth[k - 1]
        if fan > 1:
            lines.append(f"  {child} feeds {fan} nodes (fan-out): this is contribution {nth} of {fan}; "
                         f"running sum {_fmt(r.before, fmt)} + {_fmt(r.contribution, fmt)} = {_fmt(r.grad, fmt)}")
        else:
            lines.append(f"  {child} feeds one node: ∂{root}/∂{child} = {_fmt(r.grad, fmt)}")
        if self.last_touch.get(id(r.input)) == r.k:
            lines.append(f"  ∂{root}/∂{child} is now final.")
        return "\n".join(lines)

    def transcript(self):
        """Every step's text, one after another."""
        return "\n\n".join(self.text(k) for k in range(len(self)))

    # --- checking ------------------------------------------------------------------------------
    def finite_difference(self, node, eps=None):
        """Central finite difference of the output with respect to ``node``'s data (re-running the
        forward ops downstream of it)."""
        x0 = node.data
        if isinstance(x0, ndarray):
            raise ValueError("finite_difference: pick a scalar node")
        h = eps or 1e-6 * max(1.0, abs(x0))
        return (self._output_with(node, x0 + h) - self._output_with(node, x0 - h)) / (2 * h)

    def _output_with(self, node, value):
        data = {id(n): n.data for n in self.order}
        data[id(node)] = value
        seen = False
        for n in self.order:
            if n is node:
                seen = True
                continue
            if not seen or n._rule is None:
                continue
            data[id(n)] = n._rule.apply([data[id(c)] for c in n._prev])
        return data[id(self.root)]

    def check(self, node=None, rtol=1e-5, atol=1e-8):
        """Compare a node's gradient (the current step's input by default) with a finite difference.

        Returns {"node", "finished", "grad", "numeric", "ok"}; ``finished`` says whether every
        contribution to this node has been added by the current step (before that, the running
        sum is not yet the gradient, and ``ok`` compares the final one).
        """
        if node is None:
            if self.record is None:
                node = self.root
            else:
                node = self.record.input
        last = self.last_touch.get(id(node), -1)
        finished = last < self.position
        numeric = self.finite_difference(node)
        final = self.final[id(node)]
        ok = math.isclose(final, numeric, rel_tol=rtol, abs_tol=atol)
        return {"node": self.name(node), "finished": finished, "grad": node.grad, "final": final,
                "numeric": numeric, "ok": ok}

    # --- pictures ------------------------------------------------------------------------------
    def graph(self, k=None, **options):
        """The computation graph at step k (current by default), its node and edge highlighted."""
        from .viz import draw_graph

        if k is not None:
            self.goto(k)
        r = self.record
        lit, edges = ((self.root,), ()) if r is None else ((r.node, r.input), ((r.input, r.node),))
        return draw_graph(self.root, highlight=lit, highlight_edges=edges, names=self.names, **options)

    def widget(self, title="microreg: backprop, step by step"):
        """A Jupyter widget (anywidget): the standalone page's own view, with Previous / Next /
        Play, a slider, keys, zoom and pan, the formula and the quiz. See `microreg.widget`."""
        try:
            from .widget import StepperWidget
        except ImportError as exc:
            raise ImportError(f"the stepper widget needs anywidget: pip install anywidget ({exc})") from None
        return StepperWidget(self, title=title)

    def to_html(self, path, title="microreg: backprop, step by step"):
        """Write one self-contained web page (no network, opens from ``file://``): the graph with
        zoom and pan, Previous / Next / Play, a slider, ←/→ keys, the formula, the quiz.
        The page is made by `microreg.page`."""
        from .page import write_page
        return write_page(self, path, title=title)


# --- the document-000 example and the terminal ------------------------------------------------------

def document_000_example(model_path=None, x=0.5, y=None, n_hidden=3, seed=0):
    """Document 000's net on one sample, its loss L = ½(ŷ − y)² built and labelled as the document
    writes it (x, w1, b1, z1, a1, w2, b2, z2 = ŷ, L). Returns L.

    With ``model_path`` (a model.json from ``microreg train``) the trained net is used, on its
    first feature's standardized scale.
    """
    if model_path:
        net = load_model(model_path)
        if not isinstance(net, TwoLayerNet):
            raise ModelFileError(f"{model_path}: key 'model': document 000's example needs a TwoLayerNet, "
                                 f"this file holds a {type(net).__name__}")
        xs = [x] * net.n_features
    else:
        net = TwoLayerNet(1, n_hidden, seed=seed)
        xs = [x]
    if y is None:
        y = math.sin(x)
    z1, a1, z2 = net.forward(xs)
    z2.label = "ŷ"
    residual = z2 - y
    residual.label = "ŷ − y"
    residual._prev[1].label = "−y"
    square = residual * residual
    square.label = "(ŷ − y)²"
    loss = 0.5 * square
    loss.label = "L"
    loss._prev[0].label = "½"
    return loss


def run_terminal(stepper, stdin=None, stdout=None):
    """Walk the steps in a terminal, one key per step (see `microreg.terminal`). Returns 0."""
    from .terminal import run_terminal as run
    return run(stepper, stdin=stdin, stdout=stdout)
