"""The validation report is a real web page: headless Chromium renders it offline, every figure loads and the
console stays clean. A control page with a broken image and a console error proves the checks can fail.

Needs Debian's ``chromium`` (installed by ``scripts/setup.sh --test``); skipped with a reason when absent.
"""
from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditmodel.validation import Challenger, ReferenceSample, build_report

pytestmark = pytest.mark.browser

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SECTIONS = ("summary", "discrimination", "calibration", "stability", "concentration", "migration", "segments",
            "challenger", "data")


def _chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        pytest.skip("headless Chromium not installed (Debian package 'chromium'; scripts/setup.sh --test installs it)")
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A small report with every section: reference, segments, challenger, migration."""
    rng = np.random.default_rng(8)
    n = 1500
    x = rng.normal(size=n)
    pd_ = 1 / (1 + np.exp(-(-3.2 + 1.1 * x)))
    y = rng.binomial(1, pd_)
    score = np.rint(600 - 28.85 * np.log(pd_ / (1 - pd_))).astype(int)
    edges = [0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256, 0.0512, 0.1024, 0.2048]
    grade = (np.searchsorted(edges, pd_) + 1).astype(str)
    xr = rng.normal(0.4, 1.0, n)
    pr = 1 / (1 + np.exp(-(-3.2 + 1.1 * xr)))
    ref = ReferenceSample(score=np.rint(600 - 28.85 * np.log(pr / (1 - pr))), pd=pr,
                          grade=(np.searchsorted(edges, pr) + 1).astype(str), y=rng.binomial(1, pr),
                          features=pd.DataFrame({"x": xr}))
    prev = np.clip(grade.astype(int) + rng.choice([-1, 0, 0, 0, 1], n), 1, 10).astype(str)
    out = tmp_path_factory.mktemp("report")
    res = build_report(y, pd_, score, grade, industry=rng.choice(["C", "F", "G"], n),
                       size_class=rng.choice(["micro", "small"], n),
                       features=pd.DataFrame({"x": x}), reference=ref,
                       challenger=Challenger("lightgbm", np.clip(pd_ * np.exp(rng.normal(0, 0.4, n)), 0, 1)),
                       migration=(prev, grade), n_boot=50, out=out, title="Validation 验证报告")
    return res


def _start(chromium: str, user_dir: Path) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={user_dir}", "--remote-debugging-port=0",
                             "--window-size=1280,1800", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    port_file = user_dir / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return proc, int(port_file.read_text().splitlines()[0])
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    _stop(proc)
    pytest.fail("Chromium did not open its DevTools port within 60 s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)     # the browser and the children it started, nothing else
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


class _Page:
    """Minimal DevTools protocol client over websocket-client."""

    def __init__(self, port: int):
        import websocket

        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.n = 0
        self.events: list[dict] = []
        for method in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            self.call(method)

    def call(self, method: str, **params):
        self.n += 1
        my = self.n
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def load(self, url: str) -> dict:
        """Navigate, wait for the load event, return what the page reports about itself and its problems."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading")
            self.events.append(json.loads(self.ws.recv()))
        js = ("JSON.stringify({images: document.images.length, "
              "loaded: Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length, "
              "sections: Array.from(document.querySelectorAll('section[id]')).map(s => s.id), "
              "height: document.body.scrollHeight})")
        info = json.loads(self.call("Runtime.evaluate", expression=js, returnByValue=True)["result"]["value"])
        problems = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                problems.append(f"console.{p['type']}: {p.get('args')}")
            elif m == "Runtime.exceptionThrown":
                problems.append(f"exception: {p.get('exceptionDetails', {}).get('text')}")
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                problems.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif m == "Network.loadingFailed":
                problems.append(f"failed load: {p.get('errorText')}")
            elif m == "Network.requestWillBeSent":
                u = p.get("request", {}).get("url", "")
                if u.startswith(("http:", "https:")):
                    problems.append(f"network request: {u}")
        info["problems"] = problems
        shot = self.call("Page.captureScreenshot", format="png")["data"]
        info["screenshot"] = base64.b64decode(shot)
        return info

    def close(self) -> None:
        self.ws.close()


def _not_blank(png: bytes) -> bool:
    from PIL import Image

    im = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    return im.std() > 5 and len(np.unique(im)) > 20


def test_report_renders_with_all_figures_and_a_clean_console(report, tmp_path):
    pytest.importorskip("websocket", reason="websocket-client (a JupyterLab dependency) is needed for DevTools")
    chromium = _chromium()
    control = tmp_path / "control.html"
    control.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>c</title></head><body>"
                       "<p>control</p><img src='missing.png'><script>console.error('boom')</script></body></html>",
                       encoding="utf-8")
    proc, port = _start(chromium, tmp_path / "profile")
    try:
        page = _Page(port)
        try:
            bad = page.load(control.as_uri())
            got = page.load(report.html_path.resolve().as_uri())
        finally:
            page.close()
    finally:
        _stop(proc)
    # the harness sees a broken image and a console error when there is one
    assert bad["images"] == 1 and bad["loaded"] == 0
    assert any("boom" in p for p in bad["problems"])
    # the report: every figure decoded, no console error, no network request, all sections
    assert got["images"] == len(report.figures) >= 10
    assert got["loaded"] == got["images"]
    assert got["problems"] == []
    assert set(SECTIONS) <= set(got["sections"])
    assert got["height"] > 3000
    assert _not_blank(got["screenshot"])


def _console_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]


def test_report_dump_dom_and_screenshot_from_the_command_line(report, tmp_path):
    chromium = _chromium()
    url = report.html_path.resolve().as_uri()
    shot = tmp_path / "shot.png"
    common = [chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('<img src="data:image/png;base64,') == len(report.figures)
    for s in SECTIONS:
        assert f'id="{s}"' in dom.stdout
    assert _console_lines(dom.stderr) == []
    # the same scan finds a console error on a control page
    control = tmp_path / "control.html"
    control.write_text("<!DOCTYPE html><html><body><script>console.error('boom')</script></body></html>",
                       encoding="utf-8")
    ctl = subprocess.run([*common, "--dump-dom", control.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert any("boom" in ln for ln in _console_lines(ctl.stderr))
    ss = subprocess.run([*common, "--window-size=1280,2400", f"--screenshot={shot}", url], capture_output=True,
                        text=True, timeout=120, check=False)
    assert ss.returncode == 0 and shot.exists(), ss.stderr[-2000:]
    assert _not_blank(shot.read_bytes())
