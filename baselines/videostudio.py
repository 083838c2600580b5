"""``videostudio``: a VideoStudio-style pipeline (VideoStudio Sec. 3) from local diffusers and transformers folders.

Script (planner) -> entity reference images (text-to-image pipeline, ``t2i_dir``) -> each scene from an
image-to-video pipeline (``model_dir``, e.g. CogVideoX-5b-I2V) conditioned on the scene's entity reference and
prompt, with the scene's camera move as a latent warp after step ``camera_step`` (T_m = 5 in the paper).
The planner is the offline ``suite`` planner (the suite's scenes, characters and global prompt are the script,
as Mask²DiT ran VideoStudio for its Table 1) or ``chat``: a local chat model (``planner_dir``) writes it.
See ``reference_models.videostudio`` for what differs from the paper (its trained VideoStudio-Img/-Vid models
are not public).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from mvbench.errors import MvbenchError
from mvbench.suite import SuiteItem

from .base import Baseline, read_config
from .loading import require_model_stack
from .options import GenerationOptions, item_seed, resolve_dtype

PLANNERS = ("suite", "chat")
PIPELINE_HINT = ("download the pipelines on a machine with network, e.g. `huggingface-cli download "
                 "THUDM/CogVideoX-5b-I2V --local-dir /models/CogVideoX-5b-I2V` (--model-dir) and "
                 "`huggingface-cli download stabilityai/stable-diffusion-2-1 --local-dir /models/sd-2-1` (--t2i-dir)")


def _pipeline_class(folder: Path, what: str, flag: str) -> str:
    if not folder.is_dir():
        raise MvbenchError(f"{what} folder {folder} does not exist ({flag})", hint=PIPELINE_HINT)
    index = folder / "model_index.json"
    if not index.is_file():
        raise MvbenchError(f"{folder} is not a diffusers pipeline folder (no model_index.json) ({flag})",
                           hint=PIPELINE_HINT)
    return str(read_config(index).get("_class_name", ""))


class VideoStudio(Baseline):
    name = "videostudio"
    summary = ("VideoStudio-style: script, entity reference images (text-to-image), per-scene image-to-video with a "
               "camera warp at step T_m (VideoStudio Sec. 3; Mask2DiT Table 1 'VideoStudio').")
    defaults = {"steps": 50, "guidance": 6.0, "frames": 49, "height": 480, "width": 720, "fps": 8.0,
                "vae_tiling": False}
    extra_options = ("model_name", "t2i_dir", "planner", "planner_dir", "camera_step", "scene_image",
                     "reference_steps", "reference_guidance")
    model_dir_help = ("an image-to-video diffusers pipeline (THUDM/CogVideoX-5b-I2V); --t2i-dir: a text-to-image "
                      "pipeline (stabilityai/stable-diffusion-2-1); --planner-dir: a chat model for --planner chat")

    def __init__(self, model_dir: str | Path, options: GenerationOptions | None = None, model_name: str | None = None,
                 t2i_dir: str | Path | None = None, planner: str = "suite", planner_dir: str | Path | None = None,
                 camera_step: int = 5, scene_image: str = "entity", reference_steps: int = 50,
                 reference_guidance: float = 7.5):
        super().__init__(model_dir, options, model_name)
        if t2i_dir is None:
            raise MvbenchError("the videostudio baseline needs --t2i-dir: a text-to-image diffusers pipeline folder for "
                               "the entity reference images", hint=PIPELINE_HINT)
        self.t2i_dir = Path(t2i_dir).expanduser()
        self.t2i_class = _pipeline_class(self.t2i_dir, "text-to-image pipeline", "--t2i-dir")
        if planner not in PLANNERS:
            raise MvbenchError(f"--planner must be one of {', '.join(PLANNERS)}, got {planner!r}")
        if planner == "chat" and planner_dir is None:
            raise MvbenchError("--planner chat needs --planner-dir: a local transformers chat model folder")
        if planner == "suite" and planner_dir is not None:
            raise MvbenchError("--planner-dir is only used with --planner chat")
        if camera_step < 1 or camera_step > self.options.steps:
            raise MvbenchError(f"--camera-step must be between 1 and --steps ({self.options.steps}), got {camera_step}")
        if scene_image not in ("entity", "prompt") or reference_steps < 1:
            raise MvbenchError(f"--scene-image must be entity or prompt (got {scene_image!r}) and --reference-steps "
                               f">= 1 (got {reference_steps})")
        self.planner_name, self.planner_dir = planner, Path(planner_dir).expanduser() if planner_dir else None
        self.camera_step, self.scene_image = int(camera_step), scene_image
        self.reference_steps, self.reference_guidance = int(reference_steps), float(reference_guidance)

    def check_model_dir(self, root: Path) -> Path:
        self.i2v_class = _pipeline_class(root, "image-to-video pipeline", "--model-dir")
        if "ImageToVideo" not in self.i2v_class and "I2V" not in self.i2v_class:
            raise MvbenchError(f"{root} holds a {self.i2v_class or 'unknown'} pipeline; --model-dir must be an "
                               "image-to-video pipeline (e.g. CogVideoXImageToVideoPipeline)", hint=PIPELINE_HINT)
        return root

    def settings(self) -> dict:
        from reference_models.videostudio import SPEED_FRACTION

        return {**super().settings(), "i2v_pipeline": self.i2v_class, "t2i_dir": self.t2i_dir.name,
                "t2i_pipeline": self.t2i_class, "planner": self.planner_name,
                "planner_dir": self.planner_dir.name if self.planner_dir else None, "camera_step": self.camera_step,
                "camera_speed_fraction": dict(SPEED_FRACTION), "scene_image": self.scene_image,
                "reference_steps": self.reference_steps, "reference_guidance": self.reference_guidance}

    def notes(self) -> str:
        return (super().notes() + f" I2V {self.i2v_class}, references from {self.t2i_dir.name} ({self.t2i_class}), "
                f"{self.planner_name} planner, camera warp after step {self.camera_step}.")

    def load_parts(self):
        from reference_models.videostudio import (
            ChatPlanner,
            DiffusersImageToVideo,
            DiffusersTextToImage,
            SuitePlanner,
            TransformersChat,
            VideoStudioPipeline,
        )

        diffusers, _ = require_model_stack()
        dtype = resolve_dtype(self.options.dtype, self.device)

        def load(folder: Path, what: str):
            try:
                with warnings.catch_warnings():  # newer diffusers rename torch_dtype; older ones only know it
                    warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
                    pipe = diffusers.DiffusionPipeline.from_pretrained(str(folder), torch_dtype=dtype,
                                                                       local_files_only=True)
            except (OSError, ValueError) as error:
                raise MvbenchError(f"could not load the {what} from {folder}: {error}", hint=PIPELINE_HINT) from error
            pipe.set_progress_bar_config(disable=True)
            return pipe.to(self.device)

        o = self.options
        t2i = DiffusersTextToImage(load(self.t2i_dir, "text-to-image pipeline"), o.height, o.width,
                                   self.reference_steps, self.reference_guidance)
        i2v_pipe = load(self.model_dir, "image-to-video pipeline")
        if o.vae_tiling and hasattr(i2v_pipe, "vae") and hasattr(i2v_pipe.vae, "enable_tiling"):
            i2v_pipe.vae.enable_tiling()
        i2v = DiffusersImageToVideo(i2v_pipe, o.frames, o.height, o.width, o.steps, o.guidance, o.negative_prompt,
                                    t_m=self.camera_step)
        if self.planner_name == "chat":
            planner = ChatPlanner(TransformersChat(self.planner_dir, self.device, dtype))
        else:
            planner = SuitePlanner()
        return VideoStudioPipeline(planner, t2i, i2v, scene_image=self.scene_image)

    def generate_item(self, item: SuiteItem, item_index: int) -> list[np.ndarray]:
        try:
            result = self.parts.generate(item, item_seed(self.options.seed, item_index))
        except ValueError as error:
            raise MvbenchError(f"item {item.id!r}: {error}") from error
        for k, video in enumerate(result.videos, 1):
            if video.shape[0] != self.options.frames:
                raise MvbenchError(f"item {item.id!r}, scene {k}: the image-to-video pipeline made {video.shape[0]} "
                                   f"frames, {self.options.frames} were asked for (it may round --frames)")
        return result.videos
