"""Reading results files (``mvbench.results/1``) for tables and comparisons."""

from __future__ import annotations

import json
from pathlib import Path

from leaderboard.errors import LeaderboardError

SCHEMA = "mvbench.results/1"
REQUIRED = ("model", "suite", "metrics")


def read_results(path: str | Path) -> dict:
    """Load and check one results file; errors name the file and what is wrong with it."""
    path = Path(path)
    try:
        from mvbench.results import load_results  # the project's validating loader, when present
    except ImportError:  # pragma: no cover - only before mvbench.results exists
        load_results = None
    if load_results is not None:
        try:
            return load_results(path)
        except LeaderboardError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LeaderboardError(f"{path}: not a readable results file ({exc})") from exc
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise LeaderboardError(f"{path}: results file not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LeaderboardError(f"{path}: not a readable results file ({exc})",
                               hint="pass files written by `mvbench evaluate`") from exc
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
