"""Runs tell the truth: ok / partial / failed with per-stage counts, stored and printed, and the
CLI's exit codes (0 ok, 1 partial / failed / stopped, 2 bad input)."""

from __future__ import annotations

import sys

import pytest

from judgebench.db import Store
from judgebench.jobs import JobRunner, parse_job
from judgebench.jobs.outcome import decide, stage_counts
from tests.jobs.conftest import fresh_gateway, write_job


def cli(monkeypatch, *args: str) -> int:
    """``judgebench <args>`` in-process, as the console script runs it; the exit code."""
    from judgebench.cli import main
    from judgebench.config import CONFIG_ENV

    # the command sets it: setenv first so that monkeypatch records the variable's prior
    # state (possibly unset) and restores it, then start the command without it
    monkeypatch.setenv(CONFIG_ENV, "")
    monkeypatch.delenv(CONFIG_ENV)
    monkeypatch.setattr(sys, "argv", ["judgebench", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return int(exc.value.code or 0)


def test_stage_counts_split_what_was_expected():
    c = stage_counts(10, {"ok": 6, "invalid": 1}, errors=2)
    assert c == {"ok": 6, "invalid": 1, "error": 2, "skipped": 1}


def test_status_rules():
    good = {"ok": 10, "invalid": 0, "error": 0, "skipped": 0}
    one_bad = {"ok": 9, "invalid": 1, "error": 0, "skipped": 0}
    nothing = {"ok": 0, "invalid": 0, "error": 3, "skipped": 0}
    assert decide({"responses": good, "judgments": good}) == ("ok", None)
    status, reason = decide({"responses": good, "judgments": one_bad})
    assert status == "partial" and "judgments: 10.0% not ok" in reason
    assert decide({"responses": good, "judgments": one_bad}, max_error_rate=0.1)[0] == "ok"
    status, reason = decide({"responses": good, "judgments": nothing}, max_error_rate=1.0)
    assert status == "failed" and "judgments" in reason
    status, reason = decide({"responses": good}, 0.0, ["responses of sim/x"])
    assert status == "failed" and "responses of sim/x" in reason
    assert decide({"responses": dict.fromkeys(good, 0)})[0] == "failed"  # no queries


def test_a_model_that_does_not_exist_fails_the_run(tiny):
    data = tiny(models=("sim/does-not-exist", "sim/small"))
    job = parse_job(data)
    store = Store(job.store)
    fresh_gateway(store)
    result = JobRunner(job, store=store).run()
    assert result.status == "failed" and "responses of sim/does-not-exist" in result.reason
    row = store.get_run(result.run_id)
    assert row.status == "failed" and row.reason == result.reason
    # 12 queries × 2 models; PC² 12 × 2; pairwise: the one pair never had both responses
    assert row.counts["responses"] == {"ok": 12, "invalid": 0, "error": 12, "skipped": 0}
    assert row.counts["judgments"]["ok"] + row.counts["judgments"]["invalid"] == 12
    assert row.counts["judgments"]["skipped"] == 24
    errors = store.get_errors(run_id=result.run_id)
    assert len(errors) == 12 and all("does-not-exist" in e.subject for e in errors)


def test_invalid_judgments_beyond_the_allowed_rate_make_a_partial_run(tiny):
    # the noisy judge's replies sometimes never parse: those judgments are stored invalid
    data = tiny(pairwise=False)
    data["judges"][0]["model"] = "sim/noisy-judge"
    data["judges"][0]["max_repairs"] = 0
    store = Store(data["store"])
    fresh_gateway(store)
    result = JobRunner(parse_job(data), store=store).run()
    invalid = result.stages["judgments"]["invalid"]
    assert invalid == sum(not j.ok for j in store.get_judgments(run_id=result.run_id))
    assert invalid > 0  # the noisy judge's slips, with no repair allowed (deterministic sim)
    assert result.status == "partial" and "max_error_rate 0" in result.reason
    # the same run, allowed that share of invalid items, is ok (and asks nothing again)
    data["max_error_rate"] = 0.5
    gateway = fresh_gateway(store)
    again = JobRunner(parse_job(data), store=store).run()
    assert again.run_id == result.run_id and again.status == "ok"
    assert gateway.stats.calls == 0


def test_cli_exit_codes_and_printed_counts(tiny, tmp_path, monkeypatch, capsys):
    ok = write_job(tmp_path / "ok.yaml", tiny(pairwise=False))
    assert cli(monkeypatch, "run", str(ok), "--quiet") == 0
    out = capsys.readouterr().out
    assert " ok " in out and "responses: 36 ok, 0 invalid, 0 error, 0 skipped" in out

    bad = write_job(
        tmp_path / "bad.yaml", tiny("bad.db", models=("sim/does-not-exist",), pairwise=False)
    )
    assert cli(monkeypatch, "run", str(bad), "--quiet", "--no-preflight") == 1
    out = capsys.readouterr().out
    assert "failed" in out and "finished" not in out
    assert "responses: 0 ok, 0 invalid, 12 error, 0 skipped" in out
    (run,) = Store(str(tmp_path / "bad.db")).list_runs(kind="job")
    assert run.status == "failed"

    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nmodels: 3\n", encoding="utf-8")
    assert cli(monkeypatch, "run", str(broken), "--quiet") == 2
    assert "broken.yaml" in capsys.readouterr().err


class Recorder:
    """A progress display that keeps what it was told."""

    def __init__(self) -> None:
        self.done: dict[str, int] = {}
        self.outcomes_seen: dict[str, tuple[int, int]] = {}

    def start(self, key: str, description: str, total: int) -> None:
        self.done[key] = 0

    def advance(self, key: str, n: int = 1) -> None:
        self.done[key] += n

    def note(self, text: str) -> None:
        pass

    def outcomes(self, key: str, errors: int, invalid: int) -> None:
        self.outcomes_seen[key] = (errors, invalid)


def test_progress_counts_errors_and_invalid_apart_from_done(tiny):
    data = tiny(models=("sim/does-not-exist", "sim/small"), pairwise=False)
    data["judges"][0]["model"] = "sim/noisy-judge"
    data["judges"][0]["max_repairs"] = 0
    store = Store(data["store"])
    fresh_gateway(store)
    progress = Recorder()
    result = JobRunner(parse_job(data), store=store, progress=progress).run()
    assert progress.done["responses[0]"] == 12  # processed, of which 12 failed
    assert progress.outcomes_seen["responses[0]"] == (12, 0)
    assert progress.outcomes_seen["responses[1]"] == (0, 0)
    assert progress.outcomes_seen["judgments[0]"][1] == result.stages["judgments"]["invalid"] > 0


def test_the_progress_bar_shows_eta_and_failures():
    import io

    from rich.console import Console

    from judgebench.jobs.progress import RichProgress

    out = io.StringIO()
    with RichProgress(Console(file=out, width=160, force_terminal=False)) as bar:
        bar.start("responses[0]", "responses: sim/x", 10)
        bar.advance("responses[0]", 4)
        bar.outcomes("responses[0]", errors=3, invalid=1)
    text = out.getvalue()
    assert "4/10" in text and "3 errors · 1 invalid" in text and "ETA" in text


def test_a_failed_scheduled_execution_is_recorded_and_listed(tiny, tmp_path):
    from judgebench.db.jobs import failed_scheduled_runs
    from judgebench.jobs.scheduler import add_schedule, execute, list_schedules

    data = tiny(models=("sim/does-not-exist", "sim/small"), pairwise=False)
    db = data["store"]
    job_file = write_job(tmp_path / "job.yaml", data)
    add_schedule(db, job_file, "0 2 * * *", "nightly")
    fresh_gateway(Store(db))
    outcome = execute("nightly", str(job_file), db, "0 2 * * *")
    assert outcome.startswith("failed"), outcome
    (listed,) = list_schedules(db)
    assert " failed (nothing usable from responses of sim/does-not-exist" in listed["last"]
    (failed,) = failed_scheduled_runs(Store(db))
    assert failed["schedule_id"] == "nightly" and failed["status"] == "failed"
    run = Store(db).get_run(failed["run_id"])
    assert run.status == "failed" and run.counts["responses"]["error"] == 12


def test_schedule_run_now_exits_1_when_the_run_failed(tiny, tmp_path, monkeypatch):
    from judgebench.jobs.scheduler import add_schedule

    data = tiny(models=("sim/does-not-exist",), pairwise=False)
    add_schedule(data["store"], write_job(tmp_path / "job.yaml", data), "0 2 * * *", "nightly")
    assert cli(monkeypatch, "schedule", "run-now", "nightly", "--db", data["store"]) == 1
