"""The inference back-ends a model can run on (lpr_models.optimize), named here without importing torch: the
configuration checks them, and `lpr subscribe` or `lpr search` should not wait for torch to load."""

BACKENDS = ("auto", "onnx", "jit", "eager")
