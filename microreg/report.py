"""What `verify` returns, for a terminal and for Jupyter: a `Report` of one `Verdict` per argument.

``print(report)`` gives the table; in Jupyter a report shows itself as HTML (``report.show()`` from
anywhere), every wrong array as a grid of the learner's numbers shaded by how far off they are.
`microreg.check` (formulas) and `microreg.backprop` (numpy code) both build them.
"""

import html
import math

import numpy as np

ndarray = np.ndarray

__all__ = ["Report", "Verdict"]


class Verdict:
    """The verdict for one argument: ``ok``, ``kind``, ``diagnosis`` and the numbers behind it.

    ``kind`` is one of "match", "factor", "wrong", "kink" (numeric path) or "proved",
    "numerically consistent", "refuted", "undecided" (symbolic path). ``autograd`` and ``hand`` are the
    two gradients at the first point; ``factor`` is k for a constant factor; ``worst`` the worst
    mismatch (point, element, both numbers) for a wrong one. ``explanations`` lists every
    `Explanation` that fits, simplest first (``explanation`` is the first, or None).
    """

    def __init__(self, name, ok, kind, diagnosis, autograd=None, hand=None, factor=None, worst=None,
                 max_abs_error=None, max_rel_error=None, explanations=()):
        self.name, self.ok, self.kind, self.diagnosis = name, ok, kind, diagnosis
        self.autograd, self.hand, self.factor, self.worst = autograd, hand, factor, worst
        self.max_abs_error, self.max_rel_error = max_abs_error, max_rel_error
        self.explanations = list(explanations)

    @property
    def explanation(self):
        return self.explanations[0] if self.explanations else None

    def __repr__(self):
        return f"Verdict({self.name!r}, ok={self.ok}, {self.diagnosis!r})"


def _fmt(x, width=None):
    if isinstance(x, ndarray):
        flat = x.ravel()
        body = ", ".join(f"{v:.6g}" for v in flat[:4]) + (", …" if flat.size > 4 else "")
        return f"[{body}]"
    if x is None:
        return ""
    return f"{x:.6g}" if isinstance(x, float) else str(x)


class Report:
    """What ``verify`` returns: ``report.ok``, ``report[name]`` (a `Verdict`), ``str(report)``."""

    def __init__(self, verdicts, points):
        self.verdicts = verdicts
        self.points = points

    @property
    def ok(self):
        return all(v.ok for v in self.verdicts.values())

    def __getitem__(self, name):
        return self.verdicts[name]

    def __iter__(self):
        return iter(self.verdicts.values())

    def __len__(self):
        return len(self.verdicts)

    HEAD = ("argument", "verdict", "autograd", "hand", "diagnosis")

    def rows(self):
        return [(v.name, "ok" if v.ok else "UNDECIDED" if v.kind == "undecided" else "MISMATCH", _fmt(v.autograd),
                 _fmt(v.hand), v.diagnosis)
                for v in self.verdicts.values()]

    def __str__(self):
        head = self.HEAD
        rows = [head] + self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)] + [len(head[-1])]
        lines = []
        for i, r in enumerate(rows):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        verdict = ("all ok" if self.ok else "some formulas differ" if any(not v.ok and v.kind != "undecided" for v in self)
                   else "not enough evidence to decide")
        lines.append(f"checked at {self.points} point(s): {verdict}")
        return "\n".join(lines)

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        """The table for Jupyter: one row per argument, and for a wrong array its elements as a grid,
        the learner's numbers shaded by how far off they are, the worst one outlined (hover: both)."""
        head = "".join(f'<th style="text-align:left">{h}</th>' for h in self.HEAD + ("yours, element by element",))
        body = ""
        for r, v in zip(self.rows(), self.verdicts.values()):
            colour = "#e6f4ea" if v.ok else "#fce8e6"
            cells = [html.escape(c) for c in r] + ["" if v.ok else _grid(v)]
            body += (f'<tr style="background:{colour};vertical-align:top">'
                     + "".join(f'<td style="text-align:left">{c}</td>' for c in cells) + "</tr>")
        status = "all ok" if self.ok else "some gradients differ"
        return (f'<table class="microreg-report"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
                f"<p>checked at {self.points} point(s): {status}</p>")

    def show(self):
        """Show the report: rich HTML in Jupyter (see `_repr_html_`), the text table elsewhere."""
        try:
            from IPython import get_ipython
            from IPython.display import HTML, display
        except ImportError:
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:
            display(HTML(self._repr_html_()))
        else:
            print(self)


MAX_GRID = 100      # a wrong array with more elements than this shows its worst ones only


def _grid(v):
    """A wrong array's elements as an HTML grid: the learner's number in each cell, shaded by how far
    it is off (next to the furthest, which is outlined); a tooltip gives autograd's number."""
    a, h = v.autograd, v.hand
    if not isinstance(a, ndarray) or not isinstance(h, ndarray) or a.shape != h.shape or a.size < 2:
        return ""
    off = np.abs(h - a)
    err = off / (1e-9 + 1e-6 * np.abs(a))              # > 1: outside the tolerance
    worst = np.unravel_index(int(np.argmax(off)), a.shape)
    far = off / max(float(off.max()), 1e-300)          # the shade: how far off, next to the furthest (outlined)
    grid = a.reshape(a.shape[0], -1) if a.ndim >= 2 else a.reshape(1, -1)
    hand, errs, fars = h.reshape(grid.shape), err.reshape(grid.shape), far.reshape(grid.shape)
    if grid.size > MAX_GRID:
        keep = np.argsort(errs.max(axis=1))[::-1][:max(1, MAX_GRID // grid.shape[1])]
        rows = sorted(keep)
    else:
        rows = range(grid.shape[0])
    flat_worst = np.ravel_multi_index(worst, a.shape)
    out = []
    for i in rows:
        tds = []
        for j in range(grid.shape[1]):
            bad = errs[i, j] > 1
            shade = 0.12 + 0.6 * fars[i, j] if bad else 0.0
            style = f"background:rgba(217,48,37,{shade:.2f});padding:2px 6px;text-align:right"
            if i * grid.shape[1] + j == flat_worst:
                style += ";outline:2px solid #202124;font-weight:bold"
            idx = np.unravel_index(i * grid.shape[1] + j, a.shape)
            tip = html.escape(f"{v.name}{''.join(f'[{k}]' for k in idx)}: autograd {grid[i, j]:.6g}, "
                              f"yours {hand[i, j]:.6g}", quote=True)
            tds.append(f'<td style="{style}" title="{tip}">{hand[i, j]:.4g}</td>')
        out.append("<tr>" + "".join(tds) + "</tr>")
    note = "" if len(rows) == grid.shape[0] else f"<div>the {len(rows)} worst of {grid.shape[0]} rows</div>"
    return f'<table style="border-collapse:collapse;font-size:85%">{"".join(out)}</table>{note}'


def _error_text(err, reference):
    """An agreeing error, printed so it does not depend on the last bits of a float (BLAS kernels
    differ by CPU): anything at rounding level, below 1e-12 of the gradient's size (at least 1),
    is "< 1e-12" (or the power of ten above that bound); larger errors to one digit."""
    scale = max(1.0, float(np.abs(reference).max()) if np.size(reference) else 1.0)
    bound = 10.0 ** math.ceil(math.log10(1e-12 * scale) - 1e-9)
    if err < bound:
        return f"< {bound:.0e}"
    return f"{err:.0e}"
