"""Error types that carry what went wrong, where, and what the user can do about it."""

from __future__ import annotations


class MvbenchError(Exception):
    """Base error. ``hint`` tells the user what to do next; ``str()`` includes it."""

    def __init__(self, message: str, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\n  hint: {hint}")


class SuiteError(MvbenchError):
    """A suite file is malformed: names the file, the item and the field."""


class SubmissionError(MvbenchError):
    """A submission folder is malformed: names the folder, item and file."""


class VideoDecodeError(MvbenchError):
    """A video file could not be decoded. ``kind`` says how: ``unreadable`` (cannot be opened or decoded),
    ``truncated`` (fewer frames present than the container lists) or ``zero_frames``."""

    def __init__(self, message: str, hint: str | None = None, kind: str = "unreadable"):
        super().__init__(message, hint)
        self.kind = kind


class ConfigError(MvbenchError):
    """An evaluation option is unknown or has a bad value (names the option and its flag)."""


class WeightsMissingError(MvbenchError):
    """A pretrained weight file is not present in the mvbench cache."""


class CheckpointMismatchError(MvbenchError):
    """A checkpoint's keys or shapes do not match the architecture (names the keys)."""


class MissingExtraError(MvbenchError):
    """An optional dependency group (``pip install mvbench[extra]``) is needed."""

    def __init__(self, feature: str, extra: str, module: str):
        super().__init__(
            f"{feature} needs the optional package {module!r}, which is not installed.",
            hint=f'pip install -e ".[{extra}]"  (or pip install "mvbench[{extra}]")',
        )
