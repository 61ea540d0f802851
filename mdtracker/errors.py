"""The few ways a run can fail, each with the place it failed at; `cli` maps them to exit codes."""

from __future__ import annotations


class MdtrackerError(Exception):
    """An error about a place in a file: printed as `path:line: message`."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        # a note that failed on a worker travels back to the command with its error: keep every field
        return _restore, (type(self), dict(self.__dict__))


def _restore(cls: type[MdtrackerError], fields: dict[str, object]) -> MdtrackerError:
    error = cls.__new__(cls)
    Exception.__init__(error, fields.get("message"))
    error.__dict__.update(fields)
    return error


class ConfigError(MdtrackerError):
    """The config file is malformed; nothing can run without it."""


class NoteError(MdtrackerError):
    """One note cannot be processed; it is left untouched and the others go on."""

    def __init__(self, path: str, line: int | None, message: str, code: str) -> None:
        super().__init__(path, line, message)
        self.code = code


class VaultError(MdtrackerError):
    """The vault itself cannot be read (a missing folder)."""
