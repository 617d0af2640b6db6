"""The deep models: DeepSurv (shared ``build_mlp`` + the shared Cox loss), two discrete-time
networks (logistic hazard and DeepHit, ``shared.discrete_survival``) and a horizon MLP.

DeepSurv batches: the Cox loss needs each event's risk set, which is computed *within a batch*
(``shared.survival.cox_ph_loss``). Batches are large (default 1024 of ~7,300 SUPPORT training
rows, reshuffled every epoch) so each batch's risk sets are a good sample of the full ones, while
an epoch still takes several optimizer steps; ``batch_size=0`` trains full-batch (exact partial
likelihood). Early stopping watches the Cox loss on a 15 % stratified slice of the training fold,
scored as one batch.

Discrete-time networks: the same MLP with one logit per interval of a time grid cut at quantiles
of the training fold's event times, the same early-stopping slice. Their risk score for the
C-indices is minus the restricted mean survival time to the grid's last edge, the area under
S(t | x) (it uses the whole curve, as the survival forest's risk does, not one time point).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np

from shared.survival import BreslowBaseline, horizon_labels, survival_target

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class NetSettings:
    hidden_units: tuple[int, ...] = (64, 64)
    dropout: float = 0.2
    l2: float = 1e-4
    normalization: str | None = "batch"
    learning_rate: float = 1e-3
    batch_size: int = 1024
    epochs: int = 200
    patience: int = 15
    validation_fraction: float = 0.15


def _inner_split(stratify: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(stratify))
    fit, val = train_test_split(idx, test_size=fraction, random_state=seed, stratify=stratify)
    return np.sort(fit), np.sort(val)


def _compile_fit(model: Any, loss: Any, x_fit: np.ndarray, y_fit: np.ndarray, x_val: np.ndarray,
                 y_val: np.ndarray, settings: NetSettings, verbose: int, metrics: list[Any] | None = None
                 ) -> dict[str, list[float]]:
    from shared.models._keras import keras
    from shared.training import fit_keras, standard_callbacks

    k = keras()
    # jit_compile=False: XLA compilation costs more than it saves for a small MLP on a CPU
    model.compile(optimizer=k.optimizers.Adam(settings.learning_rate), loss=loss, metrics=metrics or [],
                  jit_compile=False)
    batch = settings.batch_size if settings.batch_size > 0 else len(x_fit)
    return fit_keras(model, x_fit, y_fit, validation_data=(x_val, y_val), epochs=settings.epochs,
                     batch_size=min(batch, len(x_fit)), verbose=verbose, shuffle=True,
                     validation_batch_size=len(x_val),
                     callbacks=standard_callbacks(None, monitor="val_loss", patience=settings.patience,
                                                  csv_log=False))


def predict_risk(model: Any, x: np.ndarray, *, chunk: int = 65536) -> np.ndarray:
    """The network's output for every row, called eagerly in chunks (no ``predict`` function to trace:
    several times faster than ``model.predict`` for the many small calls of cross-validation)."""
    x = np.asarray(x, dtype="float32")
    if len(x) == 0:
        return np.zeros(0)
    parts = [np.asarray(model(x[i:i + chunk], training=False), dtype=float).reshape(-1)
             for i in range(0, len(x), chunk)]
    return np.concatenate(parts)


@dataclasses.dataclass
class DeepSurv:
    """A fitted DeepSurv network, its Breslow baseline hazard and its training history."""

    model: Any
    baseline: BreslowBaseline
    history: dict[str, list[float]]

    def risk(self, x: np.ndarray) -> np.ndarray:
        return predict_risk(self.model, x)

    def survival(self, x: np.ndarray, times: Any) -> np.ndarray:
        return self.baseline.survival(self.risk(x), times)


def train_deepsurv(x: np.ndarray, time: np.ndarray, event: np.ndarray, *, settings: NetSettings, seed: int,
                   verbose: int = 0) -> DeepSurv:
    """Fit DeepSurv on one training fold; the baseline hazard uses the whole training fold."""
    from shared.models import build_mlp
    from shared.survival import cox_ph_loss
    from shared.training import set_seed

    set_seed(seed)
    fit, val = _inner_split(event, settings.validation_fraction, seed)
    y = survival_target(time, event)
    model = build_mlp(n_features=x.shape[1], hidden_units=settings.hidden_units, dropout=settings.dropout,
                      l2=settings.l2, normalization=settings.normalization, outputs=1, output_activation=None,
                      name="deepsurv")
    history = _compile_fit(model, cox_ph_loss(), x[fit], y[fit], x[val], y[val], settings, verbose)
    baseline = BreslowBaseline().fit(predict_risk(model, x), time, event)
    return DeepSurv(model=model, baseline=baseline, history=history)


DISCRETE_KINDS = {"logistic_hazard": "hazard", "deephit": "pmf"}


def predict_outputs(model: Any, x: np.ndarray, *, chunk: int = 65536) -> np.ndarray:
    """All outputs of the network per row ``(n, outputs)``, eager chunked calls as :func:`predict_risk`."""
    x = np.asarray(x, dtype="float32")
    parts = [np.asarray(model(x[i:i + chunk], training=False), dtype=float) for i in range(0, len(x), chunk)]
    return np.concatenate(parts) if parts else np.zeros((0, model.output_shape[-1]))


@dataclasses.dataclass
class DiscreteSurvivalNet:
    """A fitted discrete-time network (``name`` logistic_hazard or deephit), its time grid and history."""

    name: str
    model: Any
    grid: Any
    history: dict[str, list[float]]

    @property
    def kind(self) -> str:
        return DISCRETE_KINDS[self.name]

    def survival(self, x: np.ndarray, times: Any) -> np.ndarray:
        return self.grid.survival(predict_outputs(self.model, x), times, kind=self.kind)

    def curves(self, x: np.ndarray, times: Any, own_times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """S(times | x) and S(own_times[i] | x_i) from one forward pass."""
        out = predict_outputs(self.model, x)
        return (self.grid.survival(out, times, kind=self.kind),
                self.grid.survival_at_own_times(out, own_times, kind=self.kind))


def rmst_grid(grid: Any, points: int = 200) -> np.ndarray:
    """Times on which :func:`rmst_risk` integrates S: 0 to the grid's last edge."""
    return np.linspace(0.0, float(grid.edges[-1]), points)


def rmst_risk(surv_on_rmst_grid: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Risk score = minus the area under S(t | x) on ``times`` (restricted mean survival, trapezoid)."""
    s = np.asarray(surv_on_rmst_grid, dtype=float)
    return -np.sum(0.5 * (s[:, 1:] + s[:, :-1]) * np.diff(times)[None, :], axis=1)


def train_discrete(x: np.ndarray, time: np.ndarray, event: np.ndarray, *, name: str, time_bins: int,
                   settings: NetSettings, seed: int, alpha: float = 0.5, sigma: float = 0.1,
                   verbose: int = 0) -> DiscreteSurvivalNet:
    """Fit a logistic-hazard or DeepHit network on one training fold (its grid from that fold's event times)."""
    from shared.discrete_survival import TimeGrid, deephit_loss, logistic_hazard_loss
    from shared.models import build_mlp
    from shared.training import set_seed

    if name not in DISCRETE_KINDS:
        raise ValueError(f"name must be one of {sorted(DISCRETE_KINDS)}, got {name!r}")
    from shared.errors import UserError

    try:
        grid = TimeGrid.from_training(time, event, n_bins=time_bins)
    except ValueError as err:  # --time-bins against this cohort: the user's to fix
        raise UserError(str(err)) from err
    loss = logistic_hazard_loss() if name == "logistic_hazard" else deephit_loss(alpha=alpha, sigma=sigma)
    set_seed(seed)
    fit, val = _inner_split(event, settings.validation_fraction, seed)
    y = grid.encode(time, event)
    model = build_mlp(n_features=x.shape[1], hidden_units=settings.hidden_units, dropout=settings.dropout,
                      l2=settings.l2, normalization=settings.normalization, outputs=grid.n_bins,
                      output_activation=None, name=name)
    head = model.get_layer("output")  # start from the population curve of the fit part (not h = 1/2 per bin)
    kernel, _ = head.get_weights()
    head.set_weights([kernel, grid.empirical_logits(time[fit], event[fit], kind=DISCRETE_KINDS[name])])
    history = _compile_fit(model, loss, x[fit], y[fit], x[val], y[val], settings, verbose)
    return DiscreteSurvivalNet(name=name, model=model, grid=grid, history=history)


@dataclasses.dataclass
class HorizonClassifier:
    model: Any
    history: dict[str, list[float]]

    def predict(self, x: np.ndarray) -> np.ndarray:
        return predict_risk(self.model, x)


def train_horizon_mlp(x: np.ndarray, time: np.ndarray, event: np.ndarray, *, horizon: float,
                      settings: NetSettings, seed: int, verbose: int = 0) -> HorizonClassifier:
    """Sigmoid MLP for P(event by H), trained only on subjects whose status at H is known."""
    from shared.models import build_mlp
    from shared.training import set_seed

    label, known = horizon_labels(time, event, horizon)
    xk, yk = x[known], label[known].astype("float32")
    if len(np.unique(yk)) < 2:
        raise ValueError(f"the horizon {horizon:g} leaves one class among training subjects with a known status; "
                         "pass a different --horizon-days")
    set_seed(seed)
    fit, val = _inner_split(yk, settings.validation_fraction, seed)
    model = build_mlp(n_features=x.shape[1], hidden_units=settings.hidden_units, dropout=settings.dropout,
                      l2=settings.l2, normalization=settings.normalization, outputs=1, output_activation="sigmoid",
                      name="horizon_mlp")
    history = _compile_fit(model, "binary_crossentropy", xk[fit], yk[fit], xk[val], yk[val], settings, verbose)
    return HorizonClassifier(model=model, history=history)
