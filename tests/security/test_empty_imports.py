"""An import file with no rows (empty, or blank lines only) is bad input for every format:
four formats imported "0 rows" with exit 0 and wrote to the store. One line naming the file,
exit 2, the store unchanged."""

from __future__ import annotations

import pytest

from judgebench.importers import FORMATS
from tests.security.helpers import run_cli
from tests.security.test_bad_cli_inputs import _file, _snapshot, world  # noqa: F401 - fixture


@pytest.mark.parametrize("content", ["", "\n\n  \n"], ids=["empty", "blank lines"])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_import_of_no_rows_is_bad_input(world, monkeypatch, capsys, fmt, content):  # type: ignore[no-untyped-def]  # noqa: F811
    path = _file(world, f"none-{fmt}-{len(content)}.jsonl", content)
    before = _snapshot(world["db"])
    code, _, err = run_cli(monkeypatch, capsys, "import", fmt, path, "--db", str(world["db"]))
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err[-1500:]
    assert path.rsplit("/", 1)[-1] in errors[0], errors[0]
    assert _snapshot(world["db"]) == before
