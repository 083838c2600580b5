"""``mvbench import-vbench``: alias of ``mvbench import vbench`` (VBench-2.0 prompt file -> suite JSON)."""

from __future__ import annotations


def register(sub) -> None:
    from mvbench.cli.importers import add_format_parser

    add_format_parser(sub, "import-vbench", "vbench", "same as `mvbench import vbench`")
