"""Figures to text (and later HTML); computes nothing."""
