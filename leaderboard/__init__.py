"""leaderboard package of mvbench."""
