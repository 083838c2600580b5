"""Face backend on DeepFace (the ``[face]`` extra), offline: weight files are checked, never downloaded.

Defaults follow MovieBench's published script (Sec. 3.5): frame detector ``fastmtcnn``, recognition
model ``VGG-Face``, distance ``euclidean_l2`` with DeepFace's own threshold for that pair (1.17 in
DeepFace 0.0.9x/0.0.10x), and ``DeepFace.find``'s defaults for the crop (``opencv`` detector run
inside the crop, alignment on, the whole crop used when it finds no face).

Where DeepFace looks for weights: ``$DEEPFACE_HOME/.deepface/weights/FILE`` (``DEEPFACE_HOME``
defaults to the home folder). Which file depends on the model and on DeepFace's engine
(``tensorflow`` if installed, else ``pytorch``, else ``onnx``; ``DEEPFACE_BACKEND_ENGINE`` forces
one, DeepFace >= 0.0.100): VGG-Face is ``vgg_face_weights.h5`` / ``.pth`` / ``.onnx``. The
``opencv`` detector needs two Haar cascades, shipped inside OpenCV 4 wheels but not OpenCV 5 ones
(DeepFace then downloads them). ``skip`` needs nothing; ``fastmtcnn``, ``mtcnn`` and ``mediapipe``
carry their weights in their own pip packages (``facenet-pytorch``, ``mtcnn``, ``mediapipe``).

Before any DeepFace model is built, every file the chosen model/detectors need is checked and a
:class:`~mvbench.errors.WeightsMissingError` lists the missing ones with the command that puts each
in place; while models are built, DeepFace's downloader is replaced by one that raises instead.

The offline real-weights tier: ``model="Dlib"`` with ``detector="dlib"`` (dlib's HOG detector and
5-point landmarks, dlib's ResNet recogniser). The ``[face]`` extra installs ``dlib-bin`` and
``face-recognition-models``, whose files are adopted into DeepFace's folder on first use
(:mod:`mvbench.faces.installed_weights`): no download, sha256 checked. Its numbers are real but not
MovieBench's (:func:`face_tier` says which kind a results file holds).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mvbench.errors import MissingExtraError, MvbenchError, WeightsMissingError
from mvbench.faces.backend import DISTANCE_METRICS, DetectedFace, FaceBackend, FaceBox

ENGINES = ("tensorflow", "pytorch", "onnx")

#: recognition model -> {engine or "any": file name under $DEEPFACE_HOME/.deepface/weights}
RECOGNITION_FILES: dict[str, dict[str, str]] = {
    "VGG-Face": {"tensorflow": "vgg_face_weights.h5", "pytorch": "vgg_face_weights.pth",
                 "onnx": "vgg_face_weights.onnx"},
    "Facenet": {"tensorflow": "facenet_weights.h5", "pytorch": "facenet_weights.pth", "onnx": "facenet_weights.onnx"},
    "Facenet512": {"tensorflow": "facenet512_weights.h5", "pytorch": "facenet512_weights.pth",
                   "onnx": "facenet512_weights.onnx"},
    "OpenFace": {"tensorflow": "openface_weights.h5", "pytorch": "openface_weights.pth",
                 "onnx": "openface_weights.onnx"},
    "DeepFace": {"tensorflow": "VGGFace2_DeepFace_weights_val-0.9034.h5",
                 "pytorch": "VGGFace2_DeepFace_weights_val-0.9034.pth",
                 "onnx": "VGGFace2_DeepFace_weights_val-0.9034.onnx"},
    "DeepID": {"tensorflow": "deepid_keras_weights.h5", "pytorch": "deepid_weights.pth", "onnx": "deepid_weights.onnx"},
    "ArcFace": {"tensorflow": "arcface_weights.h5", "pytorch": "arcface_weights.pth", "onnx": "arcface_weights.onnx"},
    "GhostFaceNet": {"tensorflow": "ghostfacenet_v1.h5", "pytorch": "ghostfacenet_v1.pth", "onnx": "ghostfacenet_v1.onnx"},
    "SFace": {"any": "face_recognition_sface_2021dec.onnx"},
    "Dlib": {"any": "dlib_face_recognition_resnet_model_v1.dat"},
}

#: detector -> files under the DeepFace weights folder ("opencv": only when OpenCV ships no cascades)
DETECTOR_FILES: dict[str, tuple[str, ...]] = {
    "skip": (),
    "opencv": ("haarcascade_frontalface_default.xml", "haarcascade_eye.xml"),
    "ssd": ("deploy.prototxt", "res10_300x300_ssd_iter_140000.caffemodel"),
    "yunet": ("face_detection_yunet_2023mar.onnx",),
    "centerface": ("centerface.onnx",),
    "dlib": ("shape_predictor_5_face_landmarks.dat",),
    "retinaface": ("retinaface.h5",),
    "fastmtcnn": (),
    "mtcnn": (),
    "mediapipe": (),
}

#: detector -> (import name, pip package) of the package that carries it
DETECTOR_PACKAGES: dict[str, tuple[str, str]] = {
    "fastmtcnn": ("facenet_pytorch", "facenet-pytorch"),
    "mtcnn": ("mtcnn", "mtcnn"),
    "mediapipe": ("mediapipe", "mediapipe"),
    "retinaface": ("retinaface", "retina-face"),
    "dlib": ("dlib", "dlib-bin"),
}

#: recognition model -> (import name, pip package) of the package that runs it
MODEL_PACKAGES: dict[str, tuple[str, str]] = {
    "Dlib": ("dlib", "dlib-bin"),
}

#: packages that cannot be extras because their metadata pins versions mvbench cannot use; they are
#: installed without their dependencies (their own needs are met by mvbench's): import name -> command
NO_DEPS_INSTALL: dict[str, str] = {
    "facenet_pytorch": "pip install --no-deps facenet-pytorch==2.6.0",
}

#: frame detector -> the detector DeepFace runs inside each face crop when none is given: DeepFace.find's
#: default (opencv) for MovieBench's protocol; the dlib tier stays on dlib, which needs no OpenCV cascades
DEFAULT_CROP_DETECTOR: dict[str, str] = {"dlib": "dlib"}

#: frame detector -> default detection-confidence filter when none is given (otherwise 0.8, MovieBench's).
#: DeepFace reports dlib's HOG score clipped to [0, 1]; that score is an SVM margin, not a probability,
#: and dlib already keeps only detections with a positive margin, so the filter is off for it.
DEFAULT_MIN_CONFIDENCE: dict[str, float] = {"dlib": 0.0}

#: weight file name -> mvbench weights registry entry (``mvbench weights import NAME PATH``)
REGISTRY_NAMES: dict[str, str] = {
    "vgg_face_weights.h5": "deepface-vggface",
    "vgg_face_weights.pth": "deepface-vggface-pt",
    "vgg_face_weights.onnx": "deepface-vggface-onnx",
    "haarcascade_frontalface_default.xml": "deepface-haarcascade-face",
    "haarcascade_eye.xml": "deepface-haarcascade-eye",
    "dlib_face_recognition_resnet_model_v1.dat": "deepface-dlib-resnet",
    "shape_predictor_5_face_landmarks.dat": "deepface-dlib-shape5",
}


def _import_deepface():
    try:
        return importlib.import_module("deepface.DeepFace")
    except ImportError as exc:
        raise MissingExtraError("character-ID metrics (DeepFace backend)", "face", "deepface") from exc


def deepface_weights_dir() -> Path:
    """``$DEEPFACE_HOME/.deepface/weights`` (``DEEPFACE_HOME`` defaults to the home folder)."""
    from mvbench.weights import LOCATIONS

    return LOCATIONS["deepface"]()


def deepface_engine() -> str:
    """The engine DeepFace runs its models on; DeepFace < 0.0.100 has only ``tensorflow``."""
    try:
        backend_utils = importlib.import_module("deepface.commons.backend_utils")
    except ImportError:
        return "tensorflow"
    try:
        return backend_utils.get_backend_engine()
    except ValueError as exc:
        raise MvbenchError(f"DeepFace cannot pick an engine: {exc}") from exc


def _opencv_ships_cascades() -> bool:
    spec = importlib.util.find_spec("cv2")
    if spec is None or not spec.origin:
        return False
    data = Path(spec.origin).parent / "data"
    return all((data / f).is_file() for f in DETECTOR_FILES["opencv"])


def required_files(model: str, detectors: tuple[str, ...], engine: str) -> list[str]:
    """Weight file names (under :func:`deepface_weights_dir`) that ``model`` and ``detectors`` need."""
    if model not in RECOGNITION_FILES:
        raise MvbenchError(f"unsupported face model {model!r}", hint="choose from " + ", ".join(RECOGNITION_FILES))
    files = RECOGNITION_FILES[model]
    name = files.get(engine) or files.get("any")
    if name is None:
        raise MvbenchError(f"face model {model!r} has no weights for DeepFace's {engine} engine")
    out = [name]
    for det in dict.fromkeys(detectors):
        if det not in DETECTOR_FILES:
            raise MvbenchError(f"unsupported face detector {det!r} (mvbench cannot check its weights offline)",
                               hint="choose from " + ", ".join(DETECTOR_FILES))
        if det == "opencv" and _opencv_ships_cascades():
            continue
        out.extend(f for f in DETECTOR_FILES[det] if f not in out)
    return out


def _require_package(what: str, import_name: str, pip_name: str) -> None:
    if importlib.util.find_spec(import_name) is not None:
        return
    if import_name in NO_DEPS_INSTALL:
        raise MvbenchError(
            f"{what} needs the package {pip_name!r}, which is not installed",
            hint=f"{NO_DEPS_INSTALL[import_name]}  (its metadata pins an old torch, so it is not part of an "
                 "extra; --no-deps keeps your torch; see docs/character_id.md)")
    raise MissingExtraError(what, "face", pip_name)


def check_weights(model: str, detectors: tuple[str, ...], engine: str) -> list[Path]:
    """Paths of the needed files, or a :class:`WeightsMissingError` listing every missing one.

    A missing file that an installed package ships (dlib's models in ``face-recognition-models``) is
    adopted from it first (:mod:`mvbench.faces.installed_weights`): checked, then linked in.
    """
    from mvbench.faces.installed_weights import adopt_installed_files

    folder = deepface_weights_dir()
    needed = required_files(model, detectors, engine)
    if model in MODEL_PACKAGES:
        _require_package(f"the {model!r} face model", *MODEL_PACKAGES[model])
    for det in dict.fromkeys(detectors):
        if det in DETECTOR_PACKAGES:
            _require_package(f"the {det!r} face detector", *DETECTOR_PACKAGES[det])
    missing = [f for f in needed if not (folder / f).is_file()]
    if missing:
        adopt_installed_files(missing)
        missing = [f for f in needed if not (folder / f).is_file()]
    if missing:
        lines = []
        for f in missing:
            reg = REGISTRY_NAMES.get(f)
            how = f"mvbench weights import {reg} PATH" if reg else f"copy it to {folder / f}"
            lines.append(f"  {f}: {how}")
        raise WeightsMissingError(
            f"DeepFace weights missing from {folder} (engine {engine}, model {model}, "
            f"detectors {', '.join(dict.fromkeys(detectors))}):\n" + "\n".join(lines),
            hint="mvbench never lets DeepFace download at run time; `mvbench weights fetch NAME` downloads a "
                 "registered file, `mvbench weights import NAME PATH` adopts one you have (DEEPFACE_HOME "
                 "sets the folder); dlib's files come with `pip install -e \".[face]\"`")
    return [folder / f for f in needed]


@contextlib.contextmanager
def _no_downloads():
    """Replace DeepFace's downloader, for the duration, by one that raises for a missing file."""
    try:
        weight_utils = importlib.import_module("deepface.commons.weight_utils")
    except ImportError:
        yield
        return
    original = weight_utils.download_weights_if_necessary

    def offline(file_name, source_url, compress_type=None):
        target = deepface_weights_dir() / file_name
        if target.is_file():
            return str(target)
        raise WeightsMissingError(f"DeepFace asked to download {file_name}; mvbench runs offline",
                                  hint=f"place the file at {target} (source: {source_url})")

    weight_utils.download_weights_if_necessary = offline
    try:
        yield
    finally:
        weight_utils.download_weights_if_necessary = original


def _is_whole_image_fallback(box: FaceBox, confidence: float, width: int, height: int) -> bool:
    """DeepFace's answer when a detector finds nothing (``enforce_detection=False``): the whole image,
    confidence 0. It is not a detection; a 0.8 confidence filter drops it, a 0 filter (dlib) would not.

    >>> _is_whole_image_fallback(FaceBox(0, 0, 359, 191), 0.0, 360, 192)
    True
    """
    return confidence == 0.0 and box.x == 0 and box.y == 0 and box.w >= width - 1 and box.h >= height - 1


@dataclass(frozen=True)
class DeepFaceOptions:
    """Options of :class:`DeepFaceBackend` (defaults: MovieBench's script).

    ``crop_detector`` None means :data:`DEFAULT_CROP_DETECTOR` of the frame detector, else ``opencv``.

    >>> DeepFaceOptions().crop_detector, DeepFaceOptions(detector="dlib").crop_detector
    ('opencv', 'dlib')
    """

    detector: str = "fastmtcnn"
    model: str = "VGG-Face"
    distance: str = "euclidean_l2"
    threshold: float | None = None
    crop_detector: str | None = None
    align: bool = True

    def __post_init__(self):
        if self.crop_detector is None:
            object.__setattr__(self, "crop_detector", DEFAULT_CROP_DETECTOR.get(self.detector, "opencv"))


class DeepFaceBackend(FaceBackend):
    """Detect with ``DeepFace.extract_faces``, embed with ``DeepFace.represent``; models built once."""

    name = "deepface"

    def __init__(self, options: DeepFaceOptions | None = None):
        self.options = opts = options or DeepFaceOptions()
        if opts.distance not in DISTANCE_METRICS:
            raise MvbenchError(f"unknown face distance {opts.distance!r}", hint="choose from " + ", ".join(DISTANCE_METRICS))
        self._df = _import_deepface()
        self.engine = deepface_engine()
        self.weight_files = check_weights(opts.model, (opts.detector, opts.crop_detector), self.engine)
        self.distance_metric = opts.distance
        self.threshold = float(opts.threshold) if opts.threshold is not None else self._default_threshold()
        with _no_downloads():
            self._df.build_model(opts.model)
            for det in dict.fromkeys((opts.detector, opts.crop_detector)):
                if det != "skip":
                    self._df.build_model(det, task="face_detector")
        from mvbench.weights import file_sha256

        #: sha256 of every weight file used (recognition model first)
        self.files_sha256 = {p.name: file_sha256(p) for p in self.weight_files}
        self.weights_sha256 = self.files_sha256[self.weight_files[0].name]

    def _default_threshold(self) -> float:
        try:
            verification = importlib.import_module("deepface.modules.verification")
            return float(verification.find_threshold(self.options.model, self.options.distance))
        except (ImportError, AttributeError, ValueError) as exc:
            raise MvbenchError(f"cannot read DeepFace's threshold for {self.options.model}/{self.options.distance}: {exc}",
                               hint="pass --face-threshold explicitly") from exc

    @staticmethod
    def _bgr(image: np.ndarray) -> np.ndarray:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image [H, W, 3], got {image.dtype} {image.shape}")
        return np.ascontiguousarray(image[:, :, ::-1])

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        with _no_downloads():
            faces = self._df.extract_faces(img_path=self._bgr(image), detector_backend=self.options.detector,
                                           align=self.options.align, enforce_detection=False)
        out = []
        height, width = image.shape[:2]
        for f in faces:
            a = f["facial_area"]
            box = FaceBox(int(a["x"]), int(a["y"]), int(a["w"]), int(a["h"]))
            confidence = float(f.get("confidence") or 0.0)
            if self.options.detector != "skip" and _is_whole_image_fallback(box, confidence, width, height):
                continue
            out.append(DetectedFace(box, confidence))
        return out

    def embed(self, image: np.ndarray) -> np.ndarray:
        with _no_downloads():
            reps = self._df.represent(img_path=self._bgr(image), model_name=self.options.model,
                                      detector_backend=self.options.crop_detector, align=self.options.align,
                                      enforce_detection=False)
        return np.asarray([r["embedding"] for r in reps], dtype=np.float64)

    def fingerprint(self) -> str:
        o = self.options
        return (f"deepface:{self.engine}:{o.model}:{o.crop_detector}:align={o.align}:"
                f"{self.weight_files[0].name}:{self.weights_sha256}")

    def describe(self) -> dict:
        o = self.options
        try:
            from importlib.metadata import version

            df_version = version("deepface")
        except Exception:  # metadata may be absent in source checkouts
            df_version = None
        return {
            "backend": self.name, "deepface_version": df_version, "engine": self.engine,
            "model": o.model, "detector": o.detector, "crop_detector": o.crop_detector, "align": o.align,
            "distance": self.distance_metric, "threshold": self.threshold,
            "weights": self.weight_files[0].name, "weights_sha256": self.weights_sha256,
            "weight_files": dict(self.files_sha256), "tier": face_tier(o.model, o.detector),
        }


#: what a results file says about the numbers of a (model, frame detector) pair
TIERS: dict[str, str] = {
    "moviebench": "MovieBench's networks (VGG-Face recognition, fastmtcnn detection): with --id-protocol "
                  "moviebench, the protocol behind MovieBench's Table 5",
    "dlib-offline": "calibrated alternative to MovieBench's VGG-Face protocol: real pretrained dlib weights "
                    "installed offline by the [face] extra; real numbers, not comparable with MovieBench's tables",
    "custom": "a DeepFace model/detector pair other than MovieBench's; not comparable with MovieBench's tables",
}


def face_tier(model: str, detector: str) -> dict:
    """``{"name", "note"}``: which kind of numbers a model/detector pair gives (recorded in results).

    >>> face_tier("Dlib", "dlib")["name"], face_tier("VGG-Face", "fastmtcnn")["name"]
    ('dlib-offline', 'moviebench')
    """
    if model == "VGG-Face" and detector == "fastmtcnn":
        name = "moviebench"
    elif model == "Dlib" and detector == "dlib":
        name = "dlib-offline"
    else:
        name = "custom"
    return {"name": name, "note": TIERS[name]}

