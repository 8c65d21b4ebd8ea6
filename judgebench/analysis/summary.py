"""An optional LLM-written summary of a model's strengths and weaknesses.

The summary records exactly what it was shown: the template name and hash, the data payload
(JSON, with its hash) and the rendered prompt, so a reader can check every claim against data.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field

from judgebench.prompts import fence, load_template, new_nonce
from judgebench.records import Run, canonical_json

TEMPLATE = "analysis:feedback_summary"


class FeedbackSummary(BaseModel):
    model: str
    summarizer: str
    text: str
    template_name: str
    template_hash: str
    payload: dict[str, Any]
    payload_hash: str
    prompt: str
    usage: dict[str, int] = Field(default_factory=dict)
    finish_reason: str | None = None

    @property
    def problem(self) -> str | None:
        """Why the text is not a usable summary (empty, or cut at the token limit), or None."""
        if not self.text.strip():
            return "the summarizer returned an empty reply"
        if self.finish_reason == "length":
            return "the summary was cut off at the token limit (finish_reason=length)"
        return None

    def as_run(self) -> Run:
        """A finished ``feedback-summary`` run holding the text and everything it was shown
        (``store.put_run(summary.as_run())`` keeps it beside the results it describes). An empty
        or cut-off summary is stored as a ``failed`` run with the reason, never as finished."""
        identity = {
            "model": self.model,
            "summarizer": self.summarizer,
            "template_hash": self.template_hash,
            "payload_hash": self.payload_hash,
        }
        return Run(
            kind="feedback-summary",
            name=f"{self.model}: summary by {self.summarizer}",
            config={**identity, **self.model_dump(mode="json")},
            status="failed" if self.problem else "finished",
            reason=self.problem,
        )


def summary_payload(
    findings: pd.DataFrame,
    model: str,
    *,
    overall_rank: int | None = None,
    n_models: int | None = None,
    query_texts: dict[str, str] | None = None,
    top: int = 5,
) -> dict[str, Any]:
    """The exact data the summarizer sees: top strengths and weaknesses with evidence."""
    mine = findings[findings["model"] == model]

    def items(kind: str) -> list[dict[str, Any]]:
        rows = mine[mine["kind"] == kind].head(top)
        out = []
        for r in rows.itertuples():
            evidence = [
                {
                    **e,
                    **(
                        {"text": query_texts[e["query_id"]][:400]}
                        if query_texts and e["query_id"] in query_texts
                        else {}
                    ),
                }
                for e in (r.evidence or [])
            ]
            out.append(
                {
                    "node_id": r.node_id,
                    "node_rank": int(r.node_rank),
                    "overall_rank": int(r.overall_rank),
                    "mean": round(float(r.mean), 4),
                    "ci": [round(float(r.ci_low), 4), round(float(r.ci_high), 4)],
                    "count": int(r.count),
                    "evidence": evidence,
                }
            )
        return out

    if overall_rank is None and not mine.empty:
        overall_rank = int(mine["overall_rank"].iloc[0])
    return {
        "model": model,
        "overall_rank": overall_rank,
        "n_models": n_models,
        "strengths": items("strength"),
        "weaknesses": items("weakness"),
    }


async def summarize(
    payload: dict[str, Any], summarizer: str, *, template: str = TEMPLATE, **params: Any
) -> FeedbackSummary:
    """Ask ``summarizer`` (any gateway model) to write the analysis of ``payload``."""
    from judgebench.llm import complete

    tmpl = load_template(template)
    data = canonical_json(payload)
    prompt = tmpl.render(
        model=payload["model"],
        overall_rank=payload.get("overall_rank"),
        n_models=payload.get("n_models"),
        findings=fence(json.dumps(payload, indent=1, ensure_ascii=False), "FINDINGS", new_nonce()),
    )
    completion = await complete(summarizer, [{"role": "user", "content": prompt}], **params)
    return FeedbackSummary(
        model=payload["model"],
        summarizer=summarizer,
        text=completion.text,
        template_name=tmpl.name,
        template_hash=tmpl.hash,
        payload=payload,
        payload_hash=hashlib.sha256(data.encode("utf-8")).hexdigest()[:16],
        prompt=prompt,
        usage=completion.usage.model_dump(),
        finish_reason=completion.finish_reason,
    )


def summarize_sync(payload: dict[str, Any], summarizer: str, **kwargs: Any) -> FeedbackSummary:
    from judgebench.llm import run_sync

    return run_sync(lambda: summarize(payload, summarizer, **kwargs))
