"""Worker of the 2-process gloo test of the torchmetrics classes (imported by spawned processes)."""

from __future__ import annotations

import os
import pickle


def run(rank: int, world: int, init_file: str, payload_path: str, out_dir: str) -> None:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        from metrics import (
            FVD,
            CharacterIDScores,
            ConfusionDegree,
            SemanticConsistency,
            SequenceConsistency,
            VisualConsistency,
        )

        with open(payload_path, "rb") as fh:
            data = pickle.load(fh)
        items = data["items"][rank::world]  # this rank's share, round-robin like the runner
        v = [torch.from_numpy(i["video"]) for i in items]
        t = [torch.from_numpy(i["text"]) for i in items]
        vc, sc, seq = VisualConsistency(decimals=6), SemanticConsistency(decimals=6), SequenceConsistency(decimals=6)
        cd = ConfusionDegree(decimals=6)
        vc.update(v)
        sc.update(v, t)
        seq.update(v, t)
        cd.update(t, v)
        fvd = FVD(reference=data["fvd_reference"])
        fvd.update(torch.cat([torch.from_numpy(i["fvd"]) for i in items]))
        shots = data["shots"][rank::world]
        ids = CharacterIDScores()
        ids.update([s[0] for s in shots], [s[1] for s in shots])
        out = {"visual_consistency": vc.compute(), "semantic_consistency": sc.compute(),
               "sequence_consistency": seq.compute(), "confusion_degree": cd.compute(), "fvd": fvd.compute(),
               **ids.compute(), "local_items": len(items), "local_clips": int(fvd.fake_count)}
        out = {k: float(x) if hasattr(x, "item") else x for k, x in out.items()}
        with open(os.path.join(out_dir, f"rank{rank}.pkl"), "wb") as fh:
            pickle.dump(out, fh)
    finally:
        dist.destroy_process_group()
