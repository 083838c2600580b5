"""Reading results files (``mvbench.results/1``) for tables and comparisons."""

from __future__ import annotations

from pathlib import Path

from leaderboard.errors import LeaderboardError

SCHEMA = "mvbench.results/1"
REQUIRED = ("model", "suite", "metrics")


def read_results(path: str | Path) -> dict:
    """Load a results file with :func:`mvbench.results.load_results` and check the fields tables and
    comparisons rely on; errors name the file and what is wrong with it."""
    from mvbench.results import load_results

    doc = load_results(path)
    check_results(doc, str(path))
    return doc


def check_results(doc, source: str) -> None:
    """The parts of the results contract that tables and comparisons rely on."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        got = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise LeaderboardError(f"{source}: schema must be {SCHEMA!r}, got {got!r}",
                               hint="pass files written by `mvbench evaluate`")
    for key in REQUIRED:
        if not isinstance(doc.get(key), dict):
            raise LeaderboardError(f"{source}: missing or malformed {key!r} section")
    if not doc["model"].get("name"):
        raise LeaderboardError(f"{source}: model.name is empty")
    for name, summary in doc["metrics"].items():
        if not isinstance(summary, dict) or "mean" not in summary or not isinstance(summary.get("higher_is_better"), bool):
            raise LeaderboardError(f"{source}: metric {name!r} needs 'mean' and a boolean 'higher_is_better'")


def suite_identity(doc: dict) -> tuple[str, str, str]:
    """(name, version, content hash) of the suite a results file was computed on."""
    suite = doc.get("suite", {})
    return (str(suite.get("name", "")), str(suite.get("version", "")), str(suite.get("content_hash", "")))


def model_label(doc: dict) -> str:
    """``name`` or ``name version`` of the model in a results file."""
    model = doc["model"]
    version = str(model.get("version") or "").strip()
    return f"{model['name']} {version}".strip() if version else str(model["name"])
