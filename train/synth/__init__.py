"""Synthetic plates: rendered with real fonts, then degraded, to teach the reader what real data lacks."""
