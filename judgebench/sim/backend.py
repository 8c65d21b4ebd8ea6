"""``SimBackend``: the in-process simulated provider behind every ``sim/<profile>`` model.

Chat: the messages are joined (system first) and read; a judgebench task prompt goes to its
registered handler (``judgebench.sim.tasks``), anything else gets an ordinary answer to the last
user message at the profile's skill. Text completions (``prompt=``) continue the text and, with
``echo=True`` and ``logprobs=k``, return the prompt's per-token log-probabilities from the
reading model in ``judgebench.sim.lm``.

Deterministic: the randomness is seeded by (model, request content) and, when
``temperature > 0``, also by ``seed``, ``temperature`` and ``sample_index``; at temperature 0
the same request always gets the same reply. Usage counts come from the tokenizer
approximation in ``judgebench.sim.text``; cost from the profile's prices.
"""

from __future__ import annotations

import math
import random
from typing import Any

from judgebench.errors import ConfigError
from judgebench.llm.types import BadRequestError, Completion, Message, NotFoundError, TokenLogprob
from judgebench.records import Usage
from judgebench.sim import lm
from judgebench.sim.answer import write_answer
from judgebench.sim.profiles import Profile, load_profile
from judgebench.sim.tasks import SimReply, TaskContext, find_task
from judgebench.sim.text import count_tokens, stable_seed, tokenize

# Per-message framing tokens, as chat formats add them (role markers, separators).
TOKENS_PER_MESSAGE = 4
DEFAULT_TEXT_MAX_TOKENS = 16  # the OpenAI completions API default


def message_text(message: Message) -> str:
    """A message's visible text; multi-part contents keep their text parts."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type", "text") == "text"
        )
    raise BadRequestError(
        f"message content must be a string or a list of parts, got {type(content).__name__}",
        status=400,
    )


def join_messages(messages: list[Message]) -> str:
    if not all(isinstance(m, dict) for m in messages):
        raise BadRequestError("every message must be an object with a role and content", status=400)
    system = [message_text(m) for m in messages if m.get("role") == "system"]
    rest = [message_text(m) for m in messages if m.get("role") != "system"]
    return "\n\n".join(t for t in (*system, *rest) if t)


def last_user_text(messages: list[Message]) -> str:
    for message in reversed(messages):
        if message.get("role", "user") == "user":
            return message_text(message)
    return join_messages(messages)


def _temperature(params: dict[str, Any]) -> float:
    value = params.get("temperature")
    try:
        return max(0.0, float(value)) if value is not None else 0.0
    except (TypeError, ValueError):
        raise BadRequestError(f"temperature must be a number, got {value!r}", status=400) from None


def _max_tokens(params: dict[str, Any], default: int | None) -> int | None:
    value = params.get("max_tokens", params.get("max_completion_tokens", default))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequestError(
            f"max_tokens must be a non-negative integer, got {value!r}", status=400
        )
    return value


def _count_param(params: dict[str, Any], name: str, limit: int = 20) -> int:
    value = params.get(name)
    if value is None or value is True or value is False:
        return 0
    if not isinstance(value, int) or not 0 <= value <= limit:
        raise BadRequestError(
            f"{name} must be an integer from 0 to {limit}, got {value!r}", status=400
        )
    return value


def request_rng(model: str, content: str, params: dict[str, Any], kind: str) -> random.Random:
    temperature = _temperature(params)
    if temperature > 0:
        key = stable_seed(
            kind,
            model,
            content,
            params.get("seed"),
            round(temperature, 4),
            params.get("sample_index", 0),
        )
    else:
        key = stable_seed(kind, model, content)
    return random.Random(key)


def _stop_at(text: str, params: dict[str, Any]) -> str:
    """Cut at the first stop sequence (the stop sequence itself is not returned, as in the
    OpenAI API)."""
    stop = params.get("stop")
    if not stop:
        return text
    sequences = [stop] if isinstance(stop, str) else list(stop)
    if not all(isinstance(seq, str) for seq in sequences) or len(sequences) > 4:
        raise BadRequestError("stop must be a string or a list of up to 4 strings", status=400)
    cut = min((i for i in (text.find(seq) for seq in sequences if seq) if i >= 0), default=-1)
    return text if cut < 0 else text[:cut]


def _cut(text: str, max_tokens: int | None) -> tuple[str, bool]:
    if max_tokens is None:
        return text, False
    tokens = tokenize(text)
    if len(tokens) <= max_tokens:
        return text, False
    return "".join(tokens[:max_tokens]), True


class SimBackend:
    """The simulated provider. ``complete`` is the gateway's backend protocol; ``complete_now``
    is the same call without ``await`` (the sim-server and benchmarks use it)."""

    def __init__(self, profiles: dict[str, Profile] | None = None) -> None:
        """``profiles``: extra in-memory profiles by name (``{"strong": Profile(...)}`` serves
        ``sim/strong``), e.g. for tests; they take precedence over YAML profiles."""
        self._profiles = {name.removeprefix("sim/"): p for name, p in (profiles or {}).items()}

    def models(self) -> list[str]:
        """Every model this backend serves (in-memory, bundled and user profiles)."""
        from judgebench.sim.profiles import list_profiles

        return [f"sim/{name}" for name in sorted({*self._profiles, *list_profiles()})]

    def prices(self, model: str) -> tuple[float, float]:
        """USD per input and per output token (the gateway's accounting asks for these)."""
        prices = self.profile(model).prices
        return prices.input / 1e6, prices.output / 1e6

    def profile(self, model: str) -> Profile:
        extra = self._profiles.get(model.removeprefix("sim/"))
        if extra is not None:
            return extra
        try:
            return load_profile(model)
        except ConfigError as exc:
            raise NotFoundError(str(exc), status=404) from None

    async def complete(
        self, model: str, messages: list[Message] | None, prompt: str | None, params: dict[str, Any]
    ) -> Completion:
        return self.complete_now(model, messages, prompt, params)

    def complete_now(
        self,
        model: str,
        messages: list[Message] | None,
        prompt: str | None,
        params: dict[str, Any] | None = None,
    ) -> Completion:
        params = dict(params or {})
        profile = self.profile(model)
        if prompt is not None:
            return self._text(model, profile, prompt, params)
        if not messages:
            raise BadRequestError("a chat completion needs at least one message", status=400)
        return self._chat(model, profile, messages, params)

    # --- chat ----------------------------------------------------------------------------------
    def _chat(
        self, model: str, profile: Profile, messages: list[Message], params: dict[str, Any]
    ) -> Completion:
        max_tokens = _max_tokens(params, None)  # bad parameters fail before any work
        top_k = _count_param(params, "top_logprobs")
        _stop_at("", params)
        text = join_messages(messages)
        rng = request_rng(model, text, params, "chat")
        task = find_task(text)
        option_logprobs: dict[str, float] | None = None
        finish = "stop"
        if task is not None:
            from judgebench.prompts import unfence

            ctx = TaskContext(
                model=model,
                prompt=text,
                blocks=unfence(text),
                profile=profile,
                rng=rng,
                params=params,
            )
            reply = task.handle(ctx)
            if isinstance(reply, SimReply):
                option_logprobs = reply.option_logprobs
                finish = reply.finish_reason or ctx.finish_reason
                reply_text = reply.text
            else:
                reply_text = str(reply)
                finish = ctx.finish_reason
        else:
            spread = 0.08 + 0.12 * min(_temperature(params), 2.0)
            reply_text = write_answer(last_user_text(messages), profile, rng, spread=spread)
        reply_text, cut = _cut(_stop_at(reply_text, params), max_tokens)
        if cut:
            finish = "length"
        prompt_tokens = count_tokens(text) + TOKENS_PER_MESSAGE * len(messages) + 3
        completion_tokens = count_tokens(reply_text)
        logprobs = None
        if params.get("logprobs"):
            logprobs = _chat_logprobs(text, reply_text, top_k, option_logprobs)
        return Completion(
            model=model,
            text=reply_text,
            finish_reason=finish,
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
            cost=profile.cost(prompt_tokens, completion_tokens),
            logprobs=logprobs,
            kind="chat",
        )

    # --- text completion -----------------------------------------------------------------------
    def _text(
        self, model: str, profile: Profile, prompt: str, params: dict[str, Any]
    ) -> Completion:
        if not isinstance(prompt, str):
            raise BadRequestError("prompt must be a string", status=400)
        max_tokens = _max_tokens(params, DEFAULT_TEXT_MAX_TOKENS)
        top_k = _count_param(params, "logprobs")
        k = params.get("logprobs")
        want_logprobs = k is not None and k is not False  # logprobs=0: the chosen token only
        echo = bool(params.get("echo"))
        rng = request_rng(model, prompt, params, "text")
        continuation = "" if max_tokens == 0 else write_answer(prompt, profile, rng)
        continuation, cut = _cut(_stop_at(continuation, params), max_tokens)
        prompt_pieces = tokenize(prompt)
        continuation_pieces = tokenize(continuation)
        prompt_lps: list[TokenLogprob] | None = None
        logprobs: list[TokenLogprob] | None = None
        if want_logprobs:
            n_prompt = len(prompt_pieces)
            scored = lm.score_tokens(
                prompt_pieces + continuation_pieces, 0 if echo else n_prompt, top_k
            )
            if echo:
                prompt_lps = scored[:n_prompt]
            logprobs = scored
        prompt_tokens = len(prompt_pieces)
        completion_tokens = len(continuation_pieces)
        return Completion(
            model=model,
            text=(prompt + continuation) if echo else continuation,
            finish_reason="length" if cut else "stop",
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
            cost=profile.cost(prompt_tokens, completion_tokens),
            logprobs=logprobs,
            prompt_logprobs=prompt_lps,
            kind="text",
        )


def _chat_logprobs(
    prompt: str, reply: str, top_k: int, option_logprobs: dict[str, float] | None
) -> list[TokenLogprob]:
    """Per-token logprobs of the reply read after the prompt; the decision token (the last
    reply token that is one of the options) carries the handler's option distribution."""
    scored = lm.continuation_logprobs(prompt, reply, top_k)
    if option_logprobs:
        options = {o.strip(): lp for o, lp in option_logprobs.items()}
        for item in reversed(scored):
            if item.token.strip() in options:
                chosen = item.token.strip()
                ranked = sorted(options.items(), key=lambda kv: -kv[1])[: max(top_k, len(options))]
                item.top_logprobs = dict(ranked)
                item.logprob = options[chosen]
                break
    for item in scored:  # a generated token always has a logprob
        if item.logprob is None:
            item.logprob = math.log(lm.prior(item.token.strip().lower() or item.token))
    return scored
