"""Selection router: a trained selector weighs the candidate models per query; answer with the
top-1, or query the top-k and fuse (best-of-k by a judge, or a fusion prompt with the weights).

``SelectionRouter.train(queries, scores, models)`` fits the selector on judged scores (see
``judgebench.routing.dataset.judged_scores`` to get them from the store); ``save``/``load``
keep it in one ``.npz`` file.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from judgebench.errors import DataError
from judgebench.llm.types import Message
from judgebench.records import Query
from judgebench.routing.features import QueryFeaturizer
from judgebench.routing.fusion import Fuser, best_of_k
from judgebench.routing.records import StageRecord, sum_costs
from judgebench.routing.router import (
    RoutedCompletion,
    Router,
    RoutingError,
    RoutingLog,
    call_model,
    keep_response,
)
from judgebench.routing.selector import SelectionNetwork, SelectorSettings

Strategy = Literal["top1", "topk-judge", "topk-fuse"]


class SelectionModel:
    """Featurizer + trained network for a fixed list of candidate models."""

    def __init__(
        self, models: Sequence[str], featurizer: QueryFeaturizer, network: SelectionNetwork
    ) -> None:
        self.models = list(models)
        self.featurizer = featurizer
        self.network = network
        self.train_query_ids: list[str] = []  # what it was trained on (held-out evaluation)

    @classmethod
    def train(
        cls,
        queries: Sequence[Query],
        scores: np.ndarray,
        models: Sequence[str],
        *,
        encoder: str = "auto",
        settings: SelectorSettings | None = None,
    ) -> SelectionModel:
        if len(queries) < 10:
            raise DataError(
                f"only {len(queries)} queries with a judged score for every model; need at least 10"
            )
        if len(queries) != len(scores) or scores.shape[1] != len(models):
            raise DataError(
                f"need one score per (query, model): {len(queries)} queries, {len(models)} models, scores {scores.shape}"
            )
        featurizer = QueryFeaturizer(encoder)
        X = featurizer.fit(
            [q.text for q in queries], [q.node_ids[0] if q.node_ids else None for q in queries]
        )
        model = cls(models, featurizer, SelectionNetwork(settings).fit(X, scores))
        model.train_query_ids = [q.id for q in queries]
        return model

    def features(
        self, texts: Sequence[str], nodes: Sequence[str | None] | None = None
    ) -> np.ndarray:
        return self.featurizer.transform(texts, nodes)

    def weights(
        self, texts: Sequence[str], nodes: Sequence[str | None] | None = None
    ) -> np.ndarray:
        """Selected weights (under-threshold models dropped, the rest renormalised)."""
        return self.network.selected(self.features(texts, nodes))

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        meta = {
            "models": self.models,
            "settings": self.network.settings.model_dump(),
            "featurizer": self.featurizer.state(),
            "history": self.network.history,
            "train_query_ids": self.train_query_ids,
        }
        arrays: dict[str, Any] = {f"param_{k}": v for k, v in self.network.params.items()}
        arrays["meta"] = json.dumps(meta)
        arrays["train_vectors"] = self.featurizer._train_vectors
        np.savez_compressed(path, **arrays)
        return path if path.suffix == ".npz" else path.with_suffix(path.suffix + ".npz")

    @classmethod
    def load(cls, path: str | Path) -> SelectionModel:
        try:
            data = np.load(path, allow_pickle=False)
            meta = json.loads(str(data["meta"]))
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"{path}: not a saved selection model ({exc})") from None
        network = SelectionNetwork(SelectorSettings(**meta["settings"]))
        network.params = {k[len("param_") :]: data[k] for k in data.files if k.startswith("param_")}
        network.history = meta.get("history", [])
        featurizer = QueryFeaturizer.from_state(meta["featurizer"], data["train_vectors"])
        if featurizer.encoder_name != meta["featurizer"]["encoder_name"]:
            raise DataError(
                f"{path}: trained with encoder {meta['featurizer']['encoder_name']}, "
                f"but {featurizer.encoder_name} is what loads here"
            )
        model = cls(meta["models"], featurizer, network)
        model.train_query_ids = list(meta.get("train_query_ids", []))
        return model


class SelectionRouter(Router):
    kind = "selection"

    def __init__(
        self,
        selection: SelectionModel,
        *,
        strategy: Strategy = "top1",
        k: int = 2,
        judge: Any = None,
        fuser: Fuser | str | None = None,
        name: str = "selection",
        timeout_s: float | None = 60.0,
        params: dict[str, Any] | None = None,
        log: RoutingLog | None = None,
    ) -> None:
        super().__init__(name, log)
        if strategy == "topk-judge" and judge is None:
            raise ValueError("strategy topk-judge needs a judge (e.g. RubricJudge)")
        if strategy == "topk-fuse" and fuser is None:
            raise ValueError("strategy topk-fuse needs a fuser model")
        self.selection = selection
        self.strategy = strategy
        self.k = k
        self.judge = judge
        self.fuser = Fuser(fuser) if isinstance(fuser, str) else fuser
        self.timeout_s = timeout_s
        self.params = dict(params or {})

    @property
    def models(self) -> list[str]:
        return list(self.selection.models)

    async def _weights(self, query: Query) -> np.ndarray:
        nodes = [query.node_ids[0]] if query.node_ids else None
        return (await asyncio.to_thread(self.selection.weights, [query.text], nodes))[0]

    async def _route(
        self, messages: Sequence[Message], query: Query, **params: Any
    ) -> RoutedCompletion:
        decision = self.new_decision(query, self.strategy)
        weights = await self._weights(query)
        order = [int(i) for i in np.argsort(-weights, kind="stable")]
        decision.details["weights"] = {self.models[i]: round(float(weights[i]), 4) for i in order}
        call_params = {**self.params, **params}
        if self.strategy == "top1":
            # top-1; a failing model falls through to the next by weight (dropped ones last)
            for i in order:
                reply, stage = await call_model(
                    self.models[i], messages, self.timeout_s, call_params
                )
                stage.weight = float(weights[i])
                decision.stages.append(stage)
                if reply is not None:
                    keep_response(decision, stage, reply, call_params)
                    stage.status = "accepted"
                    decision.final_model = self.models[i]
                    decision.cost = sum_costs(
                        [s.cost for s in decision.stages if s.status != "error"]
                    )
                    return RoutedCompletion(reply, decision)
            raise self._failed(decision)
        picked = [i for i in order if weights[i] > 0][: self.k]
        calls = await asyncio.gather(
            *(call_model(self.models[i], messages, self.timeout_s, call_params) for i in picked)
        )
        answered = []
        for i, (reply, stage) in zip(picked, calls, strict=True):
            stage.weight = float(weights[i])
            decision.stages.append(stage)
            if reply is not None:
                keep_response(decision, stage, reply, call_params)
                answered.append((i, reply, stage))
        if not answered:
            raise self._failed(decision)
        extra_costs: list[float | None] = []
        if self.strategy == "topk-judge":
            kept = {r.id: r for r in decision.responses}
            best, judgments = await best_of_k(
                self.judge,
                query,
                [kept[s.response_id] for _, _, s in answered],  # type: ignore[index]
            )
            decision.judgments.extend(judgments)
            extra_costs += [j.cost for j in judgments]
            for (_, _, stage), j in zip(answered, judgments, strict=True):
                stage.judgment_id = j.id
                stage.score = j.score if j.status == "ok" else None
                stage.reason = None if j.status == "ok" else f"judgment {j.status}: {j.reason}"
            if best is None:
                best = 0
                decision.details["judge_failed"] = (
                    "no usable judgment; kept the top-weighted answer"
                )
            i, reply, stage = answered[best]
            stage.status = "accepted"
            decision.final_model = self.models[i]
        else:
            assert self.fuser is not None
            norm = np.array([weights[i] for i, _, _ in answered])
            norm = norm / norm.sum()
            start = time.perf_counter()
            fused, replies, facts = await self.fuser.fuse(
                query.text, [r.text for _, r, _ in answered], norm.tolist(), **call_params
            )
            decision.details["fusion"] = {"model": self.fuser.model, **facts}
            if fused is None:  # said so in details["fusion"]; the top-weighted answer stands
                extra_costs += [r.cost for r in replies]
                i, reply, stage = answered[0]
                stage.status = "accepted"
                decision.final_model = self.models[i]
            else:
                for _, _, stage in answered:
                    stage.status = "fused"
                reply = replies[-1].model_copy(update={"text": fused})
                fusion_stage = StageRecord(
                    model=self.fuser.model,
                    status="accepted",
                    cost=sum_costs([r.cost for r in replies]),
                    latency_s=time.perf_counter() - start,
                )
                decision.stages.append(fusion_stage)
                keep_response(decision, fusion_stage, reply, call_params)
                decision.final_model = self.fuser.model
                decision.details["fused_from"] = [self.models[i] for i, _, _ in answered]
        decision.cost = sum_costs(
            [s.cost for s in decision.stages if s.status != "error"] + extra_costs
        )
        return RoutedCompletion(reply, decision)

    def _failed(self, decision: Any) -> RoutingError:
        decision.status = "error"
        decision.reason = "every selected model failed: " + "; ".join(
            f"{s.model}: {s.reason}" for s in decision.stages
        )
        return RoutingError(decision.reason, decision)
