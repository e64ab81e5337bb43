"""Make the pictures README.md shows (deterministic: the same file every run).

    python docs/make_pictures.py

docs/graph.svg is the README example's graph; docs/stepper.png is a screenshot of the stepper page
(document 000's net, in the backward pass) in headless Chromium at 1280 px, made with Playwright.
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


def stepper_screenshot(path, width=1280, height=820, step=14):
    """The stepper page at ``step`` (0-based), as the README shows it."""
    import tempfile
    from playwright.sync_api import sync_playwright
    from microreg.step import Stepper, document_000_example
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run"]
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Stepper(document_000_example()).to_html(os.path.join(tmp, "stepper.html"))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto("file://" + page_path)
            for _ in range(step):
                page.keyboard.press("ArrowRight")
            page.screenshot(path=path)
            browser.close()
    return path


if __name__ == "__main__":
    path = draw_graph(readme_example()).save(os.path.join(HERE, "graph.svg"))
    print(f"wrote {path}")
    print(f"wrote {stepper_screenshot(os.path.join(HERE, 'stepper.png'))}")
