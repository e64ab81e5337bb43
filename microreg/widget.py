"""The stepper as a Jupyter widget: the page's own view (``microreg/web/stepper.js``), served by
``anywidget`` to JupyterLab, Notebook 7 and VS Code.

    >>> from microreg.step import Stepper, document_000_example
    >>> w = Stepper(document_000_example()).widget()
    >>> w.step                       # the step shown; set it from Python, or click in the view
    0

The widget's output also carries a static fallback: the self-contained page in an ``iframe
srcdoc`` as ``text/html``. A notebook saved without widget state (``notebooks/build.py`` saves
them so) shows the graph and the steps on nbviewer, in an nbconvert HTML file or any viewer
without a kernel; with a kernel, Jupyter shows the live widget.
"""

import html
import json

import anywidget
import traitlets

from .page import WEB, page_data, page_html


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

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data)
        data["text/html"] = self.fallback_html()
        return data, metadata
