"""What this installation offers, as plain lists: metric names, encoders, bundled suites, registered
weights and paper protocols. ``mvbench list`` prints them; the Python API exposes the same lists.

>>> ("visual_consistency" in dict(list_metrics()), "mvbench-demo" in dict(list_suites()))
(True, True)
"""

from __future__ import annotations


def list_metrics() -> list[tuple[str, str]]:
    """``(metric name, "scorer; direction; description")`` for every name ``--metrics`` accepts."""
    from mvbench.scorers import METRIC_GROUPS, METRIC_TO_SCORER, scorer_class

    rows = []
    infos = {}
    for scorer in dict.fromkeys(METRIC_TO_SCORER.values()):
        for info in scorer_class(scorer).metrics:
            infos[info.name] = info
    for name, scorer in sorted(METRIC_TO_SCORER.items()):
        info = infos.get(name)
        arrow = "" if info is None else ("higher is better" if info.higher_is_better else "lower is better")
        rows.append((name, f"[{scorer}] {arrow}; {info.description if info else ''}".strip()))
    for group, members in sorted(METRIC_GROUPS.items()):
        rows.append((group, "group: " + ", ".join(members)))
    return rows


def list_encoders() -> list[tuple[str, str]]:
    """``(encoder name, what it is)`` for ``--encoder`` and the scorers' networks."""
    from mvbench.encoders import ENCODER_DESCRIPTIONS, available_encoders

    return [(n, ENCODER_DESCRIPTIONS.get(n, "")) for n in available_encoders()]


def list_suites() -> list[tuple[str, str]]:
    """``(bundled suite name, "version, items: description")``."""
    from mvbench.suite import bundled_suites, load_suite

    rows = []
    for name in bundled_suites():
        s = load_suite(name)
        rows.append((name, f"v{s.version}, {len(s.items)} items: {s.description}".strip()))
    return rows


def list_weights() -> list[tuple[str, str]]:
    """``(weights entry, "present|missing  file")``."""
    from mvbench.weights import REGISTRY, weight_path

    return [(n, f"{'present' if weight_path(n).is_file() else 'missing':8s} {s.filename}")
            for n, s in sorted(REGISTRY.items())]


def list_protocols() -> list[tuple[str, str]]:
    """``(preset name, description)`` of the paper protocols ``--protocol`` accepts."""
    try:
        from mvbench.protocols import PROTOCOLS
    except ImportError:
        return []
    return [(name, p.description) for name, p in sorted(PROTOCOLS.items())]
