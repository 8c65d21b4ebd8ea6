"""What the security tests share: the alias bomb, and the CLI run in-process."""

from __future__ import annotations

import sys

import pytest

# nine levels of nine aliases: 9**9 (387 million) strings once expanded, ~300 bytes on disk
# (the attack file was 282 bytes)
BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """``judgebench <args>`` in-process, as the console script runs it: (exit code, stdout,
    stderr). The settings the command makes this process's are dropped afterwards."""
    from judgebench.cli import main
    from judgebench.config import CONFIG_ENV
    from judgebench.llm import set_gateway

    # set, then removed: monkeypatch then restores the original state (a delenv of an absent
    # variable records nothing, and the command sets it for the rest of the process)
    monkeypatch.setenv(CONFIG_ENV, "")
    monkeypatch.delenv(CONFIG_ENV)
    monkeypatch.setattr(sys, "argv", ["judgebench", *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main()
    set_gateway(None)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err
