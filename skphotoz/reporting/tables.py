"""The paper's classification tables, for any scores: Tables 3, 4, 5 and 6.

Contingency tables at the default threshold (0.5) and at the Youden threshold
(Tables 3 and 5), the misclassified galaxies with their IDs, labels and
redshifts (Table 4), and accuracy, true-ET and true-LT rates for the baseline,
0.5 and p_J, each with a bootstrap error (Table 6). The threshold itself lives
in :mod:`skphotoz.thresholding`; the ROC figure (Fig. 5) in
:func:`skphotoz.reporting.plots.plot_roc`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skphotoz.metrics import contingency_table
from skphotoz.thresholding import DEFAULT_THRESHOLD, youden_threshold
from skphotoz.validation import final_estimator, late_type_mask, late_type_scores, split_targets


def _bootstrap_rates(late_true, predictions, n_bootstrap, random_state):
    """Bootstrap standard errors of accuracy, true-ET and true-LT rates.

    Why not ``scipy.stats.bootstrap``: with 8% early types a resample can
    hold none, its true-ET rate is undefined, and scipy propagates that NaN
    into the standard error. The rates depend only on how many galaxies fall
    in each cell (true type x every prediction), so resampling galaxies is a
    multinomial draw of those cell counts: exact, paired across the rows,
    and cheap for any sample size. Resamples without an ET (or LT) galaxy
    are left out of that rate's spread.
    """
    rng = check_random_state(random_state)
    columns = np.column_stack([late_true, *predictions]).astype(np.int64)
    cells, cell_of = np.unique(columns, axis=0, return_inverse=True)
    counts = rng.multinomial(
        len(late_true), np.bincount(cell_of.ravel()) / len(late_true), size=n_bootstrap
    )
    true_late = cells[:, 0].astype(bool)
    n_late = counts[:, true_late].sum(axis=1)
    n_early = counts[:, ~true_late].sum(axis=1)
    errors = []
    for k in range(len(predictions)):
        pred_late = cells[:, k + 1].astype(bool)
        right_late = counts[:, true_late & pred_late].sum(axis=1)
        right_early = counts[:, ~true_late & ~pred_late].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            draws = np.column_stack(
                [
                    (right_late + right_early) / len(late_true),
                    np.where(n_early > 0, right_early / n_early, np.nan),
                    np.where(n_late > 0, right_late / n_late, np.nan),
                ]
            )
        errors.append([np.std(d[np.isfinite(d)], ddof=1) for d in draws.T])
    return np.array(errors)


def _rates(late_true, late_pred):
    return (
        float(np.mean(late_true == late_pred)),
        float(np.mean(~late_pred[~late_true])),
        float(np.mean(late_pred[late_true])),
    )


def classification_report(
    y_true,
    p_late,
    *,
    youden=None,
    default_threshold=DEFAULT_THRESHOLD,
    ids=None,
    z_spec=None,
    z_phot=None,
    extra_columns=None,
    misclassified_at="default",
    labels=None,
    model_name="model",
    truth_name="true",
    n_bootstrap=1000,
    random_state=0,
):
    """The paper's classification tables for any scores: Tables 3, 4, 5 and 6.

    Parameters
    ----------
    y_true : array-like of shape (n,) or joint target (n, 2)
        True types: labels ("ET"/"LT", 0/1) or late-type booleans. From a
        joint target the spectroscopic redshifts are taken as ``z_spec``.
    p_late : array-like of shape (n,), (n, 1) or (n, 2)
        P(LT), ideally out-of-fold or held-out (the paper used LOOCV).
    youden : float, optional
        p_J. Learned from these scores (:func:`youden_threshold`) when
        omitted, as in the paper; pass a threshold learned on training data
        (e.g. ``YoudenThresholdCV.threshold_``) for an honest test report.
    default_threshold : float, default=0.5
        The threshold of Table 3.
    ids : array-like of shape (n,), optional
        Galaxy identifiers for Table 4; row positions when omitted.
    z_spec, z_phot : array-like of shape (n,), optional
        Spectroscopic and model redshifts for Table 4.
    extra_columns : DataFrame or dict of arrays, optional
        More per-galaxy columns for Table 4 (e.g. a visual classification or
        a catalog photo-z, as in the paper).
    misclassified_at : {"default", "youden", "either"}, default="default"
        Which galaxies Table 4 lists: wrong at ``default_threshold`` (the
        paper's Table 4, the off-diagonal of Table 3), at p_J, or at either.
    labels : (str, str), optional
        Names of the early and late type; the labels of ``y_true`` when they
        are strings, else ("ET", "LT").
    model_name, truth_name : str
        Row and column names of the contingency tables.
    n_bootstrap : int, default=1000
        Bootstrap resamples of the galaxies for the uncertainties (standard
        deviations; the thresholds stay fixed).
    random_state : int, RandomState instance or None, default=0

    Returns
    -------
    dict
        ``contingency_default`` (Table 3), ``contingency_youden`` (Table 5):
        DataFrames, predicted types in rows and true types in columns, with
        sums. ``statistics`` (Table 6): one row each for the
        baseline (every galaxy given the majority type: all LT in the
        paper), the default threshold and p_J, with columns threshold,
        accuracy, true_early_type_rate, true_late_type_rate and their
        ``*_err``. ``misclassified`` (Table 4): DataFrame with id, true
        label, predicted labels at both thresholds, p_late and the
        redshifts. Also ``youden_threshold``, ``default_threshold``,
        ``n_early_type``, ``n_late_type``.

    Examples
    --------
    >>> from skphotoz.reporting.tables import classification_report
    >>> report = classification_report(["ET", "ET", "LT", "LT", "LT"],
    ...                                [0.2, 0.7, 0.6, 0.8, 0.9], n_bootstrap=20)
    >>> report["contingency_default"].to_numpy().tolist()
    [[1, 0, 1], [1, 3, 4], [2, 3, 5]]
    """
    if misclassified_at not in ("default", "youden", "either"):
        raise ValueError(
            f"misclassified_at must be 'default', 'youden' or 'either'; got {misclassified_at!r}."
        )
    late_true, classes, _, target_z = late_type_mask(y_true)
    p_late = late_type_scores(p_late)
    n = len(late_true)
    if len(p_late) != n:
        raise ValueError(f"{len(p_late)} scores but {n} type labels.")
    if z_spec is None:
        z_spec = target_z
    if labels is None:
        labels = tuple(classes) if classes.dtype.kind in "US" else ("ET", "LT")
    if youden is None:
        youden = youden_threshold(late_true, p_late)["threshold"]
    youden = float(youden)
    # The paper's baseline calls every galaxy the dominant type (LT there,
    # 92%); a sample dominated by early types gets the all-ET baseline.
    base_late = bool(late_true.sum() >= (~late_true).sum())
    base_threshold = 0.0 if base_late else np.inf  # p >= 0: all LT; p >= inf: all ET
    rows = {
        f"Baseline (all {labels[int(base_late)]})": (base_threshold, np.full(n, base_late)),
        f"Default threshold ({default_threshold:g})": (
            default_threshold,
            p_late >= default_threshold,
        ),
        f"Youden's J ({youden:.3f})": (youden, p_late >= youden),
    }
    errors = _bootstrap_rates(
        late_true, [pred for _, pred in rows.values()], n_bootstrap, random_state
    )
    statistics = pd.DataFrame(
        [
            {
                "threshold": threshold,
                **{
                    f"{name}{suffix}": value
                    for name, v, e in zip(
                        ("accuracy", "true_early_type_rate", "true_late_type_rate"),
                        _rates(late_true, pred),
                        err,
                        strict=True,
                    )
                    for suffix, value in (("", v), ("_err", e))
                },
            }
            for (threshold, pred), err in zip(rows.values(), errors, strict=True)
        ],
        index=list(rows),
    )

    default_pred = p_late >= default_threshold
    youden_pred = p_late >= youden
    wrong = {
        "default": default_pred != late_true,
        "youden": youden_pred != late_true,
        "either": (default_pred != late_true) | (youden_pred != late_true),
    }[misclassified_at]

    def name(late):
        return np.where(late, labels[1], labels[0])

    table4 = {
        "id": np.asarray(ids)[wrong] if ids is not None else np.flatnonzero(wrong),
        truth_name: name(late_true[wrong]),
        f"{model_name} (p={default_threshold:g})": name(default_pred[wrong]),
        f"{model_name} (p_J={youden:.3f})": name(youden_pred[wrong]),
        "p_late": p_late[wrong],
    }
    if extra_columns is not None:
        for column, values in pd.DataFrame(extra_columns).items():
            table4[column] = np.asarray(values)[wrong]
    if z_spec is not None:
        table4["z_spec"] = np.asarray(z_spec, dtype=float)[wrong]
    if z_phot is not None:
        table4[f"z_{model_name}"] = np.asarray(z_phot, dtype=float)[wrong]
    kwargs = {"labels": labels, "model_name": model_name, "truth_name": truth_name}
    return {
        "contingency_default": contingency_table(late_true, default_pred, **kwargs),
        "contingency_youden": contingency_table(late_true, youden_pred, **kwargs),
        "statistics": statistics,
        "misclassified": pd.DataFrame(table4),
        "youden_threshold": youden,
        "default_threshold": float(default_threshold),
        "n_early_type": int((~late_true).sum()),
        "n_late_type": int(late_true.sum()),
    }


def _estimator_scores(estimator, X, y):
    """(late_true, p_late, z_spec, z_phot) of a fitted joint model on labelled galaxies."""
    check_is_fitted(estimator)
    final = final_estimator(estimator)
    types, z_spec = split_targets(
        y, getattr(final, "type_column", "type"), getattr(final, "redshift_column", "redshift")
    )
    classes = np.asarray(estimator.classes_)
    unknown = set(np.unique(types).tolist()) - set(classes.tolist())
    if unknown:
        raise ValueError(
            f"y holds type labels {sorted(unknown)} the estimator was not trained on "
            f"(classes_ = {classes.tolist()})."
        )
    p_late = late_type_scores(estimator.predict_proba(X))
    _, z_phot = split_targets(estimator.predict(X))
    return types == classes[1], p_late, z_spec, z_phot


def classification_report_from_estimator(estimator, X, y, *, youden=None, **kwargs):
    """:func:`classification_report` for a fitted joint model on labelled galaxies.

    Parameters
    ----------
    estimator : fitted joint estimator
        ``predict_proba`` gives [P(ET), P(LT)]; ``predict`` gives
        ``[type, z]`` (its redshifts fill Table 4).
    X : array-like of shape (n, n_bands)
        Preferably galaxies the model did not train on.
    y : joint target of shape (n, 2), DataFrame or astropy Table
    youden : float, optional
        p_J; by default the estimator's ``threshold_`` when it learned one
        (:class:`YoudenThresholdCV`), otherwise learned from these scores.
    **kwargs
        Passed on (ids, extra_columns, misclassified_at, model_name,
        n_bootstrap, random_state, ...).

    Returns
    -------
    dict
        As :func:`classification_report`.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.reporting.tables import classification_report_from_estimator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(40, 3))
    >>> y = np.column_stack([np.where(X[:, 0] > 22, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> model = JointMorphZ(base_units=(8,), epochs=1, random_state=0).fit(X, y)
    >>> report = classification_report_from_estimator(model, X, y, n_bootstrap=10)
    >>> int(report["contingency_default"].iloc[2, 2])
    40
    """
    return _estimator_report(estimator, *_estimator_scores(estimator, X, y), youden, kwargs)


def _estimator_report(estimator, late_true, p_late, z_spec, z_phot, youden, kwargs):
    if youden is None:
        youden = getattr(estimator, "threshold_", None)
    kwargs = dict(kwargs)
    if kwargs.get("labels") is None and np.asarray(estimator.classes_).dtype.kind in "US":
        kwargs["labels"] = tuple(estimator.classes_)
    kwargs.setdefault("z_spec", z_spec)
    kwargs.setdefault("z_phot", z_phot)
    return classification_report(late_true, p_late, youden=youden, **kwargs)


def format_report(report):
    """Render :func:`classification_report` as plain text (no extra dependency).

    Examples
    --------
    >>> from skphotoz.reporting.tables import classification_report, format_report
    >>> report = classification_report([0, 0, 1, 1, 1], [0.2, 0.7, 0.6, 0.8, 0.9],
    ...                                n_bootstrap=20)
    >>> format_report(report).splitlines()[0]
    'Table 3. Contingency table, threshold 0.5'
    """
    stats = report["statistics"]
    table6 = pd.DataFrame(
        {
            name: [
                f"{stats.loc[row, name]:.3f} ± {stats.loc[row, name + '_err']:.3f}"
                for row in stats.index
            ]
            for name in ("accuracy", "true_early_type_rate", "true_late_type_rate")
        },
        index=stats.index,
    )
    n_et, n_lt = report["n_early_type"], report["n_late_type"]
    return "\n".join(
        [
            f"Table 3. Contingency table, threshold {report['default_threshold']:g}",
            report["contingency_default"].to_string(),
            "",
            f"Table 5. Contingency table, Youden threshold {report['youden_threshold']:.3f}",
            report["contingency_youden"].to_string(),
            "",
            f"Table 6. Classification statistics ({n_et} ET, {n_lt} LT; "
            "bootstrap standard deviations)",
            table6.to_string(),
            "",
            f"Table 4. Misclassified objects ({len(report['misclassified'])})",
            report["misclassified"].to_string(index=False, float_format=lambda v: f"{v:.3f}"),
        ]
    )


def classification_report_figures(
    model_or_scores,
    X=None,
    y=None,
    *,
    output_dir,
    prefix="",
    **kwargs,
):
    """Write the classification tables (Tables 3-6) and the ROC plot (Fig. 5).

    For the ``skphotoz report`` command and scripts.

    Parameters
    ----------
    model_or_scores : fitted joint estimator, or array-like of P(LT)
        A model (anything with ``predict_proba``) is evaluated on ``X``,
        ``y``; scores are used as they are (``X`` must then be None).
    X : array-like of shape (n, n_bands), optional
        Magnitudes, with a model.
    y : joint target, or (with scores) type labels / late booleans
    output_dir : str or path-like
        Created if needed.
    prefix : str, default=""
        Prepended to every file name.
    **kwargs
        Passed to :func:`classification_report` (youden, ids, z_spec,
        z_phot, extra_columns, misclassified_at, model_name, n_bootstrap,
        random_state, ...).

    Returns
    -------
    dict
        ``report`` (the :func:`classification_report` dict), ``text`` (the
        :func:`format_report` rendering) and ``paths``: name -> Path of
        ``contingency_default.csv`` (Table 3), ``contingency_youden.csv``
        (Table 5), ``classification_statistics.csv`` (Table 6),
        ``misclassified.csv`` (Table 4), ``classification_report.txt`` and
        ``roc.png`` (Fig. 5).

    Examples
    --------
    >>> import tempfile
    >>> from skphotoz.reporting.tables import classification_report_figures
    >>> out = classification_report_figures([0.2, 0.7, 0.6, 0.8, 0.9], y=[0, 0, 1, 1, 1],
    ...                                     output_dir=tempfile.mkdtemp(), n_bootstrap=10)
    >>> sorted(out["paths"])[:2]
    ['classification_report', 'classification_statistics']
    """
    import matplotlib.pyplot as plt

    from skphotoz.reporting.plots import plot_roc

    if y is None:
        raise ValueError("y (the true types, or the joint [type, z] target) is required.")
    if hasattr(model_or_scores, "predict_proba"):
        if X is None:
            raise ValueError("X is required to evaluate a model.")
        late_true, p_late, z_spec, z_phot = _estimator_scores(model_or_scores, X, y)
        youden = kwargs.pop("youden", None)
        report = _estimator_report(
            model_or_scores, late_true, p_late, z_spec, z_phot, youden, kwargs
        )
    else:
        if X is not None:
            raise ValueError("X is only used with a model; scores were given.")
        late_true, _, _, _ = late_type_mask(y)
        p_late = late_type_scores(model_or_scores)
        report = classification_report(y, p_late, **kwargs)

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        name: output_dir / f"{prefix}{name}.{ext}"
        for name, ext in (
            ("contingency_default", "csv"),
            ("contingency_youden", "csv"),
            ("classification_statistics", "csv"),
            ("misclassified", "csv"),
            ("classification_report", "txt"),
            ("roc", "png"),
        )
    }
    report["contingency_default"].to_csv(paths["contingency_default"])
    report["contingency_youden"].to_csv(paths["contingency_youden"])
    report["statistics"].to_csv(paths["classification_statistics"])
    report["misclassified"].to_csv(paths["misclassified"], index=False)
    text = format_report(report)
    paths["classification_report"].write_text(text + "\n", encoding="utf-8")
    fig = plot_roc(
        late_true,
        p_late,
        threshold=report["default_threshold"],
        youden_threshold=report["youden_threshold"],
        path=paths["roc"],
    )
    plt.close(fig)
    return {"report": report, "text": text, "paths": paths}
