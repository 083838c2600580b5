"""Command-line options shared by the commands that decode and encode videos."""

from __future__ import annotations

import argparse


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that runs encoders."""
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    p.add_argument("--batch-size", type=int, default=16, help="clips per encoder batch (does not change results)")
    p.add_argument("--num-workers", type=int, default=None, help="decoding threads (default: min(8, cores))")
    p.add_argument("--cache-dir", default=None, help="feature cache folder (default $MVBENCH_HOME/features)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the feature cache")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide progress bars")
