"""Drive JupyterLab and the formgrader in headless Chromium for the browser tests.

`JupyterServer` runs ``jupyter lab`` on a free loopback port with a token, isolated
from the user's Jupyter configuration; `launch_chromium` starts Debian's Chromium
through Playwright (Playwright's own browser downloads are never used); the other
functions are the few JupyterLab gestures the tests need.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "browser"
# Marks the tests that need Debian's Chromium.
NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason=f"{CHROMIUM} is missing: `make browser` installs Debian's chromium "
           "(as root with apt)")

# Chromium flags for a root shell on a machine without network: the sandbox needs
# user namespaces root does not get, and the background services (updates, sync,
# safe browsing) would each wait for a network that never answers.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]

# JupyterLab settings for the test profile: no news or update checks (no network,
# and their pop-up would cover the notebook), and every cell rendered, so that cells
# can be found by their position in the notebook.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none"},
}

IDLE = re.compile(r"\|\s*Idle\b")
# Any address but this machine's loopback.
OFF_MACHINE = re.compile(r"^(?!(https?|wss?)://(127\.0\.0\.1|localhost)[:/])[a-z]+://")
# LaTeX as it is written: shown on a page only where no MathJax typeset it.
# Elements in which MathJax (2.7, any output) has drawn a formula.
FORMULA = ".MathJax, .MathJax_CHTML, .MathJax_SVG"
RAW_TEX = re.compile(r"\$[^$\n]*\\[A-Za-z]+[^$\n]*\$|\\dfrac|\\theta\b")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterServer:
    """``jupyter lab`` serving ``root``, for use in a ``with`` block.

    Parameters
    ----------
    root : Path
        The directory served; also the working directory, where nbgrader reads
        ``nbgrader_config.py``.
    scratch : Path
        A directory for the server's configuration, runtime files and log.
    env : dict, optional
        Environment of the server and its kernels (default: this process's).
    """

    token = "kit-browser-test"

    def __init__(self, root, scratch, env=None):
        self.root, self.scratch = Path(root), Path(scratch)
        self.env = dict(os.environ if env is None else env)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.scratch / "jupyter.log"
        self.proc = None

    def __enter__(self):
        settings = self.scratch / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = dict(self.env,
                   JUPYTER_CONFIG_DIR=str(self.scratch / "config"),
                   JUPYTER_RUNTIME_DIR=str(self.scratch / "runtime"))
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={self.scratch / 'workspaces'}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self, timeout=90):
        status = f"{self.url}/api/status?token={self.token}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with status "
                                   f"{self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(status, timeout=5):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n"
                           f"{self.log_tail()}")

    def log_tail(self, chars=3000):
        return self.log.read_text(errors="replace")[-chars:]

    def __exit__(self, *exc):
        # SIGTERM: the server shuts its kernels down before it exits.
        stop(self.proc, timeout=20)

    def new_page(self, browser):
        """A page in a fresh browser context that sends the server's token.

        The context has no network beyond this machine (:func:`offline`).
        """
        context = browser.new_context(
            viewport={"width": 1400, "height": 900},
            extra_http_headers={"Authorization": f"token {self.token}"},
        )
        context.set_default_timeout(60_000)
        return offline(context.new_page())


def offline(page):
    """Cut ``page``'s browser context off from every address but this machine's, as
    on a course machine that is offline, so that a page needing a CDN shows it;
    refused requests are kept in ``page.refused``. Returns ``page``."""
    page.refused = []

    def refuse(route):
        page.refused.append(route.request.url)
        route.abort("internetdisconnected")

    page.context.route(OFF_MACHINE, refuse)
    return page


def stop(proc, timeout):
    """Stop a server process: SIGTERM, and SIGKILL if it has not exited within
    ``timeout`` seconds. Nothing happens if it is not running."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def launch_chromium(playwright):
    """Debian's Chromium, headless, driven by Playwright."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM),
                                      args=CHROMIUM_ARGS)


def screenshot(page, name):
    """Save a PNG of the page as ``test-artifacts/browser/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path)
    return path


def wait_mathematics(page, scope=".text_cell_render", timeout=60_000):
    """Wait until MathJax has typeset the mathematics of the elements ``scope``
    selects (by default nbconvert's rendered markdown cells); return the number of
    formulas drawn.

    It checks what a reader sees: formulas drawn by MathJax with a size on the page,
    in its own web font (STIX-Web, which the course's server serves), and none of
    the LaTeX left as text (:data:`RAW_TEX`), not that a script is there.
    """
    try:
        page.wait_for_function(
            "() => window.MathJax && MathJax.Hub && MathJax.Hub.queue"
            " && MathJax.Hub.queue.pending === 0 && !MathJax.Hub.queue.running"
            f" && document.querySelector('{FORMULA}')",
            timeout=timeout)
    except PlaywrightTimeout:
        raise AssertionError(
            f"MathJax typeset nothing on {page.url} within {timeout / 1000:g} s; "
            f"requests refused (no network): {getattr(page, 'refused', [])[:3]}"
        ) from None
    regions = page.locator(scope)
    formulas = regions.locator(FORMULA)
    drawn = formulas.evaluate_all(
        "els => els.filter(e => { const r = e.getBoundingClientRect();"
        " return r.width > 0 && r.height > 0; }).length")
    left = RAW_TEX.findall("\n".join(regions.all_inner_texts()))
    assert not left, f"LaTeX left as text on {page.url}: {left[:5]}"
    assert drawn, f"no formula drawn on {page.url}"
    fonts = page.evaluate("() => [...document.fonts].filter(f => f.status === 'loaded')"
                          ".map(f => f.family)")
    assert any("STIX" in family for family in fonts), \
        f"MathJax's web font did not load on {page.url}: loaded fonts {fonts}"
    return drawn


# --- JupyterLab gestures

def open_notebook(page, server, path):
    """Open ``path`` (relative to the server's root) and wait for its kernel."""
    page.goto(f"{server.url}/lab/tree/{path}?reset")
    page.locator(".jp-NotebookPanel").wait_for()
    wait_idle(page)


def wait_idle(page, timeout=120_000):
    """Wait until the status bar says the notebook's kernel is idle."""
    page.locator(".jp-StatusBar-Widget").get_by_text(IDLE).wait_for(timeout=timeout)


def cell(page, index):
    """The notebook cell at ``index`` (0-based, as in the .ipynb file)."""
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)


def menu(page, top, item):
    """Click ``item`` in the menu bar's ``top`` menu."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()


def wait_output(page, index, timeout=120_000):
    """Wait until cell ``index`` has run and shows an output; return its text."""
    output = cell(page, index).locator(".jp-OutputArea-output").first
    output.wait_for(state="attached", timeout=timeout)
    return cell(page, index).locator(".jp-OutputArea").text_content()


def replace_source(page, index, source):
    """Replace the code of cell ``index`` as a student would, by typing it."""
    editor = cell(page, index).locator(".cm-editor")
    editor.locator(".cm-content").click()
    # Ctrl+A selects the cell's text only once the editor has the focus; before,
    # it would select every cell of the notebook.
    expect(editor).to_have_class(re.compile(r"\bcm-focused\b"))
    page.keyboard.press("Control+a")
    # insert_text types the text as one input, so the editor does not auto-indent
    # or close brackets a second time.
    page.keyboard.insert_text(source)
    # The editor draws one element per line: compare the text without line breaks.
    expect(editor.locator(".cm-content")).to_have_text(
        re.compile(r"\s*" + re.escape("".join(source.splitlines())) + r"\s*"))


# --- nbgrader's formgrader gestures

def formgrader_submission(page, formgrader, assignment, student, shot=None):
    """Open ``student``'s notebook of ``assignment`` (the notebook of the same name)
    from the formgrader at URL ``formgrader``, by its *Manual Grading* tables; with
    ``shot``, take that screenshot of the list of submissions on the way."""
    page.goto(formgrader)
    page.get_by_role("link", name="Manual Grading").click()
    table = page.locator("table")
    table.get_by_role("link", name=assignment, exact=True).click()
    table.get_by_role("link", name=assignment, exact=True).click()
    page.get_by_text("Submission #1").wait_for()
    page.get_by_text("Show All Names").click()
    if shot:
        screenshot(page, shot)
    page.locator("a.name-shown",
                 has_text=re.compile(f"^{re.escape(student)}$")).click()


def formgrader_score(page, grade_id, points):
    """Type ``points`` in the score box of cell ``grade_id`` and leave the box; check
    that the formgrader's API saved it."""
    score = page.locator(f"input.score#{grade_id}")
    score.scroll_into_view_if_needed()
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url
                              and r.request.method == "PUT") as saved:
        score.fill(f"{points:g}")
        score.press("Tab")
    assert saved.value.ok
    score.scroll_into_view_if_needed()
