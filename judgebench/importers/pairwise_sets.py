"""Human- or gold-labelled pairwise sets: LLMBar (and its processed MT-Bench / LLMEval² /
FairEval pairs), PandaLM, JudgeBench.

Each pair becomes a query, two responses and a label judgment (``kind="pairwise"``) whose judge
names the source (``human:pandalm/annotator1``, ``gold:llmbar/natural``, ...). A judgment's
``details["set"]`` names the subset, so judge-eval can select it.
"""

from __future__ import annotations

import re
from pathlib import Path

from judgebench.importers.base import (
    ImportBatch,
    bad,
    iter_json_items,
    iter_json_or_jsonl,
    need,
    need_text,
    pairwise_label,
)

_LLMBAR_LABEL = {1: "A", 2: "B"}


def _set_name(path: Path, root_marker: str) -> str:
    """``LLMBar/Adversarial/GPTInst/dataset.json`` → ``llmbar/adversarial/gptinst``."""
    parts = [p for p in path.parent.parts]
    lowered = [p.lower() for p in parts]
    start = max(
        (i for i, p in enumerate(lowered) if p in {"llmbar", "processed", "casestudy"}),
        default=len(parts) - 1,
    )
    tail = [re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") for p in parts[start:]]
    return "/".join(tail) or root_marker


def llmbar_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.rglob("dataset.json"))
        if not files:
            raise bad(path, None, "no dataset.json files below this folder")
        return files
    return [path]


def import_llmbar(path: Path) -> ImportBatch:
    """``dataset.json`` files with ``input, output_1, output_2, label`` (1 | 2)."""
    batch = ImportBatch("llmbar", "llmbar")
    for file in llmbar_files(path):
        set_name = _set_name(file, "llmbar")
        judge = f"{'human' if set_name.startswith('processed') else 'gold'}:{set_name}"
        batch.files.append(str(file))
        for line, item in iter_json_items(file):
            text = need(item, "input", file, line)
            label = need(item, "label", file, line, int)
            if label not in _LLMBAR_LABEL:
                raise bad(file, line, f"label {label!r} should be 1 or 2")
            query = batch.query(text, source=set_name)
            # anonymous outputs: one response per item (the same input recurs with other outputs)
            item_key = {"item": f"{set_name}#{line}"}
            a = batch.response(
                query, "output_1", need_text(item, "output_1", file, line), params=item_key
            )
            b = batch.response(
                query, "output_2", need_text(item, "output_2", file, line), params=item_key
            )
            batch.add(
                pairwise_label(
                    judge=judge,
                    judge_model="human" if judge.startswith("human") else "gold",
                    query=query,
                    a=a,
                    b=b,
                    verdict=_LLMBAR_LABEL[label],
                    raw=str(label),
                    details={"set": set_name},
                )
            )
    return batch


_PANDA_LABEL = {0: "tie", 1: "A", 2: "B"}
_JUDGE_OUTPUT = {"1": "A", "2": "B", "0": "tie", "tie": "tie"}


def _panda_query_text(item: dict) -> str:
    instruction = str(item.get("instruction", ""))
    extra = str(item.get("input") or "")
    return f"{instruction}\n\n{extra}" if extra.strip() else instruction


def import_pandalm(path: Path) -> ImportBatch:
    """``testset-v1.json`` (3 annotators, 0 tie / 1 / 2) plus, in a folder, the shipped judge
    outputs ``<judge>-testset-v1.json`` (``*_result``: 1 / 2 / 0 or Tie; anything else —
    upstream has "garbage" — is kept as an invalid judgment with the raw text)."""
    folder = path if path.is_dir() else path.parent
    testset = path / "testset-v1.json" if path.is_dir() else path
    batch = ImportBatch("pandalm", "pandalm")
    batch.files.append(str(testset))
    items: dict[int, tuple] = {}
    for line, item in iter_json_items(testset):
        idx = need(item, "idx", testset, line, int)
        need(item, "instruction", testset, line)
        query = batch.query(
            _panda_query_text(item),
            metadata={"idx": idx, "motivation_app": item.get("motivation_app")},
        )
        key = str(item.get("cmp_key") or "")
        names = key.split("_", 1) if "_" in key else ["response1", "response2"]
        if names[0] == names[1]:
            names = [f"{names[0]}#1", f"{names[1]}#2"]
        pair = {"item": f"pandalm#{idx}"}
        a = batch.response(
            query, names[0], need_text(item, "response1", testset, line), params=pair
        )
        b = batch.response(
            query, names[1], need_text(item, "response2", testset, line), params=pair
        )
        items[idx] = (query, a, b)
        for n in (1, 2, 3):
            label = need(item, f"annotator{n}", testset, line, int)
            if label not in _PANDA_LABEL:
                raise bad(testset, line, f"annotator{n} label {label!r} should be 0, 1 or 2")
            batch.add(
                pairwise_label(
                    judge=f"human:pandalm/annotator{n}",
                    judge_model="human",
                    query=query,
                    a=a,
                    b=b,
                    verdict=_PANDA_LABEL[label],
                    raw=str(label),
                    details={"set": "pandalm", "idx": idx},
                )
            )
    if path.is_dir():
        for judge_file in sorted(folder.glob("*-testset-v1.json")):
            _import_panda_judge(judge_file, items, batch)
    return batch


def _import_panda_judge(file: Path, items: dict[int, tuple], batch: ImportBatch) -> None:
    judge_model = file.name.removesuffix("-testset-v1.json")
    batch.files.append(str(file))
    for line, item in iter_json_items(file):
        idx = need(item, "idx", file, line, int)
        if idx not in items:
            raise bad(file, line, f"idx {idx} is not in the test set")
        result_key = next((k for k in item if k.endswith("_result")), None)
        if result_key is None:
            raise bad(file, line, "no '*_result' field")
        prefix = result_key.removesuffix("_result")
        raw = str(item[result_key]).strip()
        verdict = _JUDGE_OUTPUT.get(raw.lower())
        query, a, b = items[idx]
        batch.add(
            pairwise_label(
                judge=f"pandalm-shipped:{judge_model}",
                judge_model=judge_model,
                query=query,
                a=a,
                b=b,
                verdict=verdict,
                raw=raw,
                reason=None
                if verdict
                else f"unparseable verdict {raw!r} in the shipped judge output",
                rationale=item.get(f"{prefix}_reason"),
                details={
                    "set": "pandalm",
                    "idx": idx,
                    "reference": item.get(f"{prefix}_reference"),
                },
            )
        )


_JB_LABEL = {"A>B": "A", "B>A": "B", "A=B": "tie", "B=A": "tie"}


def import_judgebench(path: Path) -> ImportBatch:
    """JudgeBench-style pairs (JSON array or JSONL): ``question, response_A, response_B, label``
    with label ``A>B`` / ``B>A`` (``A=B`` a tie); ``pair_id``, ``source``, ``response_model`` kept."""
    batch = ImportBatch("judgebench", "judgebench")
    files = sorted([*path.glob("*.json"), *path.glob("*.jsonl")]) if path.is_dir() else [path]
    for file in files:
        batch.files.append(str(file))
        for line, item in iter_json_or_jsonl(file):
            question = need(item, "question", file, line)
            label = need(item, "label", file, line)
            if label not in _JB_LABEL:
                raise bad(file, line, f"label {label!r} should be one of {sorted(_JB_LABEL)}")
            subset = str(item.get("source") or "judgebench")
            set_name = f"judgebench/{subset}"
            query = batch.query(
                question, source=set_name, metadata={"pair_id": item.get("pair_id")}
            )
            model = str(item.get("response_model") or "response")
            pair = {"item": str(item.get("pair_id") or f"{file.name}#{line}")}
            a = batch.response(
                query, f"{model}:A", need_text(item, "response_A", file, line), params=pair
            )
            b = batch.response(
                query, f"{model}:B", need_text(item, "response_B", file, line), params=pair
            )
            batch.add(
                pairwise_label(
                    judge="gold:judgebench",
                    judge_model="gold",
                    query=query,
                    a=a,
                    b=b,
                    verdict=_JB_LABEL[label],
                    raw=label,
                    details={"set": set_name, "pair_id": item.get("pair_id")},
                )
            )
    return batch
