"""What the per-run report shows, gathered from a results file (and the suite, when it can be loaded):
one :class:`ItemView` per scored or failed item, in suite order, and the metric columns."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from leaderboard.metric_info import metric_info, metric_order

log = logging.getLogger(__name__)

STATUS_OK, STATUS_WARNING, STATUS_FAILED = "ok", "warning", "failed"
#: characters of the prompt shown in the item table (the full prompts are in the item's view)
PROMPT_CHARS = 110


@dataclass
class ItemView:
    id: str
    scores: dict[str, float]
    details: dict
    warnings: list[str]
    failure: dict | None
    scene_prompts: list[str] = field(default_factory=list)
    global_prompt: str = ""
    keyframes: list = field(default_factory=list)  # SceneFrames per scene (keyframes module)

    @property
    def status(self) -> str:
        if self.failure:
            return STATUS_FAILED
        return STATUS_WARNING if self.all_warnings else STATUS_OK

    @property
    def all_warnings(self) -> list[str]:
        """The item's warnings and those its scorers put in their details."""
        out = list(self.warnings)
        for scorer, det in sorted(self.details.items()):
            if isinstance(det, dict):
                out += [f"{scorer}: {w}" for w in det.get("warnings") or [] if isinstance(w, str)]
        return out

    @property
    def n_scenes(self) -> int:
        cons = self.details.get("consistency") or {}
        for key in ("scene_semantic", "scene_similarity"):
            if isinstance(cons.get(key), list) and cons[key]:
                return len(cons[key])
        return len(self.scene_prompts)

    @property
    def prompt(self) -> str:
        """The prompt shown in the table: the global prompt, else the scene prompts joined by " | "."""
        full = self.global_prompt or " | ".join(self.scene_prompts)
        return full if len(full) <= PROMPT_CHARS else full[: PROMPT_CHARS - 1] + "…"

    @property
    def search_text(self) -> str:
        return " ".join([self.id, self.global_prompt, *self.scene_prompts]).lower()


@dataclass(frozen=True)
class MetricColumn:
    key: str
    label: str
    higher_is_better: bool
    decimals: int


def metric_columns(doc: dict) -> list[MetricColumn]:
    """Metrics with a summary or per-item scores, in the leaderboard's canonical order."""
    names = set(doc.get("metrics") or {})
    for rec in (doc.get("items") or {}).values():
        names.update((rec.get("scores") or {}) if isinstance(rec, dict) else {})
    out = []
    for name in metric_order(names):
        summary = (doc.get("metrics") or {}).get(name) or {}
        info = metric_info(name, summary.get("higher_is_better"))
        decimals = info.decimals
        if summary.get("unit") == "fraction":
            decimals = max(decimals, 4)
        out.append(MetricColumn(name, info.label, info.higher_is_better, decimals))
    return out


def consistency_unit(doc: dict) -> str:
    """``percent`` (×100, the default) or ``fraction``: the scale of a run's consistency scores and details.

    >>> consistency_unit({"metrics": {"visual_consistency": {"unit": "fraction"}}}), consistency_unit({})
    ('fraction', 'percent')
    """
    for name in ("visual_consistency", "semantic_consistency", "sequence_consistency"):
        unit = ((doc.get("metrics") or {}).get(name) or {}).get("unit")
        if unit in ("percent", "fraction"):
            return unit
    return "percent"


def suite_reference(doc: dict) -> str | None:
    """The suite a results file names: a bundled suite's name, else the recorded path."""
    suite = doc.get("suite") or {}
    source = str(suite.get("source") or "")
    if source.endswith(" (bundled)"):
        return source[: -len(" (bundled)")]
    return source or suite.get("name") or None


def load_run_suite(doc: dict, given: str | None = None):
    """``(suite, note)``: the run's suite (``given``, else the one the results name) or None, and a note for
    the page when it could not be loaded or its content differs from the run's."""
    from mvbench.errors import MvbenchError
    from mvbench.suite import load_suite

    ref = given or suite_reference(doc)
    if not ref:
        return None, "the results name no suite: prompts are not shown (pass --suite)"
    try:
        suite = load_suite(ref)
    except (MvbenchError, OSError) as exc:
        return None, f"suite {ref!r} could not be loaded ({str(exc).splitlines()[0]}): prompts are not shown " \
                     "(pass --suite)"
    want = (doc.get("suite") or {}).get("content_hash")
    if want and suite.content_hash != want:
        return suite, (f"suite {ref!r} has changed since the run (content hash {suite.content_hash[:12]} vs "
                       f"{str(want)[:12]} in the results): the prompts shown may not be the ones scored")
    return suite, None


def item_views(doc: dict, suite=None) -> list[ItemView]:
    """Scored items, then failed ones, in suite order when the suite is known (results order otherwise)."""
    items = doc.get("items") or {}
    failures = doc.get("failures") or {}
    order = list(dict.fromkeys([*items, *failures]))
    prompts: dict[str, tuple[list[str], str]] = {}
    if suite is not None:
        position = {i: k for k, i in enumerate(suite.ids)}
        order.sort(key=lambda i: position.get(i, len(position)))
        for item in suite.items:
            prompts[item.id] = ([s.prompt for s in item.scenes], item.global_prompt or "")
    views = []
    for item_id in order:
        rec = items.get(item_id) if isinstance(items.get(item_id), dict) else {}
        scene_prompts, global_prompt = prompts.get(item_id, ([], ""))
        warnings = [w for w in rec.get("warnings") or [] if isinstance(w, str)]
        views.append(ItemView(str(item_id), dict(rec.get("scores") or {}), dict(rec.get("details") or {}), warnings,
                              failures.get(item_id) if isinstance(failures.get(item_id), dict) else None,
                              scene_prompts, global_prompt))
    return views


def pair_range(views: list[ItemView]) -> tuple[float, float]:
    """Lowest and highest off-diagonal scene-pair similarity over the run (one colour scale for all items)."""
    vals = []
    for v in views:
        m = (v.details.get("consistency") or {}).get("scene_similarity")
        if isinstance(m, list):
            vals += [x for i, row in enumerate(m) for j, x in enumerate(row) if i != j and isinstance(x, (int, float))]
    if not vals:
        return 0.0, 100.0
    return float(min(vals)), float(max(vals))
