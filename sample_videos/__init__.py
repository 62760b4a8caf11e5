"""Labelled sample clips made from public-domain photos: `warp` renders frames, `make_samples` writes clips."""
