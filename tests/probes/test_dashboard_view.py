"""The Language Ranker dashboard view over a store with probe results (no browser)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judgebench.db import Store
from judgebench.probes.language_ranker import RankerSettings, run_language_ranker

pytest.importorskip("dash")


def _text(component) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(
        component.to_plotly_json(),
        default=lambda o: o.to_plotly_json() if hasattr(o, "to_plotly_json") else str(o),
    )


def test_view_shows_ranking_with_cis_and_layer_heatmap(
    tiny_encoder_path: Path, parallel_folder: Path, tmp_path: Path
) -> None:
    from judgebench.dashboard.app import create_app
    from judgebench.dashboard.views import language_ranker as view

    store = Store(tmp_path / "d.db")
    report = run_language_ranker(
        str(tiny_encoder_path),
        parallel_folder,
        store=store,
        settings=RankerSettings(n_boot=50, metric="corrected"),  # the view plots corrected
    )
    app = create_app(store, views=["language_ranker"])
    ctx = app.jb_context
    page = _text(view.layout(ctx, {}))
    assert "lr-run" in page and "3 languages" in page

    bars = view.ranking_figure(ctx, report.run_id).data[0]
    assert list(bars.y)[-1] == report.ranking[0]["language"]  # best at the top
    assert list(bars.x) == sorted(bars.x)
    assert all(v >= 0 for v in bars.error_x.array) and all(v >= 0 for v in bars.error_x.arrayminus)
    heat = view.heatmap_figure(ctx, report.run_id).data[0]
    assert list(heat.x) == ["L1", "L2", "L3"] and list(heat.y) == [
        r["language"] for r in report.ranking
    ]
    table = view.ranking_frame(ctx, report.run_id)
    assert list(table["rank"]) == [1, 2, 3] and {"ci_low", "ci_high", "baseline"} <= set(
        table.columns
    )

    # the page's callback, called as Dash would: two figures, then the table's rows and columns
    (update,) = [
        spec["callback"].__wrapped__
        for spec in app.callback_map.values()
        if [i["id"] for i in spec["inputs"]] == ["lr-run"]
    ]
    ranking, heatmap, rows, columns = update(report.run_id)
    assert ranking.data[0].y == bars.y and heatmap.data[0].z.shape == (3, 3)
    assert [r["language"] for r in rows] == [r["language"] for r in report.ranking]
    assert {c["id"] for c in columns} == {str(c) for c in table.columns}


def test_view_on_an_empty_store_says_what_to_run(tmp_path: Path) -> None:
    from judgebench.dashboard.app import create_app
    from judgebench.dashboard.views import language_ranker as view

    app = create_app(Store(tmp_path / "e.db"), views=["language_ranker"])
    page = _text(view.layout(app.jb_context, {}))
    assert "judgebench probe language-ranker" in page
    assert view.ranking_figure(app.jb_context, None).data == ()
