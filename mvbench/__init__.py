"""mvbench: an evaluation benchmark suite for multi-scene long video generation."""

__version__ = "0.1.0"
