"""Run a learner's numpy forward pass on Values, and name its arrays with the learner's own names.

    >>> import numpy as np
    >>> from microreg.trace import trace
    >>> def forward(X, parameters):                 # written for plain numpy arrays
    ...     W1, b1 = parameters["W1"], parameters["b1"]
    ...     Z1 = np.dot(W1, X) + b1
    ...     A1 = np.tanh(Z1)
    ...     return np.sum(A1 ** 2) / X.shape[1]
    >>> params = {"W1": np.array([[0.5, -0.2], [0.1, 0.3]]), "b1": np.zeros((2, 1))}
    >>> t = trace(forward, params, np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 1.5]]))
    >>> round(t.loss.data, 4), t.loss.label
    (0.3815, None)
    >>> str(t.arrays["A1"][1][2].label), str(t.arrays["Z1"][0][0].label)
    ('A1[1][2]', 'Z1[0][0]')
    >>> g = t.backward()                                # ∂loss/∂parameter, shaped like each parameter
    >>> g["W1"].shape
    (2, 2)

What this module lets you do:

- ``trace(fn, params, *data, **kwargs)``: call ``fn`` unchanged with every parameter as a numpy
  array of `Value` leaves (a float parameter, like logistic regression's ``b``, as a 0-d array), so
  ``np.dot``, ``@``, ``.T``, ``np.tanh``, ``np.exp``, ``np.log``, ``np.sqrt``, ``np.abs``,
  ``np.maximum(0, Z)`` (a relu node per element), ``np.max(..., axis=1, keepdims=True)``,
  ``np.sum``/``np.mean`` with ``axis`` and ``keepdims``, ``np.where``, fancy indexing, ``+=``,
  ``.copy()``, ``np.squeeze`` and ``float(cost)`` build the loss's graph. The parameters reach
  ``fn`` as keywords (when ``fn`` takes every parameter's name), as one dict (``forward(X,
  parameters)``: the argument named ``parameters`` or ``params``, else the first), or in place (a
  method whose object holds the dict you gave, as ``net.loss(X, y)`` reads ``self.params``); say
  which with ``pass_params="keywords" | "dict" | "in place"``. ``data`` and ``kwargs`` are passed
  as they are, except that a float array becomes an array of data leaves named after ``fn``'s
  argument (``X[1][3]``), shown in the graph and never stepped (``data_nodes=False`` keeps numbers).
- The result is a `Trace`: ``loss`` (the scalar `Value` ``fn`` returned: a Value, a 0-d array, the
  first such item of a returned tuple such as ``(loss, grads)`` or ``(grads, cost)``, or the
  ``float(...)`` of one), ``params`` (name → leaf Value or object array of leaves), ``arrays``
  (the learner's named arrays), ``backward()`` and ``grads()``.
- **Names.** While ``fn`` runs, `sys.settrace` watches the frames of the learner's own code (every
  frame whose file is not numpy's, microreg's, the standard library's or an installed package's,
  so a script, a test or a notebook cell): at every line and at
  every return it reads the frame's local variables, and the dicts among them (``cache =
  {"Z1": Z1, ...}``, a returned dict). A node gets the name of the first variable that held it,
  outer frames first (the forward's ``A2`` wins over ``s`` inside a ``sigmoid(z)`` helper), element
  by element (``A1[2][0]``, ``b`` for a number), as check.py names array elements. A name that held
  several arrays (a loop's ``A``, a layer helper's ``Z`` called once per layer) is numbered in the
  order they came: ``Z1``, ``Z2``, ``Z3`` (``A1_2`` for a name ending in a digit). Leaves keep their
  names (parameters, data); numbers the learner wrote stay constants. The tracer is off again
  when ``fn`` returns; a debugger's or coverage's tracer is put back.
- What cannot be traced raises `TraceError`, one line naming the numpy function and the learner's
  line: ``np.linalg.inv`` and other functions that compute in C on plain floats, a traced value
  turned into a plain float in the middle of the computation (``np.float64(v)``, ``.astype(float)``,
  ``math.exp(v)``, a float array written with traced values), a ufunc microreg has no rule for
  (``np.sin``). A failure that ``fn`` also raises on plain numbers is the learner's own (a shape
  mismatch): that exception is raised as it is (to tell, a failed trace runs ``fn`` once more, on
  the plain numbers).

Comparisons of traced values compare the numbers they hold: a max, a relu mask or a ``np.where``
condition is a constant choice, as in PyTorch (the chosen element's gradient flows, the other
gets none). ``np.sign``, ``np.floor``, ``np.round`` and ``np.isnan`` give constants too.
"""

import inspect
import linecache
import math
import os
import re
import sys
import sysconfig
import threading

import numpy as np

from .engine import Value, data as data_leaf, is_data, topological_order

ndarray = np.ndarray

__all__ = ["trace", "trace_at", "Trace", "TraceError", "TracedArray"]


class TraceError(Exception):
    """A learner's code could not be traced. One line: where (``file:line``, the code), what
    (``function``: the numpy function or conversion) and why. ``filename``, ``lineno``, ``source``
    and ``function`` hold the parts (None where unknown)."""

    def __init__(self, message, filename=None, lineno=None, source=None, function=None):
        super().__init__(message)
        self.filename, self.lineno, self.source, self.function = filename, lineno, source, function


class _Untraceable(Exception):
    """Raised inside the array hooks: a numpy function failed on traced values (turned into a
    `TraceError` at the boundary, once a run on plain numbers shows the code itself is fine)."""

    def __init__(self, function, cause, why=None):
        super().__init__(f"{function}: {type(cause).__name__}: {cause}")
        self.function, self.cause, self.why = function, cause, why


# --- where the learner's code is ---------------------------------------------------------------------

_NUMPY_DIR = os.path.dirname(np.__file__) + os.sep
_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_STDLIB_DIRS = tuple({os.path.join(p, "") for p in (sysconfig.get_paths().get("stdlib"),
                                                     sysconfig.get_paths().get("platstdlib")) if p})
_learner_cache = {}


def _is_learner(filename):
    """Whether a file holds the learner's code: not numpy, not microreg, not the standard library,
    not an installed package (a notebook cell's ``<ipython-input-…>`` is the learner's; ``<frozen …>``
    is not)."""
    known = _learner_cache.get(filename)
    if known is None:
        if filename.startswith("<"):
            known = not filename.startswith("<frozen")
        else:
            path = os.path.abspath(filename)
            known = not (path.startswith(_NUMPY_DIR) or path.startswith(_OWN_DIR)
                         or (_STDLIB_DIRS and path.startswith(_STDLIB_DIRS))
                         or f"{os.sep}site-packages{os.sep}" in path or f"{os.sep}dist-packages{os.sep}" in path)
        _learner_cache[filename] = known
    return known


def _where(frame):
    """(filename, lineno, source line) of the innermost learner frame at or above ``frame``."""
    while frame is not None and not _is_learner(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return None
    return _place(frame.f_code.co_filename, frame.f_lineno)


def _place(filename, lineno):
    return filename, lineno, linecache.getline(filename, lineno).strip() or None


def _where_in_traceback(tb):
    """The innermost learner frame of a traceback, as (filename, lineno, source)."""
    found = None
    while tb is not None:
        if _is_learner(tb.tb_frame.f_code.co_filename):
            found = _place(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _describe_place(place):
    if place is None:
        return "in the traced function"
    filename, lineno, source = place
    shown = os.path.basename(filename) if not filename.startswith("<") else filename
    code = f" ({source})" if source else ""
    return f"{shown}:{lineno}{code}"


# --- arrays that keep numpy functions traced -------------------------------------------------------

_state = threading.local()      # .depth: how many array hooks are running (the outermost names a failure)


class _Hook:
    """The outermost array hook turns a failure into `_Untraceable` naming its function."""

    def __init__(self, function):
        self.function = function

    def __enter__(self):
        _state.depth = getattr(_state, "depth", 0) + 1

    def __exit__(self, cls, exc, tb):
        _state.depth -= 1
        if exc is not None and _state.depth == 0 and not isinstance(exc, (_Untraceable, KeyboardInterrupt)):
            raise _Untraceable(self.function, exc) from exc
        return False


def _plain(x):
    return x.view(ndarray) if isinstance(x, TracedArray) else x


def _box(value):
    """A Value as a 0-d TracedArray (numpy's way to hold one number)."""
    box = np.empty((), dtype=object)
    box[()] = value
    return box.view(TracedArray)


def _traced(result):
    """A numpy result kept traced: an object array as a TracedArray, a lone Value as a 0-d one."""
    if isinstance(result, ndarray):
        if result.dtype.kind == "O" and not isinstance(result, TracedArray):
            return result.view(TracedArray)
        return result
    if isinstance(result, Value):
        return _box(result)
    if isinstance(result, tuple):
        return tuple(_traced(r) for r in result)
    return result


def _numbers(x):
    """The numbers an array (or a number) of Values holds, as floats: for the constant choices."""
    if isinstance(x, Value):
        return x.data
    if isinstance(x, ndarray) and x.dtype.kind == "O":
        return np.vectorize(lambda e: e.data if isinstance(e, Value) else e, otypes=[float])(x) if x.size else \
            np.zeros(x.shape)
    return x


def _is_zero(x):
    """Whether ``x`` is the number 0 (a Python or numpy number, or a 0-d numeric array)."""
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, (int, float, np.integer, np.floating)):
        return x == 0
    return isinstance(x, ndarray) and x.ndim == 0 and x.dtype.kind in "iuf" and x == 0


def _each(fn, x):
    out = np.frompyfunc(fn, 1, 1)(x)
    return _traced(out)


def _mixed(ufunc, e):
    """One element of a unary ufunc over an array that holds Values and plain numbers."""
    if isinstance(e, Value):
        box = np.empty((), dtype=object)
        box[()] = e
        return ufunc(box)
    return float(ufunc(e))


def _relu(e):
    return e.relu() if isinstance(e, Value) else max(e, 0)


def _unary(method, numpy_fn):
    """Apply a Value method element by element, numpy's function to plain numbers."""
    def apply(e):
        return getattr(e, method)() if isinstance(e, Value) else numpy_fn(e)
    return apply


def _log1p(e):
    return (1.0 + e).log() if isinstance(e, Value) else np.log1p(e)


def _expm1(e):
    return e.exp() - 1.0 if isinstance(e, Value) else np.expm1(e)


_LN2, _LN10 = math.log(2.0), math.log(10.0)

#: ufuncs whose object loop has no Value method to call, written with the rule table's ops.
_REWRITTEN = {
    "log1p": _log1p,
    "expm1": _expm1,
    "log2": lambda e: e.log() / _LN2 if isinstance(e, Value) else np.log2(e),
    "log10": lambda e: e.log() / _LN10 if isinstance(e, Value) else np.log10(e),
    "exp2": lambda e: 2.0 ** e if isinstance(e, Value) else np.exp2(e),
    "reciprocal": lambda e: 1.0 / e,
    "expit": _unary("sigmoid", lambda v: 1.0 / (1.0 + np.exp(-v))),      # scipy.special.expit: σ
    "fabs": lambda e: abs(e),
}

#: ufuncs that are piecewise constant (or a test): computed on the numbers held, a constant.
_CONSTANT = frozenset({"sign", "floor", "ceil", "rint", "trunc", "isnan", "isinf", "isfinite", "signbit",
                       "heaviside"})


def _norm(x, ord=None, axis=None, keepdims=False):
    """``np.linalg.norm`` for the Euclidean (Frobenius) norm, written with traced ops (numpy's own
    turns the array into a plain one first)."""
    if ord is not None and ord not in (2, "fro") or (ord == 2 and np.ndim(x) > 1 and axis is None):
        raise TypeError(f"only the Euclidean norm (ord=None) can be traced, not ord={ord!r}")
    x = np.asarray(x).view(TracedArray)
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


#: numpy functions whose own code leaves the traced arrays: written again with traced ops.
_FUNCTIONS = {np.linalg.norm: _norm}


class TracedArray(ndarray):
    """A numpy object array of `Value` nodes whose numpy functions stay traced.

    numpy already runs most functions on object arrays by calling each element's methods
    (``np.tanh`` calls ``.tanh()``, ``np.dot`` uses ``*`` and ``+``); this subclass adds what it
    cannot do alone: ``np.maximum(0, Z)`` becomes a relu node per element (not a choice between
    ``0`` and ``Z``), ``np.log1p``, ``np.expm1``, ``np.log2``, ``np.log10``, ``np.exp2`` and
    ``scipy.special.expit`` are written with the rule table's ops, piecewise-constant functions
    (``np.sign``, ``np.round``, ``np.isnan``) give constants, a result that is one number stays a
    0-d array (so ``np.exp`` still works on it), and a numpy function that fails on Values names
    itself (see `TraceError`)."""

    __array_priority__ = 1000.0     # a plain array beside it gives its result this class

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        name = ufunc.__name__
        with _Hook(f"np.{name}" if method == "__call__" else f"np.{name}.{method}"):
            args = [_plain(x) for x in inputs]
            if out is not None:
                kwargs["out"] = tuple(_plain(o) for o in out)
            if method == "__call__" and out is None and not kwargs:
                if name in ("maximum", "fmax") and len(args) == 2:
                    if _is_zero(args[0]) and not _is_zero(args[1]):
                        return _each(_relu, args[1])
                    if _is_zero(args[1]):
                        return _each(_relu, args[0])
                if name in _REWRITTEN and len(args) == 1:
                    return _each(_REWRITTEN[name], args[0])
            if name in _CONSTANT:
                return getattr(ufunc, method)(*[_numbers(a) for a in args], **kwargs)
            try:
                result = getattr(ufunc, method)(*args, **kwargs)
            except TypeError as exc:
                # numpy's object loop calls e.g. .log() on every element, plain numbers too (the
                # 1e-8 that np.clip put in, relu's 0): those get numpy's own function
                if method != "__call__" or len(args) != 1 or out is not None or "no callable" not in str(exc):
                    raise
                return _each(lambda e: _mixed(ufunc, e), args[0])
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _traced(result)

    def __array_function__(self, func, types, args, kwargs):
        module = (func.__module__ or "numpy").replace("numpy", "np", 1)
        if module.startswith("np._") or module.startswith("np.core"):
            module = "np"
        with _Hook(f"{module}.{func.__name__}"):
            rewritten = _FUNCTIONS.get(func)
            if rewritten is not None:
                result = rewritten(*args, **kwargs)
            else:
                result = super().__array_function__(func, types, args, kwargs)
        return _traced(result)

    def __getitem__(self, key):
        item = super().__getitem__(key)
        return _box(item) if isinstance(item, Value) else item

    def dot(self, b, out=None):
        """``A.dot(B)``, as ``np.dot(A, B)`` (so a one-number result stays traced)."""
        return np.dot(self, b) if out is None else np.dot(self, b, out=out)

    def astype(self, dtype, *args, **kwargs):
        """To ``object``, or to numbers for an array of data (``Y.astype(int)``): any other would
        turn the Values into plain numbers and the gradient would stop there."""
        if np.dtype(dtype).kind != "O":
            if not _only_data(self):
                raise _Untraceable(f".astype({np.dtype(dtype).name})", TypeError("a conversion to plain numbers"),
                                   why="it turns the traced values into plain numbers, so no gradient flows")
            return _numbers(self.view(ndarray)).astype(dtype, *args, **kwargs)
        return super().astype(dtype, *args, **kwargs)

    def __int__(self):
        """``int(Y[0, i])`` of a data value; of any other traced value, refused (no gradient flows)."""
        if not _only_data(self):
            raise _Untraceable("int()", TypeError("a conversion to a plain integer"),
                               why="it turns a traced value into a plain integer, so no gradient flows")
        return int(_numbers(self.view(ndarray)))


def _only_data(arr):
    """Whether an array holds only data leaves and plain numbers (nothing a gradient flows to)."""
    return all(is_data(e) if isinstance(e, Value) else True for e in arr.view(ndarray).ravel().tolist())


def _leaves(name, value):
    """A parameter as a TracedArray of leaf Values labelled by index (a number: a 0-d array)."""
    arr = np.asarray(value, dtype=np.float64)
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = Value(float(arr[idx]), label=name + "".join(f"[{i}]" for i in idx))
    return out.view(TracedArray)


def _data_nodes(name, value):
    """A float data array as a TracedArray of data leaves (shown by name, never stepped)."""
    out = np.empty(value.shape, dtype=object)
    for idx in np.ndindex(value.shape):
        out[idx] = data_leaf(float(value[idx]), label=name + "".join(f"[{i}]" for i in idx))
    return out.view(TracedArray)


# --- reading the learner's names ------------------------------------------------------------------------

_FLOAT_CODE = Value.__float__.__code__
_SKIP_NAMES = frozenset({"self", "cls", "_"})


class _Recorder:
    """sys.settrace's functions for one trace: the learner's frames' variables, and float() calls."""

    def __init__(self):
        self.depth = {}         # frame → its depth among learner frames (0: the outermost)
        self.seen = {}          # (code, name) → {binding key: sequence number}
        self.bindings = []      # (depth, seq, code, name, value), one per new binding
        self.keep = []          # every value recorded, so ids stay unique during the trace
        self.keys = {}          # id(value) → binding key (the ids of its nodes)
        self.floats = []        # (node, place) for each float() of a Value in the learner's code
        self.ints = {}          # name → the whole numbers it held (m = X.shape[1]: the sizes the code names)
        self.seq = 0

    def global_trace(self, frame, event, arg):
        code = frame.f_code
        if code is _FLOAT_CODE:
            place = _where(frame.f_back)
            if place is not None:
                self.floats.append((frame.f_locals.get("self"), place))
            return None
        if not _is_learner(code.co_filename):
            return None
        parent = frame.f_back
        while parent is not None and parent not in self.depth:
            parent = parent.f_back
        self.depth[frame] = 0 if parent is None else self.depth[parent] + 1
        return self.local_trace

    def local_trace(self, frame, event, arg):
        if event == "line" or event == "return":
            self.snapshot(frame, frame.f_locals.items())
            if event == "return":
                self.snapshot(frame, _returned(arg))
                self.depth.pop(frame, None)
        return self.local_trace

    def snapshot(self, frame, items):
        depth, code = self.depth.get(frame, 0), frame.f_code
        for name, value in items:
            if name in _SKIP_NAMES or not isinstance(name, str):
                continue
            cls = value.__class__
            if cls is int:
                self.ints.setdefault(name, set()).add(value)
            elif cls is dict:
                for key, item in value.items():
                    if key.__class__ is str and key.isidentifier() and _holds_nodes(item):
                        self.record(depth, code, key, item)
            elif _holds_nodes(value):
                self.record(depth, code, name, value)

    def record(self, depth, code, name, value):
        key = self.keys.get(id(value))
        if key is None:
            key = _binding_key(value)
            if key is None:       # only leaves and numbers: nothing to name
                key = ()
            self.keys[id(value)] = key
            self.keep.append(value)
        if not key:
            return
        seen = self.seen.setdefault((code, name), {})
        if key not in seen:
            seen[key] = self.seq
            self.bindings.append((depth, self.seq, code, name, value))
            self.seq += 1


def _returned(value):
    """A return value as (name, value) pairs to read: a dict's items, the dicts inside a tuple."""
    if value.__class__ is dict:
        return [("", value)]
    if value.__class__ in (tuple, list):
        return [("", v) for v in value if v.__class__ is dict]
    return ()


def _holds_nodes(value):
    cls = value.__class__
    return cls is TracedArray or cls is Value or (cls is ndarray and value.dtype.kind == "O")


def _binding_key(value):
    """What identifies the array a name holds: its shape, then the ids of its nodes made by ops
    (None if it holds none)."""
    if isinstance(value, Value):
        return ((), id(value)) if value._prev else None
    ids = tuple(id(e) for e in value.view(ndarray).ravel().tolist() if isinstance(e, Value) and e._prev)
    return (value.shape,) + ids if ids else None


def _base_name(name, k, numbered):
    if not numbered:
        return name
    return f"{name}_{k}" if name[-1].isdigit() else f"{name}{k}"


def _assign_labels(recorder, reserved, graph):
    """Label the recorded arrays' unnamed op nodes that are in the loss's graph (``graph``: their
    ids), outer frames first; return {base: array} for the arrays that named some node."""
    bindings = [b for b in recorder.bindings if any(i in graph for i in recorder.keys[id(b[4])][1:])]
    order = {}                 # (code, name) → the sequence numbers of the arrays it held, in order
    for _, seq, code, name, _ in bindings:
        order.setdefault((code, name), []).append(seq)
    used = dict.fromkeys(reserved)          # base → binding key (None: a parameter or data name)
    arrays = {}
    for depth, seq, code, name, value in sorted(bindings, key=lambda b: (b[0], b[1])):
        held = order[(code, name)]
        base = _base_name(name, held.index(seq) + 1, len(held) > 1)
        key = recorder.keys[id(value)]
        if base in used and used[base] != key:
            n = 2
            while f"{base}_{n}" in used and used[f"{base}_{n}"] != key:
                n += 1
            base = f"{base}_{n}"
        named = False
        if isinstance(value, Value):
            if value.label is None and id(value) in graph:
                value.label = base
                named = True
        else:
            plain = value.view(ndarray)
            for idx in np.ndindex(value.shape):
                node = plain[idx]
                if isinstance(node, Value) and node._prev and node.label is None and id(node) in graph:
                    node.label = base + "".join(f"[{i}]" for i in idx)
                    named = True
        if named or base not in used:
            used[base] = key
        if named and base not in arrays:
            arrays[base] = value.view(ndarray) if isinstance(value, ndarray) else value
    return arrays


# --- the trace -------------------------------------------------------------------------------------------

class Trace:
    """What `trace` returns: the learner's forward pass as a graph of Values.

    ``loss``: the scalar Value ``fn`` returned (see `trace`); ``output``: what ``fn`` returned,
    as it returned it (traced arrays and all); ``params``: name → the parameter's leaf Value (a
    number) or numpy object array of leaf Values; ``data``: name → the data leaves made from a
    float argument; ``arrays``: the learner's named arrays, label → numpy object array of nodes
    (``trace.arrays["A1"][2][0]`` is the node labelled ``A1[2][0]``; a number is its Value), in the
    order they were named. An element that had a name already (a parameter, an earlier array's)
    or that the loss does not depend on keeps its own label. ``sizes``: the whole numbers the
    learner's code named, each holding one value (``m = X.shape[1]``: {"m": 5}), so a factor of 5
    can be said as m.
    """

    def __init__(self, loss, output, params, data, arrays, sizes=None):
        self.loss, self.output, self.params, self.data, self.arrays = loss, output, params, data, arrays
        self.sizes = dict(sizes or {})

    def backward(self):
        """Run ``loss.backward()`` (leaf grads start from 0) and return `grads`."""
        for leaf in self._leaves():
            leaf.grad = 0.0
        self.loss.backward()
        return self.grads()

    def grads(self):
        """name → ∂loss/∂parameter, a float for a number, else a float array of the parameter's shape."""
        out = {}
        for name, value in self.params.items():
            if isinstance(value, Value):
                out[name] = float(value.grad)
            else:
                g = np.empty(value.shape)
                for idx in np.ndindex(value.shape):
                    g[idx] = value[idx].grad
                out[name] = g
        return out

    def _leaves(self):
        for value in self.params.values():
            yield from ([value] if isinstance(value, Value) else value.ravel())

    def __repr__(self):
        shapes = ", ".join(f"{k}{'' if isinstance(v, Value) else list(v.shape)}" for k, v in self.params.items())
        return f"Trace(loss={self.loss.data:.6g}, params: {shapes}; arrays: {', '.join(self.arrays) or 'none'})"


_DICT_NAMES = ("parameters", "params")


def _how(fn, params, pass_params):
    """How ``fn`` takes the parameters: "keywords", ("dict", name or None) or "in place"."""
    if pass_params not in (None, "keywords", "dict", "in place"):
        raise ValueError(f"trace: pass_params must be 'keywords', 'dict' or 'in place', got {pass_params!r}")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        sig = None
    names = sig.parameters if sig is not None else {}
    if pass_params == "in place":
        return "in place", None
    if pass_params == "keywords":
        return "keywords", None
    dict_name = next((n for n in _DICT_NAMES if n in names and names[n].kind is not inspect.Parameter.POSITIONAL_ONLY),
                     None)
    if pass_params == "dict":
        return "dict", dict_name
    if params and all(k in names for k in params):
        return "keywords", None
    if dict_name is not None:
        return "dict", dict_name
    owner = getattr(fn, "__self__", None)
    if owner is not None and any(v is params for v in getattr(owner, "__dict__", {}).values()):
        return "in place", None
    return "dict", None


def _arguments(fn, how, dict_name, given, data, kwargs):
    """(positional args, keyword args) for one call of ``fn``, ``given`` holding the parameters.

    The parameters go by name (every one, or the dict as ``parameters``); the data fill the
    other positional arguments in order, so ``propagate(w, b, X, Y)`` gets X and Y whatever place
    w and b take."""
    if how == "dict" and dict_name is None:
        return [given, *data], dict(kwargs)
    fixed = dict(given) if how == "keywords" else {dict_name: given} if how == "dict" else {}
    if not fixed:
        return list(data), dict(kwargs)
    try:
        order = [p for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return list(data), {**kwargs, **fixed}
    free = [p for p in order if p.name not in fixed and p.name not in kwargs]
    if any(p.kind is p.POSITIONAL_ONLY for p in free[:len(data)]) or len(data) > len(free):
        return list(data), {**kwargs, **fixed}
    return [], {**kwargs, **fixed, **{p.name: v for p, v in zip(free, data)}}


def _data_names(fn, args, kwargs):
    """id(argument) → the name ``fn`` gives it, for the arguments of one call."""
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return {}
    return {id(v): k for k, v in bound.arguments.items()}


def _as_data(fn, how, dict_name, params, args, kwargs, on):
    """Float arrays among the arguments as arrays of data leaves named after ``fn``'s arguments
    (``argN`` if the name cannot be told); the rest as given."""
    if not on:
        return args, kwargs, {}
    names = _data_names(fn, *_arguments(fn, how, dict_name, params, args, kwargs))
    made = {}

    def convert(v, fallback):
        if isinstance(v, ndarray) and v.dtype.kind == "f" and v.ndim >= 1 and v.size:
            name = names.get(id(v), fallback)
            made[name] = _data_nodes(name, v)
            return made[name]
        return v
    args = [convert(v, f"arg{i}") for i, v in enumerate(args)]
    kwargs = {k: convert(v, k) for k, v in kwargs.items()}
    return args, kwargs, made


def _check_params(params):
    if not isinstance(params, dict) or not params:
        raise TypeError(f"trace: params must be a dict of name → number or array, got {type(params).__name__}")
    for name, value in params.items():
        if not isinstance(name, str):
            raise TypeError(f"trace: parameter names must be strings, got {name!r}")
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"trace: parameter {name!r} must be a number or an array of numbers, "
                            f"got {type(value).__name__}") from None
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"trace: parameter {name!r} holds a value that is not finite")


def _run(fn, params, how, dict_name, data, kwargs, traced):
    """Call ``fn`` once with ``traced`` (name → parameter as the function should receive it)."""
    if how == "in place":
        saved = dict(params)
        params.update(traced)
        try:
            return fn(*data, **kwargs)
        finally:
            params.clear()
            params.update(saved)
    args, kw = _arguments(fn, how, dict_name, traced, data, kwargs)
    return fn(*args, **kw)


def _scalar(out, single):
    """The scalar the function returned (a Value, a 0-d array's Value, a number), or None."""
    if isinstance(out, Value):
        return out if out.data.__class__ is not ndarray else None
    if isinstance(out, ndarray) and out.dtype.kind == "O" and (out.ndim == 0 or (single and out.size == 1)):
        item = out.view(ndarray).ravel()[0]
        return item if isinstance(item, Value) else None
    if isinstance(out, (float, int, np.floating, np.integer)) and not isinstance(out, (bool, np.bool_)):
        return float(out)
    if isinstance(out, ndarray) and out.dtype.kind in "iuf" and (out.ndim == 0 or (single and out.size == 1)):
        return float(out.ravel()[0])
    return None


def _find_loss(out):
    """The loss among what ``fn`` returned: itself, or the first number of a tuple (a Value, a 0-d
    array, a float), else its only one-element array (a cost kept with ``keepdims``)."""
    if isinstance(out, (tuple, list)):
        for single in (False, True):
            found = [f for f in (_scalar(item, single) for item in out) if f is not None]
            if found and (not single or len(found) == 1):
                return found[0]
        return None
    return _scalar(out, single=True)


def _shape_of(out):
    if isinstance(out, (tuple, list)):
        return "(" + ", ".join(_shape_of(o) for o in out) + ")"
    if isinstance(out, ndarray):
        return f"an array of shape {out.shape}"
    if isinstance(out, dict):
        return "a dict"
    return type(out).__name__


def trace(fn, params, *data, pass_params=None, data_nodes=True, **kwargs):
    """Run ``fn`` on traced parameters and return a `Trace` (see the module docstring).

    ``params``: name → number or numpy array (the point). ``fn`` receives each as a numpy object
    array of leaf Values labelled by index (``W1[0][1]``; a number as a 0-d array labelled ``b``),
    as keywords, as one dict, or in place (``pass_params``, guessed from ``fn``'s signature when
    None). ``data``/``kwargs``: the other arguments (float arrays become named data leaves unless
    ``data_nodes=False``). The intermediate arrays are labelled with the learner's variable
    names. Raises `TraceError` for code that cannot be traced, and the learner's own exception
    for code that fails on plain numbers too.
    """
    return trace_at(fn, params, None, data, kwargs, pass_params=pass_params, data_nodes=data_nodes)


def trace_at(fn, params, values, data=(), kwargs=None, pass_params=None, data_nodes=True):
    """`trace` at other values of the parameters: ``values`` (name → number or array, None: the
    params' own) are what the leaves hold, while ``params`` stays the object ``fn`` may read in
    place (``net.params``), so one net's loss can be traced at many points."""
    if not callable(fn):
        raise TypeError(f"trace: fn must be a function, got {type(fn).__name__}")
    _check_params(params)
    kwargs = dict(kwargs or {})
    if values is not None:
        _check_params(values)
    how, dict_name = _how(fn, params, pass_params)
    traced = {name: _leaves(name, value) for name, value in (values if values is not None else params).items()}
    args, kw, made = _as_data(fn, how, dict_name, params, list(data), dict(kwargs), data_nodes)
    recorder = _Recorder()
    previous = sys.gettrace()
    sys.settrace(recorder.global_trace)
    try:
        out = _run(fn, params, how, dict_name, args, kw, traced)
    except Exception as exc:
        sys.settrace(previous)
        raise _failure(exc, fn, params, how, dict_name, data, kwargs, values) from None
    finally:
        sys.settrace(previous)
    loss = _find_loss(out)
    if loss is None:
        raise TraceError(f"trace: {getattr(fn, '__name__', 'fn')} returned {_shape_of(out)}: no single number to "
                         "differentiate; return the loss (a cost, or (loss, grads))")
    if loss.__class__ is float:
        loss = _recover(loss, recorder, fn)
    for node, place in recorder.floats:
        if node is not loss and isinstance(node, Value) and not is_data(node):
            function = _converter(place)
            raise TraceError(f"{_describe_place(place)}: {function} turns a traced value into a plain float, so no "
                             "gradient flows through it; keep the numbers in the numpy arrays you were given",
                             *place, function=function)
    reserved = [*params, *made]
    arrays = _assign_labels(recorder, reserved, {id(n) for n in topological_order(loss)})
    params_out = {name: (arr.view(ndarray)[()] if arr.ndim == 0 else arr.view(ndarray)) for name, arr in traced.items()}
    data_out = {name: arr.view(ndarray) for name, arr in made.items()}
    sizes = {name: next(iter(held)) for name, held in recorder.ints.items() if len(held) == 1}
    return Trace(loss, out, params_out, data_out, arrays, sizes)


def _recover(number, recorder, fn):
    """The Value whose float() the function returned (the course's ``cost = float(np.squeeze(cost))``)."""
    for node, _ in reversed(recorder.floats):
        if isinstance(node, Value) and node.data.__class__ is not ndarray and float(node.data) == number:
            return node
    raise TraceError(f"trace: {getattr(fn, '__name__', 'fn')} returned the plain number {number!r}, which no "
                     "traced value gave: the loss does not depend on the parameters, or it was computed on plain "
                     "numbers (not with numpy on the arrays it was given)")


def _failure(exc, fn, params, how, dict_name, data, kwargs, values=None):
    """The exception to raise for a traced run that failed: the learner's own if a run on plain
    numbers fails too, else a one-line `TraceError` naming the function and the line."""
    plain = {name: (np.array(v, dtype=np.float64) if np.ndim(v) else float(v))
             for name, v in (values if values is not None else params).items()}
    try:
        _run(fn, params, how, dict_name, list(data), dict(kwargs), plain)
    except Exception as own:        # the code fails on numbers too: the learner's own error
        return own
    place = _where_in_traceback(exc.__traceback__)
    if isinstance(exc, _Untraceable):
        function, cause = exc.function, exc.cause
    else:
        function, cause = _called_function(place), exc
    why = f"{type(cause).__name__}: {cause}".split("\n")[0]
    missing = re.search(r"has no callable (\w+) method", str(cause))
    if missing:
        why = f"microreg's rule table has no {missing.group(1)}"
    elif isinstance(exc, _Untraceable) and exc.why:
        why = exc.why
    what = f"{function} cannot run on traced values" if function else "this line cannot run on traced values"
    if isinstance(cause, AssertionError):
        what = "an assertion fails on traced values (arrays of Values have dtype object, one number is a 0-d array)"
    return TraceError(f"{_describe_place(place)}: {what} ({why}); it works on plain numbers",
                      *(place or (None, None, None)), function=function)


_CONVERTERS = re.compile(r"\b((?:np|numpy)\.(?:float\w*|asarray|array|asfarray|copyto)|math\.\w+|float|"
                         r"\.astype|\.item|\.tolist)\s*\(")


def _converter(place):
    """What on a source line turns a traced value into a float (``np.float64``, ``math.exp``…)."""
    found = _CONVERTERS.findall(place[2] or "")
    return found[0] if found else "float() (here, or numpy writing into a float array)"


def _called_function(place):
    """The numpy function(s) a source line calls (``np.linalg.inv``), for a failure inside C code."""
    if place is None or not place[2]:
        return None
    calls = re.findall(r"\b((?:np|numpy|math|scipy)(?:\.\w+)+)\s*\(", place[2])
    return ", ".join(dict.fromkeys(calls)) or None
