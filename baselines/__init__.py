"""baselines package of mvbench."""
