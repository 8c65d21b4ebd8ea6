"""The adaptive sampler: unbiased stratified estimates, where it spends judgments, why it stops."""

from __future__ import annotations

import numpy as np
import pytest

from judgebench.analysis.adaptive import AdaptiveSampler, AdaptiveTarget


def _population(values: dict[str, dict[str, list[float]]]):  # type: ignore[no-untyped-def]
    """arm → stratum → item ids, and (arm, item) → outcome, from per-cell value lists."""
    population: dict[str, dict[str, list[str]]] = {}
    outcome: dict[tuple[str, str], float] = {}
    for arm, strata in values.items():
        for stratum, cell in strata.items():
            items = [f"{stratum}-{k}" for k in range(len(cell))]
            population.setdefault(arm, {})[stratum] = items
            outcome.update({(arm, item): v for item, v in zip(items, cell, strict=True)})
    return population, outcome


def _drive(sampler: AdaptiveSampler, outcome) -> None:  # type: ignore[no-untyped-def]
    while batch := sampler.next_batch():
        for draw in batch:
            sampler.observe(draw.arm, draw.item, outcome[(draw.arm, draw.item)])


def _skewed_strata(seed: int) -> dict[str, dict[str, list[float]]]:
    rng = np.random.default_rng(seed)
    return {
        "m": {
            "rare": list(rng.uniform(0.8, 1.0, 100)),  # 10 % of items, scored high
            "common": list(rng.uniform(0.0, 0.2, 900)),
        }
    }


def test_everything_judged_gives_the_full_mean_with_zero_width():
    values = {
        "a": {"x": [0.1, 0.9, 0.4], "y": [1.0, 0.0]},
        "b": {"x": [0.5, 0.5, 0.6], "y": [0.2, 0.3, 0.4, 0.8]},
    }
    population, outcome = _population(values)
    target = AdaptiveTarget(ranking_ci=None, max_ci_width=1e-6)
    sampler = AdaptiveSampler(population, target, batch_size=3)
    _drive(sampler, outcome)
    assert sampler.stop_reason() == "exhausted"
    assert sampler.judged == 12
    for arm, strata in values.items():
        est = sampler.estimate(arm)
        flat = [v for cell in strata.values() for v in cell]
        assert est.mean == pytest.approx(np.mean(flat))
        assert est.width == pytest.approx(0.0, abs=1e-12)


def test_unequal_sampling_fractions_are_reweighted_not_averaged():
    """After the stratified start, a 10 % stratum holds half the judgments; the plain mean of
    the judgments is then far off, the stratified (inverse-probability) estimate is not."""
    plain, stratified, weighted = [], [], []
    for seed in range(60):
        values = _skewed_strata(seed)
        truth = float(np.mean([v for cell in values["m"].values() for v in cell]))
        population, outcome = _population(values)
        target = AdaptiveTarget(ranking_ci=None, max_ci_width=0.001, min_per_node=10)
        sampler = AdaptiveSampler(population, target, budget=20, seed=seed)
        judged = []
        while batch := sampler.next_batch():
            for d in batch:
                sampler.observe(d.arm, d.item, outcome[(d.arm, d.item)])
                judged.append((d.stratum, outcome[(d.arm, d.item)]))
        assert sampler.stop_reason() == "budget"
        plain.append(np.mean([v for _, v in judged]) - truth)
        stratified.append(sampler.estimate("m").mean - truth)
        w = sampler.weights()
        weighted.append(sum(w[("m", s)] * v for s, v in judged) / 1000 - truth)
    assert abs(np.mean(plain)) > 0.3  # half the sample from 10 % of the population
    assert abs(np.mean(stratified)) < 0.01
    assert abs(np.mean(weighted)) < 0.01
    assert sampler.weights() == {("m", "common"): 90.0, ("m", "rare"): 10.0}


def test_judgments_go_to_the_close_pair_not_the_far_arm():
    rng = np.random.default_rng(1)
    values = {
        "far": {"n": list(rng.binomial(1, 0.05, 400).astype(float))},
        "close1": {"n": list(rng.binomial(1, 0.50, 400).astype(float))},
        "close2": {"n": list(rng.binomial(1, 0.58, 400).astype(float))},
    }
    population, outcome = _population(values)
    sampler = AdaptiveSampler(population, AdaptiveTarget(), batch_size=20, budget=300)
    _drive(sampler, outcome)
    n = {arm: sampler.estimate(arm).n for arm in values}
    assert n["close1"] > 2 * n["far"] and n["close2"] > 2 * n["far"]


def test_stops_when_the_ranking_is_separated():
    values = {
        "low": {"n": [0.0] * 150 + [1.0] * 50},
        "high": {"n": [1.0] * 150 + [0.0] * 50},
    }
    population, outcome = _population(values)
    sampler = AdaptiveSampler(population, AdaptiveTarget(), batch_size=10, seed=3)
    _drive(sampler, outcome)
    assert sampler.stop_reason() == "target_met"
    assert sampler.judged < 100  # of 400
    low, high = sampler.estimate("low"), sampler.estimate("high")
    assert low.hi < high.lo or high.mean - low.mean > 0.3


def test_per_node_target_fills_every_node():
    rng = np.random.default_rng(2)
    values = {
        arm: {node: list(rng.uniform(0, 1, 60)) for node in ("n1", "n2", "n3")}
        for arm in ("a", "b")
    }
    population, outcome = _population(values)
    target = AdaptiveTarget(ranking_ci=None, max_ci_width=0.3, per_node=True)
    sampler = AdaptiveSampler(population, target, batch_size=8, seed=0)
    _drive(sampler, outcome)
    assert sampler.stop_reason() == "target_met"
    for arm in values:
        for node in ("n1", "n2", "n3"):
            assert sampler.estimate(arm, node).width <= 0.3


def test_same_seed_same_draws_and_bad_outcomes_refused():
    population, outcome = _population(_skewed_strata(0))
    draws = [
        [(d.arm, d.item) for d in AdaptiveSampler(population, seed=5).next_batch()]
        for _ in range(2)
    ]
    assert draws[0] == draws[1]
    sampler = AdaptiveSampler(population, seed=5)
    first = sampler.next_batch()[0]
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        sampler.observe(first.arm, first.item, 1.5)
    with pytest.raises(KeyError, match="not handed out"):
        sampler.observe(first.arm, "no-such-item", 0.5)
    sampler.skip(first.arm, first.item)
    assert sampler.population_size == 999
    with pytest.raises(ValueError, match="ranking_ci or max_ci_width"):
        AdaptiveTarget(ranking_ci=None)


def test_a_few_lucky_outcomes_do_not_settle_an_arm():
    """Four straight wins of a 0.58 arm once made it 'separated' from a 0.55 arm at n = 4;
    no arm may count as settled before min_per_arm judgments."""
    rates = {"small": 0.30, "medium": 0.55, "large": 0.58}
    nodes = {"coding": [f"c{i}" for i in range(200)], "writing": [f"w{i}" for i in range(200)]}
    for seed in range(4):
        rng = np.random.default_rng(seed)
        outcome = {
            (m, i): float(rng.random() < r)
            for m, r in rates.items()
            for i in sum(nodes.values(), [])
        }
        sampler = AdaptiveSampler({m: nodes for m in rates}, AdaptiveTarget(), batch_size=20)
        _drive(sampler, outcome)
        assert min(e.n for e in sampler.estimates().values()) >= 20
