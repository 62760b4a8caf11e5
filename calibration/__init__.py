"""Baseline capture and per-setup calibration profiles."""
