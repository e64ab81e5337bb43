"""The stepper widget: the page's own view via anywidget, a static fallback for viewers without a
kernel, notebooks readable offline (nbconvert), and the live widget in a real JupyterLab."""

import glob
import html
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

from microreg.step import Stepper, document_000_example

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(REPO, "notebooks")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

anywidget = pytest.importorskip("anywidget")


def test_widget_serves_the_page_module_and_carries_a_fallback():
    stepper = Stepper(document_000_example())
    w = stepper.widget()
    assert w._esm == open(os.path.join(REPO, "microreg", "web", "stepper.js"), encoding="utf-8").read()
    data, _ = w._repr_mimebundle_()
    assert WIDGET_MIME in data and data["text/html"].startswith("<iframe srcdoc=")
    page = html.unescape(data["text/html"].split('srcdoc="')[1].split('"')[0])
    assert 'id="microreg-data"' in page and "export function mount" in page
    w.step = 5
    assert stepper.position == 5, "moving the widget moves the Stepper"
    import traitlets
    with pytest.raises(traitlets.TraitError, match="step 99 is out of range"):
        w.step = 99


def _html_of(path):
    from nbconvert import HTMLExporter
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(path, as_version=4))
    return body


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(NOTEBOOKS, "*.ipynb"))), ids=os.path.basename)
def test_committed_notebooks_show_their_pictures_without_a_kernel(path):
    """Rendered to HTML by nbconvert (as nbviewer does), every picture output is there."""
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata, "no widget state: viewers must fall back to the static page"
    pictures = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_MIME in data:
                assert "text/html" in data and "microreg-data" in data["text/html"], "the widget's static fallback"
            pictures += any(k in data for k in ("image/svg+xml", "image/png")) or WIDGET_MIME in data
    body = _html_of(path)
    pages = len(re.findall(r"<iframe[^>]*\ssrcdoc=", body))
    assert body.count("<svg") + body.count("<img") + pages >= pictures, (os.path.basename(path), pictures)
    if "02_" in path:
        assert pages >= 1 and "microreg-data" in body, "notebook 02 shows the stepper page without a kernel"


def test_committed_notebook_02_has_a_still_of_the_graph_beside_the_iframe():
    """GitHub strips iframes and scripts and shows text/html first: the graph must also be an
    output of its own whose best mimetype is an image (labels and the step 1 numbers worked out
    from TwoLayerNet(1, 3, seed=0): z1[0] = 0.2515·0.5 + 0.1049)."""
    nb = nbformat.read(os.path.join(NOTEBOOKS, "02_two_layer_backprop_step_by_step.ipynb"), as_version=4)
    outputs = [out for cell in nb.cells for out in cell.get("outputs", [])]
    widget_at = next(i for i, out in enumerate(outputs) if WIDGET_MIME in out.get("data", {}))
    still = outputs[widget_at + 1].get("data", {})
    assert "image/svg+xml" in still and "text/html" not in still, sorted(still)
    svg = "".join(still["image/svg+xml"])
    for label in ("z1[0]", "w1[0][0]", "b2"):
        assert label in svg, f"node {label} is missing from the still picture"
    assert "<iframe" not in svg and "<script" not in svg
    text = "".join(still["text/plain"])
    assert "z1[0]" in text and "0.2515·0.5 + 0.1049" in text, text


@pytest.mark.parametrize("width", [672, 1152, 1792])     # the iframe in nbconvert's page at 800, 1280, 1920 px
def test_notebook_02s_embedded_stepper_shows_the_output_and_fits_its_frame(browser, tmp_path, width):
    nb = nbformat.read(os.path.join(NOTEBOOKS, "02_two_layer_backprop_step_by_step.ipynb"), as_version=4)
    frame = next("".join(out["data"]["text/html"]) for cell in nb.cells for out in cell.get("outputs", [])
                 if WIDGET_MIME in out.get("data", {}))
    path = tmp_path / "frame.html"
    path.write_text(html.unescape(frame.split('srcdoc="')[1].split('"')[0]), encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": 820})
    try:
        page.goto(path.as_uri())
        page.wait_for_selector(".mr-counter")
        for k in (0, 14, 30):
            page.evaluate("""k => { const s = document.querySelector('.mr-slider');
                s.value = k; s.dispatchEvent(new Event('input', {bubbles: true})); }""", k)
            seen = page.evaluate("""() => {
                const names = [...document.querySelectorAll('.mr-node')].map(g => g.querySelector('.mr-name').textContent);
                const box = document.querySelectorAll('.mr-node')[names.indexOf('L')].querySelector('rect').getBoundingClientRect();
                const v = document.querySelector('.mr-graph').getBoundingClientRect();
                const chip = document.querySelector('.mr-output');
                const f = document.querySelector('.mr-formula');
                return {box: box.left >= v.left && box.right <= v.right, chip: chip.style.display !== 'none',
                        fits: f.scrollWidth <= f.clientWidth + 1}; }""")
            assert (seen["box"] or seen["chip"]) and seen["fits"], (width, k, seen)
    finally:
        page.close()


def test_the_still_follows_the_widget_step():
    w = Stepper(document_000_example()).widget()
    backward = w.stepper.phase_start("backward")
    w.step = backward
    picture = w.picture()._repr_mimebundle_()
    assert picture["text/plain"].startswith(f"Step {backward + 1} / "), picture["text/plain"][:60]
    assert "(backward)" in picture["text/plain"].splitlines()[0]
    assert "<svg" in picture["image/svg+xml"] and "z1[0]" in picture["image/svg+xml"]


# --- the live widget in JupyterLab ---------------------------------------------------------------

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    pytest.importorskip("jupyterlab")
    shutil.copy(os.path.join(NOTEBOOKS, "02_two_layer_backprop_step_by_step.ipynb"), tmp_path / "02.ipynb")
    port, token = _free_port(), "microreg-test-" + os.urandom(8).hex()
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""),
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.extension_manager=readonly"]
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start: " + (tmp_path / "jupyterlab.log").read_text()[-2000:])
                time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.mark.jupyterlab
def test_widget_steps_in_a_real_jupyterlab(jupyterlab):
    """Open notebook 02 in JupyterLab, run it, click Next: the counter and the lit nodes change.

    The browser runs in its own process (this file run as a script): Playwright's sync API keeps
    one event loop per process, and the other browser tests already hold this one."""
    pytest.importorskip("playwright.sync_api")
    if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
        pytest.skip("no chromium binary on this machine (.ci/run installs Debian's chromium)")
    base, token = jupyterlab
    done = subprocess.run([sys.executable, os.path.abspath(__file__), base, token], capture_output=True, text=True,
                          timeout=180, env=dict(os.environ, PYTHONPATH=REPO), stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "widget steps" in done.stdout, done.stdout


def drive_jupyterlab(base, token):
    from playwright.sync_api import sync_playwright
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=flags)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda e: print("page error:", e, flush=True))
        outside = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:", "blob:")) else None)
        page.goto(f"{base}/lab/tree/02.ipynb?token={token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
        page.wait_for_function("window.jupyterapp && window.jupyterapp.commands.hasCommand('notebook:run-all-cells')",
                               timeout=60_000)
        print("JupyterLab is up; running the notebook", flush=True)
        # Wait (at most 60 s) for the notebook's kernel, then start the run without awaiting it: the
        # command's promise can wait on the kernel forever, and page.evaluate has no timeout of its own.
        page.evaluate("""async () => {
            const ctx = window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext;
            if (ctx) { await Promise.race([ctx.ready, new Promise(done => setTimeout(done, 60000))]); }
        }""")
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        widget = page.locator(".jp-OutputArea-output .mr-stepper").first
        widget.wait_for(timeout=90_000)
        counter = widget.locator(".mr-counter")
        first = counter.text_content()
        assert first.startswith("Step 1 / "), first
        lit_before = widget.locator(".mr-node.mr-lit .mr-name").all_text_contents()
        data_before = widget.locator(".mr-data").all_text_contents()
        widget.locator(".mr-next").click()
        widget.locator(".mr-next").click()
        assert counter.text_content().startswith("Step 3 / "), counter.text_content()
        lit_after = widget.locator(".mr-node.mr-lit .mr-name").all_text_contents()
        assert lit_after and lit_after != lit_before, (lit_before, lit_after)
        data_after = widget.locator(".mr-data").all_text_contents()
        assert data_after != data_before, "the forward pass filled in values"
        page.screenshot(path=os.path.join(os.environ.get("MICROREG_SHOTS", "/tmp"), "microreg-jupyterlab.png"))
        browser.close()
    assert not outside, f"requests outside the server: {outside[:5]}"
    print("widget steps:", first, "→", counter_text(lit_after))


def counter_text(lit):
    return ", ".join(lit)


if __name__ == "__main__":
    drive_jupyterlab(sys.argv[1], sys.argv[2])
