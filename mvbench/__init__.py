"""mvbench: an evaluation benchmark suite for multi-scene long video generation.

The public Python API (``mvbench.__all__``) is loaded lazily: ``import mvbench`` imports neither torch
nor numpy; each name is imported on first use.

>>> import mvbench
>>> "evaluate" in mvbench.__all__ and callable(mvbench.evaluate)
True
"""

from __future__ import annotations

import importlib as _importlib

__version__ = "0.1.0"

#: public name -> "module:attribute" (or "module" for a sub-module)
_LAZY: dict[str, str] = {
    "evaluate": "mvbench.api:evaluate",
    "embed_scenes": "mvbench.api:embed_scenes",
    "embed_texts": "mvbench.api:embed_texts",
    "load_suite": "mvbench.suite:load_suite",
    "load_results": "mvbench.results:load_results",
    "write_results": "mvbench.results:write_results",
    "to_dataframe": "mvbench.results:to_dataframe",
    "metrics_dataframe": "mvbench.results:metrics_dataframe",
    "list_metrics": "mvbench.catalog:list_metrics",
    "list_encoders": "mvbench.catalog:list_encoders",
    "list_suites": "mvbench.catalog:list_suites",
    "list_weights": "mvbench.catalog:list_weights",
    "list_protocols": "mvbench.catalog:list_protocols",
    "create_encoder": "mvbench.encoders:create_encoder",
    "fetch_weights": "mvbench.weights:fetch",
    "MvbenchError": "mvbench.errors:MvbenchError",
    "catalog": "mvbench.catalog",
    "results": "mvbench.results",
    "weights": "mvbench.weights",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'mvbench' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = _importlib.import_module(module)
    if attr:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
