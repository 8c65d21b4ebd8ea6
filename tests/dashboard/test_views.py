"""Views and callbacks called directly (no browser), the registry, export, and the auth rule."""

from __future__ import annotations

import base64
import json

import pytest

from judgebench.dashboard.app import create_app, export_html, render_page
from judgebench.dashboard.auth import check_bind
from judgebench.dashboard.registry import View, load_views
from judgebench.dashboard.sample import JUDGE, PAIR_JUDGE
from judgebench.dashboard.views import (
    VIEW_MODULES,
    compare,
    drilldown,
    judge_health,
    overview,
    strengths,
)
from judgebench.dashboard.views import taxonomy_map as tmap
from judgebench.db import queries as q
from judgebench.errors import ConfigError


@pytest.fixture(scope="module")
def app(sample_url):
    return create_app(sample_url)


@pytest.fixture(scope="module")
def ctx(app):
    return app.jb_context


def _text(component) -> str:
    return json.dumps(
        component.to_plotly_json(),
        default=lambda o: o.to_plotly_json() if hasattr(o, "to_plotly_json") else str(o),
    )


def test_every_registered_view_renders(app, ctx):
    views = app.jb_views
    assert len(views) == len(VIEW_MODULES)  # every registered module, whoever added it
    assert {"overview", "taxonomy", "strengths", "compare", "drilldown", "judges"} <= {
        v.id for v in views
    }
    by_id = {v.id: v for v in views}
    for view in views:
        page = _text(render_page(ctx, by_id, views, f"/{view.id}", "?node=coding"))
        assert view.title in page
    assert "Page not found" in _text(render_page(ctx, by_id, views, "/nope", ""))
    assert "(simulated)" in _text(app.layout())


def test_empty_store_pages_say_what_to_run(tmp_path):
    app = create_app(tmp_path / "empty.db")
    views = app.jb_views
    for view in views:
        page = _text(
            render_page(app.jb_context, {v.id: v for v in views}, views, f"/{view.id}", "")
        )
        assert "judgebench demo" in page
    ctx = app.jb_context
    # callbacks must not crash either, whatever the page
    overview.leaderboard_figure(ctx, None, None)
    overview.domain_figure(ctx, None, None)
    assert overview.leaderboard_table(ctx, None, None).empty
    tmap.sunburst_figure(tmap.map_frame(ctx, None, None, None), None)
    assert strengths.findings(ctx, "m", None, None, 2).empty
    compare.difference_figure(ctx, ["a", "b"], None, None)
    compare.radar_figure(ctx, ["a"], None, None)
    compare.trend_figure(ctx, [], None, None)
    assert drilldown.queries_table(ctx, "", None).empty
    judge_health.rates_figure(ctx, None)
    judge_health.distribution_figure(ctx)


def test_overview_leaderboard_has_ci_and_labels(ctx):
    fig = overview.leaderboard_figure(ctx, JUDGE, None)
    bar = fig.data[0]
    assert len(bar.y) == 5 and any("(simulated)" in y for y in bar.y) and "acme/chat-1" in bar.y
    assert all(v > 0 for v in bar.error_x.array)
    assert list(bar.x) == sorted(bar.x)  # best at the top of a horizontal bar chart
    pair = overview.leaderboard_figure(ctx, PAIR_JUDGE, None)
    assert "win rate" in pair.layout.xaxis.title.text and len(pair.data[0].y) == 2
    table = overview.leaderboard_table(ctx, JUDGE, None)
    assert {"invalid rate", "cost (USD)", "CI low", "CI high"} <= set(table.columns)
    domains = overview.domain_figure(ctx, JUDGE, None)
    assert len(domains.data) == 5 and len(domains.data[0].x) == 6


def test_map_colour_follows_the_chosen_model(ctx):
    coder = tmap.map_frame(ctx, JUDGE, None, "sim/coder", "score").set_index("node_id")
    writer = tmap.map_frame(ctx, JUDGE, None, "sim/writer", "score").set_index("node_id")
    assert coder.loc["coding", "color"] > 0 > writer.loc["coding", "color"]
    assert writer.loc["writing", "color"] > 0 > coder.loc["writing", "color"]
    ranks = tmap.map_frame(ctx, JUDGE, None, "sim/strong", "rank").set_index("node_id")
    assert ranks.loc["", "color"] == 1
    fig1 = tmap.sunburst_figure(coder.reset_index(), "sim/coder")
    fig2 = tmap.sunburst_figure(writer.reset_index(), "sim/writer")
    assert list(fig1.data[0].marker.colors) != list(fig2.data[0].marker.colors)
    # sizes are consistent for branchvalues="total": a parent is at least the sum of its children
    size = coder["size"]
    assert size["coding"] == sum(size[n] for n in size.index if n.startswith("coding/"))


def test_click_on_node_picks_it_for_the_drilldown_link():
    names = {"coding/python": "Python"}
    href, text = tmap.open_link({"points": [{"id": "coding/python"}]}, names)
    assert href == "/drilldown?node=coding%2Fpython" and "Python" in text
    # a collapsed chain opens its deepest node
    click = {"points": [{"id": "coding", "customdata": "coding/task-types"}]}
    assert tmap.open_link(click, {})[0] == "/drilldown?node=coding%2Ftask-types"
    assert tmap.open_link({"points": [{"id": "__root__"}]}, {})[0] == "/drilldown?node="
    assert tmap.clicked_node(None) is None and tmap.clicked_node({"points": [{}]}) is None


def test_map_goes_to_the_leaves_without_one_child_rings(ctx):
    frame = tmap.map_frame(ctx, JUDGE, None, "sim/coder")
    children = frame[frame["parent_key"] != ""].groupby("parent_key").size()
    assert (children >= 2).all(), children[children < 2]
    leaves = set(q.taxonomy_nodes(ctx.store).query("n_queries > 0")["node_id"])
    drawn_targets = set(frame["target"])
    parents = set(frame["parent_key"])
    leaf_rows = frame[~frame["key"].isin(parents)]
    assert len(leaf_rows) > 20 and set(leaf_rows["target"]) <= leaves
    assert drawn_targets <= leaves | {""}


def test_collapse_merges_a_dimension_level_into_its_domain():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "key": [
                "__root__",
                "coding",
                "coding/task-types",
                "coding/task-types/debugging",
                "coding/task-types/testing",
                "writing",
            ],
            "parent_key": [
                "",
                "__root__",
                "coding",
                "coding/task-types",
                "coding/task-types",
                "__root__",
            ],
            "node_id": [
                "",
                "coding",
                "coding/task-types",
                "coding/task-types/debugging",
                "coding/task-types/testing",
                "writing",
            ],
            "name": ["All", "Coding", "Task Types", "Debugging", "Testing", "Writing"],
        }
    )
    out = tmap.collapse_single_children(frame).set_index("key")
    assert "coding/task-types" not in out.index
    assert out.loc["coding", "name"] == "Coding › Task Types"
    assert out.loc["coding", "target"] == "coding/task-types"
    assert out.loc["coding/task-types/debugging", "parent_key"] == "coding"
    assert out.loc["writing", "target"] == "writing"


def test_strengths_find_the_profiles_built_into_the_sample(ctx):
    found = strengths.findings(ctx, "sim/coder", JUDGE, None)  # the CLI's T for 5 models
    kinds = dict(zip(found["node_id"], found["kind"], strict=True))
    separated = found[found["separated"]]
    assert (
        kinds.get("coding") == "strength" and found.set_index("node_id").loc["coding", "separated"]
    )
    weak_nodes = separated.loc[separated["kind"] == "weakness", "node_id"]
    assert len(weak_nodes) and weak_nodes.str.startswith("writing").all()
    table = strengths.findings_table(ctx, found, "sim/coder", JUDGE)
    weak = table[table["kind"] == "weakness"]
    assert weak["worst queries"].str.contains("writing").any()
    from judgebench.analysis.feedback import summary_threshold

    assert all(strengths.default_threshold(n) == summary_threshold(n) for n in (2, 5, 20))
    modes = strengths.failure_mode_table(ctx, "sim/coder", JUDGE, None)
    assert set(modes["node"]) <= {"writing", "knowledge", "coding", "mathematics"}  # ≥ 5 children
    assert len(modes) >= 3 and set(modes["kind"]) <= {"systematic", "occasional", "mixed"}


def test_compare_views(ctx):
    models = ["sim/strong", "sim/coder", "sim/writer"]
    diff = compare.difference_figure(ctx, models, JUDGE, None, depth=1)
    assert len(diff.data) == 2 and len(diff.data[0].y) == 7  # six domains + all queries
    radar = compare.radar_figure(ctx, models, JUDGE, None)
    assert len(radar.data) == 3
    report = compare.difference_report(ctx, ["sim/coder", "sim/writer"], JUDGE, None)
    assert len(report) > 0 and (report["rank spread"] > 0).all()
    regress = compare.regressions(ctx, JUDGE, "nightly").set_index("model")
    assert regress.loc["sim/coder (simulated)", "change"] < 0
    assert len(compare.trend_figure(ctx, models, JUDGE, "nightly").data) == 3


def test_drilldown_panel_shows_everything_about_a_query(ctx):
    table = drilldown.queries_table(ctx, "coding/python", JUDGE)
    assert len(table) == 6
    text = _text(drilldown.query_panel(ctx, table["query_id"][0]))
    for needle in [
        "correctness",
        "raw judge repl",
        "Scored against the baseline",
        "sim/weak (simulated)",
        "acme/chat-1",
    ]:
        assert needle in text
    assert "position-inconsistent" in text or "verdict" in text
    opts = drilldown.node_options(ctx)
    assert opts[0]["value"] == "__root__" and any(o["value"] == "coding/python" for o in opts)


def test_pairwise_judgments_are_verdict_cards_never_scores():
    base = dict(
        kind="pairwise", status="ok", response_id="ra", response_b_id="rb", model="m1",
        model_b="m2", score=1.0, reason=None, flags=[], judge="pairwise", judge_model="j",
        template_name="t", template_hash="abcdef12", criteria=[], raw_replies=[], rationale=None,
    )  # fmt: skip
    won = _text(drilldown.judgment_card(dict(base, verdict="A"), "ra"))
    lost = _text(drilldown.judgment_card(dict(base, verdict="A"), "rb"))
    assert "winner" in won and "loser" not in won and "loser" in lost
    assert "score" not in won and "score" not in lost  # a stored score never shows for a verdict
    tie = _text(drilldown.judgment_card(dict(base, verdict="tie", flags=[q.POSITION_FLAG]), "rb"))
    assert "tie" in tie and "position-inconsistent" in tie
    invalid = dict(base, verdict=None, status="invalid", reason="no verdict line")
    text = _text(drilldown.judgment_card(invalid, "ra"))
    assert "winner" not in text and "loser" not in text and "no verdict line" in text


def test_drilldown_queries_for_a_pairwise_judge_show_win_rates(ctx):
    table = drilldown.queries_table(ctx, "coding/python", PAIR_JUDGE)
    rates = table.drop(columns=["query_id", "query"])
    assert rates.shape[1] >= 2 and all("win rate" in c for c in rates.columns)
    values = rates.stack()
    assert len(values) and ((values >= 0) & (values <= 1)).all()


def test_drilldown_shows_invalid_and_injection_flags(ctx, sample_store):
    invalid = sample_store.get_judgments(judge=JUDGE, status="invalid")[0]
    text = _text(drilldown.query_panel(ctx, invalid.query_id))
    assert "no criteria block in reply" in text and "invalid" in text
    injected = next(j for j in sample_store.get_judgments(judge=JUDGE) if j.flags)
    assert "injection attempt" in _text(drilldown.query_panel(ctx, injected.query_id))


def test_judge_health(ctx):
    table = judge_health.health_table(ctx, None).set_index("judge")
    assert 0 < table.loc[PAIR_JUDGE, "position consistency"] < 1
    assert table.loc[JUDGE, "invalid rate"] > 0
    agreement = judge_health.agreement_table(ctx)
    assert agreement.iloc[0]["judge"] == PAIR_JUDGE and 0.5 < agreement.iloc[0]["accuracy"] <= 1
    assert len(judge_health.distribution_figure(ctx).data) == 1  # only pc2 gives scores


def test_export_html_is_self_contained(ctx):
    fig = overview.leaderboard_figure(ctx, JUDGE, None)
    out = export_html(fig.to_plotly_json(), "overview-leaderboard")
    assert out["filename"] == "judgebench-overview-leaderboard.html"
    assert "<html" in out["content"] and "Plotly.newPlot" in out["content"]
    assert (
        '<script src="http' not in out["content"] and len(out["content"]) > 1_000_000
    )  # plotly.js inlined


def test_view_registry_rejects_bad_modules(monkeypatch):
    import sys
    import types

    module = types.ModuleType("jb_fake.view")
    module.VIEW = View(id="fake", title="Fake", layout=lambda ctx, params: None, order=1)
    monkeypatch.setitem(sys.modules, "jb_fake.view", module)
    views = load_views(["overview", "jb_fake.view"])
    assert [v.id for v in views] == ["fake", "overview"]
    with pytest.raises(ValueError, match="duplicate"):
        load_views(["jb_fake.view", "jb_fake.view"])
    monkeypatch.setitem(sys.modules, "jb_no.view", types.ModuleType("jb_no.view"))
    with pytest.raises(TypeError, match="VIEW"):
        load_views(["jb_no.view"])


def test_bind_rule():
    check_bind("127.0.0.1", None, None)
    check_bind("::1", None, None)
    check_bind("localhost", None, None)
    with pytest.raises(ConfigError, match="--token or --basic-auth"):
        check_bind("0.0.0.0", None, None)
    check_bind("0.0.0.0", "s3cret-token", None)
    check_bind("192.168.1.5", None, "ann:pw")
    with pytest.raises(ConfigError, match="USER:PASSWORD"):
        check_bind("0.0.0.0", None, "no-colon")


def test_token_and_basic_auth_guard_every_request(sample_url):
    client = create_app(sample_url, token="s3cret-token").server.test_client()
    assert client.get("/").status_code == 401
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/?token=wrong-token").status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    first = client.get("/?token=s3cret-token")
    assert first.status_code == 302 and "token" not in first.headers["Location"]
    assert client.get("/_dash-layout").status_code == 200  # the cookie carries it now
    basic = create_app(sample_url, basic_auth="ann:pw").server.test_client()
    assert (
        basic.get("/").status_code == 401 and "Basic" in basic.get("/").headers["WWW-Authenticate"]
    )
    good = base64.b64encode(b"ann:pw").decode()
    assert basic.get("/", headers={"Authorization": f"Basic {good}"}).status_code == 200
    bad = base64.b64encode(b"ann:nope").decode()
    assert basic.get("/", headers={"Authorization": f"Basic {bad}"}).status_code == 401


def test_request_log_never_shows_the_token(sample_url, caplog):
    """Werkzeug logs each request line; ``/?token=…`` used to print the token to stderr."""
    import contextlib
    import logging
    import urllib.request

    from judgebench.dashboard.app import DashboardServer

    server = DashboardServer(create_app(sample_url, token="log-secret-token"), port=0).start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for token in ("log-secret-token", "mistyped-token"):
                with contextlib.suppress(urllib.error.HTTPError):  # the mistyped one: 401
                    urllib.request.urlopen(f"{server.url}/?token={token}", timeout=10).read()
    finally:
        server.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("token=***" in line for line in lines), lines
    assert not any("log-secret-token" in line or "mistyped-token" in line for line in lines)


def test_cli_refuses_outside_address_without_credentials(sample_url):
    from typer.testing import CliRunner

    from judgebench.cli import app as cli_app

    runner = CliRunner()
    result = runner.invoke(cli_app, ["dashboard", "--db", sample_url, "--host", "0.0.0.0"])
    assert result.exit_code != 0 and "--token" in str(result.exception)
    result = runner.invoke(cli_app, ["dashboard", "--db", sample_url, "--refresh-only"])
    assert result.exit_code == 0 and "summary rebuilt" in result.output


def test_findings_agree_with_the_analysis_library(ctx):
    """The page's findings = strengths_weaknesses of summary_report (what the CLI summary uses)
    built independently here from the store's judgments (all runs)."""
    import pandas as pd

    from judgebench.analysis import strengths_weaknesses
    from judgebench.analysis.feedback import summary_report

    store = ctx.store
    nodes = {x.id: x.node_ids for x in store.get_queries()}
    scores = pd.DataFrame(
        [
            dict(query_id=j.query_id, model=j.model, score=j.score)
            for j in store.get_judgments(judge=JUDGE, status="ok")
        ]
    )
    membership = pd.DataFrame(
        [(qid, n) for qid in scores["query_id"].unique() for n in nodes[qid]],
        columns=["query_id", "node_id"],
    )
    table = summary_report(scores, membership, scores["model"].nunique()).table
    for model in ["sim/coder", "sim/writer", "acme/chat-1"]:
        for threshold in (0, 1, 2):
            ours = strengths.findings(ctx, model, JUDGE, None, threshold)
            theirs = strengths_weaknesses(table, threshold=threshold, require_separation=False)
            theirs = theirs[theirs["model"] == model]
            assert set(ours["node_id"]) == set(theirs["node_id"])
            expected = {
                n: bool(s) for n, s in zip(theirs["node_id"], theirs["separated_from"], strict=True)
            }
            assert dict(zip(ours["node_id"], ours["separated"], strict=True)) == expected
            assert dict(zip(ours["node_id"], ours["gap"], strict=True)) == dict(
                zip(theirs["node_id"], theirs["gap"], strict=True)
            )
            separated = strengths_weaknesses(table, threshold=threshold)
            separated = separated[separated["model"] == model]
            for kind in ("strength", "weakness"):
                cli = separated.loc[separated["kind"] == kind, "node_id"].head(3).tolist()
                assert strengths.cli_findings(ours, kind) == cli


# values a user could have picked, per (component id, property)
_INPUTS = {
    ("url", "pathname"): "/overview",
    ("url", "search"): "?node=coding",
    ("filter-judge", "value"): JUDGE,
    ("filter-run", "value"): "",
    ("map-model", "value"): "sim/coder",
    ("map-metric", "value"): "rank",
    ("sw-model", "value"): "sim/coder",
    ("sw-threshold", "value"): 2,
    ("cmp-models", "value"): ["sim/strong", "sim/coder"],
    ("cmp-depth", "value"): 2,
    ("cmp-job", "value"): "nightly",
    ("dd-node", "value"): "coding",
}


def test_every_builtin_callback_returns_one_value_per_output(app):
    """Call each registered callback of the built-in views as Dash would (minus the HTTP)."""
    ours = ("overview", "map-", "sw-", "cmp-", "dd-", "jh-", "page")
    called = 0
    for key, spec in app.callback_map.items():
        if not any(tag in key for tag in ours) or "language" in key or "router" in key:
            continue
        inputs = [(i["id"], i["property"]) for i in spec["inputs"]]
        if not all(i in _INPUTS for i in inputs) or spec.get("state"):
            continue
        result = spec["callback"].__wrapped__(*[_INPUTS[i] for i in inputs])
        outputs = key.strip(".").split("...") if key.startswith("..") else [key]
        assert (len(result) if len(outputs) > 1 else 1) == len(outputs), key
        called += 1
    assert called >= 8


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["dashboard", "--port", "99999"],
            "99999 is not a TCP port (0-65535",  # refused by the CLI's option type
        ),
        (["dashboard", "--port", "{busy}"], "cannot listen on 127.0.0.1:{busy}"),
        (["sim-server", "--port", "70000"], "70000 is not a TCP port (0-65535"),
    ],
)
def test_bad_or_busy_ports_are_one_line_errors(argv, message, sample_url, monkeypatch, capsys):
    """Werkzeug wrapped 99999 to port 34463 silently; a busy port printed and exited 1."""
    import socket

    from judgebench.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        argv = [a.replace("{busy}", port) for a in argv]
        if argv[0] == "dashboard":
            argv += ["--db", sample_url]
        monkeypatch.setattr("sys.argv", ["judgebench", *argv])
        with pytest.raises(SystemExit) as info:
            main()
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and message.replace("{busy}", port) in err and "\n" not in err


def test_beyond_loopback_the_server_is_waitress():
    import dash
    import httpx

    from judgebench.dashboard.app import DashboardServer

    app = dash.Dash(__name__)
    app.layout = dash.html.Div("hello")
    for host, name in (("0.0.0.0", "waitress"), ("127.0.0.1", "Werkzeug")):
        server = DashboardServer(app, host=host, port=0).start()
        try:
            reply = httpx.get(f"http://127.0.0.1:{server.port}/", timeout=10)
        finally:
            server.stop()
        assert reply.status_code == 200 and reply.headers["server"].startswith(name)


def test_map_stays_readable_with_over_a_thousand_leaves():
    import pandas as pd

    # 8 domains × 1 dimension level × 150 leaves: 1,200 leaves, the dimension level collapsed
    rows = [("__root__", "", "", "All", 0)]
    for d in range(8):
        rows.append((f"d{d}", "__root__", f"d{d}", f"Domain {d}", 0))
        rows.append((f"d{d}/types", f"d{d}", f"d{d}/types", "Task Types", 0))
        rows += [
            (f"d{d}/types/l{i}", f"d{d}/types", f"d{d}/types/l{i}", f"Leaf {i}", 1 + i % 7)
            for i in range(150)
        ]
    frame = pd.DataFrame(rows, columns=["key", "parent_key", "node_id", "name", "size"])
    out = tmap.collapse_single_children(frame)
    leaves = out[~out["key"].isin(out["parent_key"])]
    assert len(leaves) == 1200 and (out["name"] == "Domain 3 › Task Types").sum() == 1
    assert not out["key"].str.endswith("/types").any()
    fig = tmap.sunburst_figure(
        out.assign(
            n_queries=out["size"],
            n_confident=out["size"],
            value=float("nan"),
            rank=float("nan"),
            n_models=0,
            field_mean=float("nan"),
            color=float("nan"),
        ),  # fmt: skip
        None,
    )
    assert fig.data[0].maxdepth == tmap.MAX_RINGS  # zoom reaches the rest
    assert fig.layout.uniformtext.mode == "hide"  # labels too small to read are hidden


def test_map_and_node_tables_say_how_many_queries_are_confident(sample_url, tmp_path):
    """Issue 19: per node, how many of its queries are confidently assigned, rolled up."""
    import shutil

    from sqlalchemy import update

    from judgebench.db.models import QueryNodeRow
    from judgebench.taxonomy.combined import DEFAULT_MIN_CONFIDENCE

    path = tmp_path / "unsure.db"
    shutil.copy(sample_url.removeprefix("sqlite:///"), path)
    app = create_app(path)
    store = app.jb_context.store
    unsure = [x.id for x in store.get_queries() if x.node_ids == ["coding/python"]][:2]
    with store.session() as s:
        s.execute(
            update(QueryNodeRow)
            .where(QueryNodeRow.query_id.in_(unsure))
            .values(confidence=DEFAULT_MIN_CONFIDENCE / 2)
        )
    q.refresh_summary(store, force=True)
    nodes = q.taxonomy_nodes(store).set_index("node_id")
    coding = nodes.loc["coding", "n_queries"]
    frame = tmap.map_frame(app.jb_context, JUDGE, None, "sim/coder")
    hover = dict(zip(frame["target"], tmap._hover(frame, "sim/coder"), strict=True))
    assert "6 queries · confident: 4 of 6" in hover["coding/python"]
    assert f"confident: {coding - 2:,} of {coding:,}" in hover["coding"]  # rolled up
    assert f"confident: {nodes.loc['writing', 'n_queries']:,} of" in hover["writing"]
    fig = tmap.treemap_figure(frame, "sim/coder")
    assert any("confident: 4 of 6" in t for t in fig.data[0].hovertext)
    labels = {o["value"]: o["label"] for o in drilldown.node_options(app.jb_context)}
    assert labels["coding/python"].endswith("(6; confident: 4 of 6)")
    found = strengths.findings(app.jb_context, "sim/coder", JUDGE, None)
    table = strengths.findings_table(app.jb_context, found, "sim/coder", JUDGE).set_index("node")
    assert table.loc["coding", "confident"] == f"confident: {coding - 2:,} of {coding:,}"
    modes = strengths.failure_mode_table(app.jb_context, "sim/coder", JUDGE, None)
    assert modes.set_index("node").loc["coding", "confident"] == table.loc["coding", "confident"]
