"""Step through a computation the way the documents teach it: the forward pass one node at a time,
then the seed, then backpropagation one chain-rule application at a time (or one layer at a time).

    >>> from microreg import Value
    >>> from microreg.step import Stepper
    >>> w, x = Value(0.5, label="w"), Value(2.0, label="x")
    >>> L = (w * x).tanh()
    >>> L.label = "L"
    >>> s = Stepper(L)
    >>> [f.phase for f in s.steps]
    ['forward', 'seed', 'backward', 'backward', 'backward']
    >>> print(s.steps[0].formula)          # L as written: the unlabelled w·x (t1) is folded in
    L = tanh(w·x) = tanh(0.5·2) = 0.7616
    >>> print(s.steps[3].formula)
    ∂L/∂w += ∂L/∂t1 · x = 0.42 × 2 = 0.8399
    >>> len(Stepper(L, fold=False))       # every node its own forward step
    6

What a `Stepper` shows is the engine's own arithmetic: the backward steps are the records of
``root.backward_steps()`` (the walk ``backward()`` runs, with the same rule-table entries), and
the formulas are the rule table's formula trees filled with the nodes' names and numbers.

The public structure, for front ends (the page, the widget, the terminal) and for tests:

- ``Stepper(root, forward=True, constants=False, view="nodes", names=None, fmt="{:.4g}", fold=True)``.
  ``forward=False`` skips the forward pass. A forward step computes a node the user labelled as
  they wrote it: unlabelled nodes used once inside it are folded into its step (``z1[0] =
  w1[0]·x + b1[0]``, not ``t1 = w1[0]·x`` first); ``fold=False`` steps every node. By default
  the numbers the user wrote (``2 * x``)
  are folded into their ops (``½·(ŷ − y)²``: no node, no step) and the data that ``microreg.nn``
  wraps (``x``, ``y``) is shown but gets no gradient step; ``constants=True`` steps both. ``view="layers"`` (for a loss
  built by ``microreg.nn``) replaces the node steps through the layers by one step per layer,
  forward (z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾) and backward (document 001's recursion).
- ``len(stepper)``, ``stepper.steps[k]`` (or ``stepper.frame(k)``): a `Frame` per step, built when
  first asked for. A frame has ``k``, ``phase`` (``"forward"``, ``"seed"``, ``"backward"``,
  ``"layer"``), ``node`` (the node computed, or whose op is applied), ``input`` and ``position``
  (backward: which input receives the contribution), ``op`` (the rule-table `Op`), ``target`` and
  ``changes`` (the node whose ``"value"`` or ``"grad"`` changes, ``before`` → ``after``; ``updates``
  lists every change, e.g. all of a layer's grads),
  ``formula`` (the step's equation with names and numbers: a `microreg.formula` tree with ``.text``,
  ``.latex`` and ``.mathml``), ``rule`` (the rule-table formula of the local derivative), ``lines``
  (the explanation, one string per line), ``lit`` (what a picture lights: nodes, the op, edges)
  and ``to_dict()`` (all of it as JSON-ready data, nodes as indices into ``stepper.order``).
  Layer frames also have ``layer``, ``delta``, ``grad_w``, ``grad_b`` (numpy arrays).
- ``stepper.nodes``: the nodes a picture shows (constants left out unless ``constants=True``);
  ``stepper.name(node)``: its display name; ``stepper.delta_name(node)``: ``δ1[0]`` for ``z1[0]``;
  ``stepper.op_label(node)``: the op with its constants folded in (``×½``, ``− 1``, ``^2``);
  ``stepper.node_table()``: all of that per node, JSON-ready.
- Moving: ``goto(k)``, ``next()``, ``prev()``, ``position``; ``value(node)`` and ``grad(node)`` are
  the node's value (None before the forward pass computes it) and gradient at the current step;
  ``state(k)`` gives both, as tuples over ``stepper.order``; ``phase_start(phase)`` is the
  first step of a phase. Each frame's ``answer`` is the number the quiz asks for. goto is fast on any graph (snapshots every few
  steps, not a replay from step 0). A Stepper keeps its own copies: a later ``backward()`` or
  parameter update does not change what it shows, and moving never touches the graph's nodes.
- ``text(k)``, ``transcript()``: the steps in words; ``check(node)``: a finished gradient
  against a finite difference; ``quiz()``: a `Quiz` that hides each step's result until the
  learner gives it.

Constructing a Stepper runs the backward pass once, on its own: the grads it shows start from 0,
and every node's ``.grad`` is put back as it was (call ``backward()`` for the grads themselves).
"""

import math
import re

import numpy as np

from .engine import Value, data as data_leaf, is_constant, is_data, topological_order
from .formula import Num, Partial, Product, Raw, Relation, Sym, has_operator, latex_name, number_text
from .mistakes import Graph, slips, words
from .nn import ModelFileError, TwoLayerNet, load_model
from .ops import AFFINE, DomainProblem, constant_text, op_label

ndarray = np.ndarray
PHASES = ("forward", "seed", "backward", "layer")
_PHASE = {"layer_forward": "forward"}       # the layer view's forward steps are forward steps


def group(name):
    """Put a name in parentheses when an operator stands outside any parentheses in it."""
    return f"({name})" if has_operator(name) else name


#: The longest node name the stepper shows (terminal, page, widget): a longer label is cut in the
#: middle, so a label of 100,000 characters does not make a page of 40 MB.
MAX_NAME = 80


def shown_name(label):
    """A label as the stepper shows it: control characters as escapes (``\\x00``, ``\\x1b``: a NUL
    emptied the formula panel, an ESC reached the terminal; a newline still starts a new line), lone
    surrogates as escapes (they are not text: no page could be written), cut to `MAX_NAME`."""
    from .terminal import printable
    text = printable(str(label))
    if len(text) > MAX_NAME:
        text = f"{text[:MAX_NAME - 20]}…{text[-12:]} ({len(text):,} characters)"
    return text


def _copy(x):
    return x.copy() if x.__class__ is ndarray else x


def _fmt(x, fmt="{:.4g}"):
    if x is None:
        return "?"
    if isinstance(x, ndarray):
        return number_text(x, fmt)
    return number_text(x, fmt)


class _Times(Raw):
    """``u × l``: a product of numbers (× between numbers reads better than · next to decimals)."""

    def __init__(self, left, right):
        self.left, self.right = left, right
        self.prec = 2
        self.negative = left.negative

    def _text(self):
        r = self.right._text()
        return f"{self.left._text()} × {'(' + r + ')' if self.right.negative else r}"

    def _latex(self):
        r = self.right._latex()
        if self.right.negative:
            r = r"\left(" + r + r"\right)"
        return self.left._latex() + r" \times " + r


class Frame:
    """One step as the learner sees it (see the module docstring for every field)."""

    def __init__(self, stepper, k, phase, node=None, input=None, position=None, op=None, target=None,
                 changes=None, before=None, after=None, formula=None, rule=None, lines=(), lit=None,
                 answer=None, upstream=None, local=None, contribution=None, **extra):
        self.stepper, self.k, self.phase = stepper, k, phase
        self.node, self.input, self.position, self.op = node, input, position, op
        self.target, self.changes, self.before, self.after = target, changes, before, after
        self.formula, self.rule, self.lines = formula, rule, list(lines)
        self.lit = lit or {"nodes": [], "op": None, "edges": []}
        self.answer = answer
        self.upstream, self.local, self.contribution = upstream, local, contribution
        for key, value in extra.items():
            setattr(self, key, value)

    @property
    def updates(self):
        """Every change this step makes: [(node, "value" or "grad", before, after)] (one for a
        forward, seed or backward step; all of a layer's grads for a layer step)."""
        s = self.stepper
        return [(s.order[i], what, before, after) for i, what, before, after in s._changes(self.k)]

    @property
    def title(self):
        """The first line: ``Step 3 / 40 (forward): …``."""
        return self.lines[0] if self.lines else ""

    @property
    def text(self):
        return "\n".join(self.lines)

    def __repr__(self):
        return f"Frame({self.k}, {self.phase!r}, {self.formula.text if self.formula is not None else ''!r})"

    def to_dict(self, mathml=True):
        """The frame as JSON-ready data: names, formulas (text, LaTeX and, unless ``mathml=False``,
        MathML), numbers, what is lit. Nodes are indices into ``stepper.order``."""
        s = self.stepper
        index = s.index

        def ref(n):
            return None if n is None else index.get(id(n))

        def formula(f):
            if f is None:
                return None
            out = {"text": f.text, "latex": f.latex}
            if mathml:
                out["mathml"] = f.mathml
            return out

        def number(x):
            if x is None:
                return None
            if isinstance(x, ndarray):
                return [float(v) for v in x]
            return float(x)

        out = {"k": self.k, "phase": self.phase, "title": self.title, "text": self.text,
               "node": ref(self.node), "input": ref(self.input), "position": self.position,
               "op": None if self.op is None else self.op.name,
               "target": ref(self.target), "changes": self.changes,
               "before": number(self.before), "after": number(self.after),
               "formula": formula(self.formula), "rule": formula(self.rule),
               "lit": {"nodes": [ref(n) for n in self.lit["nodes"] if ref(n) is not None],
                       "op": ref(self.lit["op"]),
                       "edges": [[ref(a), ref(b)] for a, b in self.lit["edges"]
                                 if ref(a) is not None and ref(b) is not None]}}
        out["updates"] = [[index[id(n)], what, number(before), number(after)] for n, what, before, after in self.updates]
        if getattr(self, "layer", None) is not None:
            out["layer"] = self.layer
        if self.phase == "layer":
            out.update(layer=self.layer, delta=number(self.delta), grad_b=number(self.grad_b),
                       grad_w=[number(row) for row in self.grad_w])
        return out


class Stepper:
    """The forward pass, the seed and the backward pass of ``root``, one step at a time.

    See the module docstring for the public structure (``steps``, `Frame`, ``goto``, ``quiz``).
    ``names`` optionally maps id(Value) to a display name; otherwise a node is called by its label
    (``str()`` of it), the output ``L``, a constant by its value, others ``t1, t2, …``.
    """

    SNAPSHOT_EVERY = 64

    def __init__(self, root, names=None, fmt="{:.4g}", forward=True, constants=False, view="nodes", fold=True):
        if not isinstance(root, Value):
            raise TypeError(f"Stepper needs a Value (the output to differentiate), got {type(root).__name__}")
        if view not in ("nodes", "layers"):
            raise ValueError(f"Stepper view must be 'nodes' or 'layers', got {view!r}")
        self.root, self.fmt, self.constants, self.view = root, fmt, constants, view
        self.with_forward = forward
        self.order = topological_order(root)
        self.index = {id(n): i for i, n in enumerate(self.order)}
        self.hidden = {id(n) for n in self.order
                       if not constants and (is_constant(n) or is_data(n)) and n is not root}
        self.folded = {id(n) for n in self.order if not constants and is_constant(n) and n is not root}
        self.nodes = [n for n in self.order if id(n) not in self.folded]
        self.names = self._name_nodes(names or {})
        self.fold = fold
        self.folds = self._fold_map(names or {}) if fold else {}
        self._folded_forward = {id(t) for inner in self.folds.values() for t in inner}
        self.values = [_copy(n.data) for n in self.order]          # the Stepper's own copies
        self.records = self._run_backward()
        self.final = {id(n): g for n, g in zip(self.order, self._final_grads)}
        self.layers = _find_layers(self)
        if view == "layers" and not self.layers:
            batch = any(n._rule is AFFINE and n.data.__class__ is ndarray for n in self.order)
            raise ValueError("Stepper(view='layers') needs a loss built by microreg.nn (layers of affine nodes "
                             "z = w·a + b) over one sample; " +
                             ("this graph holds a batch: build the loss of one sample, e.g. net(X[0])"
                              if batch else "this graph has none"))
        self._plan = self._make_plan()
        self._frames = {}
        self._snapshots()
        self.position = 0
        self.last_touch = {}
        self.fan_in, self.nth, self.fan_nodes = {}, {}, {}
        for k, (phase, payload) in enumerate(self._plan):
            if phase == "backward":
                r = self.records[payload]
                key = id(r.input)
                self.fan_in[key] = self.fan_in.get(key, 0) + 1       # edges out of the node
                self.fan_nodes.setdefault(key, set()).add(id(r.node))  # the nodes those edges reach
                self.nth[k] = self.fan_in[key]
                self.last_touch[key] = k

    # --- the backward pass, run once, copied ----------------------------------------------------
    def _run_backward(self):
        saved = [n.grad for n in self.order]
        for n in self.order:
            if n._rule is None:
                n.grad = 0.0
        records = []
        try:
            for r in self.root.backward_steps():
                # copies: later backward passes reuse and change the grads' arrays in place
                records.append(_Record(r.node, r.input, r.position, r.op, _copy(r.local), _copy(r.upstream),
                                       _copy(r.contribution), _copy(r.before), _copy(r.grad)))
            self._final_grads = [_copy(n.grad) for n in self.order]
        finally:
            for n, g in zip(self.order, saved):  # the graph is left as it was: the Stepper has its copies
                n.grad = g
        return records

    # --- names ---------------------------------------------------------------------------------
    def _name_nodes(self, given):
        names, counter = {}, 0
        for n in self.order:
            if id(n) in given:
                names[id(n)] = shown_name(given[id(n)])
            elif is_constant(n):
                names[id(n)] = constant_text(n.data, self.fmt)
            elif n.label is not None:
                names[id(n)] = shown_name(n.label)
            elif n is self.root:
                names[id(n)] = "L"
            elif n._rule is None and n.data.__class__ is float:
                names[id(n)] = number_text(n.data, self.fmt)
            else:
                counter += 1
                names[id(n)] = f"t{counter}"
        return names

    def _fold_map(self, given):
        """{id(labelled node): [the unlabelled nodes computed inside it]}: a forward step reads as the
        learner wrote the labelled node (``z1[0] = w1[0]·x + b1[0]``), not one step per hidden
        ``t1 = w1[0]·x``. An unlabelled computed node is folded when it feeds exactly one edge and
        that edge leads, through such nodes only, to a node with a label of its own (a user's label
        or a name given to the Stepper). ``Stepper(..., fold=False)`` steps every node."""
        uses = {}
        for n in self.order:
            for c in n._prev:
                uses.setdefault(id(c), []).append(n)

        def labelled(n):
            return n._rule is not None and (n.label is not None or id(n) in given)

        def free(n):             # an unlabelled intermediate node, used by one edge
            return (n._rule is not None and n is not self.root and not labelled(n)
                    and id(n) not in self.hidden and len(uses.get(id(n), ())) == 1)

        folds = {}
        for n in self.order:            # inputs first: each chain is read in computing order
            if not free(n):
                continue
            home = uses[id(n)][0]
            while free(home):
                home = uses[id(home)][0]
            if labelled(home):
                folds.setdefault(id(home), []).append(n)
        return folds

    def name(self, node):
        """The node's name, in parentheses when it holds an operator: ``(ŷ − y)``, not ``ŷ − y``."""
        return group(self.names[id(node)])

    def symbol(self, node):
        """The node as a formula: its name, or for a folded constant its number."""
        if id(node) in self.folded:
            return Num(node.data, self.fmt, text=constant_text(node.data, self.fmt))
        return Sym(self.names[id(node)])

    def delta_name(self, node):
        """``δ1[0]`` for a node named ``z1[0]`` (documents 000 and 001 call ∂L/∂z δ), else None."""
        name = self.names[id(node)]
        m = _Z_NAME.match(name)
        if m and node._rule is not None:
            return f"δ{m.group(1)}{m.group(2) or ''}"
        if name == "ŷ" and node._rule is AFFINE:        # document 000: ŷ = z2
            layer = 0
            for c in node._prev:
                m = _A_NAME.match(self.names[id(c)])
                if m:
                    layer = max(layer, int(m.group(1)))
            return f"δ{layer + 1}"
        return None

    def op_label(self, node):
        """What a picture writes in the circle of the op that made ``node``, with the constants folded
        into it: ``×½``, ``− 1``, ``1 −``, ``/ 2``, ``2^``, ``^2``, ``σ``, ``Σ w·x + b`` (None for a leaf).
        See `microreg.ops.op_label`, which the pictures use too."""
        return op_label(node, self.folded, self.fmt)

    def node_table(self):
        """One JSON-ready row per node of ``stepper.order`` (what a front end needs to draw it):
        ``name``, ``kind`` (``"op"``, ``"leaf"``, ``"data"``, ``"constant"``), ``op`` and ``op_label``,
        ``inputs`` (indices), ``shown`` (False for a folded constant), ``delta`` (δ name or None)."""
        rows = []
        for n in self.order:
            kind = "op" if n._rule is not None else "constant" if is_constant(n) else "data" if is_data(n) else "leaf"
            rows.append({"name": self.names[id(n)], "kind": kind, "op": n._rule.name if n._rule else None,
                         "op_label": self.op_label(n), "inputs": [self.index[id(c)] for c in n._prev],
                         "shown": id(n) not in self.folded, "delta": self.delta_name(n)})
        return rows

    def grad_symbol(self, node):
        """∂L/∂node as a formula (named δ… where the documents name it so)."""
        delta = self.delta_name(node)
        if delta is not None:
            return Sym(delta)
        return Partial(self.symbol(self.root), self.symbol(node))

    # --- the plan: which steps, in which order --------------------------------------------------
    def _make_plan(self):
        plan = []
        layer_of = {}
        if self.view == "layers":
            for j, layer in enumerate(self.layers):
                for n in list(layer["z"]) + list(layer["act"]):
                    layer_of[id(n)] = j
        if self.with_forward:
            done = set()
            for n in self.order:
                if n._rule is None:
                    continue
                j = layer_of.get(id(n))
                if id(n) in self._folded_forward:
                    continue                 # computed inside the labelled node's step
                if j is None:
                    plan.append(("forward", n))
                elif j not in done:          # the layer view computes a whole layer in one step
                    done.add(j)
                    plan.append(("layer_forward", j))
        plan.append(("seed", self.root))
        shown = [i for i, r in enumerate(self.records) if id(r.input) not in self.hidden]
        if self.view == "layers":
            head = [i for i in shown if id(self.records[i].node) not in layer_of]
            plan += [("backward", i) for i in head]
            plan += [("layer", j) for j in range(len(self.layers) - 1, -1, -1)]
        else:
            plan += [("backward", i) for i in shown]
        return plan

    def __len__(self):
        return len(self._plan)

    @property
    def steps(self):
        """Every step as a `Frame` (a sequence; frames are built when first asked for)."""
        return _Frames(self)

    def phase_start(self, phase):
        """The index of the first step of a phase (``"forward"``, ``"seed"``, ``"backward"``,
        ``"layer"``), or None when there is none."""
        return next((k for k, (p, _) in enumerate(self._plan) if _PHASE.get(p, p) == phase), None)

    # --- state: every node's value and grad at every step ---------------------------------------
    def _changes(self, k):
        """[(node index, "value"/"grad", before, after)] of step k."""
        phase, payload = self._plan[k]
        i = self.index
        if phase == "forward":
            return [(i[id(n)], "value", None, self.values[i[id(n)]]) for n in self.folds.get(id(payload), ())] + \
                [(i[id(payload)], "value", None, self.values[i[id(payload)]])]
        if phase == "layer_forward":
            layer = self.layers[payload]
            nodes = list(layer["z"]) + [a for a in layer["act"] if a not in layer["z"]]
            return [(i[id(n)], "value", None, self.values[i[id(n)]]) for n in nodes]
        if phase == "seed":
            return [(i[id(payload)], "grad", 0.0, 1.0)]
        if phase == "backward":
            r = self.records[payload]
            return [(i[id(r.input)], "grad", r.before, r.grad)]
        layer = self.layers[payload]
        out = [(i[id(a)], "grad", 0.0, float(g)) for a, g in zip(layer["act"], layer["grad_a"])
               if a not in layer["z"]]
        out += [(i[id(z)], "grad", 0.0, float(d)) for z, d in zip(layer["z"], layer["delta"])]
        for row, values in zip(layer["w"], layer["grad_w"]):
            out += [(i[id(w)], "grad", 0.0, float(g)) for w, g in zip(row, values)]
        out += [(i[id(b)], "grad", 0.0, float(g)) for b, g in zip(layer["b"], layer["grad_b"])]
        return out

    def _snapshots(self):
        n = len(self.order)
        values = list(self.values)
        if self.with_forward:
            for node in self.order:
                if node._rule is not None:
                    values[self.index[id(node)]] = None
        grads = [0.0] * n
        self._snaps = []
        for k in range(len(self._plan)):
            if k % self.SNAPSHOT_EVERY == 0:
                self._snaps.append((list(values), list(grads)))
            for j, what, _, after in self._changes(k):
                (values if what == "value" else grads)[j] = after
        self._state = (values, grads)
        self._state_k = len(self._plan) - 1

    def state(self, k=None):
        """(values, grads) after step k (the current step by default): two tuples, one entry per
        node of ``stepper.order``; a value not yet computed by the forward pass is None."""
        values, grads = self._state_at(self.position if k is None else k)
        return tuple(values), tuple(grads)

    def _state_at(self, k):
        if not 0 <= k < len(self):
            raise IndexError(f"step {k} is out of range: this stepper has steps 0 to {len(self) - 1}")
        if k != self._state_k:
            base = k // self.SNAPSHOT_EVERY
            values, grads = (list(x) for x in self._snaps[base])
            for j in range(base * self.SNAPSHOT_EVERY, k + 1):
                for i, what, _, after in self._changes(j):
                    (values if what == "value" else grads)[i] = after
            self._state, self._state_k = (values, grads), k
        return self._state

    def value(self, node):
        """The node's value at the current step (None before the forward pass computes it)."""
        return self._state_at(self.position)[0][self.index[id(node)]]

    def grad(self, node):
        """∂root/∂node as far as the backward pass has got at the current step."""
        return self._state_at(self.position)[1][self.index[id(node)]]

    # --- moving --------------------------------------------------------------------------------
    def goto(self, k):
        """Move to step k (0 ≤ k < len(stepper))."""
        if not 0 <= k < len(self):
            raise IndexError(f"step {k} is out of range: this stepper has steps 0 to {len(self) - 1}")
        self.position = k
        self._state_at(k)
        return self

    def next(self):
        """One step forward (stays on the last step at the end)."""
        return self.goto(min(self.position + 1, len(self) - 1))

    def prev(self):
        """One step back (stays on step 0 at the start)."""
        return self.goto(max(self.position - 1, 0))

    @property
    def record(self):
        """The engine's record of the current backward step (None on other steps)."""
        phase, payload = self._plan[self.position]
        return self.records[payload] if phase == "backward" else None

    # --- frames ----------------------------------------------------------------------------------
    def frame(self, k):
        """Step k as a `Frame`."""
        if not -len(self) <= k < len(self):
            raise IndexError(f"step {k} is out of range: this stepper has steps 0 to {len(self) - 1}")
        k %= len(self)
        f = self._frames.get(k)
        if f is None:
            phase, payload = self._plan[k]
            f = getattr(self, "_frame_" + phase)(k, payload)
            if len(self._frames) > 4096:
                self._frames.clear()
            self._frames[k] = f
        return f

    def _head(self, k, phase, what):
        return f"Step {k + 1} / {len(self)} ({phase}): {what}"

    def _num(self, x):
        return Num(x, self.fmt)

    def _frame_forward(self, k, node):
        rule = node._rule
        inner = self.folds.get(id(node), ())
        inside = {id(t) for t in inner}

        def names_of(n):          # the node's expression, folded nodes written out in place
            return n._rule.tree([names_of(c) if id(c) in inside else self.symbol(c) for c in n._prev])

        def numbers_of(n):
            return n._rule.tree([numbers_of(c) if id(c) in inside else
                                 self.symbol(c) if id(c) in self.folded else self._num(self.values[self.index[id(c)]])
                                 for c in n._prev])
        value = self.values[self.index[id(node)]]
        parts = [self.symbol(node)]
        for part in (names_of(node), numbers_of(node), self._num(value)):
            if part.text != parts[-1].text:      # ``ŷ − y = ŷ − y`` says nothing: skip repeats
                parts.append(part)
        formula = Relation(parts, ["="] * (len(parts) - 1))
        ops = list(dict.fromkeys(t._rule.name for t in (*inner, node)))
        lines = [self._head(k, "forward", f"compute {self.names[id(node)]} ({', '.join(ops)})"), formula.text]
        for t in inner:          # the unlabelled nodes folded in, named as the backward steps name them
            lines.append(f"  inside it, unlabelled: {self.names[id(t)]} = "
                         f"{t._rule.tree([self.symbol(c) for c in t._prev]).text} = {_fmt(self.values[self.index[id(t)]], self.fmt)}")
        if node is self.root:
            lines.append(f"  {self.names[id(node)]} is the output: the backward pass starts here.")
        reads = [c for t in (*inner, node) for c in t._prev if id(c) not in inside and id(c) not in self.folded]
        reads = list({id(c): c for c in reads}.values())
        lit = {"nodes": [node, *inner] + reads, "op": node,
               "edges": [(c, t) for t in (*inner, node) for c in t._prev if id(c) not in self.folded]}
        return Frame(self, k, "forward", node=node, op=rule, target=node, changes="value", before=None,
                     after=value, formula=formula, lines=lines, lit=lit, answer=value, inputs=reads,
                     inner=list(inner))

    def _frame_layer_forward(self, k, j):
        layer = self.layers[j]
        l, fmt = layer["l"], self.fmt
        z = [self.values[self.index[id(n)]] for n in layer["z"]]
        a = [self.values[self.index[id(n)]] for n in layer["act"]]
        a_prev = [self.values[self.index[id(n)]] for n in layer["inputs"]]
        act = layer["act_name"]
        # one notation in the layer view: W2, δ1, a0, z1 in text, W₂, δ₁, a₀, z₁ in math, as the
        # graph's own labels w2[0], z1[0] are written (w₂[0], z₁[0])
        text = f"z{l} = W{l} a{l - 1} + b{l}"
        latex = rf"z_{{{l}}} = W_{{{l}}} a_{{{l - 1}}} + b_{{{l}}}"
        lines = [self._head(k, "forward", f"layer {l}: z{l} = W{l} a{l - 1} + b{l}, then a{l}"),
                 f"{text} = {_vec(z, fmt)}"]
        if l == 1:
            lines.append(f"  a0 = x, the sample: {_vec(a_prev, fmt)}")
        else:
            lines.append(f"  a{l - 1} = {_vec(a_prev, fmt)}")
        lines.append(f"  W{l} = {_matrix([[self.values[self.index[id(w)]] for w in row] for row in layer['w']], fmt)}, "
                     f"b{l} = {_vec([self.values[self.index[id(b)]] for b in layer['b']], fmt)}")
        if act == "linear":
            lines.append(f"a{l} = z{l}: a linear layer")
        else:
            lines.append(f"a{l} = {act}(z{l}) = {_vec(a, fmt)}")
        formula = Raw(f"{text} = {_vec(z, fmt)}", latex + " = " + _latex_vectors(_vec(z, fmt)), prec=0)
        nodes = list(layer["z"]) + [n for n in layer["act"] if n not in layer["z"]]
        return Frame(self, k, "forward", changes="value", formula=formula, lines=lines,
                     lit={"nodes": nodes, "op": None, "edges": []}, layer=l, nodes_z=list(layer["z"]))

    def _frame_seed(self, k, root):
        name = self.symbol(root)
        formula = Relation([Partial(name, name), Num(1)], ["="])
        lines = [self._head(k, "seed", "start the backward pass at the output"),
                 formula.text,
                 "  the gradient of the output with respect to itself is 1: it seeds the backward pass."]
        return Frame(self, k, "seed", node=root, target=root, changes="grad", before=0.0, after=1.0,
                     formula=formula, lines=lines, lit={"nodes": [root], "op": None, "edges": []}, answer=1.0)

    def _frame_backward(self, k, i):
        r = self.records[i]
        node, child = r.node, r.input
        names = [self.symbol(c) for c in node._prev]
        local_tree = r.op.local_tree(r.position, names)
        upstream = self.grad_symbol(node)
        target = Partial(self.symbol(self.root), self.symbol(child))
        product = upstream if _is_one(local_tree) else Product(upstream, local_tree)
        numbers = _Times(self._num(r.upstream), self._num(r.local))
        first = isinstance(r.before, float) and r.before == 0.0
        if not first:
            numbers = Raw(f"{_fmt(r.before, self.fmt)} + {numbers.text}",
                          f"{self._num(r.before).latex} + {numbers.latex}", prec=1)
        formula = Relation([target, product, numbers, self._num(r.grad)], ["+=", "=", "="])
        rule_tree = r.op.formula_tree(r.position, names)
        node_name, child_name = self.names[id(node)], self.names[id(child)]
        made = r.op.tree(names, keep=r.position).text
        made = node_name if made == node_name else f"{node_name} = {made}"
        lines = [self._head(k, "backward", f"through {made} ({r.op.name}), to {child_name}"),
                 formula.text,
                 f"  local derivative (rule table): {rule_tree.text}",
                 f"  upstream gradient {upstream.text} = {_fmt(r.upstream, self.fmt)}"]
        if self.delta_name(node):
            lines[-1] += f"  ({self.delta_name(node)} = ∂{self.name(self.root)}/∂{self.name(node)})"
        if not isinstance(r.contribution, ndarray) and isinstance(r.upstream, ndarray):
            lines.append(f"  {child_name} is one number used by all {r.upstream.shape[0]} samples: its contribution "
                         f"is the sum over the samples of upstream × local")
        fan = self.fan_in[id(child)]
        if fan > 1:
            consumers = len(self.fan_nodes[id(child)])
            feeds = (f"feeds {fan} nodes" if consumers == fan else f"enters {node_name} {fan} times" if consumers == 1
                     else f"feeds {consumers} nodes through {fan} edges")
            lines.append(f"  {group(child_name)} {feeds} (fan-out): this is contribution "
                         f"{self.nth[k]} of {fan}; running sum "
                         f"{(self._num(r.before) + self._num(r.contribution)).text} = {_fmt(r.grad, self.fmt)}")
        if self.last_touch.get(id(child)) == k:
            lines.append(f"  {target.text} = {_fmt(r.grad, self.fmt)} is now final.")
            d = self.delta_name(child)
            if d:
                lines.append(f"  {d} = {target.text} = {_fmt(r.grad, self.fmt)}")
        lit = {"nodes": [node, child], "op": node, "edges": [(child, node)]}
        return Frame(self, k, "backward", node=node, input=child, position=r.position, op=r.op, target=child,
                     changes="grad", before=r.before, after=r.grad, formula=formula, rule=rule_tree, lines=lines,
                     lit=lit, answer=r.grad, upstream=r.upstream, local=r.local, contribution=r.contribution,
                     local_formula=local_tree, upstream_formula=upstream)

    def _frame_layer(self, k, j):
        """Document 001's recursion for one layer, in the layer view's one notation (W2, δ1, a0, z1;
        subscripts in math) and with the loss's own name (∂L/∂W1 for a loss named L)."""
        layer = self.layers[j]
        l, fmt = layer["l"], self.fmt
        loss = self.names[id(self.root)]
        loss_tex = latex_name(loss)
        delta, grad_w, grad_b = layer["delta"], layer["grad_w"], layer["grad_b"]
        grad_a, sigma_prime = _vec(layer["grad_a"], fmt), _vec(layer["sigma_prime"], fmt)
        if layer["act_name"] == "linear":
            sp = f"σ'(z{l}) = 1: a linear layer, a{l} = z{l}"
        else:
            sp = f"σ'(z{l}) = {layer['act'][0]._rule.local_tree(0, [f'z{l}']).text}, σ = {layer['act'][0]._rule.name}"
        if j == len(self.layers) - 1:
            text = f"δ{l} = ∂{loss}/∂a{l} ⊙ σ'(z{l})"
            latex = (rf"\delta_{{{l}}} = \frac{{\partial {loss_tex}}}{{\partial a_{{{l}}}}} \odot "
                     rf"\sigma'\left(z_{{{l}}}\right)")
            where = f"  ∂{loss}/∂a{l} = {grad_a}, from the loss's own steps"
        else:
            text = f"δ{l} = (W{l + 1}ᵀ δ{l + 1}) ⊙ σ'(z{l})"
            latex = (rf"\delta_{{{l}}} = \left(W_{{{l + 1}}}^{{T}} \delta_{{{l + 1}}}\right)"
                     rf" \odot \sigma'\left(z_{{{l}}}\right)")
            where = f"  W{l + 1}ᵀ δ{l + 1} = ∂{loss}/∂a{l} = {grad_a}"
        numbers = f"{grad_a} ⊙ {sigma_prime} = {_vec(delta, fmt)}"
        formula = Raw(f"{text} = {numbers}", latex + " = " + _latex_vectors(numbers), prec=0)
        rule = Raw(f"∂{loss}/∂W{l} = δ{l} a{l - 1}ᵀ,  ∂{loss}/∂b{l} = δ{l}",
                   rf"\frac{{\partial {loss_tex}}}{{\partial W_{{{l}}}}} = \delta_{{{l}}} a_{{{l - 1}}}^{{T}},\quad"
                   rf" \frac{{\partial {loss_tex}}}{{\partial b_{{{l}}}}} = \delta_{{{l}}}", prec=0)
        lines = [self._head(k, "layer", f"layer {l}: its error δ{l} and its gradients"),
                 formula.text,
                 f"  {sp}",
                 where,
                 f"∂{loss}/∂W{l} = δ{l} a{l - 1}ᵀ = {_matrix(grad_w, fmt)}",
                 f"∂{loss}/∂b{l} = δ{l} = {_vec(grad_b, fmt)}"]
        if l == 1:
            lines.append(f"  a0 = x, the sample: {_vec([self.values[self.index[id(a)]] for a in layer['inputs']], fmt)}")
        lit = {"nodes": list(layer["z"]) + layer["flat_w"] + list(layer["b"]), "op": None, "edges": []}
        return Frame(self, k, "layer", changes="grad", formula=formula, rule=rule, lines=lines, lit=lit,
                     layer=l, delta=delta, grad_w=grad_w, grad_b=grad_b, grad_a=layer["grad_a"],
                     sigma_prime=layer["sigma_prime"], nodes_z=list(layer["z"]))

    # --- words ---------------------------------------------------------------------------------
    def text(self, k=None):
        """Step k (the current one by default) in words, formulas and numbers."""
        return self.frame(self.position if k is None else k).text

    def transcript(self):
        """Every step's text, one after another."""
        return "\n\n".join(self.text(k) for k in range(len(self)))

    # --- checking ------------------------------------------------------------------------------
    def finite_difference(self, node, eps=None):
        """Central finite difference of the output with respect to ``node``'s data (re-running the
        forward ops downstream of it, on the Stepper's own copies)."""
        x0 = self.values[self.index[id(node)]]
        if isinstance(x0, ndarray):
            raise ValueError("finite_difference: pick a scalar node")
        h = eps or 1e-6 * max(1.0, abs(x0))
        return (self._output_with(node, x0 + h) - self._output_with(node, x0 - h)) / (2 * h)

    def _output_with(self, node, value):
        data = {id(n): v for n, v in zip(self.order, self.values)}
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
        """Compare a node's gradient (the current step's target by default) with a finite difference.

        Returns {"node", "finished", "grad", "final", "numeric", "ok"}; ``finished`` says whether
        every contribution to this node has been added by the current step.
        """
        if node is None:
            node = self.frame(self.position).target or self.root
        last = self.last_touch.get(id(node), -1)
        finished = last <= self.position
        numeric = self.finite_difference(node)
        final = self.final[id(node)]
        ok = math.isclose(final, numeric, rel_tol=rtol, abs_tol=atol)
        return {"node": self.name(node), "finished": finished, "grad": self.grad(node), "final": final,
                "numeric": numeric, "ok": ok}

    def quiz(self, phases=("forward", "backward"), rtol=5e-3, atol=1e-9):
        """A `Quiz` over this stepper's steps of the given phases."""
        return Quiz(self, phases=phases, rtol=rtol, atol=atol)

    # --- pictures ------------------------------------------------------------------------------
    def moment(self, k=None, phase=None, step=None):
        """What a picture shows at one step: ``(k, {id(node): (data text, grad text)}, lit)``, a
        value not yet computed and a grad not yet reached written "—" (the grad None for data the
        stepper does not step: no grad is drawn for it), and ``lit`` the step's
        nodes and edges. The step is ``k`` (the current one by default), or ``step`` counted from
        0 within ``phase`` ("forward", "seed", "backward", "layer"; the phase's last step by default)."""
        if phase is not None:
            if phase not in PHASES:
                raise ValueError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
            start = self.phase_start(phase)
            if start is None:
                raise ValueError(f"this stepper has no {phase!r} steps")
            end = start
            while end + 1 < len(self) and self.frame(end + 1).phase == phase:
                end += 1
            k = end if step is None else start + step
            if not start <= k <= end:
                raise ValueError(f"step {step} is out of range: the {phase} phase has steps 0 to {end - start}")
        elif step is not None:
            k = step
        elif k is None:
            k = self.position
        if not 0 <= k < len(self):
            raise ValueError(f"step {k} is out of range: this stepper has steps 0 to {len(self) - 1}")
        values, grads = self._state_at(k)
        reached = set()
        for j in range(k + 1):
            reached.update(i for i, what, _, _ in self._changes(j) if what == "grad")
        from .viz import NOT_YET, format_data

        state = {}
        for i, n in enumerate(self.order):
            data = NOT_YET if values[i] is None else format_data(values[i], self.fmt)
            grad = format_data(grads[i], self.fmt) if i in reached else NOT_YET
            state[id(n)] = (data, None if id(n) in self.hidden else grad)   # data is not stepped: no grad
        return k, state, self.frame(k).lit

    def graph(self, k=None, phase=None, step=None, **options):
        """The computation graph (a `microreg.viz.Graph`) as the page shows it at step k (the
        current one by default; or ``step`` within ``phase``, as `moment`): the values computed
        so far, the grads reached so far ("—" for the others), the step's node, op and edge lit.
        Other keywords go to `microreg.viz.draw_graph`. Moving the stepper or drawing never
        touches the graph's nodes."""
        from .viz import draw_graph

        k, state, lit = self.moment(k, phase, step)
        options.setdefault("constants", self.constants)     # fold the constants as this stepper does
        return draw_graph(self.root, highlight=lit["nodes"][:2] if lit["nodes"] else (),
                          highlight_edges=lit["edges"], names=self.names, state=state, **options)

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




class _Frames:
    """``stepper.steps``: a read-only sequence of Frames, built on demand."""

    def __init__(self, stepper):
        self._s = stepper

    def __len__(self):
        return len(self._s)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self._s.frame(i) for i in range(*k.indices(len(self._s)))]
        return self._s.frame(k)

    def __iter__(self):
        return (self._s.frame(k) for k in range(len(self._s)))


class _Record:
    """The Stepper's own copy of one engine `Step` record."""

    __slots__ = ("node", "input", "position", "op", "local", "upstream", "contribution", "before", "grad")

    def __init__(self, node, input, position, op, local, upstream, contribution, before, grad):
        self.node, self.input, self.position, self.op = node, input, position, op
        self.local, self.upstream, self.contribution, self.before, self.grad = local, upstream, contribution, before, grad


_Z_NAME = re.compile(r"^z(\d+)((?:\[\d+\])?)$")
_A_NAME = re.compile(r"^a(\d+)((?:\[\d+\])?)$")
def _latex_vectors(text):
    """``[1, −2] ⊙ [3, 4] = [3, −8]`` in LaTeX."""
    text = text.replace("[", r"\left[").replace("]", r"\right]").replace("⊙", r"\odot")
    return re.sub(r"−([\d.]+(?:e[+-]?\d+)?)", r"{-\1}", text)     # a group: the minus is a sign


def _vec(v, fmt):
    return "[" + ", ".join(number_text(float(x), fmt) for x in v) + "]"


def _matrix(m, fmt):
    return "[" + "; ".join(", ".join(number_text(float(x), fmt) for x in row) for row in m) + "]"


_ACTIVATIONS = {"sigmoid": "σ", "tanh": "tanh", "relu": "relu"}
_DEFINITIONS = {"sigmoid": "σ(z) = 1/(1 + exp(−z))", "tanh": "tanh(z) = (exp(z) − exp(−z))/(exp(z) + exp(−z))",
                "relu": "relu(z) = z if z > 0, else 0", "exp": "exp(z) = e^z, e = 2.718…", "log": "ln is the natural log"}


def _find_layers(stepper):
    """The layers of a one-sample net built of affine nodes (as ``microreg.nn`` builds them), with
    document 001's recursion worked out with numpy: δ^(L) = ∇ₐC ⊙ σ'(z^(L)),
    δ^(l) = ((W^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^(l)), ∂C/∂W^(l) = δ^(l) (a^(l−1))ᵀ, ∂C/∂b^(l) = δ^(l).
    Returns [] when the graph is not such a net."""
    order = stepper.order
    affine = [n for n in order if n._rule is AFFINE and n.data.__class__ is float]
    if not affine:
        return []
    parents = {}
    for n in order:
        for c in n._prev:
            parents.setdefault(id(c), []).append(n)
    groups = {}
    for z in affine:
        n_in = len(z._prev) // 2
        key = tuple(id(c) for c in z._prev[n_in:2 * n_in])
        groups.setdefault(key, []).append(z)

    def activation(z):
        for p in parents.get(id(z), ()):
            if p._rule is not None and p._rule.name in _ACTIVATIONS and len(p._prev) == 1:
                return p
        return z

    layers = []
    current = None
    for key, zs in groups.items():          # the first layer: its inputs are leaves
        n_in = len(zs[0]._prev) // 2
        if all(c._rule is None for c in zs[0]._prev[n_in:2 * n_in]):
            current = zs
            break
    while current is not None:
        acts = [activation(z) for z in current]
        layers.append({"z": current, "act": acts})
        key_set = {id(a) for a in acts}
        nxt = None
        for key, zs in groups.items():
            if set(key) == key_set and len(key) == len(acts):
                nxt = zs
                # order this layer's units as the next layer reads them
                pos = {k: i for i, k in enumerate(key)}
                pairs = sorted(zip(current, acts), key=lambda p: pos[id(p[1])])
                layers[-1]["z"], layers[-1]["act"] = [p[0] for p in pairs], [p[1] for p in pairs]
                break
        current = nxt
    if len(layers) == 0 or sum(len(layer["z"]) for layer in layers) != len(affine):
        return []
    values = {id(n): v for n, v in zip(stepper.order, stepper.values)}
    for l, layer in enumerate(layers, start=1):
        z0 = layer["z"][0]
        n_in = len(z0._prev) // 2
        layer["l"] = l
        layer["inputs"] = list(z0._prev[n_in:2 * n_in])
        layer["w"] = [list(z._prev[:n_in]) for z in layer["z"]]
        layer["b"] = [z._prev[-1] for z in layer["z"]]
        layer["flat_w"] = [w for row in layer["w"] for w in row]
        layer["flat_b"] = layer["b"]
        layer["flat_z"] = layer["z"]
        layer["flat_act"] = [a for a in layer["act"] if a not in layer["z"]]
        a0 = layer["act"][0]
        layer["act_name"] = "linear" if a0 is z0 else _ACTIVATIONS[a0._rule.name]
        sp = []
        for z, a in zip(layer["z"], layer["act"]):
            sp.append(1.0 if a is z else a._rule.d[0](values[id(z)], values[id(a)]))   # σ'(z) from the rule table
        layer["sigma_prime"] = np.array(sp)
    # the recursion, top layer first
    top = layers[-1]
    grad_a = np.array([stepper.final[id(a)] for a in top["act"]])     # ∇ₐC: from the loss's own steps
    for j in range(len(layers) - 1, -1, -1):
        layer = layers[j]
        if j < len(layers) - 1:
            upper = layers[j + 1]
            W = np.array([[values[id(w)] for w in row] for row in upper["w"]])
            grad_a = W.T @ upper["delta"]
        layer["grad_a"] = grad_a
        layer["delta"] = grad_a * layer["sigma_prime"]
        a_prev = np.array([values[id(a)] for a in layer["inputs"]])
        layer["grad_w"] = np.outer(layer["delta"], a_prev)
        layer["grad_b"] = layer["delta"].copy()
    return layers


# --- the quiz -------------------------------------------------------------------------------------

class Verdict:
    """What the quiz says about one answer: ``ok``, ``kind``, the ``hint`` to show (for a right
    answer, "correct" and why), the ``expected`` and ``given`` numbers.

    ``kind`` is ``"right"``; for a backward step, a kind of `microreg.mistakes` when its search
    names the slip (``"factor"``, ``"forgotten derivative"``, ``"wrong node"``, …, in the words
    `verify` uses), else ``"local alone"``, ``"contribution alone"``, ``"sign"`` (the contribution
    subtracted), ``"other input"`` (the local derivative of another input of the op); for a forward
    step ``"sign"``, ``"input unchanged"``, ``"left out bias"``; ``"wrong"`` when nothing fits."""

    def __init__(self, ok, kind, hint, expected, given):
        self.ok, self.kind, self.hint, self.expected, self.given = ok, kind, hint, expected, given

    def __repr__(self):
        return f"Verdict({self.kind!r}: {self.hint})"


class Quiz:
    """Each step's result hidden until the learner gives it.

        >>> from microreg import Value
        >>> w, x = Value(0.5, label="w"), Value(2.0, label="x")
        >>> L = w * x
        >>> L.label = "L"
        >>> q = Stepper(L).quiz()
        >>> print(q.question())          # the step with its result replaced by ?
        Question 1 / 3 (forward)
        L = w·x = ?
          where w = 0.5, x = 2
        >>> print(q.answer(1.0).hint)    # right (within tolerance): "correct", and on to the next
        correct: L = w·x = 0.5·2 = 1
        >>> print(q.question())
        Question 2 / 3 (backward)
        ∂L/∂w += ∂L/∂L · x:  ∂L/∂w = ?
          where ∂L/∂L = 1, w = 0.5, x = 2
        >>> print(q.answer(1.0).hint)    # wrong: a hint, from the mistake search `verify` uses
        you left out ∂L/∂w = x (a forgotten local derivative)
        >>> q.score                      # (right at the first try, asked)
        (1, 2)

    ``answer`` compares within ``rtol`` (relative; 0.5 % by default, so 3 significant figures
    pass) or to the number as the step prints it. A right answer says "correct" and why in one
    line. A wrong answer to a backward step gets the mistake `microreg.mistakes` names (the search
    and the words of `verify` and ``check FILE``: a forgotten or extra local derivative, one at the
    wrong node, σ for σ', the wrong factor of a product, a flipped sign, a left-out path…), else a
    quiz slip (the local derivative alone, this contribution without the running sum), else the
    formula to use; a forward step's hints name the input passed through unchanged or a left-out
    bias. ``slips()`` lists the numbers the search's slips give for a step (the page's hints).
    ``reveal()`` shows the answer and moves on (counted as wrong). Batch steps are skipped.
    """

    def __init__(self, stepper, phases=("forward", "backward"), rtol=5e-3, atol=1e-9):
        for p in phases:
            if p not in PHASES:
                raise ValueError(f"quiz phases are among {PHASES}, got {p!r}")
        self.stepper, self.rtol, self.atol = stepper, rtol, atol
        self.questions = [k for k, (p, _) in enumerate(stepper._plan)
                          if p in phases and p != "layer" and _scalar(stepper._changes(k)[0][3])]
        self.i, self.right, self.asked, self.tries = 0, 0, 0, 0
        self.log = []
        if self.questions:
            stepper.goto(self.questions[0])

    @property
    def done(self):
        return self.i >= len(self.questions)

    @property
    def frame(self):
        """The step being asked (None when the quiz is over)."""
        return None if self.done else self.stepper.frame(self.questions[self.i])

    @property
    def score(self):
        """(answers right at the first try, questions asked so far)."""
        return self.right, self.asked

    def question(self):
        """The current step with its result hidden (``?``), and the numbers it needs."""
        f = self.frame
        if f is None:
            return self.summary()
        s = self.stepper
        lines = [f"Question {self.i + 1} / {len(self.questions)} ({f.phase})"]
        if f.phase == "forward":
            lines.append(f"{f.formula.parts[0].text} = {f.formula.parts[1].text} = ?")
            known = getattr(f, "inputs", None) or [c for c in f.node._prev if id(c) not in s.folded]
            lines.append("  where " + ", ".join(f"{s.names[id(c)]} = {_fmt(s.values[s.index[id(c)]], s.fmt)}"
                                               for c in known))
        else:
            target = f.formula.parts[0]
            lines.append(f"{target.text} += {f.formula.parts[1].text}:  {target.text} = ?")
            known = [f"{f.upstream_formula.text} = {_fmt(f.upstream, s.fmt)}"]
            known += [f"{s.names[id(c)]} = {_fmt(s.values[s.index[id(c)]], s.fmt)}" for c in f.node._prev
                      if id(c) not in s.folded]
            lines.append("  where " + ", ".join(known))
            if not (_scalar(f.before) and f.before == 0.0):
                lines.append(f"  running sum so far: {target.text} = {_fmt(f.before, s.fmt)}")
        return "\n".join(lines)

    def _close(self, a, b):
        if not (math.isfinite(a) and math.isfinite(b)):
            return a == b
        return math.isclose(a, b, rel_tol=self.rtol, abs_tol=self.atol) or \
            number_text(a, self.stepper.fmt) == number_text(b, self.stepper.fmt)

    def answer(self, value):
        """Check an answer to the current question; a right one moves on. Returns a `Verdict`."""
        f = self.frame
        if f is None:
            raise ValueError("the quiz is over: see .score")
        try:
            given = float(str(value).replace("−", "-").strip()) if not isinstance(value, (int, float)) else float(value)
        except ValueError:
            return Verdict(False, "not a number", f"{value!r} is not a number: type a number like 0.42", f.answer, None)
        expected = float(f.answer)
        if self.tries == 0:
            self.asked += 1
        self.tries += 1
        if self._close(given, expected):
            if self.tries == 1:
                self.right += 1
            self.log.append((f.k, given, True))
            self._advance()
            return Verdict(True, "right", self.correct_words(f), expected, given)
        kind, hint = self._hint(f, given, expected)
        self.log.append((f.k, given, False))
        return Verdict(False, kind, hint, expected, given)

    def _hint(self, f, given, expected):
        s = self.stepper
        close = self._close
        if f.phase == "forward" and expected != 0 and close(given, -expected):
            return "sign", "sign flipped: check the sign of each factor (a − in the op gives a −1 local derivative)"
        if f.phase == "forward":
            for c in f.node._prev:
                v = s.values[s.index[id(c)]]
                if _scalar(v) and close(given, v) and f.op.arity == 1:
                    return ("input unchanged", f"that is the input {s.names[id(c)]} itself: apply "
                            f"{f.op.tree([s.symbol(c)]).text} to it")
            if f.op is AFFINE:
                bias = s.values[s.index[id(f.node._prev[-1])]]
                if bias != 0 and close(given, expected - bias):
                    return "left out bias", f"you left out the bias {s.names[id(f.node._prev[-1])]} = {_fmt(bias, s.fmt)}"
            hint = f"not quite: {f.formula.parts[0].text} = {f.formula.parts[1].text}"
            if f.op.name in _DEFINITIONS:
                hint += f", where {_DEFINITIONS[f.op.name]}"
            return "wrong", hint
        up, local, before = float(f.upstream), float(f.local), float(f.before) if _scalar(f.before) else 0.0
        local_text = f.local_formula.text
        found = self._search(f, given, expected, factors=False)     # a slip on the graph: verify's words
        if found is not None:
            return found.kind, words(found)
        if not close(up, 1.0) and close(given, before + local):
            return ("local alone", f"that is the local derivative {local_text} alone: multiply it by the "
                    f"upstream gradient {f.upstream_formula.text} = {_fmt(up, s.fmt)}")
        if before != 0.0 and close(given, up * local):
            return ("contribution alone", f"that is this contribution alone: {f.formula.parts[0].text} already "
                    f"holds {_fmt(before, s.fmt)} from another path (fan-out), add it")
        if before != 0.0 and close(given, before - up * local):
            return "sign", "sign flipped: the contribution is added to the running sum"
        node = f.node
        inputs = [s.values[s.index[id(c)]] for c in node._prev]
        try:
            locals_ = node._rule.locals(inputs, s.values[s.index[id(node)]])   # the rule table, every input
        except DomainProblem:       # e.g. ∂(a^b)/∂b needs ln(a): no such slip to look for
            locals_ = ()
        names = [s.symbol(c) for c in node._prev]
        for j, other in enumerate(locals_):
            if j != f.position and _scalar(other) and not close(other, local) and close(given, before + up * other):
                wrong = node._rule.formula_tree(j, names).text
                return ("other input", f"that uses the local derivative for {names[j].text} ({wrong}); for "
                        f"{s.names[id(f.input)]} it is {local_text}")
        found = self._search(f, given, expected, factors=True)      # a bare factor (−1, 2, ½) last
        if found is not None:
            return found.kind, words(found)
        return "wrong", f"not quite: use {f.formula.parts[0].text} += {f.formula.parts[1].text}"

    @staticmethod
    def correct_words(f):
        """What the quiz says to a right answer: "correct", the step's formula with its numbers,
        and in a few words why (the upstream gradient times the local derivative)."""
        if f.phase == "forward":
            return f"correct: {f.formula.text}"
        why = "the upstream gradient times the local derivative"
        if not (_scalar(f.before) and f.before == 0.0):
            why += ", added to the running sum of the other paths"
        return f"correct: {f.formula.text} ({why})"

    def _graph(self, f):
        """The loss's graph as the mistake search reads it, for the node this step is about (the
        order, adjoints and names computed once per quiz)."""
        s = self.stepper
        if getattr(self, "_base", None) is None:
            self._base = Graph(s.root, f.input, names=s.names)
        return Graph(s.root, f.input, base=self._base)

    def _edges(self, f):
        """(this step's edge, the edges into the same node stepped before it)."""
        s = self.stepper
        prior = []
        for phase, payload in s._plan[:f.k]:
            if phase == "backward":
                r = s.records[payload]
                if r.input is f.input:
                    prior.append((r.node, r.position))
        return (f.node, f.position), prior

    def _slips(self, f):
        """[(number, Explanation)] of a backward step, simplest first: what each single slip the
        mistake search knows (the one `verify` and ``check FILE`` use) gives, with the question's
        names; computed once per step."""
        cache = self.__dict__.setdefault("_slip_cache", {})
        if f.k not in cache:
            edge, prior = self._edges(f)
            try:
                found = slips(self._graph(f), float(f.answer), edges=[edge], paths=[edge] + prior)
            except (ValueError, TypeError, ArithmeticError):
                found = []
            cache[f.k] = [(v, e) for v, e in found if math.isfinite(v) and not self._close(v, float(f.answer))]
        return cache[f.k]

    def _search(self, f, given, expected, factors):
        """The first (simplest) slip of the search that gives this answer, among the factors or
        the others, or None (`_close`, with each slip's printed number computed once)."""
        found = self._slips(f)
        if not found or not math.isfinite(given):
            return None
        printed = self.__dict__.setdefault("_slip_text", {})
        if f.k not in printed:
            printed[f.k] = [number_text(v, self.stepper.fmt) for v, _ in found]
        text = number_text(given, self.stepper.fmt)
        return next((e for (v, e), t in zip(found, printed[f.k]) if (e.kind == "factor") == factors and
                     (t == text or math.isclose(given, v, rel_tol=self.rtol, abs_tol=self.atol))), None)

    def slips(self, f=None):
        """[(number, hint)] for the current (or given) backward step: what each single slip the
        search knows would give, in its words (the page precomputes its hints from these)."""
        f = f or self.frame
        if f is None or f.phase != "backward":
            return []
        return [(v, words(e)) for v, e in self._slips(f)]

    def _advance(self):
        self.i += 1
        self.tries = 0
        if not self.done:
            self.stepper.goto(self.questions[self.i])

    def reveal(self):
        """Show the current answer and move on (counted as not right)."""
        f = self.frame
        if f is None:
            raise ValueError("the quiz is over: see .score")
        if self.tries == 0:
            self.asked += 1
        self._advance()
        return f.text

    def summary(self):
        right, asked = self.score
        return f"Score: {right} / {asked} right at the first try ({len(self.questions)} questions)."

    def run(self, read=input, write=print):
        """Ask every question in a terminal: type a number, ``?`` to reveal, ``q`` to stop."""
        write(f"Quiz: {len(self.questions)} questions. Type the number (3 significant figures are enough), "
              "? to see the answer, q to stop.")
        while not self.done:
            write("")
            write(self.question())
            try:
                reply = read("> ").strip()
            except EOFError:
                break
            if reply.lower() in ("q", "quit", "exit"):
                break
            if reply == "?":
                write(self.reveal())
                continue
            v = self.answer(reply)
            write(v.hint)
        write(self.summary())
        return self.score


def _is_one(tree):
    return isinstance(tree, Num) and isinstance(tree.value, (int, float)) and tree.value == 1


def _scalar(x):
    return x is not None and x.__class__ is not ndarray and not isinstance(x, Value)




# --- the document-000 example and the terminal ------------------------------------------------------

def document_000_example(model_path=None, x=0.5, y=None, n_hidden=3, seed=0):
    """Document 000's net on one sample, its loss L = ½(ŷ − y)² built and labelled as the document
    writes it (x, w1, b1, z1, a1, w2, b2, z2 = ŷ, L). Returns L.

    With ``model_path`` (a model.json from ``microreg train``) the trained net is used, on its
    first feature's standardized scale.
    """
    if model_path:
        net = load_model(model_path)
        net = getattr(net, "network", net)   # a model.json from microreg train: its network
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
    residual = z2 - data_leaf(y, "y")       # y is data: named, never stepped
    residual.label = "ŷ − y"
    square = residual * residual
    square.label = "(ŷ − y)²"
    loss = 0.5 * square                     # ½ is a constant: folded into the op
    loss.label = "L"
    return loss


def run_terminal(stepper, stdin=None, stdout=None):
    """Walk the steps in a terminal, one key per step (see `microreg.terminal`). Returns 0."""
    from .terminal import run_terminal as run
    return run(stepper, stdin=stdin, stdout=stdout)
