"""TRLM with a forward term (alpha < 1) and an empty answer in the batch: S(A|Q) of an empty
answer has no token to score. The endpoint answered the whole batch with an error, so one
empty answer made every judgment of a job's chunk an error row, on every rerun."""

from __future__ import annotations

from judgebench.judges import TRLMScorer

QUERY = "What is the capital of France?"


def test_an_empty_answer_is_invalid_and_the_rest_of_the_batch_is_scored():
    scorer = TRLMScorer("sim/large", alpha=0.5)
    judged = scorer.score_many_sync(
        [(QUERY, "Paris is the capital of France."), (QUERY, ""), (QUERY, " \n ")]
    )
    assert [j.status for j in judged] == ["ok", "invalid", "invalid"]
    assert judged[0].score is not None and judged[0].details["forward_tokens"] > 0
    assert all(j.score is None and "no token to score" in j.reason for j in judged[1:])
    alone = scorer.score_many_sync([(QUERY, "Paris is the capital of France.")])[0]
    assert alone.score == judged[0].score  # scored as if the empty ones were not there


def test_without_a_forward_term_an_empty_answer_is_still_scored():
    judged = TRLMScorer("sim/large").score_many_sync([(QUERY, ""), (QUERY, "Paris.")])
    assert [j.status for j in judged] == ["ok", "ok"]  # S(Q|A) needs only the query's tokens
