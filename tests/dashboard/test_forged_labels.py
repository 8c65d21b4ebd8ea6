"""The labelling page sends the sampled item back from the browser (a ``dcc.Store``); an item
naming a judgment, query or response that was never judged was stored as a human label (the
value-type guard passes it: the types are right). It is refused, and nothing is stored."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from judgebench.dashboard import labels as lab
from judgebench.dashboard.sample import PAIR_JUDGE
from judgebench.db import Store
from judgebench.errors import UserError


@pytest.fixture()
def store(sample_url, tmp_path) -> Store:  # type: ignore[no-untyped-def]
    path = tmp_path / "labels.db"
    shutil.copy(sample_url.removeprefix("sqlite:///"), path)
    return Store(path)


FORGERIES: list[dict[str, str | None]] = [
    {"judgment_id": "no-such-judgment"},
    {"query_id": "another-query"},
    {"response_id": "another-response"},
    {"response_b_id": None},
]


@pytest.mark.parametrize("change", FORGERIES, ids=[next(iter(c)) for c in FORGERIES])
def test_a_forged_item_is_not_labelled(store, change):  # type: ignore[no-untyped-def]
    item = lab.sample_items(store, PAIR_JUDGE, 1, seed=1)[0]
    forged = dataclasses.replace(item, **change)
    with pytest.raises(UserError, match="no judged item"):
        lab.save_label(store, forged, "Ann", verdict="A")
    assert lab.labels_jsonl(store).strip() == ""
    lab.save_label(store, item, "Ann", verdict="A")  # the real item still is
    assert item.judgment_id in lab.labels_jsonl(store)
