"""The dashboard in real headless Chromium (Debian package) against a live server on a fixture DB.

Screenshots of every view land in ``artifacts/dashboard/`` (git-ignored) so a person can look.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from judgebench.dashboard.app import DashboardServer, create_app

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("JUDGEBENCH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = (
    Path(os.environ.get("JUDGEBENCH_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts"))
    / "dashboard"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
VIEWS = ["overview", "taxonomy", "strengths", "compare", "drilldown", "judges", "labelling"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"chromium not found at {CHROMIUM}: `apt-get install -y chromium` to run the browser tests"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (dev extra)"
    )
    with sync_api.sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chrome
        chrome.close()


@pytest.fixture(scope="module")
def server(sample_url):
    srv = DashboardServer(create_app(sample_url), host="127.0.0.1", port=0).start()
    yield srv
    srv.stop()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # a callback that raises answers 500: the page would just wait, so record it
    pg.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    pg.jb_errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


def _wait_ready(page) -> None:
    page.wait_for_selector("#page h2", timeout=20_000)
    # Dash marks a pending callback by setting data-dash-is-loading on the component
    page.wait_for_function(
        "() => !document.querySelector('[data-dash-is-loading=\"true\"]')", timeout=20_000
    )
    # every graph on the page has been drawn with its data
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.dash-graph')).every("
        "g => { const p = g.querySelector('.js-plotly-plot'); return p && p.data && p.data.length; })",
        timeout=20_000,
    )
    page.wait_for_timeout(300)


def _figures(page) -> list[dict]:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => ({n: (g.data || []).length,"
        " colors: JSON.stringify(((g.data || [])[0] || {}).marker || {})}))"
    )


def test_every_view_loads_and_is_screenshotted(page, server):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for view in VIEWS:
        page.goto(f"{server.url}/{view}")
        _wait_ready(page)
        assert page.locator("#page h2").first.inner_text().strip(), view
        figures = _figures(page)
        assert all(f["n"] > 0 for f in figures), (view, figures)
        assert "Error" not in page.locator("#page").inner_text()[:200]
        page.screenshot(path=str(ARTIFACTS / f"{view}.png"), full_page=True)
        assert (ARTIFACTS / f"{view}.png").stat().st_size > 20_000
    assert not page.jb_errors, page.jb_errors  # type: ignore[attr-defined]


# a point inside a slice (sunburst sectors are arcs: their box centre may lie in another one),
# found by testing midpoints of points on the slice's outline with elementFromPoint
_SLICE_POINT = """([layer, label]) => {
  for (const s of document.querySelectorAll(layer + ' g.slice')) {
    const t = s.querySelector('text');
    if (!t || t.textContent.trim() !== label) continue;
    const path = s.querySelector('path');
    const len = path.getTotalLength(), m = path.getScreenCTM(), pts = [];
    for (let i = 0; i < 48; i++) {
      const p = path.getPointAtLength(len * i / 48);
      pts.push([m.a * p.x + m.c * p.y + m.e, m.b * p.x + m.d * p.y + m.f]);
    }
    for (let i = 0; i < pts.length; i++) for (let j = i + 1; j < pts.length; j++) {
      const x = (pts[i][0] + pts[j][0]) / 2, y = (pts[i][1] + pts[j][1]) / 2;
      const hit = document.elementFromPoint(x, y);
      if (hit && hit.closest('g.slice') === s) return {x, y};
    }
  }
  return null;
}"""


def _click_slice(page, layer: str, label: str) -> None:
    point = None
    for _ in range(20):  # the zoom animation moves slices for ~0.75 s
        point = page.evaluate(_SLICE_POINT, [layer, label])
        if point is not None:
            break
        page.wait_for_timeout(150)
    assert point is not None, f"no {layer} slice labelled {label!r}"
    page.mouse.click(point["x"], point["y"])
    page.wait_for_timeout(900)


def _open_drilldown_from_map(page, expect_node: str) -> None:
    link = page.locator("#map-open")
    page.wait_for_function(
        "(n) => document.querySelector('#map-open').getAttribute('href').includes(n)",
        arg=expect_node.replace("/", "%2F"),
        timeout=30_000,
    )
    link.click()
    page.wait_for_url("**/drilldown?node=*", timeout=30_000)
    _wait_ready(page)


def test_treemap_click_zooms_and_the_link_opens_the_drilldown(page, server):
    page.goto(f"{server.url}/taxonomy")
    _wait_ready(page)
    page.locator(".treemaplayer g.slice").first.wait_for(timeout=30_000)
    _click_slice(page, ".treemaplayer", "coding")
    assert "/taxonomy" in page.url  # a click zooms; it does not navigate
    _open_drilldown_from_map(page, "coding")
    title = page.locator("#dd-title").inner_text()
    assert "coding" in title
    rows = page.locator("#dd-queries tbody tr")
    assert rows.count() > 1
    # select a query: every model's response and its judgments appear
    page.locator("#dd-queries input[type=radio]").first.check()
    page.wait_for_selector(".jb-response-block", timeout=30_000)
    assert page.locator(".jb-response-block").count() == 10  # 5 models × 2 runs of the job
    detail = page.locator("#dd-detail").inner_text()
    assert all(m in detail for m in ["sim/strong (simulated)", "acme/chat-1", "run nightly 2"])
    assert "raw judge repl" in page.locator("#dd-detail").inner_text()
    # pairwise judgments are verdict cards (winner / loser / tie), never a score
    assert page.locator(".jb-verdict").count() > 0
    page.screenshot(path=str(ARTIFACTS / "drilldown-query.png"), full_page=True)
    assert not page.jb_errors  # type: ignore[attr-defined]


def test_model_selector_changes_the_figure(page, server):
    page.goto(f"{server.url}/taxonomy")
    _wait_ready(page)
    before = _figures(page)[0]["colors"]
    page.locator("#map-model").click()
    page.get_by_text("sim/writer (simulated)", exact=True).last.click()
    page.wait_for_function(
        "(before) => { const g = document.querySelector('.js-plotly-plot');"
        " return g && g.data && JSON.stringify(g.data[0].marker) !== before; }",
        arg=before,
        timeout=30_000,
    )
    assert _figures(page)[0]["colors"] != before


def test_empty_store_says_what_to_run(page, tmp_path):
    srv = DashboardServer(create_app(tmp_path / "empty.db"), port=0).start()
    try:
        page.goto(f"{srv.url}/overview")
        page.wait_for_selector(".jb-empty", timeout=20_000)
        # the hint is a dcc.Markdown, rendered after the title once its component bundle loads
        page.wait_for_function(
            "document.querySelector('.jb-empty').innerText.includes('judgebench demo')",
            timeout=20_000,
        )
        assert "judgebench demo" in page.locator(".jb-empty").inner_text()
        page.screenshot(path=str(ARTIFACTS / "empty.png"))
    finally:
        srv.stop()
    assert not page.jb_errors  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "judgebench", "dashboard", *args]


def test_auth_rule_holds_through_the_cli(page, sample_url, tmp_path):
    refused = subprocess.run(
        _cli("--db", sample_url, "--host", "0.0.0.0"), capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2 and "--token" in refused.stderr
    port = _free_port()
    env = dict(os.environ, JUDGEBENCH_DASHBOARD_TOKEN="browser-test-token")
    proc = subprocess.Popen(
        _cli("--db", sample_url, "--host", "0.0.0.0", "--port", str(port)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        response = page.goto(f"{base}/overview")
        assert response is not None and response.status == 401
        assert response.headers.get("server") == "waitress"  # not werkzeug's development server
        assert "token" in page.content()
        response = page.goto(f"{base}/overview?token=wrong-token-x")
        assert response is not None and response.status == 401
        page.goto(f"{base}/overview?token=browser-test-token")
        _wait_ready(page)
        assert "token" not in page.url  # dropped from the address bar after the first visit
        assert page.locator(".js-plotly-plot").count() >= 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    shutil.rmtree(tmp_path, ignore_errors=True)


# --- on the demo run (`judgebench demo --fast`, the real CLI) ----------------------------------


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    done = subprocess.run(
        [sys.executable, "-m", "judgebench", "demo", "--fast", "--quiet", "--db", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def demo_server(demo_url):
    srv = DashboardServer(create_app(demo_url), host="127.0.0.1", port=0).start()
    yield srv
    srv.stop()


def test_a_leaf_is_reached_by_clicking_down_the_sunburst(page, demo_server):
    from judgebench.dashboard.views.taxonomy_map import map_frame
    from judgebench.db import queries as q

    page.goto(f"{demo_server.url}/taxonomy")
    _wait_ready(page)
    page.locator(".sunburstlayer g.slice").first.wait_for(timeout=30_000)
    ctx = demo_server.app.jb_context
    frame = map_frame(ctx, q.default_judge(ctx.store), None, None)
    # the biggest domain, then its biggest child that is a leaf (no one-child ring between)
    domain = frame[frame["parent_key"] == "__root__"].sort_values("size").iloc[-1]
    kids = frame[frame["parent_key"] == domain["key"]]
    leaf = kids[~kids["key"].isin(frame["parent_key"])].sort_values("size").iloc[-1]
    _click_slice(page, ".sunburstlayer", domain["name"])
    _click_slice(page, ".sunburstlayer", leaf["name"])
    _open_drilldown_from_map(page, leaf["target"])
    assert leaf["target"] in page.locator("#dd-title").inner_text()
    assert page.locator("#dd-queries tbody tr").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "sunburst-leaf-drilldown.png"), full_page=True)
    assert not page.jb_errors  # type: ignore[attr-defined]


def test_cli_summary_strengths_equal_the_page(page, demo_server, demo_url):
    from judgebench.db import Store
    from judgebench.db import queries as q
    from judgebench.jobs.demo import demo_job
    from judgebench.jobs.summary import build_summary

    store = Store(demo_url)
    run_id = str(q.list_runs(store)["id"].iloc[-1])
    summary = build_summary(store, run_id, demo_job(demo_url))  # what `judgebench run` prints
    assert any(m.get("strengths") for m in summary["models"]), "the demo has no strength to show"
    for m in summary["models"]:
        page.goto(f"{demo_server.url}/strengths?{urlencode({'model': m['model']})}")
        page.wait_for_function(  # (a model without findings has an empty figure: no traces)
            "() => (document.querySelector('#sw-source') || {}).textContent", timeout=20_000
        )
        assert "Judge pc2" in page.locator("#sw-source").inner_text()  # says what it shows
        expected = [", ".join(m[k]) or "none" for k in ("strengths", "weaknesses")]
        shown: list[str] = []
        for _ in range(40):  # the callback answers within a second; poll its output
            page.wait_for_timeout(150)
            shown = [
                page.locator(f"#sw-{k}").inner_text().strip() for k in ("strengths", "weaknesses")
            ]
            if shown == expected:
                break
        assert shown == expected, m["model"]
    assert not page.jb_errors  # type: ignore[attr-defined]


def test_a_label_entered_in_the_browser_is_stored_and_moves_agreement(page, demo_server):
    from judgebench.db import Store

    store = Store(demo_server.app.jb_context.store.url)
    assert store.get_judgments(judge="human:Browser Tester") == []
    page.goto(f"{demo_server.url}/labelling")
    _wait_ready(page)
    page.wait_for_selector("#lab-fig-n", timeout=30_000)  # the agreement callback has answered
    assert page.locator("#lab-fig-n").inner_text() == "0"
    assert page.locator("#lab-fig-accuracy").inner_text() == "–"
    page.locator("#lab-name").fill("Browser Tester")
    page.locator("#lab-sample").click()
    page.wait_for_selector("#lab-progress", timeout=30_000)
    assert "item 1 of" in page.locator("#lab-progress").inner_text()
    page.locator("#lab-note").fill("A answers the question")
    page.locator("#lab-a").click()
    page.wait_for_function(
        "() => document.querySelector('#lab-fig-n') && "
        "document.querySelector('#lab-fig-n').textContent === '1'",
        timeout=30_000,
    )
    labels = store.get_judgments(judge="human:Browser Tester")
    assert [(j.verdict, j.rationale) for j in labels] == [("A", "A answers the question")]
    accuracy = page.locator("#lab-fig-accuracy").inner_text()
    assert accuracy in ("0.000", "1.000")  # one label: the judge agreed or it did not
    assert "item 2 of" in page.locator("#lab-progress").inner_text()
    page.screenshot(path=str(ARTIFACTS / "labelling.png"), full_page=True)
    assert not page.jb_errors  # type: ignore[attr-defined]
