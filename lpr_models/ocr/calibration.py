"""Confidences that mean what they say: the probability that a character, or a whole text, is right.

Two fitted maps, stored with the reader's weights (the checkpoint's `calibration` entry, plain
floats, so `weights_only` loading holds and a retrained reader ships its own):
- a temperature dividing the character logits (temperature scaling), so each character's
  softmax probability is the chance that character is right;
- a map from the product of a reading's character probabilities to the chance that the whole
  text is right (the characters' errors are not independent), a beta calibration (Kull et al.,
  2017): logistic in log(product) and -log(1 - product). One for every region with enough
  held-out reads (a Brazilian reading of a given product is right more often than a Vietnamese
  one), and one for the rest.
`train.calibrate` fits them on held-out reads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class Calibration:
    temperature: float = 1.0
    # text confidence = sigmoid(text_scale * log(product) + text_gap_scale * -log(1 - product) + text_bias)
    text_scale: float = 1.0
    text_bias: float = 0.0
    text_gap_scale: float = 0.0  # 0 in calibrations fitted before the second term
    fitted: bool = False  # False: no calibration (the product of raw probabilities, as before)
    # region -> [text_scale, text_bias, text_gap_scale] of its own (two numbers: fitted before the gap term)
    regions: dict[str, list[float]] = field(default_factory=dict)

    def text_confidence(self, product: float, region: str = "") -> float:
        if not self.fitted:
            return product
        scale, bias, *gap = self.regions.get(region, (self.text_scale, self.text_bias, self.text_gap_scale))
        log_product, log_gap = text_features(np.array([product]))[0]
        z = scale * log_product + (gap[0] if gap else 0.0) * log_gap + bias
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


def log_loss(confidences: np.ndarray, correct: np.ndarray) -> float:
    """Mean negative log-likelihood of the outcomes under the confidences: a proper score, lowest for the true
    probabilities, so it ranks two calibrations of the same reads without the ECE's binning noise."""
    p = np.clip(np.asarray(confidences, float), 1e-6, 1 - 1e-6)
    y = np.asarray(correct, float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


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


def text_features(products: np.ndarray) -> np.ndarray:
    """(N, 2) features of the whole-text map: log(product) and -log(1 - product), the gap to certainty."""
    p = np.clip(np.asarray(products, float), 1e-12, 1 - 1e-12)
    return np.column_stack([np.log(p), -np.log1p(-p)])


def fit_text_map(products: np.ndarray, correct: np.ndarray, prior: float = 1.0) -> tuple[float, float, float]:
    """(scale, bias, gap scale) of the whole-text map: a logistic regression of whole-text correctness on
    `text_features`, by Newton's method. A map of log(product) alone levels off at sigmoid(bias) as the product nears
    1: read end to end, CCPD photos' readings with a product over 0.95 were right 99.8% of the time and those at
    0.5-0.7 60%, and one such map said 0.98 and 0.85-0.92; the gap term lets the sure reads be trusted and the
    middling ones doubted at once. A Gaussian prior of precision `prior` draws the map towards the identity (scales
    1, bias 0: the temperature-scaled product taken as it is), so a set whose reads are all right gets a high
    confidence, not an infinite one, and a region with few doubtful reads keeps the product's own fall towards 0
    rather than a flat guess. Both scales are kept at or above 0, so that a surer reading never gets a lower
    confidence."""
    x, y = text_features(products), np.asarray(correct, float)
    kept = [0, 1]
    while True:
        w = _penalised_logistic(np.column_stack([x[:, kept], np.ones(len(y))]), y, [1.0] * len(kept) + [0.0], prior)
        negative = [k for k, v in zip(kept, w) if v < 0]
        if not negative:
            break
        kept.remove(negative[0])
    scales = dict(zip(kept, w[:-1].tolist()))
    return scales.get(0, 0.0), float(w[-1]), scales.get(1, 0.0)


def _penalised_logistic(design: np.ndarray, y: np.ndarray, centre: list[float], prior: float) -> np.ndarray:
    """Weights of a logistic regression of `y` on `design` under a Gaussian prior of precision `prior` about
    `centre`: Newton's method, each step halved while it does not lower the loss (a full step can overshoot)."""
    mean = np.asarray(centre, float)

    def loss(w: np.ndarray) -> float:  # the negative log-posterior
        z = design @ w
        return float(np.sum(np.logaddexp(0, z) - y * z) + prior / 2 * np.sum((w - mean) ** 2))

    w = mean.copy()
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -50, 50)))
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + prior * np.eye(len(w))
        step = np.linalg.solve(hessian, design.T @ (p - y) + prior * (w - mean))
        while loss(w - step) > loss(w) and np.abs(step).max() > 1e-12:
            step = step / 2
        w = w - step
        if np.abs(step).max() < 1e-9:
            break
    return w
