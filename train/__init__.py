"""Data sets, augmentation, training and evaluation of the plate models."""
