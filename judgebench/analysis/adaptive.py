"""Adaptive evaluation: spend judge calls where they still change the answer.

An evaluation estimates one value per *arm* (a model's mean score, a model's win rate against a
baseline, or one model pair's preference rate) from judgments of the arm's *items* (queries).
Judging every item of every arm is the ``full`` design. The adaptive design judges in rounds:

1. a stratified start: every (arm, stratum) cell gets ``min_per_node`` items, where a stratum
   is a taxonomy node, so every node is represented and every stratum's mean is estimable;
2. each next batch goes to the cells whose next judgment most reduces the uncertainty the target
   still has: arm pairs not yet ordered with confidence (``ranking_ci: separated``), intervals
   wider than ``max_ci_width``, and with ``per_node`` the same inside every node;
3. it stops when the target is met, the budget is spent, or every item is judged, and says which.

**Coordinated samples.** Every arm takes the items of a stratum in the *same* seeded random
order (permanent random numbers, as in survey sampling), so an arm with n judgments in a stratum
has judged that stratum's first n items, and two arms share the items of the smaller sample.
Each arm's sample is still a simple random sample of its stratum, so nothing is biased; but an
item's difficulty now cancels in a difference of two arms, which is what ranking needs.

**Unbiased estimates.** Within a cell the items are a simple random sample, so each judgment's
inverse inclusion probability is ``N_cell / n_cell`` (its Horvitz–Thompson weight,
:meth:`AdaptiveSampler.weights`) and an arm's mean is the stratified estimator
``sum_s (N_s / N) * mean_s``. Its variance carries the finite-population correction
``(1 - n_s / N_s)``, so an interval reflects both the judgments taken and those left out and
closes to zero width when every item is judged. For nested samples of sizes ``n_a <= n_b`` the
covariance of two arms' stratum means is ``(1/n_b - 1/N) S_ab``, estimated on their shared items.

The module is a pure library (no store, no LLM): the job engine asks :meth:`AdaptiveSampler.
next_batch`, judges what it returns, feeds outcomes back with :meth:`AdaptiveSampler.observe`,
and records each judgment's weight; ``bench/adaptive_alpacaeval.py`` replays real judgments the
same way. See docs/analysis.md, "Adaptive evaluation".
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import norm

Arm = Hashable
StopReason = Literal["target_met", "budget", "exhausted"]
# A cell whose judgments all agree still has unknown spread: this floor keeps it from looking
# certain after two identical outcomes (a fair coin's variance is 0.25).
VARIANCE_FLOOR = 0.01
# Near-ties below this many standard deviations still count as worth judging early on, when
# the means themselves are noise (see _ordering_value).
T_FLOOR = 0.6


@dataclass(frozen=True)
class AdaptiveTarget:
    """When an adaptive evaluation may stop.

    ``ranking_ci="separated"``: every pair of arms is ordered with confidence (the interval of
    their difference excludes 0) or is a practical tie (that interval is narrower than
    ``tie_width``). ``max_ci_width``: every arm's interval is at most this wide. Both may be set;
    ``per_node`` applies them inside every stratum too. ``min_per_node`` judgments per
    (arm, stratum) come first, as the stratified start. An arm with fewer than
    ``min_per_arm`` judgments (in the group) never counts as settled: a normal interval from a
    handful of outcomes can look separated by luck, and the target is tested every round.
    ``reference``: with ``ranking_ci``, each arm is compared with this value instead of with
    the other arms (a model pair's preference rate against 0.5: which of the two is better).
    """

    ranking_ci: Literal["separated"] | None = "separated"
    max_ci_width: float | None = None
    per_node: bool = False
    tie_width: float = 0.02
    min_per_node: int = 2
    min_per_arm: int = 20
    confidence: float = 0.95
    reference: float | None = None

    def __post_init__(self) -> None:
        if self.ranking_ci is None and self.max_ci_width is None:
            raise ValueError("an adaptive target needs ranking_ci or max_ci_width")
        if self.max_ci_width is not None and not 0 < self.max_ci_width < 1:
            raise ValueError(f"max_ci_width must be in (0, 1), got {self.max_ci_width}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {self.confidence}")
        if self.min_per_node < 1:
            raise ValueError(f"min_per_node must be at least 1, got {self.min_per_node}")

    @property
    def z(self) -> float:
        """The two-sided normal quantile of :attr:`confidence`."""
        return float(norm.ppf(0.5 + self.confidence / 2))


@dataclass(frozen=True)
class Draw:
    """One item chosen for judging: which arm, which item, its stratum and round."""

    arm: Arm
    item: Hashable
    stratum: Hashable
    round: int


@dataclass(frozen=True)
class Estimate:
    """An arm's (or an arm-in-a-node's) stratified mean with its interval."""

    mean: float
    se: float
    lo: float
    hi: float
    n: int
    population: int

    @property
    def width(self) -> float:
        return self.hi - self.lo


class _Stratum:
    """One stratum: its items in the shared random order, and every arm's outcomes on them.

    ``values[a, k]`` is arm a's outcome on item k (NaN: not judged); ``has[a, k]`` says whether
    arm a has item k at all (arms may miss a few items); ``order[a]`` lists arm a's item
    positions in the shared order and ``taken[a]`` how many of them were handed out.
    """

    def __init__(self, items: list[Hashable], arms: int) -> None:
        self.items = items
        self.position = {item: k for k, item in enumerate(items)}
        self.values = np.full((arms, len(items)), np.nan)
        self.has = np.zeros((arms, len(items)), dtype=bool)
        self.order: list[list[int]] = [[] for _ in range(arms)]
        self.taken = np.zeros(arms, dtype=int)

    def size(self, a: int) -> int:
        return len(self.order[a])

    def judged(self) -> np.ndarray:
        return (~np.isnan(self.values)).sum(axis=1)

    def judged_mask(self) -> np.ndarray:
        return np.asarray(~np.isnan(self.values))

    def phase_one(self) -> np.ndarray:
        """Per arm: |U_a|, how many of the arm's own items some arm has judged (at least 1)."""
        anyone: np.ndarray = np.asarray(self.judged_mask().any(axis=0))
        return np.maximum((self.has & anyone[None, :]).sum(axis=1), 1).astype(float)

    def moments(self, pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per arm: the stratum mean, its variance (FPC left to the caller: see below) and n.

        The mean is the two-phase regression estimator: the items judged by any arm are a
        simple random sample U (the prefix of the shared order), arm a's items a subsample of
        U; ``x_k`` is item k's mean outcome among the *other* arms (its difficulty), and
        ``mean_a = ybar_a + b_a (xbar_U - xbar_a)`` with ``b_a`` arm a's regression slope on x.
        With ``b_a = 0`` it is the plain sample mean. Returned variance pair: the residual
        variance ``S_e^2`` (for the 1/n_a - 1/n_U phase) is folded in by :meth:`variance`.
        """
        mean, _, n = self._regression(pooled)
        return mean, self.residual_var(pooled), n

    def _regression(self, pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        seen = self.judged_mask()
        n = seen.sum(axis=1)
        y = np.where(seen, self.values, 0.0)
        count = seen.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(n > 0, y.sum(axis=1) / np.maximum(n, 1), 0.5)
            # Difficulty from outcomes centred per arm, so that which arms judged an item does
            # not shift its level (strong arms judge fewer items than weak ones).
            centred = np.where(seen, self.values - raw[:, None], 0.0)
            total = centred.sum(axis=0)
            # x_k without arm a's own outcome: (sum_k - c_ak) / (count_k - seen_ak)
            others = count[None, :] - seen
            x = np.where(others > 0, (total[None, :] - centred) / np.maximum(others, 1), np.nan)
            usable = seen & ~np.isnan(x)
            m = usable.sum(axis=1)
            xa = np.where(usable, x, 0.0)
            ya = np.where(usable, self.values, 0.0)
            x_mean = xa.sum(axis=1) / np.maximum(m, 1)
            y_mean = ya.sum(axis=1) / np.maximum(m, 1)
            dx = np.where(usable, x - x_mean[:, None], 0.0)
            dy = np.where(usable, self.values - y_mean[:, None], 0.0)
            sxx = (dx * dx).sum(axis=1)
            slope = np.where(sxx > 1e-12, (dx * dy).sum(axis=1) / np.maximum(sxx, 1e-12), 0.0)
            # x over the whole phase-1 sample U: every item someone else judged.
            x_u = np.where(~np.isnan(x), x, 0.0).sum(axis=1) / np.maximum(
                (~np.isnan(x)).sum(axis=1), 1
            )
            # A slope fitted to noise would shrink the variance spuriously: keep only the part
            # the data supports, shrinking by 1 - 1/t^2 (t: the slope's t statistic).
            fitted = np.where(usable, dy - slope[:, None] * dx, 0.0)
            resid = (fitted**2).sum(axis=1) / np.maximum(m - 2, 1)
            t2 = slope**2 * sxx / np.maximum(resid, 1e-12)
        shrink = np.where((m >= 4) & (t2 > 1), 1 - 1 / np.maximum(t2, 1), 0.0)
        slope = np.clip(slope * shrink, 0.0, 2.0)
        mean = np.clip(raw + slope * (x_u - x_mean), 0.0, 1.0)
        self._slope = slope
        self._x = x
        return mean, slope, n

    def residual_var(self, pooled: np.ndarray) -> np.ndarray:
        """Per arm: the variance of its outcomes less what item difficulty explains (floored,
        and shrunk toward the pooled variance while few are judged)."""
        seen = self.judged_mask()
        n = seen.sum(axis=1)
        resid = self.residuals()
        with np.errstate(invalid="ignore", divide="ignore"):
            mu = np.nansum(resid, axis=1) / np.maximum(n, 1)
            dev = np.where(seen, resid - mu[:, None], 0.0)
            own = (dev**2).sum(axis=1) / np.maximum(n - 1, 1)
        return _shrunk(own, n, pooled)

    def outcome_var(self, pooled: np.ndarray) -> np.ndarray:
        """Per arm: the plain outcome variance (floored, shrunk as above)."""
        seen = self.judged_mask()
        n = seen.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mu = np.where(n > 0, np.nansum(self.values, axis=1) / np.maximum(n, 1), 0.5)
            dev = np.where(seen, self.values - mu[:, None], 0.0)
            own = (dev**2).sum(axis=1) / np.maximum(n - 1, 1)
        return _shrunk(own, n, pooled)

    def residuals(self) -> np.ndarray:
        """``y_ak - b_a x_k`` (NaN where unjudged; plain y where x is unknown)."""
        x = np.nan_to_num(self._x, nan=0.0)
        return self.values - self._slope[:, None] * x

    def covariances(self) -> np.ndarray:
        """Pairwise covariance of arms' residuals on the items both judged (0 below 3 shared)."""
        values = self.residuals()
        seen = ~np.isnan(values)
        x = np.where(seen, values, 0.0)
        m = seen.astype(float)
        count = m @ m.T
        sum_xy = x @ x.T
        sum_x = x @ m.T  # arm a's sum over the items b judged too
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = (sum_xy - sum_x * sum_x.T / count) / (count - 1)
        # Few shared items give a wild covariance: shrink toward 0 as for the variances.
        trust = np.where(count >= 3, (count - 1) / (count + 1), 0.0)
        return np.nan_to_num(cov * trust)


class AdaptiveSampler:
    """Round-based adaptive allocation of judgments over arms × strata (see the module doc).

    ``population`` maps arm → stratum → item ids. ``batch_size`` judgments are proposed per
    round; ``budget`` caps the total (None: no cap). The shared item order is fixed by
    ``seed``, so a replay with the same seed and outcomes proposes the same draws.
    """

    def __init__(
        self,
        population: Mapping[Arm, Mapping[Hashable, Sequence[Hashable]]],
        target: AdaptiveTarget | None = None,
        *,
        batch_size: int = 64,
        budget: int | None = None,
        seed: int = 0,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.target = target or AdaptiveTarget()
        self.batch_size = batch_size
        self.budget = budget
        self.rounds = 0
        self.arms: list[Arm] = [a for a, strata in population.items() if any(strata.values())]
        if not self.arms:
            raise ValueError("an adaptive evaluation needs at least one arm with items")
        self._arm_index = {arm: i for i, arm in enumerate(self.arms)}
        rng = np.random.default_rng(seed)
        union: dict[Hashable, dict[Hashable, None]] = {}
        for arm in self.arms:
            for stratum, items in population[arm].items():
                union.setdefault(stratum, {}).update(dict.fromkeys(items))
        self.strata: dict[Hashable, _Stratum] = {}
        for stratum in sorted(union, key=str):
            items = list(union[stratum])
            shuffled = [items[k] for k in rng.permutation(len(items))]
            block = _Stratum(shuffled, len(self.arms))
            for a, arm in enumerate(self.arms):
                for item in population[arm].get(stratum, ()):
                    block.has[a, block.position[item]] = True
                block.order[a] = list(np.flatnonzero(block.has[a]))
            self.strata[stratum] = block
        self._pending: dict[tuple[Arm, Hashable], Hashable] = {}

    # --- state -----------------------------------------------------------------------------
    @property
    def judged(self) -> int:
        return int(sum(s.judged().sum() for s in self.strata.values()))

    @property
    def handed_out(self) -> int:
        return int(sum(s.taken.sum() for s in self.strata.values()))

    @property
    def population_size(self) -> int:
        return int(sum(s.has.sum() for s in self.strata.values()))

    def weights(self) -> dict[tuple[Arm, Hashable], float]:
        """Horvitz–Thompson weight ``N_cell / n_cell`` of a judgment in each judged cell; a
        weighted mean ``sum(w * y) / N_arm`` is the arm's stratified estimate."""
        out: dict[tuple[Arm, Hashable], float] = {}
        for name, s in self.strata.items():
            n = s.judged()
            for a, arm in enumerate(self.arms):
                if n[a]:
                    out[(arm, name)] = s.size(a) / int(n[a])
        return out

    def _pooled(self) -> np.ndarray:
        """Per arm: the variance of all its outcomes, shrunk toward the within-arm variance
        of all arms while the arm has few (an arm whose first four outcomes agree has not
        shown that it never varies)."""
        rows = np.concatenate([s.values for s in self.strata.values()], axis=1)
        n = (~np.isnan(rows)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            var = np.nan_to_num(np.nanvar(rows, axis=1, ddof=1), nan=0.0)
        dof = np.maximum(n - 1, 0)
        common = float((dof * var).sum() / dof.sum()) if dof.sum() >= 2 else 0.25
        trust = dof / (n + 1)
        return trust * var + (1 - trust) * common

    def _blocks(self, group: Hashable | None) -> list[_Stratum]:
        return list(self.strata.values()) if group is None else [self.strata[group]]

    def _moments(self, group: Hashable | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per arm: stratified mean and variance, and the population, over ``group``'s strata.

        Variance: ``sum_s W_s^2 (1/n_s - 1/N_s) S_s^2``; a cell with no judgment yet adds its
        weight at 0.5 with the widest variance, so an estimate is never silently complete.
        """
        pooled = self._pooled()
        blocks = self._blocks(group)
        sizes = np.array([[s.size(a) for s in blocks] for a in range(len(self.arms))], float)
        total = sizes.sum(axis=1)
        w = sizes / np.maximum(total, 1)[:, None]
        mean = np.zeros(len(self.arms))
        var = np.zeros(len(self.arms))
        for k, s in enumerate(blocks):
            m, resid_var, n = s.moments(pooled)
            y_var = s.outcome_var(pooled)
            size = np.maximum(sizes[:, k], 1)
            phase1 = s.phase_one()
            # Two-phase variance: S_y^2 (1/n_U - 1/N) + S_e^2 (1/n_a - 1/n_U).
            first = np.maximum(1 / phase1 - 1 / size, 0) * y_var
            second = np.maximum(1 / np.maximum(n, 1) - 1 / phase1, 0) * resid_var
            mean += w[:, k] * m
            var += w[:, k] ** 2 * np.where(n > 0, first + second, 0.25)
        return mean, var, total

    def estimate(self, arm: Arm, stratum: Hashable | None = None) -> Estimate:
        """An arm's stratified estimate, or (with ``stratum``) its estimate inside that node."""
        return self.estimates(stratum)[arm]

    def estimates(self, stratum: Hashable | None = None) -> dict[Arm, Estimate]:
        mean, var, total = self._moments(stratum)
        z = self.target.z
        n = np.sum([s.judged() for s in self._blocks(stratum)], axis=0)
        out = {}
        for a, arm in enumerate(self.arms):
            if total[a]:
                se = math.sqrt(var[a])
                out[arm] = Estimate(
                    mean[a], se, mean[a] - z * se, mean[a] + z * se, int(n[a]), int(total[a])
                )
        return out

    def difference_variance(self, group: Hashable | None = None) -> np.ndarray:
        """Var(mean_a - mean_b) for every arm pair, with the coordinated samples' covariance
        ``(1/max(n_a, n_b) - 1/N_s) S_ab`` per stratum."""
        _, var, total = self._moments(group)
        cross = np.zeros((len(self.arms), len(self.arms)))
        for s in self._blocks(group):
            n = s.judged().astype(float)
            size = np.array([s.size(a) for a in range(len(self.arms))], float)
            w = size / np.maximum(total, 1)
            big = np.maximum(n[:, None], n[None, :])
            phase1 = s.phase_one()
            # Residuals of nested subsamples of U covary as (1/max(n_a, n_b) - 1/n_U) S_ab.
            small = np.minimum(phase1[:, None], phase1[None, :])
            fpc = np.where(big > 0, 1 / np.maximum(big, 1) - 1 / small, 0)
            cross += np.outer(w, w) * np.maximum(fpc, 0) * s.covariances()
        diff = var[:, None] + var[None, :] - 2 * cross
        # A covariance estimate can exceed what the variances allow; never claim certainty.
        floor = 0.05 * (var[:, None] + var[None, :])
        return np.maximum(diff, floor)

    # --- the loop --------------------------------------------------------------------------
    def observe(self, arm: Arm, item: Hashable, value: float) -> None:
        """Record the outcome (in [0, 1]) of a judged draw."""
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"an outcome must be in [0, 1], got {value!r}")
        stratum = self._pending.pop((arm, item), None)
        if stratum is None:
            raise KeyError(f"{item!r} of arm {arm!r} was not handed out or was already observed")
        s = self.strata[stratum]
        s.values[self._arm_index[arm], s.position[item]] = float(value)

    def skip(self, arm: Arm, item: Hashable) -> None:
        """Drop a draw whose judgment failed: the item leaves the arm's population, so the
        estimate stays unbiased as long as failures do not depend on the outcome."""
        stratum = self._pending.pop((arm, item))
        s = self.strata[stratum]
        a, k = self._arm_index[arm], s.position[item]
        s.has[a, k] = False
        s.order[a].remove(k)
        s.taken[a] -= 1

    def stop_reason(self) -> StopReason | None:
        """Why the evaluation should stop now, or None to go on."""
        if self.handed_out >= self.population_size:
            return "exhausted"
        if self.budget is not None and self.handed_out >= self.budget:
            return "budget"
        if self.started() and not self._unmet():
            return "target_met"
        return None

    def next_batch(self) -> list[Draw]:
        """The next round's draws (empty when :meth:`stop_reason` says stop)."""
        if self.stop_reason() is not None:
            return []
        limit = self.batch_size
        if self.budget is not None:
            limit = min(limit, self.budget - self.handed_out)
        draws = self._adaptive_batch(limit) if self.started() else self._start_batch(limit)
        self.rounds += 1
        return draws

    # --- allocation ------------------------------------------------------------------------
    def started(self) -> bool:
        """Whether the stratified start has been handed out."""
        want = self.target.min_per_node
        return all(
            s.taken[a] >= min(want, s.size(a))
            for s in self.strata.values()
            for a in range(len(self.arms))
        )

    def _hand_out(self, a: int, stratum: Hashable) -> Draw:
        s = self.strata[stratum]
        item = s.items[s.order[a][s.taken[a]]]
        s.taken[a] += 1
        self._pending[(self.arms[a], item)] = stratum
        return Draw(self.arms[a], item, stratum, self.rounds)

    def _start_batch(self, limit: int) -> list[Draw]:
        """The stratified start: up to ``min_per_node`` items of every cell, level by level."""
        draws: list[Draw] = []
        for level in range(self.target.min_per_node):
            for name, s in self.strata.items():
                for a in range(len(self.arms)):
                    if len(draws) >= limit:
                        return draws
                    if s.taken[a] <= level < s.size(a):
                        draws.append(self._hand_out(a, name))
        return draws

    def _adaptive_batch(self, limit: int) -> list[Draw]:
        """Greedy: each next judgment goes to the open cell of highest priority, whose gain is
        then shrunk as if judged, so a batch spreads instead of piling onto one cell."""
        draws: list[Draw] = []
        # Per-pair intervals may all look separated while the simultaneous ones do not yet.
        priorities = self._priorities(simultaneous=False) or self._priorities(simultaneous=True)
        while len(draws) < limit and priorities:
            key = max(priorities, key=priorities.__getitem__)
            a, stratum = key
            draws.append(self._hand_out(a, stratum))
            s = self.strata[stratum]
            if s.taken[a] >= s.size(a):
                del priorities[key]
            else:
                done = max(int(s.taken[a]), 1)
                priorities[key] *= done / (done + 2)
        return draws

    def _groups(self) -> list[Hashable | None]:
        """The overall estimate (None), and with ``per_node`` every stratum's."""
        return [None, *self.strata] if self.target.per_node else [None]

    def _unmet(self) -> bool:
        """Whether the target still lacks something, judged with simultaneous intervals."""
        return any(self._needs(group, simultaneous=True).any() for group in self._groups())

    def _priorities(self, simultaneous: bool) -> dict[tuple[int, Hashable], float]:
        """Per open cell: how much one more judgment there reduces what the target lacks.

        One more judgment in cell s of arm a lowers Var(mean_a) by
        ``W_s^2 S_s^2 (1/n_s - 1/(n_s+1))`` (with FPC); that gain is weighted by how much the
        target needs arm a (:meth:`_needs`), summed over the overall group and, with
        ``per_node``, over the arm's own node.
        """
        pooled = self._pooled()
        out: dict[tuple[int, Hashable], float] = {}
        for group in self._groups():
            need = self._needs(group, simultaneous)
            if not need.any():
                continue
            _, _, total = self._moments(group)
            for name in [group] if group is not None else list(self.strata):
                s = self.strata[name]
                _, var, n = s.moments(pooled)
                for a in map(int, np.flatnonzero(need)):
                    size = s.size(a)
                    if s.taken[a] >= size:
                        continue
                    w = size / total[a]
                    k = max(int(n[a]), 1)
                    gain = (
                        w * w * var[a] * ((1 - k / size) / k - max(1 - (k + 1) / size, 0) / (k + 1))
                    )
                    out[(a, name)] = out.get((a, name), 0.0) + float(need[a] * gain)
        return out

    def _simultaneous_z(self, tests: int) -> float:
        """The normal quantile for ``tests`` simultaneous two-sided intervals (Bonferroni)."""
        return float(norm.isf((1 - self.target.confidence) / (2 * max(tests, 1))))

    def _needs(self, group: Hashable | None, simultaneous: bool) -> np.ndarray:
        """Per arm, how much its variance still matters to the target (0 = not at all).

        The stop test (``simultaneous``) calls a pair separated only under Bonferroni over all
        pairs: checked after every round, a per-pair 95 % interval would call some chance gap
        of a few judgments "separated". Allocation uses per-pair intervals, which keep the
        spending on pairs that are close to separating rather than spread over all of them.
        """
        target = self.target
        mean, var, total = self._moments(group)
        present = total > 0
        judged = np.sum([s.judged() for s in self._blocks(group)], axis=0)
        # Only the stop test insists on min_per_arm; allocation reaches it when the stop test
        # alone still asks for more (the fallback in _adaptive_batch).
        floor = target.min_per_arm if simultaneous else 0
        young = present & (judged < np.minimum(floor, total))
        need = np.zeros(len(self.arms))
        if target.max_ci_width is not None:
            wide = present & (young | (2 * target.z * np.sqrt(var) > target.max_ci_width))
            need[wide] += 1.0 / np.maximum(var[wide], 1e-12)
        if target.ranking_ci == "separated" and target.reference is not None:
            z = self._simultaneous_z(int(present.sum())) if simultaneous else target.z
            gap = np.abs(mean - target.reference)
            sd = np.sqrt(np.maximum(var, 1e-12))
            settled = ((gap > z * sd) | (2 * z * sd <= target.tie_width)) & ~young
            open_arm = present & ~settled
            need += np.where(open_arm, _ordering_value(gap, np.maximum(var, 1e-12)), 0.0)
        elif target.ranking_ci == "separated":
            diff_var = self.difference_variance(group)
            gap = np.abs(mean[:, None] - mean[None, :])
            sd = np.sqrt(diff_var)
            arms = int(present.sum())
            z = self._simultaneous_z(arms * (arms - 1) // 2) if simultaneous else target.z
            separated = gap > z * sd
            tie = 2 * target.z * sd <= target.tie_width
            settled = (separated | tie) & ~(young[:, None] | young[None, :])
            open_pair = ~settled & np.outer(present, present)
            np.fill_diagonal(open_pair, False)
            need += np.where(open_pair, _ordering_value(gap, diff_var), 0.0).sum(axis=1)
        return need


def _shrunk(own: np.ndarray, n: np.ndarray, pooled: np.ndarray) -> np.ndarray:
    """The sample variance, shrunk toward the arm's pooled variance while few are judged and
    floored, so that two or three agreeing outcomes do not look certain."""
    trust = np.where(n >= 2, (n - 1) / (n + 1), 0.0)
    return np.maximum(trust * own + (1 - trust) * pooled, VARIANCE_FLOOR)


def _ordering_value(gap: np.ndarray, var: np.ndarray) -> np.ndarray:
    """How fast a pair's misorder probability falls as its variance falls.

    ``P = Phi(-t)`` with ``t = gap / sd``, so ``dP/d(var) = phi(t) t / (2 var)``: pairs about
    to separate (t near 1) gain most; near-ties, which few judgments cannot order and which
    barely move a rank correlation, and pairs already far apart gain little. The floor on t
    keeps early, noisy near-ties from being ignored.
    """
    var = np.maximum(var, 1e-12)  # a fully judged pair has no variance left: value 0, not nan
    t = np.maximum(gap / np.sqrt(var), T_FLOOR)
    return norm.pdf(t) * t / var
