"""Prompt templates and the text they carry. A model reply, query or reference holding jinja2
syntax is data: it is rendered verbatim, never evaluated. Template files themselves run in
jinja2's sandbox: a file handed to a user (a path in a shared job) cannot reach Python
internals (``cycler.__init__.__globals__`` gave ``os``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgebench.prompts import TemplateError, fence, load_template

PAYLOAD = (
    "{{ 7 * 7 }} {% for i in range(3) %}LOOP{% endfor %} "
    "{{ cycler.__init__.__globals__.os.getcwd() }} {# hidden #}"
)


@pytest.mark.parametrize(
    ("ref", "values"),
    [
        ("judges:pairwise", {"query": PAYLOAD, "response_a": PAYLOAD, "response_b": PAYLOAD}),
        ("judges:prp", {"query": PAYLOAD, "candidate_a": PAYLOAD, "candidate_b": PAYLOAD, "criterion": PAYLOAD}),
    ],
)  # fmt: skip
def test_text_with_template_syntax_is_rendered_verbatim(ref: str, values: dict[str, str]) -> None:
    fenced = {k: fence(v, k.upper(), "0123abcd") for k, v in values.items()}
    prompt = load_template(ref).render(nonce="0123abcd", **fenced)
    assert prompt.count(PAYLOAD) == len(values)  # every value, as sent
    assert "49" not in prompt and "LOOPLOOP" not in prompt


@pytest.mark.parametrize(
    "source",
    [
        "{{ cycler.__init__.__globals__.os.getcwd() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ '{0.__class__.__init__.__globals__}'.format(query) }}",
    ],
)
def test_a_template_file_cannot_reach_python_internals(tmp_path: Path, source: str) -> None:
    path = tmp_path / "evil.j2"
    path.write_text(source, encoding="utf-8")
    template = load_template(path)
    with pytest.raises(TemplateError) as exc:
        template.render(query="q")
    assert "\n" not in str(exc.value) and "evil" in str(exc.value)
