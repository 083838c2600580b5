"""Grounding-DINO loader (mvbench/encoders/grounding_dino.py) on a fabricated tiny folder in the official
Hugging Face layout: strict loading, the weights cache, refused files, and the detector's outputs."""

from __future__ import annotations

import os
import shutil

import pytest
import torch
from _tiny_models import FOLDER_FILES, make_tiny_grounding_dino

from mvbench import weights
from mvbench.encoders.grounding_dino import FILES, caption, entry_name, load_grounding_dino
from mvbench.errors import CheckpointMismatchError, MvbenchError, WeightsMissingError


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_tiny_grounding_dino(tmp_path_factory.mktemp("gd") / "grounding-dino-test")


@pytest.fixture(scope="module")
def detector(folder):
    return load_grounding_dino(str(folder))


def _copy(folder, dst):
    shutil.copytree(folder, dst)
    return dst


def test_registered_files_are_the_fabricated_layout():
    assert set(FILES) == set(FOLDER_FILES)
    for model in ("grounding-dino-tiny", "grounding-dino-base"):
        for f in FILES:
            spec = weights.get_spec(entry_name(model, f))
            assert spec.filename == f"{model}/{f}" and spec.url.endswith(f"/resolve/main/{f}")


def test_detect_matches_the_model_called_directly(folder, detector):
    from transformers import AutoProcessor, GroundingDinoForObjectDetection

    frames = torch.randint(0, 256, (2, 40, 56, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    probs, boxes, positions = detector.detect(frames, "  A Red   Circle ")
    # reference: Grounding-DINO's caption convention written out by hand, the model called directly
    proc = AutoProcessor.from_pretrained(folder)
    model = GroundingDinoForObjectDetection.from_pretrained(folder).eval()
    inputs = proc(images=[f.numpy() for f in frames], text=["a red circle."] * 2, return_tensors="pt")
    with torch.no_grad():
        out = model(**inputs)
    torch.testing.assert_close(probs, torch.sigmoid(out.logits))
    torch.testing.assert_close(boxes, out.pred_boxes)
    ids = inputs["input_ids"][0].tolist()
    vocab = proc.tokenizer.convert_ids_to_tokens(ids)
    assert vocab == ["[CLS]", "a", "red", "circle", ".", "[SEP]"]
    assert positions == [1, 2, 3]  # the phrase's words, not [CLS], '.' or [SEP]
    assert probs.shape == (2, 12, 32) and float(probs[:, :, len(ids):].max()) == 0.0  # padding positions


def test_caption_convention():
    assert caption("Dog") == "dog." and caption("a cat.") == "a cat."
    with pytest.raises(ValueError):
        caption("   ")


def test_registered_name_loads_from_the_cache(folder):
    for f in FILES:
        weights.import_file(entry_name("grounding-dino-tiny", f), folder / f)
    det = load_grounding_dino("grounding-dino-tiny")
    assert det.weights_name == "grounding-dino-tiny"
    assert det.weights_sha256 == weights.file_sha256_nocache(folder / "model.safetensors")
    assert det.describe()["weights"] == "grounding-dino-tiny"


def test_missing_files_name_every_fetch_command(folder):
    weights.import_file("grounding-dino-tiny", folder / "model.safetensors")
    weights.import_file("grounding-dino-tiny:config.json", folder / "config.json")
    with pytest.raises(WeightsMissingError) as err:
        load_grounding_dino("grounding-dino-tiny")
    text = str(err.value)
    assert "3 of its 5 files are not in the cache" in text
    for f in ("preprocessor_config.json", "tokenizer_config.json", "vocab.txt"):
        assert f"`mvbench weights fetch grounding-dino-tiny:{f}`" in text
    assert "fetch grounding-dino-tiny:config.json" not in text


def test_unknown_name_or_folder(tmp_path):
    with pytest.raises(MvbenchError, match="neither a registered name nor a folder"):
        load_grounding_dino(str(tmp_path / "nowhere"))
    with pytest.raises(MvbenchError, match="no config.json"):
        load_grounding_dino(str(tmp_path))


def test_checkpoint_keys_are_checked_strictly(folder, tmp_path):
    from safetensors.torch import load_file, save_file

    bad = _copy(folder, tmp_path / "bad")
    state = load_file(bad / "model.safetensors")
    dropped = "model.input_proj_vision.0.0.weight"
    reshaped = "model.level_embed"
    assert dropped in state and reshaped in state
    state.pop(dropped)
    state["model.extra_head.weight"] = torch.zeros(3)
    state[reshaped] = torch.zeros(2, 2)
    save_file(state, bad / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointMismatchError) as err:
        load_grounding_dino(str(bad))
    text = str(err.value)
    assert "1 missing keys: " + dropped in text
    assert "1 unexpected keys: model.extra_head.weight" in text
    assert f"{reshaped} (2, 2) (expected (4, 32))" in text


class _Payload:
    """An object whose unpickling would run a command: must never be loaded."""

    def __reduce__(self):
        return (os.system, ("echo should-not-run",))


def test_pickled_objects_are_refused(folder, tmp_path):
    bad = _copy(folder, tmp_path / "pickled")
    (bad / "model.safetensors").unlink()
    torch.save({"model.level_embed": torch.zeros(4, 32), "payload": _Payload()}, bad / "pytorch_model.bin")
    with pytest.raises(MvbenchError) as err:
        load_grounding_dino(str(bad))
    text = str(err.value)
    assert "pytorch_model.bin" in text and "pickled Python objects" in text
    assert "weights_only=False" not in text and "safe_globals" not in text and "trust" not in text


def test_corrupt_safetensors_is_one_clear_error(folder, tmp_path):
    bad = _copy(folder, tmp_path / "corrupt")
    (bad / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(MvbenchError, match=r"cannot load Grounding-DINO .*model\.safetensors"):
        load_grounding_dino(str(bad))


def test_other_model_types_are_refused(folder, tmp_path):
    import json

    bad = _copy(folder, tmp_path / "other")
    cfg = json.loads((bad / "config.json").read_text())
    cfg["model_type"] = "bert"
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(MvbenchError, match="Grounding-DINO config|not 'grounding-dino'"):
        load_grounding_dino(str(bad))
