"""FVD reference statistics: ``.npz`` files with the sufficient statistics of real-video clip features.

A reference file holds (``numpy.savez``, no pickles):

* ``count`` (int64), ``sum`` (float64 ``[d]``), ``sum_outer`` (float64 ``[d, d]``): mergeable
  sufficient statistics (:class:`metrics.GaussianStats`), so files built from shards add up exactly;
* ``meta``: a JSON string with ``schema`` (``mvbench.fvd_reference/1``), ``extractor`` (encoder
  name), ``weights_sha256`` (of the extractor's weight file), ``protocol`` (the clip protocol, see
  :func:`clip_protocol`), ``source`` and free-form ``info`` (video count, skipped files, creation time).

``mvbench evaluate`` refuses a reference whose extractor, weights or clip protocol differ from the
run's (:func:`check_compatible`), since FVD values are only comparable under identical features.

The same file format holds FID reference statistics of real *frames*
(:func:`compute_frame_reference`): ``extractor`` is then the Inception weights entry and
``protocol`` the frame protocol of :func:`mvbench.scorers.frame_fid.feature_protocol` (frames per
video, sampling, resize, preprocessing, feature layer), built by ``mvbench fvd-stats --extractor
inception-fid`` (pytorch-fid protocol) or ``--extractor inception-moviebench``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from metrics import GaussianStats
from mvbench.atomic import atomic_open
from mvbench.encoders.base import ClipPreprocess
from mvbench.errors import MvbenchError

SCHEMA = "mvbench.fvd_reference/1"

#: short names accepted on the command line
EXTRACTOR_ALIASES = {"i3d": "i3d-k400", "videomae": "videomae-v2-g", "videomae-v2": "videomae-v2-g"}

#: FVD extractors whose protocol is known without loading weights: name -> "module:Class"
KNOWN_EXTRACTORS = {
    "i3d-k400": "mvbench.encoders.i3d:I3DEncoder",
    "i3d-torchscript": "mvbench.encoders.i3d:I3DTorchScriptEncoder",
    "videomae-v2-g": "mvbench.encoders.videomae:VideoMAEEncoder",
}

#: frame (FID) extractors of ``mvbench fvd-stats``: name -> ``--fid-protocol`` of ``mvbench evaluate``
FRAME_EXTRACTORS = {"inception-fid": "pytorch-fid", "inception-moviebench": "moviebench"}

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".webm", ".mkv")


def canonical_extractor(name: str) -> str:
    return EXTRACTOR_ALIASES.get(name, name)


def clip_protocol(preprocess: ClipPreprocess, stride: int = 1) -> dict:
    """What determines a clip's pixels: first ``num_frames`` frames with ``stride`` at the native frame
    rate, squashed to ``size`` x ``size`` (antialiased bilinear), value range and normalisation."""
    if int(stride) < 1:
        raise MvbenchError(f"FVD clip stride must be >= 1, got {stride}")
    return {
        "sampling": "first",
        "num_frames": int(preprocess.num_frames),
        "stride": int(stride),
        "size": int(preprocess.size),
        "value_range": preprocess.value_range,
        "mean": list(preprocess.mean) if preprocess.mean is not None else None,
        "std": list(preprocess.std) if preprocess.std is not None else None,
    }


#: FVD frame resizing: ``antialias`` (mvbench: antialiased bilinear squash) or ``plain`` (the cd-fvd
#: package's ``preprocess_i3d`` / ``preprocess_videomae``: ``F.interpolate(..., mode='bilinear',
#: align_corners=False)`` without antialiasing)
FVD_RESIZES = ("antialias", "plain")


def fvd_frame_preprocess(resize: str = "antialias"):
    """The :class:`~mvbench.video.protocols.FramePreprocess` an FVD clip request carries for ``resize``:
    None for mvbench's antialiased resize (the encoder's default path), else bilinear without
    antialiasing of the float frames, squashed to the extractor's size, with its own normalisation.

    >>> fvd_frame_preprocess("antialias") is None, fvd_frame_preprocess("plain").antialias
    (True, False)
    """
    from mvbench.video.protocols import FramePreprocess

    if resize not in FVD_RESIZES:
        raise MvbenchError(f"FVD resize {resize!r} is not one of {', '.join(FVD_RESIZES)}")
    if resize == "antialias":
        return None
    return FramePreprocess("squash", "bilinear", False, "none", "float", "encoder")


def protocol_with_resize(protocol: dict, resize: str = "antialias") -> dict:
    """``protocol`` with ``"resize": "plain"`` added for the cd-fvd resize (the default adds nothing, so
    reference files made before the option existed stay compatible).

    >>> protocol_with_resize({"size": 224}, "plain")
    {'size': 224, 'resize': 'plain'}
    """
    fvd_frame_preprocess(resize)  # validates
    return dict(protocol) if resize == "antialias" else {**protocol, "resize": resize}


def extractor_info(name: str) -> tuple[ClipPreprocess, str | None]:
    """``(preprocess, weights sha256 or None)`` of an extractor, without loading known networks.

    For the known extractors the sha256 is that of the cached weight file (None if not cached yet);
    any other encoder name (e.g. ``tiny``) is built to read its preprocessing and hash.
    """
    import importlib

    from mvbench import weights

    name = canonical_extractor(name)
    if name in KNOWN_EXTRACTORS:
        module, cls_name = KNOWN_EXTRACTORS[name].split(":")
        cls = getattr(importlib.import_module(module), cls_name)
        return cls.preprocess, weights.weights_hash(cls.weights_name)
    from mvbench.encoders import create_encoder

    encoder = create_encoder(name)
    return encoder.preprocess, encoder.weights_sha256


@dataclass
class ReferenceStats:
    """Sufficient statistics of reference clip features plus what produced them."""

    stats: GaussianStats
    extractor: str
    weights_sha256: str | None
    protocol: dict
    source: str = ""
    info: dict = field(default_factory=dict)

    def meta(self) -> dict:
        return {"schema": SCHEMA, "extractor": self.extractor, "weights_sha256": self.weights_sha256,
                "protocol": self.protocol, "source": self.source, "info": self.info}


def save_reference(path: str | Path, ref: ReferenceStats) -> Path:
    """Write ``ref`` to ``path`` atomically (temp file + rename)."""
    path = Path(path)
    with atomic_open(path, "wb", suffix=".npz") as fh:
        np.savez(fh, count=np.int64(ref.stats.count), sum=ref.stats.total, sum_outer=ref.stats.outer,
                 meta=np.array(json.dumps(ref.meta(), sort_keys=True)))
    return path


def load_reference(path: str | Path) -> ReferenceStats:
    """Read a reference file; errors name the file and what is wrong."""
    path = Path(path)
    hint = "build one with `mvbench fvd-stats --videos DIR --extractor i3d --out FILE.npz`"
    if not path.is_file():
        raise MvbenchError(f"FVD reference file {path} does not exist", hint=hint)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise MvbenchError(f"{path}: not a readable FVD reference .npz file ({exc})", hint=hint) from exc
    missing = [k for k in ("count", "sum", "sum_outer", "meta") if k not in arrays]
    if missing:
        raise MvbenchError(f"{path}: FVD reference file lacks {', '.join(missing)}", hint=hint)
    try:
        meta = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError as exc:
        raise MvbenchError(f"{path}: the 'meta' entry is not JSON ({exc})", hint=hint) from exc
    if meta.get("schema") != SCHEMA:
        raise MvbenchError(f"{path}: schema {meta.get('schema')!r}, expected {SCHEMA!r}", hint=hint)
    try:
        stats = GaussianStats(int(arrays["count"]), arrays["sum"], arrays["sum_outer"])
    except ValueError as exc:
        raise MvbenchError(f"{path}: inconsistent statistics ({exc})", hint=hint) from exc
    return ReferenceStats(stats, meta["extractor"], meta.get("weights_sha256"), meta["protocol"],
                          meta.get("source", ""), meta.get("info", {}))


def incompatibilities(ref: ReferenceStats, extractor: str, weights_sha256: str | None, protocol: dict) -> list[str]:
    """Reasons why features of this run cannot be compared with ``ref`` (empty list: compatible)."""
    reasons = []
    if ref.extractor != extractor:
        reasons.append(f"it was computed with extractor {ref.extractor!r}, this run uses {extractor!r}")
    elif ref.weights_sha256 and weights_sha256 and ref.weights_sha256 != weights_sha256:
        reasons.append(f"its extractor weights have sha256 {ref.weights_sha256[:12]}..., "
                       f"this run's have {weights_sha256[:12]}...")
    for key in sorted(set(ref.protocol) | set(protocol)):
        if ref.protocol.get(key) != protocol.get(key):
            reasons.append(f"clip protocol {key!r} is {ref.protocol.get(key)!r} there, {protocol.get(key)!r} here")
    return reasons


def check_compatible(ref: ReferenceStats, path: str | Path, extractor: str, weights_sha256: str | None,
                     protocol: dict) -> None:
    """Raise :class:`MvbenchError` saying why ``ref`` (read from ``path``) does not fit this run."""
    reasons = incompatibilities(ref, extractor, weights_sha256, protocol)
    if reasons:
        raise MvbenchError(
            f"FVD reference {path} does not match this run: " + "; ".join(reasons),
            hint=f"rebuild it with `mvbench fvd-stats --extractor {extractor} --stride {protocol.get('stride', 1)}"
                 f"{' --resize ' + protocol['resize'] if protocol.get('resize') else ''}` "
                 "or pass the reference file made for this extractor and protocol",
        )


def find_videos(folder: str | Path) -> list[Path]:
    """All video files under ``folder`` (recursively), sorted by path."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MvbenchError(f"{folder} is not a folder of videos")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)


def compute_reference(folder: str | Path, extractor: str, stride: int = 1, options: dict | None = None,
                      log=print, resize: str = "antialias") -> ReferenceStats:
    """Reference statistics of the first clip (protocol of ``extractor``) of every video under ``folder``.

    Videos too short for one clip, or that cannot be decoded, are skipped and listed in ``info``.
    ``resize``: see :data:`FVD_RESIZES` (``plain``: the cd-fvd package's resize).
    """
    from mvbench.compute import EncoderPool, compute_requests
    from mvbench.options import resolve_options
    from mvbench.scorers.base import ClipRequest, VideoRef
    from mvbench.video import probe

    extractor = canonical_extractor(extractor)
    videos = find_videos(folder)
    if not videos:
        raise MvbenchError(f"no video files ({', '.join(VIDEO_EXTENSIONS)}) under {folder}")
    opts = resolve_options(options)
    pool = EncoderPool(opts["device"])
    encoder = pool.get(extractor)
    protocol = protocol_with_resize(clip_protocol(encoder.preprocess, stride), resize)
    prep = fvd_frame_preprocess(resize)
    need = (protocol["num_frames"] - 1) * protocol["stride"] + 1
    requests: dict[Path, ClipRequest] = {}
    skipped: dict[str, str] = {}
    for path in videos:
        try:
            info = probe(path)
        except MvbenchError as exc:
            skipped[str(path)] = str(exc).split("\n")[0]
            continue
        if info.num_frames < need:
            skipped[str(path)] = f"{info.num_frames} frames, a clip needs {need}"
            continue
        ref = VideoRef(str(path), 0, info.num_frames, info.fps)
        requests[path] = ClipRequest(extractor, (ref,), "first", protocol["num_frames"], protocol["stride"],
                                     preprocess=prep)
    got = compute_requests(list(requests.values()), opts, encoders=pool)
    rows = []
    for path, req in requests.items():
        result = got[req]
        if isinstance(result, Exception):
            skipped[str(path)] = str(result).split("\n")[0]
            continue
        rows.append(np.asarray(result, dtype=np.float64))
    if len(rows) < 2:
        raise MvbenchError(f"only {len(rows)} usable clip(s) under {folder}; a reference needs at least 2")
    stats = GaussianStats.from_features(np.stack(rows))
    for path, why in skipped.items():
        log(f"skipped {path}: {why}")
    info = {"videos_found": len(videos), "clips": stats.count, "skipped": skipped,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "calibrated": encoder.calibration()[0]}
    return ReferenceStats(stats, extractor, encoder.weights_sha256, protocol, str(folder), info)


def merge_references(paths: list[str | Path]) -> ReferenceStats:
    """Sum the statistics of several reference files (shards) that share extractor, weights and protocol."""
    refs = [load_reference(p) for p in paths]
    first = refs[0]
    stats = first.stats
    for path, ref in zip(paths[1:], refs[1:]):
        reasons = incompatibilities(ref, first.extractor, first.weights_sha256, first.protocol)
        if reasons:
            raise MvbenchError(f"cannot merge {path} with {paths[0]}: " + "; ".join(reasons))
        stats = stats.merge(ref.stats)
    info = {"merged_from": [str(p) for p in paths], "clips": stats.count,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return ReferenceStats(stats, first.extractor, first.weights_sha256, first.protocol,
                          " + ".join(r.source for r in refs), info)


def compute_frame_reference(folder: str | Path, extractor: str, frames: int | None = None,
                            resize: int | None = None, options: dict | None = None, log=print,
                            videos_per_batch: int = 16) -> ReferenceStats:
    """FID reference statistics of the frames of every video under ``folder``.

    ``extractor`` is a key of :data:`FRAME_EXTRACTORS`; each video gives the frames of the matching
    ``--fid-protocol`` (:func:`mvbench.scorers.frame_fid.feature_protocol`, ``frames`` per video,
    optional ``resize``), exactly as ``mvbench evaluate`` samples a scene. Videos are decoded a
    few at a time and their features added to mergeable :class:`metrics.GaussianStats`.
    Unreadable videos are skipped and listed in ``info``.
    """
    from mvbench.encoders.inception import build_inception
    from mvbench.options import resolve_options
    from mvbench.scorers.frame_fid import feature_protocol
    from mvbench.video import decode_frames, probe

    if extractor not in FRAME_EXTRACTORS:
        raise MvbenchError(f"unknown frame extractor {extractor!r}", hint="choose from " + ", ".join(FRAME_EXTRACTORS))
    proto = feature_protocol(FRAME_EXTRACTORS[extractor], frames, resize)
    videos = find_videos(folder)
    if not videos:
        raise MvbenchError(f"no video files ({', '.join(VIDEO_EXTENSIONS)}) under {folder}")
    opts = resolve_options(options)
    net = build_inception(proto.weights, proto.preprocess, device=opts["device"])
    stats = GaussianStats.empty(proto.dim)
    skipped: dict[str, str] = {}
    n_videos = 0
    for start in range(0, len(videos), max(1, int(videos_per_batch))):
        for path in videos[start:start + max(1, int(videos_per_batch))]:
            try:
                info = probe(path)
                idx = proto.frames.indices(info.num_frames)
                got = decode_frames(path, idx).numpy()
            except (MvbenchError, ValueError) as exc:
                skipped[str(path)] = str(exc).split("\n")[0]
                continue
            if proto.frames.resize is not None:
                from mvbench.frame_protocol import pil_resize_square

                got = pil_resize_square(got, int(proto.frames.resize))
            feats = net.extract(got, (proto.feature,))[proto.feature]
            stats = stats.add_features(feats.astype(np.float64))
            n_videos += 1
    if stats.count < 2:
        raise MvbenchError(f"only {stats.count} usable frame(s) under {folder}; a reference needs at least 2")
    for path, why in skipped.items():
        log(f"skipped {path}: {why}")
    info = {"videos_found": len(videos), "videos_used": n_videos, "frames": stats.count, "skipped": skipped,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return ReferenceStats(stats, proto.weights, net.weights_sha256, proto.as_dict(), str(folder), info)
