"""Evaluation options as data: every option is an :class:`Option` with a type, a default, a help text
and (optionally) a set of choices or a check. The core options live in :data:`CORE_OPTIONS`; each
scorer declares its own in ``Scorer.option_specs``. From these one place builds the ``mvbench
evaluate`` flags, validates a user's options (unknown keys are an error with a did-you-mean
suggestion, values are coerced and checked) and produces the resolved configuration recorded in
the results file.

>>> opt = Option("vc_pairs", "all", "scene pairs", choices=("all", "consecutive"))
>>> opt.flag
'--vc-pairs'
>>> opt.coerce("consecutive")
'consecutive'
>>> resolve({"vc_pair": "consecutive"}, [opt])
Traceback (most recent call last):
...
mvbench.errors.ConfigError: unknown option 'vc_pair'; did you mean 'vc_pairs'?
  hint: run `mvbench evaluate --help` for every option
"""

from __future__ import annotations

import argparse
import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mvbench.errors import ConfigError

_MISSING = object()


@dataclass(frozen=True)
class Option:
    """One evaluation option.

    ``name`` is the key in the options mapping (``vc_pairs``); the command-line flag is derived from it
    (``--vc-pairs``). ``type`` is ``str``, ``int``, ``float`` or ``bool`` (a bool option is a
    store-true flag); ``None`` as a default means "not set" (the scorer picks its own behaviour).
    ``check`` is called with the coerced value and raises ``ValueError`` with a message on a bad one; it
    runs before the ``choices`` test (and on the command line too), so it can explain a value that is not
    among them, e.g. one that was renamed.
    ``cli`` False keeps an option out of the command line (set by the runner or the Python API).
    """

    name: str
    default: Any
    help: str
    type: type | None = None
    choices: tuple | None = None
    metavar: str | None = None
    check: Callable[[Any], None] | None = None
    cli: bool = True

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def value_type(self) -> type | None:
        if self.type is not None:
            return self.type
        if self.default is not None and not isinstance(self.default, (list, tuple, dict)):
            return type(self.default)
        return None

    def coerce(self, value: Any) -> Any:
        """``value`` converted to the option's type and checked; ``ConfigError`` names the option."""
        if value is None:
            return None
        t = self.value_type
        try:
            if t is bool:
                if isinstance(value, str):
                    if value.lower() not in {"true", "false", "1", "0", "yes", "no"}:
                        raise ValueError(f"expected true or false, got {value!r}")
                    value = value.lower() in {"true", "1", "yes"}
                elif not isinstance(value, (bool, int)):
                    raise ValueError(f"expected true or false, got {value!r}")
                value = bool(value)
            elif t is int:
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError(f"expected an integer, got {value!r}")
                value = int(value)
            elif t is float:
                if isinstance(value, bool):
                    raise ValueError(f"expected a number, got {value!r}")
                value = float(value)
                if not math.isfinite(value):
                    raise ValueError(f"expected a finite number, got {value!r}")
            elif t is str:
                if not isinstance(value, str):
                    raise ValueError(f"expected text, got {type(value).__name__} {value!r}")
            if self.check is not None:
                self.check(value)
            if self.choices is not None and value not in self.choices:
                raise ValueError(f"{value!r} is not one of {', '.join(map(str, self.choices))}")
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"option {self.name!r} ({self.flag}): {exc}") from None
        return value

    def _cli_type(self) -> Callable[[str], Any]:
        """argparse's ``type``: the option's type, then ``check`` when there are ``choices`` (argparse tests
        the choices after ``type``, so a check can explain a refused value: ``invalid choice`` alone would not)."""
        base = self.value_type or str
        if self.check is None or self.choices is None:
            return base
        check = self.check

        def convert(text: str) -> Any:
            value = base(text)
            try:
                check(value)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None
            return value

        convert.__name__ = base.__name__  # argparse names the type in its "invalid <type> value" message
        return convert

    def add_to_parser(self, parser) -> None:
        """Add this option's flag to an argparse parser or argument group (default None: 'not given')."""
        if not self.cli:
            return
        text = self.help.replace("%", "%%")
        shown = "" if self.default is None else f" (default: {self.default})"
        kwargs: dict[str, Any] = {"dest": self.name, "default": None, "help": text + shown}
        if self.value_type is bool:
            kwargs["action"] = "store_true"
            kwargs["help"] = text
        else:
            kwargs["type"] = self._cli_type()
            if self.choices is not None:
                kwargs["choices"] = self.choices
            if self.metavar:
                kwargs["metavar"] = self.metavar
        parser.add_argument(self.flag, **kwargs)


def positive(value: float) -> None:
    """``check`` for options that must be > 0.

    >>> positive(2)
    >>> positive(0)
    Traceback (most recent call last):
    ...
    ValueError: must be positive, got 0
    """
    if value <= 0:
        raise ValueError(f"must be positive, got {value}")


def non_negative(value: float) -> None:
    """``check`` for options that must be >= 0.

    >>> non_negative(0)
    """
    if value < 0:
        raise ValueError(f"must be >= 0, got {value}")


def suggest(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest known name, or ``""``.

    >>> suggest("batchsize", ["batch_size", "seed"])
    "; did you mean 'batch_size'?"
    """
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def resolve(options: Mapping[str, Any] | None, specs: Iterable[Option], *,
            passthrough: Iterable[str] = ()) -> dict[str, Any]:
    """Every declared option with its value (given, else default), coerced and checked.

    Keys in ``passthrough`` are accepted unchecked (runner-internal values such as the metric list).
    A key that is neither declared nor passed through is an error naming the closest option.

    >>> resolve({"seed": "3"}, [Option("seed", 0, "bootstrap seed")])
    {'seed': 3}
    """
    specs = list(specs)
    by_name: dict[str, Option] = {}
    for s in specs:
        by_name.setdefault(s.name, s)
    allowed = set(passthrough)
    out: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if key in by_name:
            continue
        if key not in allowed:
            raise ConfigError(f"unknown option {key!r}{suggest(key, list(by_name) + sorted(allowed))}",
                              hint="run `mvbench evaluate --help` for every option")
        out[key] = value
    given = options or {}
    for name, spec in by_name.items():
        value = given.get(name, _MISSING)
        out[name] = spec.default if value is _MISSING or value is None else spec.coerce(value)
    return out


def add_options_to_parser(parser: argparse.ArgumentParser | Any, specs: Iterable[Option],
                          title: str | None = None) -> None:
    """Add the flags of ``specs`` to ``parser`` (in an argument group when ``title`` is given).

    An option several scorers share (the same :class:`Option`, e.g. ``vbench_long_seconds``) is added
    once; two different declarations under one name are a programming error and raise ``ValueError``.
    """
    added: dict[str, Option] = parser.__dict__.setdefault("_mvbench_options", {})
    target = parser.add_argument_group(title) if title else parser
    for spec in specs:
        if spec.name in added:
            if added[spec.name] != spec:
                raise ValueError(f"option {spec.name!r} is declared twice, differently: {added[spec.name]} vs {spec}")
            continue
        added[spec.name] = spec
        spec.add_to_parser(target)
