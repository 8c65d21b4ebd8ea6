"""The selection network (METHODS.md §8, after arXiv 2505.23844): query features → one weight
per candidate model, trained on judged scores with an anti-collapse (load-balancing) penalty.

A one-hidden-layer softmax network in numpy (no torch needed). Per query i its target is the
distribution t_i = softmax(y_i / T) over the models' judged scores y_i (T small: the better
model gets most of the mass, near-ties share it). The loss is

    mean_i CE(t_i, w_i)  +  λ · M · Σ_m P_m²,     P_m = mean_i w_im (model m's share of weight),

whose second term is minimal (= λ) when the weight is spread evenly over the M models and grows
to λ·M when one model takes everything; without it a model that is a little better on average
takes every query. Trained full-batch with Adam and weight decay, seeded.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict


class SelectorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hidden: int = 64
    temperature: float = 0.1  # of the target softmax over judged scores
    balance: float = 1.0  # λ of the load-balancing penalty (0 = off)
    weight_decay: float = 1e-2
    lr: float = 0.01
    epochs: int = 400
    seed: int = 0
    drop_below: float = 0.15  # weights under this are dropped at inference, rest renormalised


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class SelectionNetwork:
    """``fit(X, Y)`` with X (n × d) features and Y (n × M) judged scores; ``weights(X)``."""

    def __init__(self, settings: SelectorSettings | None = None) -> None:
        self.settings = settings or SelectorSettings()
        self.params: dict[str, np.ndarray] = {}
        self.history: list[dict[str, float]] = []

    def _forward(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        h = np.maximum(X @ p["W1"] + p["b1"], 0.0)
        return h, _softmax(h @ p["W2"] + p["b2"])

    def fit(self, X: np.ndarray, Y: np.ndarray) -> SelectionNetwork:
        from threadpoolctl import threadpool_limits

        # small matrices: BLAS threads only fight over the cores (10x slower on a busy host)
        with threadpool_limits(1):
            return self._fit(X, Y)

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> SelectionNetwork:
        s = self.settings
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y) or len(X) == 0:
            raise ValueError(
                f"need X (n × d) and Y (n × M) with the same n > 0, got {X.shape} and {Y.shape}"
            )
        if np.isnan(Y).any():
            raise ValueError(
                "judged scores contain NaN: drop or impute the missing (query, model) pairs first"
            )
        n, d = X.shape
        m = Y.shape[1]
        rng = np.random.default_rng(s.seed)
        self.params = {
            "W1": rng.normal(0, np.sqrt(2.0 / d), (d, s.hidden)),
            "b1": np.zeros(s.hidden),
            "W2": rng.normal(0, np.sqrt(1.0 / s.hidden), (s.hidden, m)),
            "b2": np.zeros(m),
        }
        target = _softmax(Y / s.temperature)
        moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in self.params.items()}
        b1, b2, eps = 0.9, 0.999, 1e-8
        self.history = []
        for step in range(1, s.epochs + 1):
            h, w = self._forward(X)
            share = w.mean(axis=0)
            ce = float(-(target * np.log(w + 1e-12)).sum(axis=1).mean())
            balance = float(s.balance * m * (share**2).sum())
            # d loss / d w (CE part handled jointly with the softmax below)
            g_w_balance = np.broadcast_to(2.0 * s.balance * m * share / n, w.shape)
            g_logits = (w - target) / n
            g_logits += w * (g_w_balance - (g_w_balance * w).sum(axis=1, keepdims=True))
            grads = {
                "W2": h.T @ g_logits + s.weight_decay * self.params["W2"],
                "b2": g_logits.sum(axis=0),
            }
            g_h = (g_logits @ self.params["W2"].T) * (h > 0)
            grads["W1"] = X.T @ g_h + s.weight_decay * self.params["W1"]
            grads["b1"] = g_h.sum(axis=0)
            for k, g in grads.items():
                m1, m2 = moments[k]
                m1 *= b1
                m1 += (1 - b1) * g
                m2 *= b2
                m2 += (1 - b2) * g * g
                self.params[k] -= (
                    s.lr * (m1 / (1 - b1**step)) / (np.sqrt(m2 / (1 - b2**step)) + eps)
                )
            if step == 1 or step % 50 == 0 or step == s.epochs:
                self.history.append({"epoch": step, "cross_entropy": ce, "balance": balance})
        return self

    def weights(self, X: np.ndarray) -> np.ndarray:
        """Raw softmax weights (n × M)."""
        if not self.params:
            raise RuntimeError("the selection network is not trained: call fit() first")
        return self._forward(np.asarray(X, dtype=np.float64))[1]

    def selected(self, X: np.ndarray) -> np.ndarray:
        """Weights with models under ``drop_below`` dropped and the rest renormalised (the top
        model is always kept)."""
        w = self.weights(X)
        keep = w >= self.settings.drop_below
        keep[np.arange(len(w)), w.argmax(axis=1)] = True
        kept = np.where(keep, w, 0.0)
        return kept / kept.sum(axis=1, keepdims=True)

    def state(self) -> dict[str, list]:
        return {k: v.tolist() for k, v in self.params.items()}

    def load_state(self, state: dict[str, list]) -> SelectionNetwork:
        self.params = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}
        return self


def usage(weights: np.ndarray) -> np.ndarray:
    """Share of queries whose top-1 is each model."""
    return np.bincount(weights.argmax(axis=1), minlength=weights.shape[1]) / len(weights)
