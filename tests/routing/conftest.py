"""Shared fixtures: a small labelled reference store and a tiny trained selection model."""

from __future__ import annotations

import numpy as np
import pytest

from judgebench.judges import ReferenceStore
from judgebench.records import Query
from judgebench.routing import SelectionModel, SelectorSettings


@pytest.fixture
def refs() -> ReferenceStore:
    store = ReferenceStore()
    store.add_example("What is 7 + 5?", "Step 1: 7 + 5 = 12.\n\n**Answer:** 12", True)
    store.add_example("What is 9 * 3?", "Step 1: 9 * 3 = 27.\n\n**Answer:** 27", True)
    store.add_example("What is 14 - 6?", "Step 1: 14 - 6 = 8.\n\n**Answer:** 8", True)
    store.add_example("What is 6 * 7?", "Hmm, maybe 6 + 7 = 14? Not sure, numbers are hard.", False)
    store.add_example("What is 20 / 4?", "I think it is about 7, roughly, more or less.", False)
    store.add_example(
        "What is 13 + 8?", "On a related note, html is worth mentioning. 13 + 8 = 25.", False
    )
    return store


@pytest.fixture(scope="session")
def selection_model() -> SelectionModel:
    """sim/coder for code, sim/writer for prose (the simulated profiles' strengths)."""
    texts = [
        f"Write a Python function number {i} that sorts a list of integers." for i in range(15)
    ]
    texts += [f"Write a short poem number {i} about the sea at night." for i in range(15)]
    queries = [Query(text=t) for t in texts]
    Y = np.array([[0.9, 0.3] if "Python" in t else [0.3, 0.9] for t in texts])
    return SelectionModel.train(
        queries,
        Y,
        ["sim/coder", "sim/writer"],
        encoder="lexical",
        settings=SelectorSettings(epochs=150, balance=0.5),
    )
