"""Errors a user can act on. The CLI prints them as one line (what and where) and exits 2."""

from __future__ import annotations


class UserError(Exception):
    """Bad input: a config, a taxonomy, a data file, a request. The message says what and where."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(UserError):
    pass


class DataError(UserError):
    pass


class RunBusy(Exception):
    """The same job run is already running (another process holds its lease). Not bad input:
    the CLI prints it as one line and exits 1."""
