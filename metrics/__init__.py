"""Pure metric math over tensors, embeddings and sets (no file IO, no model loading).

Every public metric function is importable from here, e.g. ``from metrics import visual_consistency``.
"""

from metrics.bootstrap import bootstrap_ci
from metrics.consistency import semantic_consistency, sequence_consistency, visual_consistency

__all__ = [
    "bootstrap_ci",
    "semantic_consistency",
    "sequence_consistency",
    "visual_consistency",
]
