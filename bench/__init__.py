"""openworks benchmark suite (not part of the package); see bench/run.py."""
