"""The linear heads on the 2-D latent: a linear SVC for classes, a linear regression for activation.

Both are kept as plain arrays (no pickle) because export bakes them into the TFLite graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True, kw_only=True)
class Heads:
    """scores = z @ svc_coef.T + svc_intercept; activation = z @ activation_coef + intercept."""

    labels: tuple[str, ...]
    svc_coef: np.ndarray  # (K, 2)
    svc_intercept: np.ndarray  # (K,)
    activation_coef: np.ndarray  # (2,)
    activation_intercept: float

    def scores(self, z: np.ndarray) -> np.ndarray:
        """The SVC's decision function, one column per label."""
        return z @ self.svc_coef.T + self.svc_intercept

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Predicted label names."""
        return np.array(self.labels)[np.argmax(self.scores(z), axis=1)]

    def activation(self, z: np.ndarray) -> np.ndarray:
        """Predicted activation (1-5 scale, not clipped)."""
        return z @ self.activation_coef + self.activation_intercept

    def to_json(self) -> dict[str, object]:
        """Plain JSON-able dict (the run folder's heads.json)."""
        return {
            "labels": list(self.labels),
            "svc_coef": self.svc_coef.tolist(),
            "svc_intercept": self.svc_intercept.tolist(),
            "activation_coef": self.activation_coef.tolist(),
            "activation_intercept": float(self.activation_intercept),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Heads:
        """Inverse of ``to_json``."""
        return cls(
            labels=tuple(data["labels"]),  # type: ignore[arg-type]
            svc_coef=np.asarray(data["svc_coef"], dtype=np.float64),
            svc_intercept=np.asarray(data["svc_intercept"], dtype=np.float64),
            activation_coef=np.asarray(data["activation_coef"], dtype=np.float64),
            activation_intercept=float(data["activation_intercept"]),  # type: ignore[arg-type]
        )


def fit_svc(z: np.ndarray, y: np.ndarray, labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """LinearSVC (balanced class weights) on rows whose label is in ``labels``; (coef, intercept).

    With two classes sklearn keeps one row; it is expanded to the symmetric two-row form so
    there is always one score per label.
    """
    from sklearn.svm import LinearSVC

    keep = np.isin(y, labels)
    present = tuple(lab for lab in labels if lab in set(y[keep]))
    if len(present) < 2:
        raise ValueError(f"need at least two classes to fit the SVC, found {present}")
    svc = LinearSVC(class_weight="balanced", dual="auto", max_iter=20000, random_state=0)
    svc.fit(z[keep], y[keep])
    coef, intercept = svc.coef_, svc.intercept_
    classes = list(svc.classes_)
    if len(classes) == 2:
        coef, intercept = np.vstack([-coef[0], coef[0]]), np.array([-intercept[0], intercept[0]])
    full_coef = np.zeros((len(labels), z.shape[1]))
    full_intercept = np.full(len(labels), -1e3)  # a label absent from training never wins
    for row, name in enumerate(classes):
        full_coef[labels.index(name)] = coef[row]
        full_intercept[labels.index(name)] = intercept[row]
    return full_coef, full_intercept


def fit_activation(z: np.ndarray, activation: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares linear regression of activation on the latent; (coef, intercept)."""
    keep = np.isfinite(activation)
    design = np.hstack([z[keep], np.ones((int(keep.sum()), 1))])
    solution, *_ = np.linalg.lstsq(design, activation[keep], rcond=None)
    return solution[:-1], float(solution[-1])


def fit_heads(
    z: np.ndarray, y: np.ndarray, activation: np.ndarray, labels: tuple[str, ...]
) -> Heads:
    """Both heads on one latent."""
    coef, intercept = fit_svc(z, y, labels)
    act_coef, act_intercept = fit_activation(z, activation)
    return Heads(labels=labels, svc_coef=coef, svc_intercept=intercept,
                 activation_coef=act_coef, activation_intercept=act_intercept)  # fmt: skip
