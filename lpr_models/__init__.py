"""Plate detection and reading models, and the inference wrappers the pipeline uses."""
