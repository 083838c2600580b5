"""reference_models package of mvbench."""
