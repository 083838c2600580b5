"""Every checkpoint loader refuses a hostile file (a pickle that would run code) with one clear line that
names the weight entry, the file and what to do, and never suggests allow-listing (issue 19, point 3)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mvbench.errors import MvbenchError
from mvbench.weights import weight_path

MARKER = "HOSTILE_PAYLOAD_RAN"


class _Payload:
    """Unpickling this calls ``os.system``: a weights-only loader must refuse it."""

    def __reduce__(self):
        return (os.system, (f"echo {MARKER} > /dev/null",))


def _hostile_torch_file(path):
    torch.save({"model": _Payload(), "state_dict": _Payload()}, path)
    return path


def _hostile_plain_pickle(path):
    with open(path, "wb") as fh:
        pickle.dump({"model": _Payload()}, fh)
    return path


def _viclip_l14(path):
    from mvbench.encoders.viclip import build_viclip_l14

    return build_viclip_l14(path)


def _viclip_b16(path):
    from mvbench.encoders.viclip import build_viclip_b16

    return build_viclip_b16(path)


def _i3d(path):
    from mvbench.encoders.i3d import build_i3d_k400

    return build_i3d_k400(path)


def _i3d_torchscript(path):
    from mvbench.encoders.i3d import build_i3d_torchscript

    return build_i3d_torchscript(path)


def _videomae(path):
    from mvbench.encoders.videomae import build_videomae_v2_g

    return build_videomae_v2_g(path)


def _dino(path):
    from mvbench.encoders.dino import load_dino

    return load_dino(path)


def _clip_openai(path):
    from mvbench.encoders.clip_openai import CLIP_VIT_B32, load_openai_clip_visual

    return load_openai_clip_visual(path, CLIP_VIT_B32, "clip-vit-b32-openai")


def _aesthetic(path):
    from mvbench.encoders.aesthetic import load_aesthetic_head

    return load_aesthetic_head(path)


def _musiq(path):
    from mvbench.encoders.musiq import load_musiq

    return load_musiq(path)


def _inception(path):
    from mvbench.encoders.inception import load_inception

    return load_inception(path, "inception-fid")


def _clip_hf(path):
    from transformers import CLIPConfig

    from mvbench.encoders.clip_hf import load_clip_model

    return load_clip_model(Path(path), CLIPConfig(), "clip-vit-b32-hf", "clip-vit-b32-hf")


def _amt(path):
    from mvbench.encoders.amt import load_amt_s

    return load_amt_s(path)


def _raft(path):
    from mvbench.encoders.raft import load_raft

    return load_raft(path)


LOADERS = {
    "amt-s": _amt,
    "raft-things": _raft,
    "viclip-l14": _viclip_l14,
    "viclip-b16": _viclip_b16,
    "i3d-k400": _i3d,
    "i3d-torchscript": _i3d_torchscript,
    "videomae-v2-g": _videomae,
    "dino-vitb16": _dino,
    "clip-vit-b32-openai": _clip_openai,
    "laion-aesthetic-vit-l14": _aesthetic,
    "musiq-spaq": _musiq,
    "inception-fid": _inception,
    "clip-vit-b32-hf": _clip_hf,
}


@pytest.mark.parametrize("make", [_hostile_torch_file, _hostile_plain_pickle], ids=["torch-zip", "plain-pickle"])
@pytest.mark.parametrize("entry", sorted(LOADERS))
def test_loader_refuses_hostile_file(entry, make, tmp_path, capfd):
    path = make(tmp_path / "weights.pth")
    with pytest.raises(MvbenchError) as info:
        LOADERS[entry](path)
    text = str(info.value)
    assert f"weights {entry!r}" in text and str(path) in text
    assert f"mvbench weights fetch {entry}" in text
    lowered = text.lower()
    assert "allowlist" not in lowered and "safe_globals" not in lowered and "weights_only" not in lowered
    assert MARKER not in capfd.readouterr().out


def test_evaluate_with_hostile_viclip_gives_one_error_line(demo_videos, tmp_path):
    target = weight_path("viclip-l14")
    target.parent.mkdir(parents=True, exist_ok=True)
    _hostile_torch_file(target)
    proc = subprocess.run([sys.executable, "-m", "mvbench", "evaluate", "--suite", "mvbench-demo", "--videos",
                           str(demo_videos), "--out", str(tmp_path / "r.json"), "--no-cache", "--device", "cpu",
                           "--no-progress"], capture_output=True, text=True, timeout=300,
                          env=os.environ | {"PYTHONWARNINGS": "ignore"})
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "weights 'viclip-l14'" in proc.stderr and "pickled Python object" in proc.stderr
    assert "allowlist" not in proc.stderr.lower() and "add_safe_globals" not in proc.stderr
    assert MARKER not in proc.stdout
    assert not (tmp_path / "r.json").exists()
