"""Confusion Degree and text-video consistency at video and frame level.

Source: "Frame-Level Captions for Long Video Generation with Complex Multi Scenes", section 5.3,
Eq. 2-5. With a text encoder Phi_T and a video encoder Phi_V sharing one embedding space (ViCLIP),
F frame-level prompts P_1..P_F and the F video segments V_1..V_F they describe:

* Eq. 2   S_global = cos(Phi_T(P_g), Phi_V(V))                  (global prompt vs whole video)
* Eq. 3   S_TT(P_i, P_j) = cos(Phi_T(P_i), Phi_T(P_j)),  S_TF(P_i, V_j) = cos(Phi_T(P_i), Phi_V(V_j))
* norm.   S~_TT(P_i, P_j) = S_TT(P_i, P_j) / S_TT(P_i, P_i),  S~_TF(P_i, V_j) = S_TF(P_i, V_j) / S_TF(P_i, V_i)
* Eq. 4   CD_i = sum_j max(0, S~_TF(P_i, V_j) - S~_TT(P_i, P_j))
* Eq. 5   CD = (1/F) sum_i CD_i                                   (lower is better)

Frame-level text-video consistency is the mean of the matched similarities S_TF(P_i, V_i).

Dependence on F. The j = i term of Eq. 4 is always 0 (both normalised diagonals are 1), so CD_i sums
F - 1 off-diagonal terms and CD grows with the number of frame-level prompts: F prompts that
all see the same clip, with mutually orthogonal texts, give CD = F - 1. The per-pair-normalised
variant (mvbench's addition, metric ``confusion_degree_normalized``) divides by the number of other
segments each prompt is compared with,

*         CD_norm = CD / (F - 1) = (1 / (F (F - 1))) sum_i sum_{j != i} max(0, S~_TF(i, j) - S~_TT(i, j))

(over the usable prompts i), the mean confusion per ordered pair of distinct segments: the example
above gives 1 for every F, so values are comparable across items and suites with different F.

Degenerate normaliser. S_TF(P_i, V_i) is a cosine and can be zero, negative or tiny; dividing by it
then flips signs or explodes. A prompt whose normaliser is below ``eps`` is *degenerate* and is
handled by ``degenerate``:

* ``"exclude"`` (default): CD_i is undefined (NaN in ``per_prompt``), the prompt is left out of
  the mean of Eq. 5 and counted in ``num_degenerate``; if every prompt is degenerate, ``cd`` is
  None. Nothing is invented, and the count is reported next to the score.
* ``"floor"``: the normaliser is replaced by ``eps`` (CD_i stays defined but becomes large, which
  penalises a segment that does not show its own prompt).

All arithmetic is in float64; outputs never contain inf, and NaN only marks excluded prompts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from metrics._validate import unit_rows

if TYPE_CHECKING:
    import torch

DEGENERATE_POLICIES = ("exclude", "floor")
#: default threshold below which S_TF(P_i, V_i) counts as degenerate (ViCLIP text-video cosines
#: of matching pairs are about 0.15-0.25, see Table 1 of the paper)
DEFAULT_EPS = 0.01


@dataclass(frozen=True)
class ConfusionResult:
    """Everything Eq. 3-5 computes, for inspection.

    ``cd`` is Eq. 5 (None when no prompt is usable), ``per_prompt`` the CD_i of Eq. 4 ([F],
    NaN for excluded degenerate prompts), ``s_tt``/``s_tf`` the raw F x F similarity matrices
    (row i = prompt i, column j = prompt/segment j), ``s_tt_norm``/``s_tf_norm`` their
    row-normalised versions, ``degenerate`` a [F] bool mask of prompts with a normaliser below eps.
    """

    cd: float | None
    per_prompt: torch.Tensor
    s_tt: torch.Tensor
    s_tf: torch.Tensor
    s_tt_norm: torch.Tensor
    s_tf_norm: torch.Tensor
    degenerate: torch.Tensor
    policy: str
    eps: float

    @property
    def num_prompts(self) -> int:
        return int(self.per_prompt.shape[0])

    @property
    def num_degenerate(self) -> int:
        return int(self.degenerate.sum().item())

    @property
    def cd_normalized(self) -> float | None:
        """``cd / (F - 1)``: the mean confusion per ordered pair of distinct segments (None when F < 2
        or ``cd`` is None); see the module docstring."""
        if self.cd is None or self.num_prompts < 2:
            return None
        return self.cd / (self.num_prompts - 1)

    def per_prompt_list(self) -> list[float | None]:
        """CD_i as plain floats (None for excluded prompts), e.g. for a results file."""
        return [None if math.isnan(v) else float(v) for v in self.per_prompt.tolist()]


def cosine_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Float64 cosine similarities ``[A, B]`` between the rows of ``a`` [A, d] and ``b`` [B, d]."""
    return unit_rows(a, "first argument") @ unit_rows(b, "second argument").T


def confusion_degree(
    text_emb: torch.Tensor,
    segment_emb: torch.Tensor,
    eps: float = DEFAULT_EPS,
    degenerate: str = "exclude",
) -> ConfusionResult:
    """Confusion Degree (Eq. 3-5) of F frame-level prompts against the F segments they describe.

    ``text_emb`` [F, d]: Phi_T(P_i); ``segment_emb`` [F, d]: Phi_V(V_i) (row i is the segment
    prompt i describes). Embeddings need not be normalised (cosines are taken). See the module
    docstring for ``eps`` and the ``degenerate`` policy.
    """
    import torch

    if degenerate not in DEGENERATE_POLICIES:
        raise ValueError(f"degenerate must be one of {DEGENERATE_POLICIES}, got {degenerate!r}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    text_emb = torch.as_tensor(text_emb)
    segment_emb = torch.as_tensor(segment_emb)
    if text_emb.ndim != 2 or segment_emb.ndim != 2 or text_emb.shape != segment_emb.shape:
        raise ValueError(
            f"text_emb and segment_emb must both have shape [F, d]; got {tuple(text_emb.shape)} "
            f"and {tuple(segment_emb.shape)} (one segment per frame-level prompt)"
        )
    if text_emb.shape[0] == 0:
        raise ValueError("Confusion Degree needs at least one frame-level prompt")
    s_tt = cosine_matrix(text_emb, text_emb)
    s_tf = cosine_matrix(text_emb, segment_emb)
    s_tt_norm = s_tt / torch.diagonal(s_tt).unsqueeze(1)
    tf_diag = torch.diagonal(s_tf)
    is_degenerate = tf_diag < eps
    normaliser = torch.where(is_degenerate, torch.full_like(tf_diag, eps), tf_diag)
    s_tf_norm = s_tf / normaliser.unsqueeze(1)
    per_prompt = torch.clamp(s_tf_norm - s_tt_norm, min=0.0).sum(dim=1)
    if degenerate == "exclude":
        per_prompt = torch.where(is_degenerate, torch.full_like(per_prompt, math.nan), per_prompt)
        s_tf_norm = torch.where(is_degenerate.unsqueeze(1), torch.full_like(s_tf_norm, math.nan), s_tf_norm)
        usable = per_prompt[~is_degenerate]
        cd = float(usable.mean()) if usable.numel() else None
    else:
        cd = float(per_prompt.mean())
    return ConfusionResult(cd, per_prompt, s_tt, s_tf, s_tt_norm, s_tf_norm, is_degenerate, degenerate, eps)


def video_text_consistency(global_text_emb: torch.Tensor, video_emb: torch.Tensor) -> float:
    """Video-level text-video consistency, Eq. 2: cos(Phi_T(P_g), Phi_V(V)), vectors [d]."""
    import torch

    a = torch.as_tensor(global_text_emb)
    b = torch.as_tensor(video_emb)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"expected two [d] vectors, got {tuple(a.shape)} and {tuple(b.shape)}")
    return float(cosine_matrix(a.unsqueeze(0), b.unsqueeze(0))[0, 0])


def frame_text_consistency(text_emb: torch.Tensor, segment_emb: torch.Tensor) -> float:
    """Frame-level text-video consistency: (1/F) sum_i S_TF(P_i, V_i), the mean matched cosine."""
    import torch

    text_emb = torch.as_tensor(text_emb)
    segment_emb = torch.as_tensor(segment_emb)
    if text_emb.ndim != 2 or text_emb.shape != segment_emb.shape or text_emb.shape[0] == 0:
        raise ValueError(
            f"text_emb and segment_emb must both have shape [F, d] with F >= 1; got "
            f"{tuple(text_emb.shape)} and {tuple(segment_emb.shape)}"
        )
    a = unit_rows(text_emb, "text_emb")
    b = unit_rows(segment_emb, "segment_emb")
    return float((a * b).sum(dim=1).mean())


def normalize_confusion_degree(cd: float | None, num_prompts: int) -> float | None:
    """Per-pair-normalised Confusion Degree ``CD / (F - 1)`` (mvbench's addition, not the paper's).

    Eq. 4 sums ``F - 1`` off-diagonal terms per prompt (the j = i term is 0), so Eq. 5 grows with F;
    dividing by ``F - 1`` gives the mean confusion per ordered pair of distinct segments, comparable
    across F. None for F < 2 or a missing CD.

    >>> normalize_confusion_degree(2.0, 3)       # F = 3 prompts on one repeated clip: CD = F - 1 = 2
    1.0
    >>> normalize_confusion_degree(7 / 3, 3)     # the swapped-segment example of docs/confusion_degree.md
    1.1666666666666667
    >>> normalize_confusion_degree(0.5, 1) is None
    True
    """
    if cd is None or num_prompts < 2:
        return None
    return float(cd) / (num_prompts - 1)
