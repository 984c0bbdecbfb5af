"""Confidences that mean what they say: the probability that a character, or a whole text, is right.

Two fitted maps, stored with the reader's weights (the checkpoint's `calibration` entry, plain
floats, so `weights_only` loading holds and a retrained reader ships its own):
- a temperature dividing the character logits (temperature scaling), so each character's
  softmax probability is the chance that character is right;
- a logistic map from the log of the product of a reading's character probabilities to the
  chance that the whole text is right (the characters' errors are not independent), one for
  every region with enough held-out reads (a Brazilian reading of a given product is right more
  often than a Vietnamese one), and one for the rest.
`train.calibrate` fits them on held-out reads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class Calibration:
    temperature: float = 1.0
    text_scale: float = 1.0  # text confidence = sigmoid(text_scale * log(product) + text_bias)
    text_bias: float = 0.0
    fitted: bool = False  # False: no calibration (the product of raw probabilities, as before)
    regions: dict[str, list[float]] = field(default_factory=dict)  # region -> [text_scale, text_bias] of its own

    def text_confidence(self, product: float, region: str = "") -> float:
        if not self.fitted:
            return product
        scale, bias = self.regions.get(region, (self.text_scale, self.text_bias))
        z = scale * float(np.log(max(product, 1e-12))) + bias
        return float(1.0 / (1.0 + np.exp(-z)))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> Calibration:
        return cls(**data) if data else cls()


def reliability(confidences: np.ndarray, correct: np.ndarray, bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, count) per equal-width confidence bin with any reads."""
    confidences, correct = np.asarray(confidences, float), np.asarray(correct, float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidences, edges[1:-1]), 0, bins - 1)
    return [
        (float(confidences[which == b].mean()), float(correct[which == b].mean()), int((which == b).sum()))
        for b in range(bins)
        if (which == b).any()
    ]


def expected_calibration_error(confidences: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by their counts."""
    return float(sum(n * abs(c - a) for c, a, n in reliability(confidences, correct, bins)) / max(1, len(confidences)))


def chance_calibration_error(
    confidences: np.ndarray, bins: int = 10, draws: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """(median, 95th percentile) ECE that a perfectly calibrated reader shows with these confidences: each read drawn
    right with the probability its confidence says. Each bin's accuracy is a share of few reads, so on a small set
    the ECE stays well above 0 even with nothing to correct; only what exceeds this is miscalibration."""
    confidences = np.asarray(confidences, float)
    rng = np.random.default_rng(seed)
    errors = [
        expected_calibration_error(confidences, rng.random(len(confidences)) < confidences, bins) for _ in range(draws)
    ]
    return float(np.median(errors)), float(np.percentile(errors, 95))


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of `targets` ((N,) class ids) under (N, C) `logits`."""
    best_t, best_nll = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.2), np.log(5.0), 161)):  # a fine grid: one parameter, no optimiser needed
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -log_p[np.arange(len(targets)), targets].mean()
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def fit_text_map(products: np.ndarray, correct: np.ndarray, steps: int = 3000, lr: float = 0.1) -> tuple[float, float]:
    """Logistic regression of whole-text correctness on log(product of character probabilities)."""
    x = np.log(np.clip(np.asarray(products, float), 1e-12, 1.0))
    y = np.asarray(correct, float)
    a, b = 1.0, 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(a * x + b)))
        a -= lr * float(((p - y) * x).mean())
        b -= lr * float((p - y).mean())
    return a, b
