"""Run the paper's whole analysis on a labelled sample and write the HTML report.

:func:`run_report` is what ``skphotoz report`` does once its options are read:
out-of-sample network predictions (:func:`out_of_sample_predictions`), the
peers on the same folds (:func:`peer_estimators`), the network's out-of-sample
redshift PDFs when it has a PDF head, the SED template baseline
(:func:`sed_baseline_predictions`), the weight Q-Q analysis when asked
(:func:`report_weight_analysis`), and the page itself
(:func:`skphotoz.reporting.html.write_report`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from skphotoz.reporting.html import write_report
from skphotoz.validation import final_estimator

#: What each peer of :func:`peer_estimators` is, as the report describes it.
PEERS = {
    "HGB pair": "GradientBoostingPair, a HistGradientBoosting classifier and regressor on "
    "magnitudes and adjacent colours, missing bands left as NaN.",
    "RF pair": "IndependentPair, a random-forest classifier and regressor (behind "
    "SimpleImputer(add_indicator=True) when the sample has missing bands).",
    "separate networks": "JointMorphZ(shared_base=False, feed_class_probability=False) with "
    "the report's network settings: two sequential networks of the network's size (de Diego "
    "et al. 2020) trained side by side as one model, on the network's own (fast) path. It is "
    "the model of skphotoz.baselines.SequentialPair (scikeras), which is too slow for "
    "leave-one-out.",
    "SequentialPair": "SequentialPair, the same two sequential networks trained through "
    "scikeras, one fit per fold (about 20 times slower; behind SimpleImputer(add_indicator="
    "True) when the sample has missing bands).",
}

#: The peers :func:`run_report` compares by default; SequentialPair is opt-in.
DEFAULT_PEERS = ("HGB pair", "RF pair", "separate networks")


def resolve_peers(peers):
    """Peer names (any case, a list or one comma-separated string) as keys of :data:`PEERS`.

    None, an empty list and ``"none"`` mean no peer.

    Examples
    --------
    >>> from skphotoz.reporting.run import resolve_peers
    >>> resolve_peers("hgb pair, Separate networks")
    ('HGB pair', 'separate networks')
    >>> resolve_peers("none")
    ()
    """
    if peers is None:
        return ()
    if isinstance(peers, str):
        peers = peers.split(",")
    names = [str(name).strip() for name in peers if str(name).strip()]
    if [name.lower() for name in names] == ["none"]:
        return ()
    known = {name.lower(): name for name in PEERS}
    unknown = [name for name in names if name.lower() not in known]
    if unknown:
        raise ValueError(f"Unknown peer(s) {unknown}; choose from {list(PEERS)} or 'none'.")
    return tuple(dict.fromkeys(known[name.lower()] for name in names))


def peer_estimators(peers, estimator, *, gappy=False, random_state=0):
    """The unfitted peers, by name, built to match the report's network.

    Parameters
    ----------
    peers : sequence of str
        Keys of :data:`PEERS` (see :func:`resolve_peers`).
    estimator : JointMorphZ or Pipeline ending in one
        The report's cross-validated network: "separate networks" is a clone
        of it (imputer included) with ``shared_base=False``,
        ``feed_class_probability=False`` and no PDF head; SequentialPair
        takes its layout and schedule.
    gappy : bool, default=False
        The sample has missing bands: the peers that refuse NaN (RF pair,
        SequentialPair) get a ``SimpleImputer(add_indicator=True)`` in front.
    random_state : int, default=0

    Returns
    -------
    dict
        name -> estimator, in the order of ``peers``.
    """
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    from skphotoz.baselines import GradientBoostingPair, IndependentPair, SequentialPair
    from skphotoz.baselines.sequential import NETWORK_PARAMETERS

    def filled(model):
        return make_pipeline(SimpleImputer(add_indicator=True), model) if gappy else model

    network = final_estimator(estimator)
    built = {}
    for name in resolve_peers(peers):
        if name == "HGB pair":
            built[name] = GradientBoostingPair(random_state=random_state)
        elif name == "RF pair":
            built[name] = filled(IndependentPair(random_state=random_state))
        elif name == "separate networks":
            separate = clone(estimator)
            final_estimator(separate).set_params(
                shared_base=False, feed_class_probability=False, redshift_pdf=None
            )
            built[name] = separate
        else:  # SequentialPair
            layout = {
                key: network.get_params()[key] for key in NETWORK_PARAMETERS if key != "verbose"
            }
            built[name] = filled(SequentialPair(**layout, random_state=random_state))
    return built


def report_splits(X, y, *, loo=False, n_folds=5, random_state=0):
    """The report's folds as a list of (train, test): leave-one-out or stratified k-fold.

    Drawn once, so that the network, every peer and the PDFs are predicted
    on the very same folds whatever ``random_state`` is.
    """
    from sklearn.model_selection import LeaveOneOut

    from skphotoz.model_selection import StratifiedTypeKFold

    if loo:
        splitter = LeaveOneOut()
    else:
        splitter = StratifiedTypeKFold(n_folds, shuffle=True, random_state=random_state)
    return list(splitter.split(X, y))


def out_of_sample_predictions(
    estimator, X, y, *, loo=False, n_folds=5, cv=None, random_state=0, verbose=0
):
    """Out-of-sample P(LT) and z_phot for every galaxy, for the report.

    Through :func:`skphotoz.model_selection.cross_val_predict_joint`, on
    ``cv`` when given, else on the folds of :func:`report_splits`
    (leave-one-out with ``loo=True``, the paper's protocol, or ``n_folds``
    stratified folds).

    Returns
    -------
    DataFrame with ``p_late`` and ``z_phot``, one row per galaxy of ``y``.
    """
    from skphotoz import model_selection

    if cv is None:
        cv = report_splits(X, y, loo=loo, n_folds=n_folds, random_state=random_state)
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
    redshift_pdf=None,
    loo=False,
    n_folds=5,
    peers=DEFAULT_PEERS,
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
    every galaxy out of sample (k-fold or leave-one-out), predicts them
    again with each peer on the same folds, adds the network's out-of-sample
    redshift PDFs when it has a PDF head, fits the SED template baseline
    when filters are given, runs the weight Q-Q analysis when asked and
    writes the report with :func:`skphotoz.reporting.html.write_report`. A
    failing template fit is reported on the page, not raised.

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
    redshift_pdf : {None, "mixture", "bins"}, default=None
        Give the network a redshift-PDF head (as
        :func:`~skphotoz.nn.factory.make_model`) and report its out-of-sample PDFs
        (:func:`skphotoz.model_selection.cross_val_predict_pdf`, from the
        same trained folds as the point predictions): PIT histogram, interval coverage and
        :func:`skphotoz.metrics.pdf_metrics`.
    loo : bool, default=False
        Leave-one-out predictions (the paper's; one training per galaxy);
        otherwise ``n_folds`` stratified folds.
    n_folds : int, default=5
    peers : sequence of str or None, default=DEFAULT_PEERS
        Peers predicted on the same folds and compared with the network by
        paired bootstrap differences (keys of :data:`PEERS`, see
        :func:`peer_estimators`); None or ``()`` leaves the table out.
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
        When a galaxy gets no out-of-sample prediction from the network
        (fewer observed bands than its ``min_observed_bands``): it could not
        be scored. An unknown peer name.
    """
    from skphotoz.nn.factory import make_model

    peers = resolve_peers(peers)
    network_settings = {
        "epochs": epochs,
        "protocol": protocol,
        "base_units": base_units,
        "redshift_pdf": redshift_pdf,
        "random_state": random_state,
    }
    # The bare network: its settings go into the notes and the weight analysis
    # retrains it; the cross-validated model adds the imputer when asked.
    network = make_model(**network_settings)
    estimator = make_model(**network_settings, impute=True) if impute else network
    params = network.get_params()
    how = "leave-one-out" if loo else f"{n_folds}-fold cross-validation"
    head = f", redshift-PDF head {redshift_pdf}" if redshift_pdf else ""
    notes = [
        f"Sample: {sample}. Network: JointMorphZ, {params['epochs']} epochs, protocol "
        f"{params['protocol']}, base units {','.join(map(str, params['base_units']))}{head}; "
        f"predictions from {how}.",
        *notes,
    ]
    gappy = int(np.isnan(np.asarray(X, dtype=float)).any(axis=1).sum())
    if gappy:
        how_gaps = "filled by a median imputer" if impute else "taken natively by the network"
        notes.append(f"Galaxies with missing bands: {gappy}, {how_gaps}.")
    if verbose:
        print(f"Out-of-sample predictions ({how}) ...")
    splits = report_splits(X, y, loo=loo, n_folds=n_folds, random_state=random_state)
    pdf_predictions = None
    if redshift_pdf is None:
        predictions = out_of_sample_predictions(
            estimator, X, y, cv=splits, random_state=random_state, verbose=verbose
        )
    else:
        from skphotoz.model_selection import cross_val_predict_pdf

        if verbose:
            print(f"(with the redshift PDFs, from the same {how})")
        # The points and the PDFs from one training of the folds, not two.
        z_grid, pdf, joint = cross_val_predict_pdf(
            estimator,
            X,
            y,
            cv=splits,
            z_grid=None,
            random_state=random_state,
            verbose=verbose,
            return_joint=True,
        )
        pdf_predictions = (z_grid, pdf)
        predictions = joint[["p_late", "z_phot"]].reset_index(drop=True)
    unscored = int(predictions[["p_late", "z_phot"]].isna().any(axis=1).sum())
    if unscored:
        raise ValueError(
            f"{unscored} galaxies got no out-of-sample prediction (too few observed bands, "
            "see JointMorphZ's min_observed_bands); leave them out of X and y, or impute."
        )
    peer_predictions, peer_notes = {}, []
    for name, peer in peer_estimators(
        peers, estimator, gappy=bool(gappy), random_state=random_state
    ).items():
        if verbose:
            print(f"Peer {name}: out-of-sample predictions on the same folds ...")
        pred = out_of_sample_predictions(
            peer, X, y, cv=splits, random_state=random_state, verbose=verbose
        )
        missed = int(pred[["p_late", "z_phot"]].isna().any(axis=1).sum())
        if missed:  # a paired comparison needs every galaxy
            peer_notes.append(f"{name}: left out, {missed} galaxies got no prediction.")
            continue
        peer_predictions[name] = pred
        peer_notes.append(f"{name}: {PEERS[name]}")
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
        peer_predictions=peer_predictions if peers else None,
        peer_notes=peer_notes,
        pdf_predictions=pdf_predictions,
        weight_analysis=analysis,
        weight_note=weight_note,
        notes=notes,
        title=title,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )
