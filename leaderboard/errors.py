"""Errors raised by the leaderboard package (the CLI turns them into exit code 2)."""

from __future__ import annotations

from mvbench.errors import MvbenchError


class LeaderboardError(MvbenchError):
    """Bad input to a leaderboard: an unreadable results file, an unknown paper table, a bad option."""


class MixedSuitesError(LeaderboardError):
    """Results from different suites (name, version or content hash) were put into one table."""


class IncomparableResultsError(MvbenchError):
    """Two results files differ in suite, encoders or protocol, so their numbers cannot be compared."""
