"""The DeepFace backend offline: missing weights give a clear error; fabricated weights run the real code.

The fabricated-weights test builds DeepFace's own VGG-Face network (pytorch engine, DeepFace >= 0.0.100)
with random values, saves its state dict as ``vgg_face_weights.pth`` in a temporary DEEPFACE_HOME, and
runs detection ("skip": needs no file), embedding and bank matching through DeepFace. VGG-Face has
~145M parameters (a ~580 MB file): building it, saving, loading, hashing and three CPU forward
passes make this the slowest test of the area (~25-40 s on 2 shared CPU cores).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

pytest.importorskip("deepface")
torch = pytest.importorskip("torch")

from mvbench.errors import WeightsMissingError  # noqa: E402
from mvbench.faces import deepface_backend as dfb  # noqa: E402


@pytest.fixture
def deepface_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    (tmp_path / ".deepface" / "weights").mkdir(parents=True)
    return tmp_path / ".deepface" / "weights"


@pytest.fixture
def pytorch_engine(monkeypatch):
    backend_utils = pytest.importorskip("deepface.commons.backend_utils",
                                        reason="DeepFace < 0.0.100 has only the tensorflow engine")
    monkeypatch.setattr(backend_utils, "_backend_engine", "pytorch")
    return "pytorch"


def test_file_table_matches_installed_deepface(pytorch_engine):
    """Our file names are the ones the installed DeepFace downloads (from its own URL constants)."""
    weight_utils = importlib.import_module("deepface.commons.weight_utils")
    modeling = importlib.import_module("deepface.modules.modeling")
    checked = 0
    for task, model, attrs in weight_utils.WEIGHT_SOURCES:
        if task != "facial_recognition" or model not in dfb.RECOGNITION_FILES:
            continue
        module = importlib.import_module(modeling.get_model_class(task, model).__module__)
        url = getattr(module, attrs[0])
        url = url[0] if isinstance(url, list) else url
        expected = dfb.RECOGNITION_FILES[model].get("pytorch") or dfb.RECOGNITION_FILES[model]["any"]
        if url.endswith(".bz2"):
            url = url[: -len(".bz2")]
        assert url.rsplit("/", 1)[-1] == expected, model
        checked += 1
    assert checked >= 5


def test_missing_weights_clear_error(deepface_home, pytorch_engine):
    with pytest.raises(WeightsMissingError) as err:
        dfb.DeepFaceBackend(dfb.DeepFaceOptions(detector="skip", crop_detector="skip"))
    msg = str(err.value)
    assert "vgg_face_weights.pth" in msg and "mvbench weights import deepface-vggface-pt PATH" in msg
    assert str(deepface_home) in msg
    assert not any(deepface_home.iterdir())  # nothing was downloaded


def test_opencv_detector_lists_its_cascades_when_opencv_lacks_them(deepface_home, pytorch_engine, monkeypatch):
    monkeypatch.setattr(dfb, "_opencv_ships_cascades", lambda: False)
    with pytest.raises(WeightsMissingError) as err:
        dfb.check_weights("VGG-Face", ("opencv",), "pytorch")
    assert "deepface-haarcascade-face" in str(err.value) and "deepface-haarcascade-eye" in str(err.value)


def test_fabricated_vggface_runs_offline(deepface_home, pytorch_engine):
    from deepface.models.facial_recognition.pytorch.VGGFace import VggFaceBaseModel

    from mvbench.faces import build_bank, get_protocol, recognize_shot

    with torch.device("meta"):  # shapes and key names only; values are filled below
        keys = {k: v.shape for k, v in VggFaceBaseModel().state_dict().items()}
    gen = torch.Generator().manual_seed(0)
    state = {k: torch.randn(shape, generator=gen) * 0.01 for k, shape in keys.items()}
    torch.save(state, deepface_home / "vgg_face_weights.pth")
    del state
    be = dfb.DeepFaceBackend(dfb.DeepFaceOptions(detector="skip", crop_detector="skip"))
    assert be.engine == "pytorch" and be.threshold == pytest.approx(1.17)
    assert be.describe()["weights"] == "vgg_face_weights.pth" and len(be.weights_sha256) == 64

    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)
    b = rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)
    bank = build_bank(be, {"A": [_png(deepface_home.parent, "a.png", a)], "B": [_png(deepface_home.parent, "b.png", b)]})
    assert bank.embeddings.shape == (2, 4096) and np.isfinite(bank.embeddings).all()
    faces = be.detect(a)
    assert len(faces) == 1 and faces[0].confidence == 0.0  # "skip": the whole frame
    # a shot made of portrait A's image recognises A (distance 0) with the confidence filter off
    names, matches = recognize_shot(be, bank, a[None], get_protocol("mvbench", min_confidence=0.0, crop_scale=1.0))
    assert names == {"A"} and matches[0].distance == pytest.approx(0.0, abs=1e-3)
    assert sorted(p.name for p in deepface_home.iterdir()) == ["vgg_face_weights.pth",
                                                              "vgg_face_weights.pth.sha256.json"]


def _png(folder, name, img):
    from PIL import Image

    path = folder / name
    Image.fromarray(img).save(path)
    return path
