"""The out-of-fold engine: predictions of every galaxy by models that never saw it.

One engine serves ``cross_val_predict_joint``, the paper's evaluation
protocols, the Youden threshold learnt by internal CV and the weight
analysis. It chooses between two ways of training the folds:

* **Replicas.** When the final estimator declares the capability
  ``replica_settings()`` (the joint networks of :mod:`skphotoz.nn` with a
  fixed-epoch schedule), all folds train as replicas of one vectorised network
  (:func:`skphotoz.nn.replica.train_replicas`): fold k is replica k, with
  sample weights equal to its training counts. A Pipeline ending in such an
  estimator gets this path too: its preprocessing steps are fitted on each
  fold's own training rows, and each replica takes its fold's transformed
  magnitudes.
* **Per fold.** Any other estimator is cloned and fitted once per fold
  through ``joblib.Parallel``.

Both paths collect the point outputs (``cross_val_predict_joint``), the
redshift PDFs on one grid (``cross_val_predict_pdf``), or both from the
same trained folds (``cross_val_predict_pdf(..., return_joint=True)``) of
each split's test rows.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import LeaveOneOut, check_cv
from sklearn.utils import _safe_indexing, check_random_state, get_tags
from sklearn.utils.validation import check_array
from tqdm.auto import tqdm

from skphotoz.catalogs.predict import joint_outputs
from skphotoz.model_selection.split import StratifiedTypeKFold
from skphotoz.pdf import DEFAULT_GRID_POINTS, check_z_grid, default_z_grid, normalise_pdf
from skphotoz.validation import (
    check_joint_target,
    check_magnitudes,
    final_estimator,
    final_step,
    split_targets,
    to_numeric_frame,
)

#: Upper bound on the replicas trained in one Keras call. Memory grows
#: linearly in K: with the paper's 512-unit base, K = 400 needs ~50 MB per
#: (batch 64, K, 512) activation and ~150 MB of parameters, gradients and
#: RMSprop state, which keeps a call well under 1 GB; larger K is chunked.
MAX_REPLICAS_PER_CALL = 400


def resolve_cv(cv):
    """A splitter from None (5 type-stratified folds), an int, "loo", a splitter or splits.

    Examples
    --------
    >>> from skphotoz.model_selection.out_of_fold import resolve_cv
    >>> type(resolve_cv("loo")).__name__, resolve_cv(3).n_splits
    ('LeaveOneOut', 3)
    """
    if cv is None:
        return StratifiedTypeKFold(5)
    if isinstance(cv, str):
        if cv.lower() == "loo":
            return LeaveOneOut()
        raise ValueError(f"cv={cv!r} is not understood; use 'loo', an int or a splitter.")
    if isinstance(cv, numbers.Integral):
        return StratifiedTypeKFold(int(cv))
    if hasattr(cv, "split"):
        return cv
    if hasattr(cv, "__iter__"):  # (train, test) pairs, as scikit-learn accepts them
        return check_cv(list(cv))
    raise ValueError(
        f"cv must be None, 'loo', an int, a CV splitter or (train, test) pairs; got {cv!r}."
    )


def replica_settings(estimator, replicas="auto"):
    """The replica-training settings of ``estimator``, or None for per-fold fits.

    Parameters
    ----------
    estimator : estimator or Pipeline
    replicas : {"auto", True, False}
        "auto" uses replicas when the final estimator declares
        ``replica_settings()`` and it succeeds; True requires them.

    Returns
    -------
    dict or None
    """
    if replicas not in ("auto", True, False):
        raise ValueError(f"replicas must be 'auto', True or False; got {replicas!r}.")
    if replicas is False:
        return None
    final = final_estimator(estimator)
    declare = getattr(final, "replica_settings", None)
    try:
        if declare is None:
            raise ValueError(f"{type(final).__name__} does not declare replica_settings()")
        return declare()
    except ValueError as exc:
        if replicas is True:
            raise ValueError(
                f"replicas=True needs an estimator that trains as replicas, but {exc}. Use "
                "replicas='auto' or False to fit per fold."
            ) from exc
        return None


def replica_weights(splits, n_samples):
    """Per-replica sample weights of a list of (train, test) splits, shape (n, K).

    Column k counts how often each row is in split k's training set (0/1
    for K-fold and LOO, bootstrap counts for bootstrap splits). Replica k
    must never see its own test rows (in LOO: galaxy k); this is checked
    here, and an ``AssertionError`` means a broken splitter.

    Examples
    --------
    >>> from sklearn.model_selection import LeaveOneOut, check_cv
    >>> from skphotoz.model_selection import replica_weights
    >>> w = replica_weights(list(LeaveOneOut().split(range(3))), 3)
    >>> w.tolist()
    [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """
    weights = np.zeros((n_samples, len(splits)), dtype=np.float32)
    for k, (train, test) in enumerate(splits):
        weights[:, k] = np.bincount(train, minlength=n_samples)
        if weights[test, k].any():
            raise AssertionError(
                f"Replica {k} would train on {int((weights[test, k] > 0).sum())} of its own "
                "test rows: its split is not disjoint."
            )
    return weights


def replica_chunks(n_replicas):
    """Index arrays of at most :data:`MAX_REPLICAS_PER_CALL` replicas each."""
    n_chunks = -(-n_replicas // MAX_REPLICAS_PER_CALL)
    return np.array_split(np.arange(n_replicas), n_chunks)


def joint_training_data(estimator, X, y):
    """Validated magnitudes, late-type floats and redshifts for the replica path.

    NaN and +inf pass when the model declares (tag ``allow_nan``) that it
    takes missing bands; sentinels never do. The late type is read as the
    model's own ``fit`` reads it (its ``early_label``), so a replica learns
    the P(LT) that a fitted clone would.
    """
    allow_missing = get_tags(final_estimator(estimator)).input_tags.allow_nan
    if hasattr(estimator, "steps") and len(estimator.steps) > 1:
        allow_missing = True  # the preprocessing steps see the raw magnitudes
    Xv = check_array(to_numeric_frame(X), ensure_all_finite=False, dtype=np.float64)
    check_magnitudes(Xv, getattr(X, "columns", None), allow_missing=allow_missing)
    final = final_estimator(estimator)
    types, redshift = split_targets(y, final.type_column, final.redshift_column)
    if len(types) != len(Xv):
        raise ValueError(f"X has {len(Xv)} rows but y has {len(types)}; they must match.")
    classes = check_joint_target(types, redshift, final.early_label)
    return Xv, (types == classes[1]).astype(np.float32), redshift.astype(np.float32)


def replica_inputs(estimator, X, y, splits):
    """What each replica of ``splits`` takes as input.

    A plain estimator: the validated magnitudes, shared by every replica
    (n, f). A Pipeline: its preprocessing steps fitted on each split's own
    training rows, then applied to every row, one array per replica
    (K, n, f'), so that no replica's preprocessing saw its test rows.
    """
    if not hasattr(estimator, "steps") or len(estimator.steps) == 1:
        return X
    frame = X if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=np.float64)
    arrays = []
    for train, _ in splits:
        steps = clone(estimator[:-1])
        steps.fit(_safe_indexing(frame, train), _safe_indexing(y, train))
        arrays.append(np.asarray(steps.transform(frame), dtype=np.float64))
    return np.stack(arrays)


class _ReplicaLimits:
    """What a fitted clone would refuse or clip, per replica, for the replica path.

    ``bounds[k]``: replica k's redshift bounds (its own training rows'
    range, :func:`skphotoz.nn.coverage.redshift_bounds`), to which its
    predictions are clipped as the estimator clips them; ``unusable``: rows
    with fewer observed bands than the model's ``min_observed_bands``, which
    get no number. A Pipeline's preprocessing fills gaps before the network,
    so then no row is unusable, as in a fitted Pipeline.
    """

    def __init__(self, estimator, inputs, redshift, splits):
        from skphotoz.nn.coverage import redshift_bounds

        self.bounds = [
            redshift_bounds(float(redshift[train].min()), float(redshift[train].max()))
            for train, _ in splits
        ]
        self.unusable = np.zeros(inputs.shape[-2], dtype=bool)
        if inputs.ndim == 2:
            self.unusable = final_estimator(estimator).too_few_bands(inputs)

    def redshift(self, z, k, test):
        return np.where(self.unusable[test], np.nan, np.clip(z, *self.bounds[k]))


def _fold_replicas(estimator, settings, X, y, splits, seed, verbose):
    """(model, inputs, density, limits): :func:`train_fold_replicas`, the PDF head, limits.

    ``density`` is the :class:`~skphotoz.nn.density.RedshiftDensity` of the
    replicas (None without a PDF head): replica k covers the redshift range
    of its own training rows, so a held-out galaxy never sets the range of
    the replica that predicts it, and the same range serves training and
    evaluation. ``limits``: :class:`_ReplicaLimits`.
    """
    from skphotoz.nn.density import RedshiftDensity, replica_pdf_range
    from skphotoz.nn.replica import train_replicas

    Xv, late, redshift = joint_training_data(estimator, X, y)
    frame = X if isinstance(X, pd.DataFrame) else Xv
    inputs = replica_inputs(estimator, frame, y, splits)
    inputs = Xv if inputs is frame else inputs
    weights = replica_weights(splits, len(Xv))
    final = final_estimator(estimator)
    # epochs="auto" and base_dropout="auto" as a clone fitted on a fold's
    # training rows would resolve them.
    n_train = int(np.mean([len(t) for t, _ in splits]))
    spec = final.network_spec(inputs, n_rows=n_train)
    settings = {**settings, "epochs": final.n_epochs(n_train)}
    density = None
    if spec.redshift_pdf is not None:
        density = RedshiftDensity(
            spec.redshift_pdf, spec.pdf_components, *replica_pdf_range(redshift, weights)
        )
    model = train_replicas(
        inputs,
        late,
        redshift,
        weights,
        spec=spec,
        seed=seed,
        verbose=verbose,
        pdf_range=None if density is None else (density.z_lo, density.z_hi),
        **settings,
    )
    return model, inputs, density, _ReplicaLimits(estimator, inputs, redshift, splits)


def train_fold_replicas(estimator, settings, X, y, splits, *, seed, verbose=0):
    """Train the replicas of ``splits`` as one network; return (model, inputs).

    ``inputs`` is what :func:`skphotoz.nn.replica.predict_replicas` needs to
    predict every row with every replica.
    """
    model, inputs, _, _ = _fold_replicas(estimator, settings, X, y, splits, seed, verbose)
    return model, inputs


class _PointOutputs:
    """What is collected of a split's test rows: (p_late, z_phot).

    ``pdf_median``: on the replica path, replica k's point redshift is the
    median of its own p(z) on the grid a clone fitted on its training rows
    would use (:func:`skphotoz.pdf.default_z_grid` of that range), as such a
    clone under ``point_estimate="pdf_median"`` gives.
    """

    def __init__(self, pdf_median=False):
        self.pdf_median = pdf_median

    @classmethod
    def of(cls, estimator):
        """The collector for ``estimator``'s own point redshift (its ``point_estimate``)."""
        declares = getattr(final_estimator(estimator), "uses_pdf_median", None)
        return cls(pdf_median=bool(declares is not None and declares()))

    def as_array(self, part):
        return np.column_stack(part)  # (n_test, 2)

    def of_fold(self, model, X_test):
        # One pass for both outputs where the model declares predict_joint; a
        # galaxy the model gives no number (too few bands) stays NaN.
        outputs = joint_outputs(model, X_test)
        return outputs["p_late"].astype(float), outputs["z_phot"].astype(float)

    def of_replicas(self, model, inputs, density, limits, splits):
        from skphotoz.nn.replica import predict_replicas

        if not self.pdf_median:
            p, z = predict_replicas(model, inputs)
            z_of = [z[test, k].astype(float) for k, (_, test) in enumerate(splits)]
        else:
            p, _, raw = predict_replicas(model, inputs, pdf=True)
            z_of = []
            for k, (_, test) in enumerate(splits):
                # A clone's z_grid_ spans its padded training range, which is
                # replica k's PDF range: the same grid, from the same ends.
                own = density.replica(k)
                grid = np.linspace(own.z_lo[0], own.z_hi[0], DEFAULT_GRID_POINTS)
                z_of.append(own.medians(raw[test, k : k + 1], grid)[:, 0])
        return [
            (
                np.where(limits.unusable[test], np.nan, p[test, k].astype(float)),
                limits.redshift(z_of[k], k, test),
            )
            for k, (_, test) in enumerate(splits)
        ]


class _PdfOutputs:
    """What is collected of a split's test rows: their p(z) on ``z_grid``, (n_test, G)."""

    def __init__(self, z_grid):
        self.z_grid = z_grid

    def as_array(self, part):
        return part

    def of_fold(self, model, X_test):
        final, X_final = final_step(model, X_test)  # a Pipeline has no predict_pdf of its own
        return final.predict_pdf(X_final, z_grid=self.z_grid)

    def of_replicas(self, model, inputs, density, limits, splits):
        from skphotoz.nn.replica import predict_replicas

        _, _, raw = predict_replicas(model, inputs, pdf=True)
        out = []
        for k, (_, test) in enumerate(splits):
            # Only replica k's own test rows: the (n, K, G) densities of every
            # row under every replica would be K times larger than needed.
            own = density.replica(k)
            pdf = normalise_pdf(self.z_grid, own.density(raw[test, k : k + 1], self.z_grid)[:, 0])
            pdf[limits.unusable[test]] = np.nan  # too few bands: no PDF, as a fitted model
            out.append(pdf)
        return out


class _PointAndPdfOutputs:
    """Both collectors on the same trained folds: (n_test, 2 + G), p_late and z_phot first.

    Training the folds is what costs; predicting them twice (points, then
    PDFs) is small beside it, so each collector keeps its own prediction.
    """

    def __init__(self, point, pdf):
        self.point, self.pdf = point, pdf

    def as_array(self, part):
        point, pdf = part
        return np.column_stack([self.point.as_array(point), self.pdf.as_array(pdf)])

    def of_fold(self, model, X_test):
        return self.point.of_fold(model, X_test), self.pdf.of_fold(model, X_test)

    def of_replicas(self, model, inputs, density, limits, splits):
        points = self.point.of_replicas(model, inputs, density, limits, splits)
        pdfs = self.pdf.of_replicas(model, inputs, density, limits, splits)
        return list(zip(points, pdfs, strict=True))


def _replica_chunk(estimator, settings, X, y, splits, seed, verbose, collect):
    model, inputs, density, limits = _fold_replicas(
        estimator, settings, X, y, splits, seed, verbose
    )
    return collect.of_replicas(model, inputs, density, limits, splits)


def _fit_predict_fold(estimator, X, y, train, test, seed, collect):
    model = clone(estimator)
    if seed is not None:
        keys = [
            k for k in model.get_params() if k == "random_state" or k.endswith("__random_state")
        ]
        model.set_params(**dict.fromkeys(keys, seed))
    model.fit(_safe_indexing(X, train), _safe_indexing(y, train))
    return collect.of_fold(model, _safe_indexing(X, test))


def fold_predictions(
    estimator, X, y, splits, *, n_jobs, replicas, random_state, verbose, collect=None
):
    """Out-of-fold outputs of every split's test rows, as a list aligned with ``splits``.

    See the module docstring for the two paths and ``replicas``. By default
    (``collect=None``) each item is ``(p_late, z_phot)``; the PDFs of
    :func:`cross_val_predict_pdf` are collected through the same paths.
    """
    collect = _PointOutputs.of(estimator) if collect is None else collect
    rng = check_random_state(random_state)
    settings = replica_settings(estimator, replicas)
    if settings is not None:
        if random_state is None:  # then the estimator's own seed, as a single fit would use
            rng = check_random_state(final_estimator(estimator).random_state)
        chunks = replica_chunks(len(splits))
        seeds = rng.randint(np.iinfo(np.int32).max, size=len(chunks))
        jobs = (
            delayed(_replica_chunk)(
                estimator, settings, X, y, [splits[k] for k in c], int(s), int(verbose > 1), collect
            )
            for c, s in zip(chunks, seeds, strict=True)
        )
        outputs = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
        out = [None] * len(splits)
        for c, results in tqdm(
            zip(chunks, outputs, strict=True),
            total=len(chunks),
            disable=None if verbose else True,
            desc="replica chunks",
        ):
            for k, result in zip(c, results, strict=True):
                out[k] = result
        return out
    seeds = [None] * len(splits)
    if random_state is not None:
        seeds = [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=len(splits))]
    jobs = (
        delayed(_fit_predict_fold)(estimator, X, y, train, test, seed, collect)
        for (train, test), seed in zip(splits, seeds, strict=True)
    )
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    return list(tqdm(outputs, total=len(splits), disable=None if verbose else True, desc="folds"))


def _held_out_means(estimator, X, y, cv, groups, collect, engine):
    """Each row's mean output over the splits that held it out, and how many did.

    ``engine`` holds the keyword arguments of :func:`fold_predictions`. A
    row never held out gets NaN and a count of 0.
    """
    splits = list(resolve_cv(cv).split(X, y, groups))
    parts = fold_predictions(estimator, X, y, splits, collect=collect, **engine)
    parts = [collect.as_array(part) for part in parts]
    total = np.zeros((len(X), *np.shape(parts[0])[1:]))
    count = np.zeros(len(X), dtype=np.int64)
    for (_, test), part in zip(splits, parts, strict=True):
        np.add.at(total, test, part)
        np.add.at(count, test, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count.reshape(-1, *[1] * (total.ndim - 1)), count


def cross_val_predict_joint(
    estimator, X, y, *, cv=None, n_jobs=None, replicas="auto", random_state=None, verbose=0
):
    """Out-of-fold P(LT) and photometric redshift for every galaxy.

    Like ``sklearn.model_selection.cross_val_predict``, but for joint
    estimators and for any splitter: when test sets overlap (bootstrap), a
    row's prediction is the mean over the splits in which it was out of bag.

    Parameters
    ----------
    estimator : estimator
        A joint model with ``predict_proba`` (column 1 = late type) and
        ``predict`` giving ``[type, z]``: a JointMorphZ, a Pipeline ending
        in one, the SED fitter, ...
    X : array-like of shape (n_samples, n_bands)
    y : joint target of shape (n_samples, 2)
    cv : None, int, "loo" or splitter, default=None
        None is 5 folds stratified by type; an int that many folds;
        ``"loo"`` or ``LeaveOneOut()`` leave-one-out; any splitter, e.g.
        :class:`BootstrapSplit`.
    n_jobs : int or None
        Parallel fits (per-fold path) or replica chunks, via joblib: a
        ``joblib.parallel_backend("dask")`` context sends them to a cluster.
    replicas : {"auto", True, False}, default="auto"
        Train all folds as replicas of one vectorised network. "auto" does
        so when the final estimator declares ``replica_settings()`` (a joint
        network with ``protocol="fixed"``, alone or at the end of a Pipeline).
    random_state : int, RandomState instance or None
        Seeds of the replicas, or of each per-fold clone (when not None).
    verbose : int, default=0
        Progress bar over folds or replica chunks (2: also over epochs).

    Returns
    -------
    DataFrame with columns ``p_late``, ``z_phot`` and ``n_predictions``
    (NaN and 0 for a row that was never out of fold), indexed as ``X``.
    Both paths give what a fitted clone gives: NaN for a galaxy with too
    few observed bands, and redshifts clipped to the bounds of the fold's
    training range (:func:`skphotoz.nn.coverage.redshift_bounds`).

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.model_selection import cross_val_predict_joint
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(30, 4))
    >>> y = np.column_stack([np.where(X[:, 0] > 22, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> model = JointMorphZ(base_units=(8,), base_dropout=(0.0,), class_units=(4,),
    ...                     class_dropout=(0.0,), epochs=2, batch_size=16)
    >>> oof = cross_val_predict_joint(model, X, y, cv="loo", random_state=0)
    >>> oof.shape, int(oof["n_predictions"].sum())
    ((30, 3), 30)
    """
    engine = dict(n_jobs=n_jobs, replicas=replicas, random_state=random_state, verbose=verbose)
    mean, count = _held_out_means(estimator, X, y, cv, None, _PointOutputs.of(estimator), engine)
    return _joint_frame(mean, count, X)


def _joint_frame(mean, count, X):
    """cross_val_predict_joint's frame from the held-out means (p_late, z_phot first)."""
    frame = pd.DataFrame({"p_late": mean[:, 0], "z_phot": mean[:, 1], "n_predictions": count})
    frame.index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(X))
    return frame


def _check_pdf_estimator(estimator):
    """Raise unless the (final) estimator gives redshift PDFs, naming ``redshift_pdf``."""
    final = final_estimator(estimator)
    name = type(final).__name__
    if not callable(getattr(final, "predict_pdf", None)):
        raise TypeError(
            f"{name} has no predict_pdf, so it gives no redshift PDF; use an estimator that "
            "does, e.g. JointMorphZ(redshift_pdf='mixture') or redshift_pdf='bins'."
        )
    if final.get_params(deep=False).get("redshift_pdf", "unset") is None:
        raise ValueError(
            f"{name} has redshift_pdf=None, so its network has no PDF head; set "
            "redshift_pdf='mixture' or 'bins' to get out-of-fold redshift PDFs."
        )


def cross_val_predict_pdf(
    estimator,
    X,
    y,
    *,
    cv=5,
    z_grid=None,
    groups=None,
    n_jobs=None,
    replicas="auto",
    random_state=None,
    verbose=0,
    return_joint=False,
):
    """Out-of-fold redshift PDF p(z) of every galaxy, by the model that did not see it.

    The PDF counterpart of :func:`cross_val_predict_joint`, through the same
    engine: a joint network with a fixed-epoch schedule (alone or at the end
    of a Pipeline) trains every fold as a replica of one network, and each
    galaxy takes the PDF of its own fold's replica, whose PDF head covers the
    redshift range of that replica's training rows only; any other estimator
    is cloned and fitted per fold and asked ``predict_pdf(X_test, z_grid)``.
    When test sets overlap (bootstrap), a galaxy's PDF is the mean of its
    out-of-fold PDFs.

    Parameters
    ----------
    estimator : estimator
        One whose final step has ``predict_pdf(X, z_grid)``: a JointMorphZ or
        ReplicaEnsemble with ``redshift_pdf="mixture"`` or ``"bins"``, a
        Pipeline ending in one, ...
    X : array-like of shape (n_samples, n_bands)
    y : joint target of shape (n_samples, 2)
    cv : None, int, "loo" or splitter, default=5
        As in :func:`cross_val_predict_joint` (an int or None: folds
        stratified by type).
    z_grid : array-like of shape (n_grid,), optional
        The grid of the PDFs; it must cover the sample's redshift range
        (:func:`skphotoz.pdf.check_z_grid`). By default
        :func:`skphotoz.pdf.default_z_grid` of the whole sample's redshift
        range: only the grid's extent sees every redshift, never a fit.
    groups : array-like of shape (n_samples,), optional
        Group labels for a group-aware splitter.
    n_jobs, replicas, random_state, verbose
        As in :func:`cross_val_predict_joint`.
    return_joint : bool, default=False
        Also return what :func:`cross_val_predict_joint` gives with the same
        arguments, from the same trained folds: a caller who wants both
        trains every fold once, not twice.

    Returns
    -------
    z_grid : ndarray of shape (n_grid,)
    pdf : ndarray of shape (n_samples, n_grid)
        Densities integrating to 1 over ``z_grid`` (trapezoid rule); a row of
        NaN for a galaxy never out of fold or given no PDF (fewer observed
        bands than ``min_observed_bands``, on either path).
    joint : DataFrame
        Only with ``return_joint``: ``p_late``, ``z_phot`` and
        ``n_predictions``, as :func:`cross_val_predict_joint` gives them.

    Raises
    ------
    TypeError
        If the final estimator has no ``predict_pdf``.
    ValueError
        If it has ``redshift_pdf=None`` (no PDF head).

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.model_selection import cross_val_predict_pdf
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(30, 4))
    >>> y = np.column_stack([np.where(X[:, 0] > 22, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> model = JointMorphZ(redshift_pdf="bins", pdf_components=8, base_units=(8,),
    ...                     base_dropout=(0.0,), class_units=(4,), class_dropout=(0.0,),
    ...                     epochs=2, batch_size=16)
    >>> grid, pdf = cross_val_predict_pdf(model, X, y, cv=3, random_state=0)
    >>> grid.shape, pdf.shape
    ((200,), (30, 200))
    >>> bool(np.allclose(np.trapezoid(pdf, grid, axis=1), 1.0))
    True
    >>> _, _, joint = cross_val_predict_pdf(model, X, y, cv=3, random_state=0, return_joint=True)
    >>> list(joint.columns)  # the points too, from the same trained folds
    ['p_late', 'z_phot', 'n_predictions']
    """
    _check_pdf_estimator(estimator)
    final = final_estimator(estimator)
    types, redshift = split_targets(
        y, getattr(final, "type_column", "type"), getattr(final, "redshift_column", "redshift")
    )
    # The grid needs the redshifts before any fit checks them.
    check_joint_target(types, redshift, getattr(final, "early_label", None))
    sample_range = (float(np.min(redshift)), float(np.max(redshift)))
    if z_grid is None:
        grid = default_z_grid(sample_range)
    else:
        grid = check_z_grid(z_grid, training_range=sample_range)
    engine = dict(n_jobs=n_jobs, replicas=replicas, random_state=random_state, verbose=verbose)
    if not return_joint:
        pdf, _ = _held_out_means(estimator, X, y, cv, groups, _PdfOutputs(grid), engine)
        return grid, pdf
    collect = _PointAndPdfOutputs(_PointOutputs.of(estimator), _PdfOutputs(grid))
    mean, count = _held_out_means(estimator, X, y, cv, groups, collect, engine)
    return grid, mean[:, 2:], _joint_frame(mean, count, X)
