"""MovieBench's frame detector, ``fastmtcnn`` (facenet-pytorch's MTCNN through DeepFace), on our torch.

facenet-pytorch 2.6.0 pins ``torch<2.3``, so it is installed without its dependencies
(``pip install --no-deps facenet-pytorch==2.6.0``; its wheel ships the MTCNN weights). These tests
run it on real photographs with the real weights and skip when it is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("deepface")
pytest.importorskip("dlib")
torch = pytest.importorskip("torch")

from mvbench.faces.installed_weights import package_dir  # noqa: E402

if package_dir("facenet_pytorch") is None:
    pytest.skip("facenet-pytorch is not installed: pip install --no-deps facenet-pytorch==2.6.0",
                allow_module_level=True)
if package_dir("face_recognition_models") is None:
    pytest.skip("face-recognition-models is not installed (pip install -e '.[face]')", allow_module_level=True)


def test_mtcnn_weights_are_plain_state_dicts():
    """The three networks' files load with weights_only=True (no pickled code) on this torch."""
    folder = package_dir("facenet_pytorch") / "data"
    for name, key in (("pnet", "conv1.weight"), ("rnet", "conv1.weight"), ("onet", "conv1.weight")):
        state = torch.load(folder / f"{name}.pt", map_location="cpu", weights_only=True)
        assert key in state and all(isinstance(v, torch.Tensor) for v in state.values()), name


@pytest.fixture(scope="module")
def people():
    from mvbench.faces.backend import FaceBox
    from mvbench.faces.bank import load_rgb
    from mvbench.faces.photos import Person, bundled_photos

    found, missing = bundled_photos(["astronaut", "grace_hopper"])
    if missing:
        pytest.skip(f"photographs not installed: {missing}")
    # face boxes as dlib finds them (tests/test_faces_dlib.py); only used to cut the scene sprites
    boxes = {"astronaut": FaceBox(178, 79, 90, 90), "grace_hopper": FaceBox(172, 149, 185, 185)}
    return {p.name: Person(p.name, [(load_rgb(p.path), boxes[p.name])], [str(p.path)]) for p in found}


def test_fastmtcnn_detects_and_the_shot_is_recognised(people, tmp_path, monkeypatch):
    """A two-person frame: MTCNN finds both faces with probability >= 0.8 (MovieBench's filter), and
    with dlib recognition (offline weights) the shot's prediction is both names."""
    from PIL import Image

    from mvbench.faces import build_bank, get_protocol, recognize_shot
    from mvbench.faces.deepface_backend import DeepFaceBackend, DeepFaceOptions
    from mvbench.faces.meta_eval import Augment, bank_portrait, render_scene

    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path / "home"))
    be = DeepFaceBackend(DeepFaceOptions(model="Dlib", detector="fastmtcnn", crop_detector="fastmtcnn"))
    assert be.describe()["tier"]["name"] == "custom"
    frame = render_scene([(people["astronaut"], 0, Augment()), (people["grace_hopper"], 0, Augment())], 1, seed=0)[0]
    faces = be.detect(frame)
    assert len(faces) == 2 and all(f.confidence >= 0.8 for f in faces)
    centres = sorted(f.box.x + f.box.w / 2 for f in faces)
    assert abs(centres[0] - 90) < 25 and abs(centres[1] - 270) < 25  # one per 180-pixel slot
    paths = {}
    for name, person in people.items():
        paths[name] = [tmp_path / f"{name}.png"]
        Image.fromarray(bank_portrait(person)).save(paths[name][0])
    bank = build_bank(be, paths)
    names, matches = recognize_shot(be, bank, frame[None], get_protocol("mvbench"))
    assert names == {"astronaut", "grace_hopper"}
    assert all(m.distance < be.threshold for m in matches) and np.isfinite(bank.embeddings).all()
