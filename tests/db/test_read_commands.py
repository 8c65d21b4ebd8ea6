"""Commands that only read a store refuse a SQLite path that does not exist (a typo) instead
of creating an empty store there."""

from __future__ import annotations

import pytest

from judgebench.cli import main
from judgebench.db import Store
from judgebench.db.engine import existing_store
from judgebench.errors import DataError


@pytest.mark.parametrize(
    "argv",
    [
        ["dashboard", "--refresh-only"],
        ["db", "status"],
        ["judge-evals"],
    ],
)
def test_read_commands_refuse_a_missing_sqlite_file(argv, tmp_path, monkeypatch, capsys):
    typo = tmp_path / "typo.db"
    monkeypatch.setattr("sys.argv", ["judgebench", *argv, "--db", str(typo)])
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and f"{typo}: no store here" in err and "\n" not in err
    assert not typo.exists()


def test_existing_store_passes_urls_and_present_files(tmp_path, monkeypatch):
    path = tmp_path / "real.db"
    Store(path)
    assert existing_store(path) == str(path)
    assert existing_store(f"sqlite:///{path}") == f"sqlite:///{path}"
    assert existing_store("postgresql://localhost/x") == "postgresql://localhost/x"
    with pytest.raises(DataError, match="no store here"):
        existing_store(f"sqlite:///{tmp_path / 'nope.db'}")
    monkeypatch.setenv("JUDGEBENCH_DB", str(path))  # the dashboard reads it like the others
    monkeypatch.setattr("sys.argv", ["judgebench", "dashboard", "--refresh-only"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 0


def test_db_upgrade_to_an_unknown_revision_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    path = tmp_path / "s.db"
    monkeypatch.setattr("sys.argv", ["judgebench", "db", "upgrade", "nonsense", "--db", str(path)])
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and "\n" not in err
    assert "cannot upgrade to 'nonsense'" in err and "nonsense" in err


@pytest.mark.parametrize("argv", [["db", "status"], ["db", "upgrade"]])
def test_a_store_that_cannot_be_opened_is_a_one_line_error(argv, tmp_path, monkeypatch, capsys):
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("not a database\n")
    monkeypatch.setattr("sys.argv", ["judgebench", *argv, "--db", str(not_a_db)])
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and "\n" not in err
    assert "cannot open the store: file is not a database" in err
    assert not_a_db.read_text() == "not a database\n"


def test_a_refused_server_is_a_data_error_without_the_password():
    with pytest.raises(DataError, match="cannot open the store") as info:
        Store("postgresql://user:hunter22@127.0.0.1:1/judgebench")
    assert "hunter22" not in str(info.value) and "\n" not in str(info.value)
