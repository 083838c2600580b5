"""Options the VBench scorers share (one declaration, one ``mvbench evaluate`` flag each).

``--vbench-mode`` says what one VBench video is for every VBench dimension (the appearance scorer's
five and the motion scorer's two), ``--vbench-long-seconds`` the clip length of its ``long`` mode.

>>> VBENCH_MODE.flag, VBENCH_MODE.default, VBENCH_MODE.choices
('--vbench-mode', 'scene', ('scene', 'video', 'long'))
>>> VBENCH_LONG_SECONDS.flag
'--vbench-long-seconds'
>>> VBENCH_MODE.coerce("whole")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mvbench.errors.ConfigError: option 'vbench_mode' (--vbench-mode): 'whole' is now 'video' ...
"""

from __future__ import annotations

from mvbench.config import Option, positive

#: what one VBench video is: each scene, the item's scenes joined, or VBench-Long's clips of each scene
VBENCH_MODES = ("scene", "video", "long")
#: values the quality dimensions' ``--vbench-mode`` had before the two VBench scorers shared it
RENAMED_MODES = {"clip": "scene", "whole": "video"}


def check_vbench_mode(value: str) -> None:
    """``check`` of :data:`VBENCH_MODE`: a former value names its new one (runs before the choices test).

    >>> check_vbench_mode("scene")
    >>> check_vbench_mode("clip")
    Traceback (most recent call last):
    ...
    ValueError: 'clip' is now 'scene' (one --vbench-mode for all VBench dimensions; clip -> scene, whole -> video)
    """
    if value in RENAMED_MODES:
        raise ValueError(f"{value!r} is now {RENAMED_MODES[value]!r} (one --vbench-mode for all VBench dimensions; "
                         "clip -> scene, whole -> video)")


VBENCH_MODE = Option(
    "vbench_mode", "scene",
    "what one VBench video is, for every VBench dimension (subject_consistency, background_consistency, "
    "aesthetic_quality, imaging_quality, temporal_flickering, motion_smoothness, dynamic_degree): scene = each "
    "scene, item value = mean over its scenes; video = the item's scenes joined in order into one video; "
    "long = VBench-Long: each scene cut into clips of --vbench-long-seconds, each clip one video",
    choices=VBENCH_MODES, check=check_vbench_mode)

#: VBench-Long cuts each scene into clips of ``int(fps) * seconds`` frames (VBench-Long's 2 s default)
VBENCH_LONG_SECONDS = Option("vbench_long_seconds", 2,
                             "VBench-Long clip length in seconds (int(fps) x this many frames), for --vbench-mode long",
                             type=int, check=positive)
