"""VideoStudio-style multi-scene generation (Long et al., "VideoStudio: Generating Consistent-Content and
Multi-Scene Videos", Sec. 3): script planning, entity reference images, per-scene image-to-video with a camera
warp at step T_m. Importing needs only torch; diffusers / transformers models are passed in or loaded by
``baselines.videostudio``. See docs/baselines.md.
"""

from .camera import SPEED_FRACTION, CameraWarp, camera_adjustment, noise_levels, record_steps, warp_frames
from .pipeline import DiffusersImageToVideo, DiffusersTextToImage, SceneResult, VideoStudioPipeline
from .planners import ChatPlanner, Planner, SuitePlanner, TransformersChat, extract_json
from .script import DIRECTIONS, SPEEDS, CameraMove, Entity, SceneScript, Script

__all__ = ["DIRECTIONS", "SPEEDS", "SPEED_FRACTION", "CameraMove", "CameraWarp", "ChatPlanner",
           "DiffusersImageToVideo", "DiffusersTextToImage", "Entity", "Planner", "SceneResult", "SceneScript",
           "Script", "SuitePlanner", "TransformersChat", "VideoStudioPipeline", "camera_adjustment", "extract_json",
           "noise_levels", "record_steps", "warp_frames"]
