"""Compare two results files metric by metric: the CI regression gate behind ``mvbench compare``.

For each metric both files report: Δ = new − base, and, when both files have per-item scores, the
mean of per-item differences over the items both evaluated with a bootstrap 95% CI (paired; via
:func:`mvbench.stats.summarize`). A threshold makes a metric a gate:

- ``--max-drop M=x`` for a higher-is-better metric: regression when base − new > x;
- ``--max-rise M=x`` for a lower-is-better metric: regression when new − base > x.

Directions come from each file's ``higher_is_better``. Results from different suites (name, version,
content hash), paper presets (``--protocol``, recorded as ``config.protocol``; a file without one counts
as no preset), encoders (weights hash, calibration, preprocessing of an encoder both runs used) or
protocols (evaluation config other than run-time settings; a scorer's config only when both runs used
that scorer, so adding a metric keeps runs comparable) are incomparable unless forced.

A mean that is missing or not finite (NaN, inf) counts as no value: a regression when the metric is
gated in the new run, bad input when gated in the base run, "missing value" otherwise.

Item coverage: when the new run failed (or lacks) items that the base run scored, the two means are
over different item sets, so the comparison does not pass: exit 2, naming the items. With
``allow_failures`` a gated metric is judged on the paired mean of per-item differences over the
items both runs scored (``results["items"][id]["scores"]``); a gated metric without per-item scores
(e.g. FVD) then cannot be judged and is bad input. Exit codes: 0 pass, 1 regression,
2 incomparable, incomplete or bad input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from leaderboard.errors import LeaderboardError
from leaderboard.metric_info import metric_order
from leaderboard.results_input import model_label, suite_identity

EXIT_PASS, EXIT_REGRESSION, EXIT_INCOMPARABLE = 0, 1, 2

#: config keys that change how a run is executed but not what it measures
RUNTIME_CONFIG_KEYS = frozenset({
    "batch_size", "num_workers", "workers", "processes", "device", "cache", "cache_dir", "progress",
    "verbose", "resume", "out", "output", "metrics", "bootstrap", "bootstrap_resamples",
})
#: tolerance when a change equals the threshold exactly (float noise)
EPS = 1e-9


@dataclass
class MetricComparison:
    metric: str
    higher_is_better: bool
    base: dict
    new: dict
    delta: float | None = None
    paired: dict | None = None  # summarize() of per-item new − base on common items
    gate: tuple[str, float] | None = None  # ("max-drop"|"max-rise", limit)
    status: str = "same"  # pass / regression / improved / worse / same / missing
    gated_on_paired: bool = False  # the gate judged the paired mean (runs scored different items)


@dataclass
class Comparison:
    base_path: str
    new_path: str
    base: dict
    new: dict
    metrics: list[MetricComparison] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why the two runs are incomparable
    forced: bool = False
    notes: list[str] = field(default_factory=list)
    lost_items: list[str] = field(default_factory=list)  # scored by base, failed or absent in new
    allow_failures: bool = False

    @property
    def incomparable(self) -> bool:
        return bool(self.problems) and not self.forced

    @property
    def incomplete(self) -> bool:
        """The new run failed (or lacks) items the base scored and ``--allow-failures`` was not given."""
        return bool(self.lost_items) and not self.allow_failures

    @property
    def incomplete_message(self) -> str:
        shown = ", ".join(self.lost_items[:10]) + (", ..." if len(self.lost_items) > 10 else "")
        return (f"new run failed {len(self.lost_items)} item(s) the base scored: {shown}; fix them or pass "
                "--allow-failures to compare on the items both runs scored")

    @property
    def regressions(self) -> list[MetricComparison]:
        return [m for m in self.metrics if m.status == "regression"]

    @property
    def exit_code(self) -> int:
        if self.incomparable or self.incomplete:
            return EXIT_INCOMPARABLE
        return EXIT_REGRESSION if self.regressions else EXIT_PASS


def parse_thresholds(specs: list[str] | None, option: str) -> dict[str, float]:
    """``["fvd=10", ...]`` → ``{"fvd": 10.0}``; a malformed or negative limit is bad input."""
    out: dict[str, float] = {}
    for spec in specs or []:
        name, sep, value = spec.partition("=")
        try:
            limit = float(value)
        except ValueError:
            limit = float("nan")
        if not sep or not name.strip() or not limit >= 0:
            raise LeaderboardError(f"{option} {spec!r}: expected METRIC=NON_NEGATIVE_NUMBER",
                                   hint=f"e.g. {option} sequence_consistency=0.5")
        out[name.strip()] = limit
    return out


def finite(value) -> float | None:
    """``value`` as a float, or None when it is missing, not a number, NaN or infinite."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _flat(config: dict, prefix: str = "") -> dict[str, object]:
    flat = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, path + "."))
        else:
            flat[path] = value
    return flat


class _Unset:
    def __repr__(self) -> str:
        return "(unset)"


UNSET = _Unset()


def _config_differences(b_cfg: dict, n_cfg: dict, prefix: str, skip=lambda key: False) -> list[str]:
    b_flat, n_flat = _flat(b_cfg, prefix), _flat(n_cfg, prefix)
    out = []
    for key in sorted(set(b_flat) | set(n_flat)):
        if skip(key):
            continue
        b, n = b_flat.get(key, UNSET), n_flat.get(key, UNSET)
        if b != n:
            out.append(f"protocol differs: config {key} = {b!r} vs {n!r}")
    return out


def comparability_problems(base: dict, new: dict) -> list[str]:
    """Reasons the two runs' numbers cannot be compared (empty when they can).

    Encoders and scorer configs are compared only where both runs used them: a run that adds a
    metric (and its encoder) stays comparable on the metrics both report.
    """
    problems = []
    if suite_identity(base) != suite_identity(new):
        b, n = suite_identity(base), suite_identity(new)
        problems.append(f"suite differs: {b[0]} v{b[1]} ({b[2][:12]}) vs {n[0]} v{n[1]} ({n[2][:12]})")
    b_enc, n_enc = base.get("encoders") or {}, new.get("encoders") or {}
    for name in sorted(set(b_enc) & set(n_enc)):
        for key in ("weights_sha256", "calibrated", "preprocess"):
            if b_enc[name].get(key) != n_enc[name].get(key):
                problems.append(f"encoder {name!r}: {key} differs ({b_enc[name].get(key)!r} vs {n_enc[name].get(key)!r})")
    if base.get("calibrated") != new.get("calibrated"):
        problems.append(f"calibrated differs ({base.get('calibrated')!r} vs {new.get('calibrated')!r})")
    b_all, n_all = base.get("config") or {}, new.get("config") or {}
    b_preset, n_preset = recorded_preset(base), recorded_preset(new)
    if b_preset != n_preset:
        problems.append(f"preset differs: {_preset_text(b_preset)} vs {_preset_text(n_preset)} (mvbench evaluate "
                        "--protocol); runs made under different paper presets measure different things")

    def top_level(cfg: dict) -> dict:
        return {k: v for k, v in cfg.items() if k not in RUNTIME_CONFIG_KEYS and k not in ("scorers", "protocol")}

    problems += _config_differences(top_level(b_all), top_level(n_all), "", lambda key: key == "options.protocol")
    b_sc, n_sc = b_all.get("scorers") or {}, n_all.get("scorers") or {}
    common = set(base["metrics"]) & set(new["metrics"])

    def other_metric(key: str) -> bool:  # a multi-metric scorer's per-metric settings of a metric not in both
        parts = key.split(".")
        return len(parts) > 3 and parts[2] == "metrics" and parts[3] not in common

    for scorer in sorted(set(b_sc) & set(n_sc)):
        b_cfg, n_cfg = b_sc[scorer], n_sc[scorer]
        if isinstance(b_cfg, dict) and isinstance(n_cfg, dict):
            problems += _config_differences(b_cfg, n_cfg, f"scorers.{scorer}.", other_metric)
        elif b_cfg != n_cfg:
            problems.append(f"protocol differs: config scorers.{scorer} = {b_cfg!r} vs {n_cfg!r}")
    for metric in sorted(common):
        if base["metrics"][metric]["higher_is_better"] != new["metrics"][metric]["higher_is_better"]:
            problems.append(f"metric {metric!r}: higher_is_better differs between the files")
    return problems


def recorded_preset(doc: dict) -> str | None:
    """The paper preset a results file was made under (``config.protocol.name``, or the ``protocol`` option),
    None when it has none.

    >>> recorded_preset({"config": {"protocol": {"name": "mask2dit"}}}), recorded_preset({"config": {}})
    ('mask2dit', None)
    """
    cfg = doc.get("config") or {}
    record = cfg.get("protocol")
    if isinstance(record, dict) and record.get("name"):
        return str(record["name"])
    name = (cfg.get("options") or {}).get("protocol")
    return str(name) if name else None


def _preset_text(name: str | None) -> str:
    return f"preset {name!r}" if name else "no preset"


def lost_items(base: dict, new: dict) -> list[str]:
    """Items the base run scored that the new run failed or does not have (base item order).

    A new run without any per-item records (neither ``items`` nor ``failures``) cannot be checked and
    gives an empty list.
    """
    b_items, n_items = base.get("items") or {}, new.get("items") or {}
    if not n_items and not (new.get("failures") or {}):
        return []
    return [i for i in b_items if i not in n_items]


def _item_scores(doc: dict, metric: str) -> dict[str, float]:
    out = {}
    for item, entry in (doc.get("items") or {}).items():
        value = finite(((entry or {}).get("scores") or {}).get(metric))
        if value is not None:
            out[item] = value
    return out


def _paired(base: dict, new: dict, metric: str, higher_is_better: bool, seed: int) -> dict | None:
    from mvbench.stats import summarize

    b, n = _item_scores(base, metric), _item_scores(new, metric)
    diffs = [n[i] - b[i] for i in sorted(set(b) & set(n))]
    if not diffs:
        return None
    return summarize(diffs, higher_is_better, seed=seed)


def _check_gates(base: dict, new: dict, base_path: str, new_path: str,
                 max_drop: dict[str, float], max_rise: dict[str, float]) -> None:
    for option, limits in (("--max-drop", max_drop), ("--max-rise", max_rise)):
        for metric in limits:
            where = [p for p, doc in ((base_path, base), (new_path, new)) if metric not in doc["metrics"]]
            if where:
                raise LeaderboardError(f"{option} {metric}: metric not in {', '.join(where)}",
                                       hint="metrics present: " + ", ".join(sorted(set(base["metrics"]) & set(new["metrics"]))))
            hib = base["metrics"][metric]["higher_is_better"]
            if option == "--max-drop" and not hib:
                raise LeaderboardError(f"--max-drop {metric}: {metric} is lower-is-better, so a drop is an improvement",
                                       hint=f"use --max-rise {metric}=LIMIT")
            if option == "--max-rise" and hib:
                raise LeaderboardError(f"--max-rise {metric}: {metric} is higher-is-better, so a rise is an improvement",
                                       hint=f"use --max-drop {metric}=LIMIT")
            if finite(base["metrics"][metric].get("mean")) is None:
                raise LeaderboardError(f"{option} {metric}: the base run has no finite value for it ({base_path})")


def _judge(row: MetricComparison, change: float) -> str:
    worsening = -change if row.higher_is_better else change
    if row.gate and worsening > row.gate[1] + EPS:
        return "regression"
    if worsening < -EPS:
        return "improved"
    if worsening > EPS:
        return "pass" if row.gate else "worse"
    return "pass" if row.gate else "same"


def compare_results(base: dict, new: dict, base_path: str = "base", new_path: str = "new",
                    max_drop: dict[str, float] | None = None, max_rise: dict[str, float] | None = None,
                    force: bool = False, allow_failures: bool = False) -> Comparison:
    """Compare ``new`` against ``base`` (both loaded results dicts); see the module docstring."""
    max_drop, max_rise = dict(max_drop or {}), dict(max_rise or {})
    cmp = Comparison(base_path, new_path, base, new, problems=comparability_problems(base, new), forced=force,
                     lost_items=lost_items(base, new), allow_failures=allow_failures)
    _check_gates(base, new, base_path, new_path, max_drop, max_rise)
    b_scored, n_scored = set(base.get("items") or {}), set(new.get("items") or {})
    on_common_items = allow_failures and bool(n_scored) and b_scored != n_scored
    seed = int((base.get("config") or {}).get("seed", 0) or 0)
    for metric in metric_order(set(base["metrics"]) | set(new["metrics"])):
        if metric not in base["metrics"] or metric not in new["metrics"]:
            only = base_path if metric in base["metrics"] else new_path
            cmp.notes.append(f"{metric} is only in {only}; not compared")
            continue
        b, n = base["metrics"][metric], new["metrics"][metric]
        row = MetricComparison(metric, bool(b["higher_is_better"]), b, n)
        if metric in max_drop:
            row.gate = ("max-drop", max_drop[metric])
        elif metric in max_rise:
            row.gate = ("max-rise", max_rise[metric])
        b_mean, n_mean = finite(b.get("mean")), finite(n.get("mean"))
        if b_mean is None or n_mean is None:
            row.status = "regression" if row.gate and n_mean is None else "missing"
            cmp.metrics.append(row)
            continue
        row.delta = n_mean - b_mean
        row.paired = _paired(base, new, metric, row.higher_is_better, seed)
        if on_common_items and row.gate:
            if row.paired is None or finite(row.paired.get("mean")) is None:
                raise LeaderboardError(
                    f"{row.gate[0]} {metric}: the runs scored different items and {metric} has no per-item "
                    "scores to compare on the items both scored",
                    hint="fix the failed items, or gate only metrics with per-item scores")
            row.gated_on_paired = True
            row.status = _judge(row, float(row.paired["mean"]))
        else:
            row.status = _judge(row, row.delta)
        cmp.metrics.append(row)
    if cmp.lost_items and allow_failures:
        cmp.notes.append(f"--allow-failures: the new run failed {len(cmp.lost_items)} item(s) the base scored; "
                         "gates judge the paired Δ over the items both runs scored")
    gained = sorted(n_scored - b_scored)
    if gained and b_scored:
        cmp.notes.append(f"the new run scored {len(gained)} item(s) the base did not (e.g. {gained[0]}); "
                         "the means cover different items" + ("" if on_common_items else
                                                              " (--allow-failures gates on the common items)"))
    if b_scored and not n_scored and not (new.get("failures") or {}):
        cmp.notes.append(f"{new_path} has no per-item scores; item coverage not checked")
    if (base.get("mvbench_version") != new.get("mvbench_version")):
        cmp.notes.append(f"mvbench versions differ: {base.get('mvbench_version')} vs {new.get('mvbench_version')}")
    b_fail, n_fail = len(base.get("failures") or {}), len(new.get("failures") or {})
    if b_fail or n_fail:
        cmp.notes.append(f"failed items: {b_fail} in base, {n_fail} in new")
    for name in sorted(set(base.get("encoders") or {}) ^ set(new.get("encoders") or {})):
        only = base_path if name in (base.get("encoders") or {}) else new_path
        cmp.notes.append(f"encoder {name} is used only by {only} (for metrics the other run does not report)")
    return cmp


def describe_runs(cmp: Comparison) -> str:
    name, version, digest = suite_identity(cmp.base)
    return (f"base: {model_label(cmp.base)} (`{cmp.base_path}`) · new: {model_label(cmp.new)} (`{cmp.new_path}`)"
            f" · suite {name} v{version} ({digest[:12]})")
