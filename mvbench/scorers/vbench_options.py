"""Options the VBench scorers share (one declaration, one ``mvbench evaluate`` flag).

>>> VBENCH_LONG_SECONDS.flag
'--vbench-long-seconds'
"""

from __future__ import annotations

from mvbench.config import Option, positive

#: VBench-Long cuts each scene into clips of ``int(fps) * seconds`` frames (VBench-Long's 2 s default)
VBENCH_LONG_SECONDS = Option("vbench_long_seconds", 2,
                             "VBench-Long clip length in seconds (int(fps) x this many frames), for --vbench-mode long "
                             "and --vbench-motion-mode long",
                             type=int, check=positive)
