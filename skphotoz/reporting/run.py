"""Run the paper's whole analysis on a labelled sample and write the HTML report.

:func:`run_report` is what ``skphotoz report`` does once its options are read:
out-of-sample network predictions (:func:`out_of_sample_predictions`), the SED
template baseline (:func:`sed_baseline_predictions`), the weight Q-Q analysis
when asked (:func:`report_weight_analysis`), and the page itself
(:func:`skphotoz.reporting.html.write_report`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from skphotoz.reporting.html import write_report


def out_of_sample_predictions(
    estimator, X, y, *, loo=False, n_folds=5, n_bootstrap=1000, random_state=0, verbose=0
):
    """Out-of-sample P(LT) and z_phot for every galaxy, for the report.

    ``loo=True`` runs leave-one-out (the paper's protocol) through
    :func:`skphotoz.model_selection.evaluation.loo_evaluation`; otherwise
    :func:`skphotoz.model_selection.cross_val_predict_joint` with
    ``n_folds`` stratified folds.

    Returns
    -------
    DataFrame with ``p_late`` and ``z_phot``, one row per galaxy of ``y``.
    """
    from skphotoz import model_selection

    if loo:
        result = model_selection.loo_evaluation(
            estimator,
            X,
            y,
            n_bootstrap=n_bootstrap,
            random_state=random_state,
            verbose=verbose,
        )
        return result.predictions[["p_late", "z_phot"]].reset_index(drop=True)
    cv = model_selection.StratifiedTypeKFold(n_folds, shuffle=True, random_state=random_state)
    pred = model_selection.cross_val_predict_joint(
        estimator, X, y, cv=cv, random_state=random_state, verbose=verbose
    )
    return pred[["p_late", "z_phot"]].reset_index(drop=True)


def sed_baseline_predictions(X, y, filters, **fitter_params):
    """P(LT) and z_phot from :class:`skphotoz.baselines.sed.SEDTemplateFitter` with these filters.

    The fitter learns nothing from the training labels unless
    ``adapt_zero_points=True`` is passed (its default is BPZ's HDF-N prior
    over a fixed template grid), so predicting the same galaxies is out of
    sample already.
    """
    from skphotoz.baselines.sed import SEDTemplateFitter

    X = np.asarray(X, float)
    fitter = SEDTemplateFitter(list(filters), **fitter_params).fit(X, y)
    best = fitter.predict_all(X)  # type probabilities and redshift from one pass
    return pd.DataFrame({"p_late": best.proba[:, 1], "z_phot": best.redshift})


def report_weight_analysis(
    X, y, n_runs, *, network_params, impute=False, random_state=0, verbose=0
):
    """The weight Q-Q analysis for the report, or why it was skipped.

    Runs :func:`skphotoz.model_selection.weight_analysis.bootstrap_weight_analysis`
    (``n_runs`` trainings of a network with ``network_params``) unless
    ``n_runs`` is falsy, or the photometry is incomplete (``impute`` or a
    NaN in ``X``): the analysis trains on complete magnitudes only.

    Returns
    -------
    (analysis, note)
        The analysis and None, or None and the reason it was skipped (None
        when it was not asked for). The note is printed when ``verbose``.
    """
    if not n_runs:
        return None, None
    from skphotoz.model_selection.weight_analysis import bootstrap_weight_analysis

    if impute or np.isnan(np.asarray(X, dtype=float)).any():
        note = (
            "Weight analysis skipped: it reads the weights of the plain magnitude input, "
            "so it trains on complete photometry (no missing band, no imputation)."
        )
        if verbose:
            print(note)
        return None, note
    if verbose:
        print(f"Bootstrap weight analysis ({n_runs} training runs) ...")
    analysis = bootstrap_weight_analysis(
        np.asarray(X, dtype=float),
        y,
        n_runs=n_runs,
        estimator_params=network_params,
        random_state=random_state,
        verbose=verbose,
    )
    return analysis, None


def run_report(
    output_dir,
    X,
    y,
    *,
    epochs=None,
    protocol=None,
    base_units=None,
    impute=False,
    loo=False,
    n_folds=5,
    sed_filters=None,
    templates="bpz",
    sed_offsets=None,
    sed_note=None,
    r_band=None,
    weight_runs=None,
    sample="sample",
    title="skphotoz report",
    notes=(),
    n_bootstrap=1000,
    random_state=0,
    verbose=0,
):
    """The paper's whole analysis of a labelled sample, written as ``report.html``.

    Builds the network with :func:`skphotoz.nn.factory.make_model`, predicts
    every galaxy out of sample (k-fold or leave-one-out), fits the SED
    template baseline when filters are given, runs the weight Q-Q analysis
    when asked and writes the report with
    :func:`skphotoz.reporting.html.write_report`. A failing template fit is
    reported on the page, not raised.

    Parameters
    ----------
    output_dir : path-like
        Folder for ``report.html`` and its PNG and CSV files.
    X : DataFrame of shape (n, n_bands)
        Magnitudes; NaN for a band not observed (the network takes it
        natively, or the imputer fills it with ``impute``).
    y : DataFrame with ``type`` and ``redshift``
    epochs, protocol, base_units, impute
        The network, as in :func:`~skphotoz.nn.factory.make_model` (None: the
        estimator's default).
    loo : bool, default=False
        Leave-one-out predictions (the paper's; one training per galaxy);
        otherwise ``n_folds`` stratified folds.
    n_folds : int, default=5
    sed_filters : list of str, optional
        sedpy filter names, one per column of ``X``. Without them the SED
        baseline is skipped, with ``sed_note`` (or a default) as the reason.
    templates : str, default="bpz"
        Templates of :class:`skphotoz.baselines.sed.SEDTemplateFitter`.
    sed_offsets : sequence of float, optional
        Added to each band before template fitting only (e.g. Vega to AB).
    sed_note : str, optional
        Why there is no SED baseline when ``sed_filters`` is None.
    r_band : str, optional
        Column for Fig. 1 and Table 1 (guessed when None).
    weight_runs : int, optional
        Training runs of the weight Q-Q analysis (see
        :func:`report_weight_analysis`); None skips it.
    sample : str, default="sample"
        The sample's name in the first note.
    title : str, default="skphotoz report"
    notes : sequence of str
        Lines under the title after the one on sample and network.
    n_bootstrap : int, default=1000
        Resamples for every uncertainty.
    random_state : int, default=0
    verbose : int, default=0
        Print a line before each long step and show its progress.

    Returns
    -------
    pathlib.Path
        The HTML file.

    Raises
    ------
    ValueError
        When a galaxy gets no out-of-sample prediction (fewer observed bands
        than the network's ``min_observed_bands``): it could not be scored.
    """
    from skphotoz.nn.factory import make_model

    network_settings = {
        "epochs": epochs,
        "protocol": protocol,
        "base_units": base_units,
        "random_state": random_state,
    }
    # The bare network: its settings go into the notes and the weight analysis
    # retrains it; the cross-validated model adds the imputer when asked.
    network = make_model(**network_settings)
    estimator = make_model(**network_settings, impute=True) if impute else network
    params = network.get_params()
    how = "leave-one-out" if loo else f"{n_folds}-fold cross-validation"
    notes = [
        f"Sample: {sample}. Network: JointMorphZ, {params['epochs']} epochs, protocol "
        f"{params['protocol']}, base units {','.join(map(str, params['base_units']))}; "
        f"predictions from {how}.",
        *notes,
    ]
    gappy = int(np.isnan(np.asarray(X, dtype=float)).any(axis=1).sum())
    if gappy:
        how_gaps = "filled by a median imputer" if impute else "taken natively by the network"
        notes.append(f"Galaxies with missing bands: {gappy}, {how_gaps}.")
    if verbose:
        print(f"Out-of-sample predictions ({how}) ...")
    predictions = out_of_sample_predictions(
        estimator,
        X,
        y,
        loo=loo,
        n_folds=n_folds,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        verbose=verbose,
    )
    unscored = int(predictions[["p_late", "z_phot"]].isna().any(axis=1).sum())
    if unscored:
        raise ValueError(
            f"{unscored} galaxies got no out-of-sample prediction (too few observed bands, "
            "see JointMorphZ's min_observed_bands); leave them out of X and y, or impute."
        )
    sed = None
    if sed_filters is None:
        sed_note = sed_note or "no filters given, so the bands have no filter curves."
    else:
        sed_note = None
        if verbose:
            print("SED template fitting ...")
        try:
            offsets = np.zeros(X.shape[1])
            if sed_offsets is not None:
                offsets = np.asarray(sed_offsets, dtype=float)
                notes.append(f"Offsets {offsets.tolist()} added before template fitting.")
            sed = sed_baseline_predictions(X + offsets, y, sed_filters, templates=templates)
            notes.append(
                f"SED baseline: SEDTemplateFitter, filters {sed_filters}, templates {templates}."
            )
        except Exception as exc:  # noqa: BLE001 - any failure is reported, not fatal
            sed_note = f"template fitting failed: {exc}"
    weight_params = {k: v for k, v in params.items() if k not in ("verbose", "random_state")}
    analysis, weight_note = report_weight_analysis(
        X,
        y,
        weight_runs,
        network_params=weight_params,
        impute=impute,
        random_state=random_state,
        verbose=verbose,
    )
    return write_report(
        output_dir,
        X,
        y,
        predictions,
        r_band=r_band,
        sed_predictions=sed,
        sed_note=sed_note,
        weight_analysis=analysis,
        weight_note=weight_note,
        notes=notes,
        title=title,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )
