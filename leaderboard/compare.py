"""Compare two results files metric by metric: the CI regression gate behind ``mvbench compare``.

For each metric both files report: Δ = new − base, and, when both files have per-item scores, the
mean of per-item differences over the items both evaluated with a bootstrap 95% CI (paired; via
:func:`mvbench.stats.summarize`). A threshold makes a metric a gate:

- ``--max-drop M=x`` for a higher-is-better metric: regression when base − new > x;
- ``--max-rise M=x`` for a lower-is-better metric: regression when new − base > x.

Directions come from each file's ``higher_is_better``. Results from different suites (name, version,
content hash), encoders (name, weights hash, calibration) or protocols (evaluation config other than
run-time settings) are incomparable unless forced. Exit codes: 0 pass, 1 regression,
2 incomparable or bad input.
"""

from __future__ import annotations

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

    @property
    def incomparable(self) -> bool:
        return bool(self.problems) and not self.forced

    @property
    def regressions(self) -> list[MetricComparison]:
        return [m for m in self.metrics if m.status == "regression"]

    @property
    def exit_code(self) -> int:
        if self.incomparable:
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


def _flat(config: dict, prefix: str = "") -> dict[str, object]:
    flat = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, path + "."))
        else:
            flat[path] = value
    return flat


def comparability_problems(base: dict, new: dict) -> list[str]:
    """Reasons the two runs' numbers cannot be compared (empty when they can)."""
    problems = []
    if suite_identity(base) != suite_identity(new):
        b, n = suite_identity(base), suite_identity(new)
        problems.append(f"suite differs: {b[0]} v{b[1]} ({b[2][:12]}) vs {n[0]} v{n[1]} ({n[2][:12]})")
    b_enc, n_enc = base.get("encoders") or {}, new.get("encoders") or {}
    for name in sorted(set(b_enc) | set(n_enc)):
        if name not in b_enc or name not in n_enc:
            problems.append(f"encoder {name!r} is used by only one run")
            continue
        for key in ("weights_sha256", "calibrated", "preprocess"):
            if b_enc[name].get(key) != n_enc[name].get(key):
                problems.append(f"encoder {name!r}: {key} differs ({b_enc[name].get(key)!r} vs {n_enc[name].get(key)!r})")
    if base.get("calibrated") != new.get("calibrated"):
        problems.append(f"calibrated differs ({base.get('calibrated')!r} vs {new.get('calibrated')!r})")
    b_cfg = {k: v for k, v in _flat(base.get("config") or {}).items() if k.split(".")[0] not in RUNTIME_CONFIG_KEYS}
    n_cfg = {k: v for k, v in _flat(new.get("config") or {}).items() if k.split(".")[0] not in RUNTIME_CONFIG_KEYS}
    for key in sorted(set(b_cfg) | set(n_cfg)):
        if b_cfg.get(key, "<unset>") != n_cfg.get(key, "<unset>"):
            problems.append(f"protocol differs: config {key} = {b_cfg.get(key, '<unset>')!r} vs {n_cfg.get(key, '<unset>')!r}")
    for metric in sorted(set(base["metrics"]) & set(new["metrics"])):
        if base["metrics"][metric]["higher_is_better"] != new["metrics"][metric]["higher_is_better"]:
            problems.append(f"metric {metric!r}: higher_is_better differs between the files")
    return problems


def _paired(base: dict, new: dict, metric: str, higher_is_better: bool, seed: int) -> dict | None:
    from mvbench.stats import summarize

    b_items, n_items = base.get("items") or {}, new.get("items") or {}
    diffs = []
    for item in sorted(set(b_items) & set(n_items)):
        b = (b_items[item].get("scores") or {}).get(metric)
        n = (n_items[item].get("scores") or {}).get(metric)
        if b is not None and n is not None:
            diffs.append(float(n) - float(b))
    if not diffs:
        return None
    return summarize(diffs, higher_is_better, seed=seed)


def compare_results(base: dict, new: dict, base_path: str = "base", new_path: str = "new",
                    max_drop: dict[str, float] | None = None, max_rise: dict[str, float] | None = None,
                    force: bool = False) -> Comparison:
    """Compare ``new`` against ``base`` (both loaded results dicts)."""
    max_drop, max_rise = dict(max_drop or {}), dict(max_rise or {})
    cmp = Comparison(base_path, new_path, base, new, problems=comparability_problems(base, new), forced=force)
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
            if base["metrics"][metric].get("mean") is None:
                raise LeaderboardError(f"{option} {metric}: the base run has no value for it ({base_path})")
    seed = int((base.get("config") or {}).get("seed", 0) or 0)
    for metric in metric_order(set(base["metrics"]) | set(new["metrics"])):
        if metric not in base["metrics"] or metric not in new["metrics"]:
            only = base_path if metric in base["metrics"] else new_path
            cmp.notes.append(f"{metric} is only in {only}; not compared")
            continue
        b, n = base["metrics"][metric], new["metrics"][metric]
        hib = bool(b["higher_is_better"])
        row = MetricComparison(metric, hib, b, n)
        if metric in max_drop:
            row.gate = ("max-drop", max_drop[metric])
        elif metric in max_rise:
            row.gate = ("max-rise", max_rise[metric])
        if b.get("mean") is None or n.get("mean") is None:
            row.status = "regression" if row.gate and n.get("mean") is None else "missing"
        else:
            row.delta = float(n["mean"]) - float(b["mean"])
            row.paired = _paired(base, new, metric, hib, seed)
            worsening = -row.delta if hib else row.delta
            if row.gate and worsening > row.gate[1] + EPS:
                row.status = "regression"
            elif worsening < -EPS:
                row.status = "improved"
            elif worsening > EPS:
                row.status = "pass" if row.gate else "worse"
            else:
                row.status = "pass" if row.gate else "same"
        cmp.metrics.append(row)
    if (base.get("mvbench_version") != new.get("mvbench_version")):
        cmp.notes.append(f"mvbench versions differ: {base.get('mvbench_version')} vs {new.get('mvbench_version')}")
    b_fail, n_fail = len(base.get("failures") or {}), len(new.get("failures") or {})
    if b_fail or n_fail:
        cmp.notes.append(f"failed items: {b_fail} in base, {n_fail} in new")
    return cmp


def describe_runs(cmp: Comparison) -> str:
    name, version, digest = suite_identity(cmp.base)
    return (f"base: {model_label(cmp.base)} (`{cmp.base_path}`) · new: {model_label(cmp.new)} (`{cmp.new_path}`)"
            f" · suite {name} v{version} ({digest[:12]})")
