"""The stepper as a Jupyter widget: the page's own view (``microreg/web/stepper.js``), served by
``anywidget`` to JupyterLab, Notebook 7 and VS Code.

    >>> from microreg.step import Stepper, document_000_example
    >>> w = Stepper(document_000_example()).widget()
    >>> w.step                       # the step shown; set it from Python, or click in the view
    0

The widget's output also carries static fallbacks for viewers without a kernel (a notebook is
saved without widget state: ``notebooks/build.py`` saves them so):

- in the widget's own output, the self-contained page in an ``iframe srcdoc`` as ``text/html``:
  nbviewer, an nbconvert HTML file or VS Code run it and step through it;
- a second output, `StepPicture`: the graph at the widget's current step as ``image/svg+xml``
  (``stepper.graph(k)``) and the step's text as ``text/plain``.

Why a separate output and not one more mimetype in the widget's bundle: a viewer shows one
mimetype per output, picked by its own priority list, and ``text/html`` comes first in
Jupyter's and nbconvert's (``display_data_priority``) and in GitHub's. GitHub then strips the
``<iframe>`` (and every script), so an SVG next to the HTML in the same bundle would never be
shown there. A display output of its own with only ``image/svg+xml`` and ``text/plain`` has
nothing to outrank it, so GitHub, nbviewer and plain-text viewers all show the picture. With a
kernel the picture stays under the live widget as a still of the step it was displayed at.
"""

import html
import json

import anywidget
import traitlets

from .page import WEB, page_data, page_html


class StepPicture:
    """One step of a Stepper as a still: the graph (SVG) and the step in words (plain text)."""

    def __init__(self, stepper, k):
        self.stepper, self.k = stepper, k

    def svg(self):
        """The graph at step ``k`` (values so far, grads so far, the step's node and edge lit)."""
        return self.stepper.graph(self.k).svg()

    def text(self):
        return self.stepper.text(self.k)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self.svg(), "text/plain": self.text()}


class StepperWidget(anywidget.AnyWidget):
    """Previous / Next / Play, a slider, keys, zoom and pan, the formula and the quiz, in Jupyter.

    ``step`` (synced both ways) is the step shown; moving it moves the Stepper too.
    """

    _esm = WEB / "stepper.js"
    _css = WEB / "stepper.css"
    data = traitlets.Unicode("{}").tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)

    def __init__(self, stepper, title="microreg: backprop, step by step", height=820):
        self.stepper = stepper
        self.title, self.height = title, height
        super().__init__(data=json.dumps(page_data(stepper, title=title), ensure_ascii=False), step=0)

    @traitlets.validate("step")
    def _valid_step(self, proposal):
        k = proposal["value"]
        if not 0 <= k < len(self.stepper):
            raise traitlets.TraitError(f"step {k} is out of range: this stepper has steps 0 to {len(self.stepper) - 1}")
        return k

    @traitlets.observe("step")
    def _follow(self, change):
        self.stepper.goto(change["new"])

    def fallback_html(self):
        """The standalone page in a sandboxed iframe (scripts run, nothing reaches the notebook)."""
        page = page_html(self.stepper, title=self.title)
        return (f'<iframe srcdoc="{html.escape(page, quote=True)}" sandbox="allow-scripts" '
                f'title="{html.escape(str(self.title), quote=True)}" '
                f'style="width: 100%; height: {int(self.height)}px; border: 1px solid #ddd; border-radius: 6px"></iframe>')

    def picture(self):
        """The current step as a `StepPicture` (the still shown where the iframe is not)."""
        return StepPicture(self.stepper, self.step)

    def _ipython_display_(self, **kwargs):
        """Two outputs: the widget (with its iframe fallback), then the still picture (see the
        module docstring for why the picture is an output of its own)."""
        from IPython.display import display, publish_display_data

        data, metadata = self._repr_mimebundle_()
        publish_display_data(data, metadata=metadata)
        display(self.picture())

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data)
        data["text/html"] = self.fallback_html()
        return data, metadata
