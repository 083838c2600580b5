"""``mvbench import-moviebench``: alias of ``mvbench import moviebench`` (MovieBench annotations -> suite JSON)."""

from __future__ import annotations


def register(sub) -> None:
    from mvbench.cli.importers import add_format_parser

    add_format_parser(sub, "import-moviebench", "moviebench", "same as `mvbench import moviebench`")
