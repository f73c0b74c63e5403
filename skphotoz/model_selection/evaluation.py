"""Evaluation protocols of de Diego et al. (2021) for joint (type, redshift) models.

An evaluation turns out-of-fold predictions (from
:func:`skphotoz.model_selection.cross_val_predict_joint`, which owns the
splitting and the replica training) into the paper's figures of merit:

* :func:`evaluate_predictions`: every metric of :mod:`skphotoz.metrics`, at
  the given threshold and at the Youden threshold, each with a bootstrap
  error over the galaxies (the paper's +/- values).
* :func:`loo_evaluation`: the paper's leave-one-out protocol (Sect. 2.2.2 /
  3): each galaxy predicted by a model trained on all the others, then
  :func:`evaluate_predictions` on those predictions.
* :func:`bootstrap_evaluation`: the metrics on each test set of repeated
  splits (by default 100 bootstrap resamples tested out of bag, or the
  paper's 100 trials of 192 train / 178 test via
  :func:`~skphotoz.model_selection.paper_split`) and their medians and
  16-84 percentile spreads.
* :func:`compare_architectures`: the paper's Table 2, those medians and
  spreads for each architecture on the same trials.

These names are also importable from :mod:`skphotoz.model_selection`, where
they used to live.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.metrics import accuracy_score
from sklearn.model_selection import LeaveOneOut
from sklearn.utils import Bunch, check_random_state

from skphotoz.metrics import classification_metrics, photoz_metrics
from skphotoz.model_selection.out_of_fold import (
    cross_val_predict_joint,
    fold_predictions,
    resolve_cv,
)
from skphotoz.model_selection.split import BootstrapSplit, paper_split
from skphotoz.validation import final_estimator, split_targets

#: Paper Table 2 rows: metric key -> row label.
TABLE2_METRICS = {
    "mse": "Mean square error",
    "mae": "Mean absolute error",
    "binary_cross_entropy": "Binary cross-entropy",
    "roc_auc": "Area under the curve",
    "total_loss": "Total loss",
}


def _all_metrics(late_true, z_spec, p_late, z_phot, threshold, with_youden):
    from skphotoz.thresholding import youden_threshold

    row = classification_metrics(late_true, p_late, threshold)
    row.update(photoz_metrics(z_spec, z_phot))
    # The paper's total loss, -joint_score, from the two terms already computed.
    row["total_loss"] = row["binary_cross_entropy"] + row["mse"]
    if with_youden:
        try:
            at_j = youden_threshold(late_true, p_late)
        except ValueError:  # one type only, or all scores tied: J is undefined
            at_j = {"threshold": np.nan}
        p_j = float(at_j["threshold"])
        accuracy = accuracy_score(late_true, p_late >= p_j) if np.isfinite(p_j) else np.nan
        row["accuracy_youden"] = float(accuracy)
        for key in ("true_early_type_rate", "true_late_type_rate", "youden_j"):
            row[f"{key}_youden"] = float(at_j.get(key, np.nan))
        row["youden_threshold"] = p_j
    return row


def evaluate_predictions(predictions, *, threshold=0.5, n_bootstrap=1000, random_state=None):
    """Every metric of :mod:`skphotoz.metrics` with a bootstrap error.

    Parameters
    ----------
    predictions : DataFrame
        Columns ``type`` (labels; the sorted second is the late type),
        ``z_spec``, ``p_late`` and ``z_phot``, one row per galaxy.
    threshold : float, default=0.5
        Classification threshold on P(LT). The same figures are also given
        at the Youden threshold (suffix ``_youden``).
    n_bootstrap : int, default=1000
        Resamples of the galaxies (with replacement, not stratified, so the
        type mix varies as in a new sample). The Youden threshold is found
        again in each resample, so its error includes the choice of p_J.
    random_state : int, RandomState instance or None

    Returns
    -------
    Bunch with ``metrics`` (DataFrame, index metric names, columns ``value``
    and ``error`` = std over resamples) and ``youden_threshold``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skphotoz.model_selection.evaluation import evaluate_predictions
    >>> frame = pd.DataFrame({"type": ["ET", "LT", "LT", "ET", "LT", "LT"],
    ...                       "z_spec": [0.1, 0.5, 0.9, 0.3, 0.7, 0.2],
    ...                       "p_late": [0.2, 0.9, 0.6, 0.4, 0.8, 0.7],
    ...                       "z_phot": [0.15, 0.45, 0.8, 0.35, 0.72, 0.3]})
    >>> result = evaluate_predictions(frame, n_bootstrap=20, random_state=0)
    >>> float(result.metrics.loc["accuracy", "value"])
    1.0
    """
    types = predictions["type"].to_numpy()
    late_true = types == np.unique(types)[-1]
    cols = [predictions[c].to_numpy(float) for c in ("z_spec", "p_late", "z_phot")]
    value = _all_metrics(late_true, *cols, threshold, True)
    rng = check_random_state(random_state)
    n = len(types)
    draws = []
    # The inputs were checked by the full-sample call above; sklearn's
    # per-call validation would otherwise dominate the resampling time.
    with config_context(skip_parameter_validation=True, assume_finite=True):
        for _ in range(n_bootstrap):
            idx = rng.randint(n, size=n)
            draws.append(_all_metrics(late_true[idx], *(c[idx] for c in cols), threshold, True))
    draws = pd.DataFrame(draws)
    metrics = pd.DataFrame({"value": pd.Series(value), "error": draws.std(ddof=1)})
    metrics = metrics.drop(index="threshold")
    return Bunch(metrics=metrics, youden_threshold=value["youden_threshold"])


def loo_evaluation(
    estimator,
    X,
    y,
    *,
    n_bootstrap=1000,
    threshold=0.5,
    n_jobs=None,
    replicas="auto",
    random_state=None,
    verbose=0,
):
    """Leave-one-out predictions for every galaxy and every metric with its error.

    The paper's Sect. 2.2.2 / 3 protocol: each galaxy is predicted by a model
    trained on all the others; the metrics of :mod:`skphotoz.metrics` are
    computed on these out-of-fold predictions and given a bootstrap error
    (:func:`evaluate_predictions`), as the paper's +/- values.

    Parameters
    ----------
    estimator, X, y, n_jobs, replicas, random_state, verbose
        As in :func:`~skphotoz.model_selection.cross_val_predict_joint` (``cv="loo"``).
    n_bootstrap : int, default=1000
    threshold : float, default=0.5

    Returns
    -------
    Bunch with ``predictions`` (DataFrame: ``type``, ``z_spec``, ``p_late``,
    ``z_phot``), ``metrics`` (``value``, ``error``) and ``youden_threshold``.
    """
    final = final_estimator(estimator)
    types, z_spec = split_targets(
        y, getattr(final, "type_column", "type"), getattr(final, "redshift_column", "redshift")
    )
    oof = cross_val_predict_joint(
        estimator,
        X,
        y,
        cv=LeaveOneOut(),
        n_jobs=n_jobs,
        replicas=replicas,
        random_state=random_state,
        verbose=verbose,
    )
    predictions = pd.DataFrame(
        {
            "type": types,
            "z_spec": z_spec,
            "p_late": oof["p_late"].to_numpy(),
            "z_phot": oof["z_phot"].to_numpy(),
        },
        index=oof.index,
    )
    rng = check_random_state(random_state)
    result = evaluate_predictions(
        predictions,
        threshold=threshold,
        n_bootstrap=n_bootstrap,
        random_state=rng.randint(np.iinfo(np.int32).max),
    )
    return Bunch(predictions=predictions, **result)


def _summary(per_split):
    numeric = per_split.drop(columns=["split"])
    low, high = numeric.quantile(0.16), numeric.quantile(0.84)
    return pd.DataFrame(
        {
            "median": numeric.median(),
            "spread": (high - low) / 2,
            "mean": numeric.mean(),
            "std": numeric.std(ddof=1),
        }
    )


def bootstrap_evaluation(
    estimator,
    X,
    y,
    *,
    n_splits=100,
    cv=None,
    n_jobs=None,
    replicas="auto",
    random_state=None,
    verbose=0,
):
    """Metrics on each test set of repeated splits, and their medians (paper Table 2 style).

    Parameters
    ----------
    estimator, X, y, n_jobs, replicas, random_state, verbose
        As in :func:`~skphotoz.model_selection.cross_val_predict_joint`.
    n_splits : int, default=100
        Bootstrap resamples when ``cv`` is None (:class:`~skphotoz.model_selection.BootstrapSplit`,
        testing on the out-of-bag galaxies).
    cv : splitter, optional
        E.g. :func:`~skphotoz.model_selection.paper_split`.

    Returns
    -------
    Bunch with ``per_split`` (one row per split: every metric at the
    estimator's threshold (0.5 if it has none), ``total_loss`` = BCE + MSE,
    ``n_train`` and ``n_test``) and ``summary`` (index metric names; columns
    ``median``, ``spread`` = half the 16-84 percentile range, the robust
    1-sigma of the trials, ``mean`` and ``std``).
    """
    rng = check_random_state(random_state)
    if cv is None:
        cv = BootstrapSplit(n_splits, random_state=rng.randint(np.iinfo(np.int32).max))
    splits = list(resolve_cv(cv).split(X, y))
    final = final_estimator(estimator)
    types, z_spec = split_targets(
        y, getattr(final, "type_column", "type"), getattr(final, "redshift_column", "redshift")
    )
    late_true = types == np.unique(types)[-1]
    outputs = fold_predictions(
        estimator,
        X,
        y,
        splits,
        n_jobs=n_jobs,
        replicas=replicas,
        random_state=rng,
        verbose=verbose,
    )
    threshold = getattr(final, "threshold", 0.5)
    rows = []
    for k, ((train, test), (p, z)) in enumerate(zip(splits, outputs, strict=True)):
        row = {"split": k, "n_train": len(train), "n_test": len(test)}
        row.update(_all_metrics(late_true[test], z_spec[test], p, z, threshold, False))
        rows.append(row)
    per_split = pd.DataFrame(rows)
    return Bunch(per_split=per_split, summary=_summary(per_split))


def compare_architectures(
    X,
    y,
    *,
    architectures=None,
    n_trials=100,
    cv=None,
    estimator_params=None,
    n_jobs=None,
    replicas="auto",
    random_state=None,
    verbose=0,
):
    """The paper's Table 2: median (and spread) of test metrics over trials, per architecture.

    Parameters
    ----------
    X, y : magnitudes and joint target
    architectures : dict or iterable, optional
        Keys of :data:`skphotoz.nn.spec.ARCHITECTURES` (default: 1-4) or a
        mapping name -> JointMorphZ keyword arguments.
    n_trials : int, default=100
        Trials of :func:`~skphotoz.model_selection.paper_split` (192 train /
        178 test) when ``cv`` is None.
    cv : splitter, optional
        The same splits are used for every architecture.
    estimator_params : dict, optional
        Further JointMorphZ parameters (e.g. ``protocol="paper"`` for the
        paper's early-stopping fits, which run per fold; the default fixed
        schedule runs as replicas). Approximation of the replica path for
        192/370 splits: every replica steps through all 370 rows each epoch
        (6 batches of 64 holding ~33 of its own galaxies) where a single
        fit takes 3 full batches of its 192; see :mod:`skphotoz.nn.replica`.
    n_jobs, replicas, random_state, verbose
        As in :func:`bootstrap_evaluation`.

    Returns
    -------
    DataFrame with index (metric, statistic) for the metrics MSE, MAE, BCE,
    AUC and total loss and the statistics ``median`` and ``spread``, and one
    column per architecture (``"Arch. 1"`` ...). The per-trial frames are in
    ``.attrs["per_split"]``.
    """
    from skphotoz.nn.estimator import JointMorphZ
    from skphotoz.nn.spec import ARCHITECTURES

    if architectures is None:
        architectures = list(ARCHITECTURES)
    if not isinstance(architectures, dict):
        unknown = [a for a in architectures if a not in ARCHITECTURES]
        if unknown:
            raise ValueError(f"Unknown architecture(s) {unknown}; known: {list(ARCHITECTURES)}.")
        architectures = {f"Arch. {a}": ARCHITECTURES[a] for a in architectures}
    rng = check_random_state(random_state)
    if cv is None:
        cv = paper_split(n_trials, random_state=rng.randint(np.iinfo(np.int32).max))
    fixed_splits = list(cv.split(X, y))
    columns, per_split = {}, {}
    for name, arch in architectures.items():
        estimator = JointMorphZ(**{**(estimator_params or {}), **arch})
        result = bootstrap_evaluation(
            estimator,
            X,
            y,
            cv=_FixedSplits(fixed_splits),
            n_jobs=n_jobs,
            replicas=replicas,
            random_state=rng.randint(np.iinfo(np.int32).max),
            verbose=verbose,
        )
        summary = result.summary.loc[list(TABLE2_METRICS), ["median", "spread"]]
        columns[name] = summary.stack()
        per_split[name] = result.per_split
    table = pd.DataFrame(columns)
    table.index.names = ["metric", "statistic"]
    table.attrs["per_split"] = per_split
    return table


class _FixedSplits:
    """A list of precomputed splits, so every architecture sees the same trials."""

    def __init__(self, splits):
        self.splits = splits

    def split(self, X=None, y=None, groups=None):
        yield from self.splits

    def get_n_splits(self, X=None, y=None, groups=None):
        return len(self.splits)
