"""Errors for bad input: each names the file, the field and what was expected."""

from __future__ import annotations

from pathlib import Path


class ParkgridError(Exception):
    """Base for errors that the CLI reports as a message, never as a traceback."""


class ConfigError(ParkgridError):
    """A park config (or another YAML input) is invalid."""

    def __init__(self, source: Path | str, problems: list[str]) -> None:
        self.source = str(source)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.source}: invalid config\n{lines}")


def not_utf8(raw: bytes, what: str = "file") -> str:
    """Where ``raw`` stops being UTF-8: the first bad byte and its offset."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at byte offset {exc.start} "
                f"(save the {what} as UTF-8)")
    return "not UTF-8 text"


class ArgumentError(ParkgridError):
    """A command-line argument (or the same argument of the Python API) is invalid."""

    def __init__(self, option: str, got: object, expected: str) -> None:
        self.option = option
        shown = repr(got) if isinstance(got, str) else f"{got:g}" if isinstance(got, float) \
            else str(got)
        super().__init__(f"invalid argument {option}: got {shown}; expected {expected}")


class InputDataError(ParkgridError):
    """A time-series file (weather, profile, sessions) is malformed."""

    def __init__(self, source: Path | str, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class SolverError(ParkgridError):
    """The optimizer found no schedule (no incumbent); callers may fall back to rules."""
