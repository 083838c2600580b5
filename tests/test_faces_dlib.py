"""The offline real-weights face tier: dlib's models adopted from the face-recognition-models package.

Needs the [face] extra (deepface, dlib-bin, face-recognition-models, scikit-image); skipped without it.
Real pretrained weights on real photographs: DeepFace's 'dlib' detector and 'Dlib' recognition model.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

pytest.importorskip("deepface")
pytest.importorskip("dlib")

from mvbench.errors import MvbenchError  # noqa: E402
from mvbench.faces import deepface_backend as dfb  # noqa: E402
from mvbench.faces.installed_weights import adopt_installed, installed_source, package_dir  # noqa: E402
from mvbench.weights import REGISTRY, WeightSpec, file_sha256_nocache, register, verify  # noqa: E402

if package_dir("face_recognition_models") is None:
    pytest.skip("face-recognition-models is not installed (pip install -e '.[face]')", allow_module_level=True)

DLIB = ("deepface-dlib-resnet", "deepface-dlib-shape5")


@pytest.fixture
def deepface_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    return tmp_path / ".deepface" / "weights"


def test_registered_hashes_are_the_installed_files():
    for name in DLIB:
        src = installed_source(name)
        assert src is not None and src.name == REGISTRY[name].filename
        assert file_sha256_nocache(src) == REGISTRY[name].sha256
        assert src.stat().st_size == REGISTRY[name].size


def test_adoption_links_the_package_file_and_verifies(deepface_home):
    for name in DLIB:
        path = adopt_installed(name)
        assert path == deepface_home / REGISTRY[name].filename
        assert path.is_symlink() and path.resolve() == installed_source(name).resolve()
        assert verify(name).status == "ok"
        assert adopt_installed(name) == path  # already in place: nothing to do
    files = sorted(p.name for p in deepface_home.iterdir() if not p.name.endswith(".sha256.json"))
    assert files == sorted(REGISTRY[n].filename for n in DLIB)  # nothing else (no download, no copy)


def test_adoption_refuses_a_file_that_does_not_match(deepface_home):
    spec = REGISTRY["deepface-dlib-shape5"]
    register(WeightSpec("unit-test-dlib", "x.dat", spec.url, sha256="0" * 64, location="deepface",
                        extras=dict(spec.extras)))
    try:
        with pytest.raises(MvbenchError, match="not the registered"):
            adopt_installed("unit-test-dlib")
        assert not (deepface_home / "x.dat").exists()
    finally:
        REGISTRY.pop("unit-test-dlib", None)


def test_check_weights_adopts_missing_files(deepface_home):
    paths = dfb.check_weights("Dlib", ("dlib", "dlib"), "pytorch")
    assert [p.name for p in paths] == ["dlib_face_recognition_resnet_model_v1.dat", "shape_predictor_5_face_landmarks.dat"]
    assert all(p.is_symlink() and p.is_file() for p in paths)


def test_missing_packages_say_how_to_install(deepface_home, monkeypatch):
    real = importlib.util.find_spec

    def without(*names):
        monkeypatch.setattr(dfb.importlib.util, "find_spec", lambda n, *a: None if n in names else real(n, *a))

    without("facenet_pytorch")
    with pytest.raises(MvbenchError) as err:
        dfb.check_weights("Dlib", ("fastmtcnn", "dlib"), "pytorch")
    assert "pip install --no-deps facenet-pytorch==2.6.0" in str(err.value)
    without("dlib")
    with pytest.raises(MvbenchError, match=r"dlib-bin") as err:
        dfb.check_weights("Dlib", ("skip",), "pytorch")
    assert ".[face]" in str(err.value)


@pytest.fixture(scope="module")
def dlib_backend(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEEPFACE_HOME", str(tmp_path_factory.mktemp("deepface_home")))
        yield dfb.DeepFaceBackend(dfb.DeepFaceOptions(model="Dlib", detector="dlib"))


@pytest.fixture(scope="module")
def photos():
    from mvbench.faces.bank import load_rgb
    from mvbench.faces.photos import bundled_photos

    found, missing = bundled_photos(["astronaut", "grace_hopper"])
    if missing:
        pytest.skip(f"photographs not installed: {missing}")
    return {p.name: load_rgb(p.path) for p in found}


def test_dlib_backend_describes_the_offline_tier(dlib_backend):
    d = dlib_backend.describe()
    assert (d["model"], d["detector"], d["crop_detector"], d["distance"]) == ("Dlib", "dlib", "dlib", "euclidean_l2")
    assert d["threshold"] == pytest.approx(0.4)  # DeepFace's Dlib/euclidean_l2 threshold
    assert d["tier"]["name"] == "dlib-offline" and "not comparable with MovieBench" in d["tier"]["note"]
    assert d["weight_files"] == {REGISTRY[n].filename: REGISTRY[n].sha256 for n in DLIB}


def test_no_face_means_no_detection(dlib_backend):
    """DeepFace answers "nothing found" with the whole image at confidence 0; that is not a face."""
    rng = np.random.default_rng(0)
    blank = (rng.normal(128, 10, (192, 360, 3))).clip(0, 255).astype(np.uint8)
    assert dlib_backend.detect(blank) == []


def test_real_faces_are_found_and_told_apart(dlib_backend, photos):
    """One face per portrait where it is; a mirrored, rescaled crop matches, the other person does not."""
    from PIL import Image

    from mvbench.faces.backend import face_distance

    crops = {}
    for name, img in photos.items():
        faces = dlib_backend.detect(img)
        assert len(faces) == 1, name
        b = faces[0].box
        x0, y0 = max(0, b.x - b.w // 2), max(0, b.y - b.h // 2)
        crops[name] = img[y0:b.y + b.h + b.h // 2, x0:b.x + b.w + b.w // 2]
    a, h = crops["astronaut"], crops["grace_hopper"]
    # the astronaut's face box (Eileen Collins, skimage): about (178, 79) and 90 pixels wide
    box = dlib_backend.detect(photos["astronaut"])[0].box
    assert abs(box.x - 178) <= 6 and abs(box.y - 79) <= 6 and 80 <= box.w <= 100
    mirrored = np.asarray(Image.fromarray(a[:, ::-1]).resize((a.shape[1] * 3 // 2, a.shape[0] * 3 // 2)))
    ea, em, eh = (dlib_backend.embed(np.ascontiguousarray(x)) for x in (a, mirrored, h))
    assert ea.shape == (1, 128) and np.isfinite(ea).all()
    same = face_distance(ea, em, "euclidean_l2")[0, 0]
    other = face_distance(ea, eh, "euclidean_l2")[0, 0]
    assert same < dlib_backend.threshold < other
