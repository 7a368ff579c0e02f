"""Developer tooling (not shipped): helpers for noxfile.py and CI."""
