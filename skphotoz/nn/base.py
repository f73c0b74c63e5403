"""The base of every joint-network estimator: shared parameters, inputs, prediction API, pickling.

:class:`JointMorphZ` (one network) and :class:`ReplicaEnsemble` (a bootstrap
ensemble trained as replicas) differ only in how they train and in the raw
outputs of their networks. Everything else lives here once: the parameters
they share and their constraints (as scikit-learn's MLPClassifier takes them
from BaseMultilayerPerceptron), the tags, the handling of missing bands, the
prediction API with its per-galaxy flags, the replica-training capability
used by :mod:`skphotoz.model_selection`, and pickling.
"""

from __future__ import annotations

import numbers
from abc import ABCMeta, abstractmethod

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from skphotoz.nn.coverage import TrainingCoverage
from skphotoz.nn.density import PDF_FAMILIES, RedshiftDensity
from skphotoz.nn.loss import class_weight_factors
from skphotoz.nn.spec import (
    NetworkSpec,
    check_colours,
    colour_pairs,
    effective_redshift_loss_weight,
    resolve_base_dropout,
    resolve_epochs,
    resolve_redshift_units,
)
from skphotoz.pdf import check_z_grid, default_z_grid, normalise_pdf, pdf_summary
from skphotoz.validation import (
    EARLY_LABEL_CONSTRAINT,
    check_joint_fit_input,
    check_magnitude_input,
    joint_target_tags,
    late_type_flags,
    split_targets,
)

#: ``missing_bands`` options; see :class:`BaseJointNetwork`.
MISSING_BAND_MODES = ("auto", "native", "error")


def missing_band_masks(X):
    """``(not_observed, not_detected)`` boolean masks of raw magnitudes.

    NaN (or -inf) is a band that was not observed; +inf a non-detection.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.base import missing_band_masks
    >>> absent, undetected = missing_band_masks(np.array([[20.0, np.nan, np.inf]]))
    >>> absent.tolist(), undetected.tolist()
    ([[False, True, False]], [[False, False, True]])
    """
    X = np.asarray(X, dtype=np.float64)
    not_detected = np.isposinf(X)
    return ~np.isfinite(X) & ~not_detected, not_detected


def network_features(X, colours=False):
    """Magnitudes, and with ``colours`` their colours: what the network is fed.

    The NumPy twin of the colours that :class:`skphotoz.nn.layers.MagnitudeEncoding`
    computes inside the model; it serves the training statistics. A colour is
    NaN where either band is NaN.

    Parameters
    ----------
    X : array-like of shape (..., n, n_bands)
    colours : False, True, "adjacent" or "all", default=False
        See :func:`skphotoz.nn.spec.colour_pairs`.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.base import network_features
    >>> network_features(np.array([[21.0, 20.5, np.nan]]), colours=True).tolist()
    [[21.0, 20.5, nan, 0.5, nan]]
    """
    X = np.asarray(X, dtype=np.float64)
    blue, red = colour_pairs(X.shape[-1], colours)
    if not len(blue):
        return X
    with np.errstate(invalid="ignore"):
        return np.concatenate([X, X[..., blue] - X[..., red]], axis=-1)


def guard_zero_scale(scale, mean):
    """``scale`` with 1 where it is zero up to round-off relative to ``mean``.

    The threshold ``10 * eps * max(|mean|, 1)`` is that of scikit-learn's
    ``_handle_zeros_in_scale``: a band that does not vary in the training
    data is left unscaled instead of being divided by round-off.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.base import guard_zero_scale
    >>> guard_zero_scale(np.array([1e-14, 0.3]), np.array([21.0, 21.0])).tolist()
    [1.0, 0.3]
    """
    scale = np.array(scale, dtype=np.float64)
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
    scale[scale <= tiny] = 1.0
    return scale


def observed_standardisation(X):
    """Mean and (population) standard deviation of each band's observed magnitudes.

    NaN and inf (missing bands) are left out; see :func:`guard_zero_scale`.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.base import observed_standardisation
    >>> mean, scale = observed_standardisation(np.array([[20.0, 1.0], [22.0, np.nan]]))
    >>> mean.tolist(), scale.tolist()
    ([21.0, 1.0], [1.0, 1.0])
    """
    X = np.asarray(X, dtype=np.float64)
    finite = np.where(np.isfinite(X), X, np.nan)
    mean = np.nanmean(finite, axis=0)
    return mean, guard_zero_scale(np.nanstd(finite, axis=0), mean)


def replica_standardisation(X, weights):
    """Weighted mean and standard deviation of every band's observed magnitudes, per replica.

    Replica k standardises as ``JointMorphZ(standardize=True)`` fitted on its
    own training rows would: the rows repeated ``weights[:, k]`` times
    (bootstrap counts; 0/1 for LOO masks), population standard deviation,
    computed over the finite magnitudes only (a missing band counts for
    nothing), and a zero scale replaced by 1.

    The variance is computed about the mean (two passes), not as
    E[x^2] - E[x]^2: for magnitudes ~20 with a spread of 0 that one-pass
    form leaves a round-off scale of ~1e-7 |x| in float64, and a later input
    that differs from the constant would then be divided by it (a galaxy got
    z = 3e8 that way). Scales below ``10 * eps * max(|mean|, 1)`` count as
    zero, the guard of scikit-learn's ``_handle_zeros_in_scale``.

    Parameters
    ----------
    X : array-like of shape (n, n_features) or (K, n, n_features)
        Raw magnitudes, shared by every replica or one array per replica;
        NaN/inf mark missing bands.
    weights : array-like of shape (n, K)
        Non-negative counts; every column needs a positive sum.

    Returns
    -------
    mean, scale : ndarray of shape (K, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.base import replica_standardisation
    >>> X = np.array([[1.0], [2.0], [4.0]])
    >>> mean, scale = replica_standardisation(X, np.array([[1, 0], [1, 1], [0, 1]]))
    >>> mean.ravel().tolist(), scale.ravel().tolist()
    ([1.5, 3.0], [0.5, 1.0])
    """
    X = np.asarray(X, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[0] != X.shape[-2]:
        raise ValueError(f"weights must have shape ({X.shape[-2]}, K); got {weights.shape}.")
    if np.any(weights.sum(axis=0) <= 0) or np.any(weights < 0):
        raise ValueError("weights must be non-negative with a positive sum in every replica.")
    # (K, n, f) per replica: weights (n, K) -> (K, n, 1); shared X broadcasts.
    w = weights.T[:, :, None] * np.isfinite(X)
    values = np.where(np.isfinite(X), X, 0.0)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (w * values).sum(axis=1) / total
        centred = np.where(w > 0, values - mean[:, None, :], 0.0)
        var = (w * centred**2).sum(axis=1) / total
    mean = np.where(total > 0, mean, 0.0)
    scale = np.sqrt(np.where(total > 0, var, 1.0))
    return mean, guard_zero_scale(scale, mean)


def _band_list(mask_row, names):
    return ",".join(names[j] for j in np.flatnonzero(mask_row))


class BaseJointNetwork(ClassifierMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the joint-network estimators. Not for direct use.

    The parameters documented here are shared by :class:`skphotoz.JointMorphZ`
    and :class:`skphotoz.ReplicaEnsemble`, which document them in full.

    Examples
    --------
    >>> from skphotoz import JointMorphZ, ReplicaEnsemble
    >>> from skphotoz.nn.base import BaseJointNetwork
    >>> issubclass(JointMorphZ, BaseJointNetwork), issubclass(ReplicaEnsemble, BaseJointNetwork)
    (True, True)
    >>> JointMorphZ().network_spec().base_units
    (512,)
    """

    _parameter_constraints = {
        "base_units": ["array-like"],
        "base_dropout": ["array-like", StrOptions({"auto"})],
        "class_units": ["array-like"],
        "class_dropout": ["array-like"],
        "redshift_units": ["array-like", StrOptions({"auto"})],
        "feed_class_probability": ["boolean"],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "lr_decay_floor": [Interval(numbers.Real, 0, 1, closed="right")],
        "redshift_loss_weight": [
            Interval(numbers.Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "class_weight": [None, StrOptions({"balanced"}), dict],
        "missing_bands": [StrOptions(set(MISSING_BAND_MODES))],
        "band_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "colours": ["boolean", StrOptions({"auto", "adjacent", "all"})],
        "shared_base": ["boolean"],
        "redshift_pdf": [None, StrOptions(set(PDF_FAMILIES))],
        "pdf_components": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "pdf_loss_weight": [Interval(numbers.Real, 0, None, closed="neither")],
        "point_estimate": [StrOptions({"auto", "regression", "pdf_median"})],
        "min_observed_bands": [Interval(numbers.Integral, 1, None, closed="left")],
        "threshold": [Interval(numbers.Real, 0, 1, closed="both")],
        "standardize": ["boolean"],
        "type_column": [str],
        "redshift_column": [str],
        "early_label": EARLY_LABEL_CONSTRAINT,
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    @abstractmethod
    def __init__(
        self,
        *,
        base_units,
        base_dropout,
        class_units,
        class_dropout,
        redshift_units,
        feed_class_probability,
        epochs,
        batch_size,
        learning_rate,
        lr_decay_floor,
        redshift_loss_weight,
        class_weight,
        missing_bands,
        band_dropout,
        colours,
        shared_base,
        redshift_pdf,
        pdf_components,
        pdf_loss_weight,
        point_estimate,
        min_observed_bands,
        threshold,
        standardize,
        type_column,
        redshift_column,
        early_label,
        random_state,
        verbose,
    ):
        self.base_units = base_units
        self.base_dropout = base_dropout
        self.class_units = class_units
        self.class_dropout = class_dropout
        self.redshift_units = redshift_units
        self.feed_class_probability = feed_class_probability
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_decay_floor = lr_decay_floor
        self.redshift_loss_weight = redshift_loss_weight
        self.class_weight = class_weight
        self.missing_bands = missing_bands
        self.band_dropout = band_dropout
        self.colours = colours
        self.shared_base = shared_base
        self.redshift_pdf = redshift_pdf
        self.pdf_components = pdf_components
        self.pdf_loss_weight = pdf_loss_weight
        self.point_estimate = point_estimate
        self.min_observed_bands = min_observed_bands
        self.threshold = threshold
        self.standardize = standardize
        self.type_column = type_column
        self.redshift_column = redshift_column
        self.early_label = early_label
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = joint_target_tags(super().__sklearn_tags__())
        # NaN (a band not observed) and +inf (not detected) are inputs, not
        # errors, unless missing-band handling is switched off.
        tags.input_tags.allow_nan = self.missing_bands != "error"
        return tags

    # ---------------------------------------------------------------- layout
    def network_spec(self, X=None, n_rows=None):
        """The :class:`~skphotoz.nn.spec.NetworkSpec` this estimator trains.

        Parameters
        ----------
        X : array-like, optional
            Training magnitudes: with ``missing_bands="auto"`` the encoding of
            missing bands is used when they have a gap. Without ``X`` the
            fitted choice (``missing_bands_``) is used, or none if unfitted.
        n_rows : int, optional
            Training galaxies per network, for ``base_dropout="auto"``
            (default: the rows of ``X``; the out-of-fold engine passes a
            fold's training size). Without either, the fitted rates
            (``base_dropout_``), or the paper's if unfitted.
        """
        if self.missing_bands == "native":
            native = True
        elif self.missing_bands == "error":
            native = False
        elif X is not None:
            native = not np.all(np.isfinite(np.asarray(X, dtype=np.float64)))
        else:
            native = bool(getattr(self, "missing_bands_", False))
        if n_rows is None and X is not None:
            n_rows = np.shape(X)[-2]  # (n, bands), or (replicas, n, bands)
        base_dropout = self.base_dropout
        if isinstance(base_dropout, str) and n_rows is None:
            base_dropout = getattr(self, "base_dropout_", base_dropout)
        protocol = getattr(self, "protocol", "fixed")
        return NetworkSpec.from_params(
            base_units=self.base_units,
            base_dropout=resolve_base_dropout(base_dropout, self.base_units, n_rows, protocol),
            class_units=self.class_units,
            class_dropout=self.class_dropout,
            redshift_units=resolve_redshift_units(self.redshift_units, protocol),
            feed_class_probability=self.feed_class_probability,
            missing_bands=native,
            band_dropout=self.band_dropout if native else 0.0,
            colours=self._uses_colours(),
            shared_base=self.shared_base,
            redshift_pdf=self.redshift_pdf,
            pdf_components=self.pdf_components,
        )

    def _uses_colours(self):
        if self.colours == "auto":
            # The paper's protocol keeps the paper's input: magnitudes alone.
            return "all" if getattr(self, "protocol", "fixed") != "paper" else False
        return check_colours(self.colours)

    # ---------------------------------------------------------------- inputs
    def _check_X(self, X, reset):
        return check_magnitude_input(
            self, X, reset=reset, allow_missing=self.missing_bands != "error"
        )

    def _fit_inputs(self, X, y, sample_weight=None):
        """Validated ``(X, late, redshift, weights, spec)`` for training; sets ``classes_``.

        ``classes_`` is ``[early, late]`` as :func:`skphotoz.validation.type_classes`
        reads the labels (with ``early_label``), so ``predict_proba``'s columns
        are [P(ET), P(LT)] whatever the labels' sort order. ``weights``
        multiplies the sample weights and the class weights (ones when
        neither is given); ``spec`` is the layout to train, resolved from
        ``X`` (its gaps and size) and validated before any training.
        """
        X, types, redshift, self.classes_ = check_joint_fit_input(
            self, X, y, allow_missing=self.missing_bands != "error"
        )
        late = types == self.classes_[1]
        absent, not_detected = missing_band_masks(X)
        never = np.flatnonzero((absent | not_detected).all(axis=0))
        if len(never):
            names = self._band_names()
            raise ValueError(
                f"Band(s) {[names[j] for j in never]} have no magnitude in any training row; "
                "a band the network never sees cannot be learnt. Drop the column."
            )
        weights = np.ones(len(X))
        if sample_weight is not None:
            # sklearn's check covers lists, Series, shape, NaN, negative and all-zero weights.
            weights = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        weights = weights * class_weight_factors(late, self.class_weight)
        self.uses_pdf_median()  # refuses "pdf_median" without a PDF head, before training
        spec = self.network_spec(X)
        self.missing_bands_ = spec.missing_bands
        self.base_dropout_ = spec.base_dropout
        self.coverage_ = TrainingCoverage().fit(X, redshift)
        # A refit without a PDF head must not keep the last fit's grid: z_grid_
        # is what callers (check_pdf_model, PDFScorer) take as "has a head".
        for name in ("redshift_range_", "z_grid_", "pdf_range_"):
            self.__dict__.pop(name, None)
        if self.redshift_pdf is not None:
            self.redshift_range_ = (float(redshift.min()), float(redshift.max()))
            self.z_grid_ = default_z_grid(self.redshift_range_)
        return X, late, redshift, weights, spec

    def uses_pdf_median(self):
        """Whether ``z_phot`` is the median of the PDF head's p(z) (``point_estimate``).

        ``"auto"`` takes the median when the model has a PDF head
        (``redshift_pdf``), the regression neuron otherwise. The out-of-fold
        engine asks this, so that its replicas give the number a fitted
        clone would.

        Raises
        ------
        ValueError
            ``point_estimate="pdf_median"`` without a PDF head.
        """
        if self.point_estimate == "pdf_median" and self.redshift_pdf is None:
            raise ValueError(
                "point_estimate='pdf_median' needs a redshift-PDF head: set "
                "redshift_pdf='mixture' (or 'bins'), or point_estimate='regression'."
            )
        return self.redshift_pdf is not None and self.point_estimate != "regression"

    def _pdf_density(self, spec=None):
        """The PDF head's :class:`~skphotoz.nn.density.RedshiftDensity` (None without a head).

        Needs ``pdf_range_``, which a fit sets before training; ``spec``
        defaults to the fitted layout.
        """
        spec = self.network_spec() if spec is None else spec
        if spec.redshift_pdf is None:
            return None
        return RedshiftDensity(spec.redshift_pdf, spec.pdf_components, *self.pdf_range_)

    def _band_names(self):
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return [f"column {j}" for j in range(self.n_features_in_)]
        return [str(n) for n in names]

    # ------------------------------------------------------------ replicas
    def _compiles_epochs(self, n_rows):
        """Whether to compile each epoch with XLA: it costs a few seconds once and
        pays from about a thousand steps on (a 300-epoch fit of 200 galaxies)."""
        return self.n_epochs(n_rows) * -(-n_rows // self.batch_size) >= 1000

    def n_epochs(self, n_rows):
        """Epochs a fit on ``n_rows`` galaxies trains (``epochs``, or its "auto" schedule).

        See :func:`skphotoz.nn.spec.resolve_epochs`.
        """
        protocol = getattr(self, "protocol", "fixed")
        return resolve_epochs(self.epochs, n_rows, self.batch_size, protocol)

    def _replica_training_settings(self):
        """Keyword arguments of :func:`skphotoz.nn.replica.train_replicas` (all but ``spec``)."""
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "lr_decay_floor": self.lr_decay_floor,
            "redshift_loss_weight": effective_redshift_loss_weight(
                self.redshift_loss_weight, "fixed"
            ),
            "class_weight": self.class_weight,
            "standardize": self.standardize,
            "pdf_loss_weight": self.pdf_loss_weight,
        }

    # --------------------------------------------------------------- predict
    @abstractmethod
    def _network_outputs(self, X, pdf_median):
        """Raw outputs for validated magnitudes: a dict with ``p_late`` and ``z_phot``.

        ``pdf_median``: ``z_phot`` is the PDF head's median; otherwise the
        regression neuron's value.
        """

    def _outputs(self, X, coverage=False, point_redshift=True):
        """Network outputs (NaN for unusable galaxies) and the per-galaxy flag masks.

        ``coverage`` adds the out-of-coverage checks (a neighbour search per
        galaxy), which only :meth:`predict_joint` reports. Without
        ``point_redshift`` (:meth:`predict_proba`) ``z_phot`` is the neuron's
        value whatever ``point_estimate`` says, so that a caller who wants
        only P(late type) does not pay for the PDF medians.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        outputs = self._network_outputs(X, point_redshift and self.uses_pdf_median())
        absent, not_detected = missing_band_masks(X)
        unusable = self.too_few_bands(X)
        outside = z_bad = np.zeros(len(X), dtype=bool)
        if coverage:
            ratio, outside, z_bad = self.coverage_.flags(X, outputs["z_phot"])
            outputs["coverage_distance"] = ratio
        # A redshift beyond the flag's bounds is no measurement the network
        # stands behind (below 0 it is not even physical; one CNOC2 galaxy
        # with a bad B magnitude got z = -1.26): it is clipped to the bounds
        # and flagged z_out_of_range, as a template fit stops at its grid's ends.
        z_lo, z_hi = self.coverage_.redshift_bounds()
        for key in ("z_phot", "z_phot_lo68", "z_phot_hi68"):
            if key in outputs:
                outputs[key] = np.clip(outputs[key], z_lo, z_hi)
        if unusable.any():
            # Fewer observed bands than the model stands behind: no number at all.
            for key in outputs:
                outputs[key] = np.where(unusable, np.nan, outputs[key])
        flags = {
            "too_few_bands": unusable,
            "out_of_coverage": outside & ~unusable,
            "z_out_of_range": z_bad & ~unusable,
            **self._model_flags(outputs),
        }
        return outputs, (absent, not_detected, flags)

    def too_few_bands(self, X):
        """Rows of validated magnitudes with fewer observed bands than ``min_observed_bands``.

        Such a galaxy gets no number (NaN) and the flag ``too_few_bands``; the
        out-of-fold engine applies the same rule to its replicas.
        """
        absent, not_detected = missing_band_masks(X)
        observed = X.shape[1] - (absent | not_detected).sum(axis=1)
        return observed < min(self.min_observed_bands, X.shape[1])

    def _model_flags(self, outputs):
        """Further boolean flags a subclass raises from its outputs (none here)."""
        return {}

    def _flags(self, absent, not_detected, flags):
        """Per-galaxy flag strings; built once per distinct pattern, not per row."""
        names = self._band_names()
        patterns = np.column_stack([absent, not_detected, *flags.values()])
        if not patterns.any():  # a clean catalog: nothing to say, at no cost
            return np.full(len(patterns), "", dtype=object)
        if patterns.shape[1] <= 62:
            # One integer per row: np.unique on it is ~10x faster than on rows.
            codes = patterns.astype(np.int64) @ (np.int64(1) << np.arange(patterns.shape[1]))
            _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
            unique = patterns[first]
        else:
            unique, inverse = np.unique(patterns, axis=0, return_inverse=True)
        n = absent.shape[1]
        texts = []
        for row in unique:
            tokens = []
            if row[:n].any():
                tokens.append("missing:" + _band_list(row[:n], names))
            if row[n : 2 * n].any():
                tokens.append("not_detected:" + _band_list(row[n : 2 * n], names))
            tokens.extend(name for name, on in zip(flags, row[2 * n :], strict=True) if on)
            texts.append(";".join(tokens))
        return np.asarray(texts, dtype=object)[np.ravel(inverse)]

    def _labels(self, p_late):
        labels = np.where(p_late >= self.threshold, self.classes_[1], self.classes_[0])
        if np.isnan(p_late).any():
            labels = labels.astype(object)
            labels[np.isnan(p_late)] = None if self.classes_.dtype.kind in "USO" else np.nan
        return labels

    def predict_joint(self, X):
        """Everything the model says about each galaxy, from one forward pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)
            Magnitudes; NaN for a band not observed, +inf for a non-detection
            (unless ``missing_bands="error"``).

        Returns
        -------
        pandas.DataFrame
            ``p_late`` (P(late type)), ``type`` (the label at ``threshold``),
            ``z_phot``, any per-galaxy errors the model gives,
            ``coverage_distance`` (distance to the training data in units of
            its calibrated scale, :mod:`skphotoz.nn.coverage`; above 1 is out
            of coverage) and ``flags``: ``""`` or ``;``-joined tokens
            ``missing:<bands>``, ``not_detected:<bands>``, ``too_few_bands``
            (fewer than ``min_observed_bands`` observed; ``p_late`` and
            ``z_phot`` are then NaN, never a number), ``out_of_coverage`` (far
            from every training galaxy, or a gap the training data never
            had), ``z_out_of_range`` (a redshift below 0 or well beyond the
            training range; not clipped) and, for an ensemble,
            ``replica_disagreement``. Indexed like ``X`` when it is a
            DataFrame.
        """
        outputs, masks = self._outputs(X, coverage=True)
        frame = pd.DataFrame(
            {"p_late": outputs.pop("p_late"), "z_phot": outputs.pop("z_phot")},
            index=X.index if isinstance(X, pd.DataFrame) else None,
        )
        frame.insert(1, "type", self._labels(frame["p_late"].to_numpy()))
        for key, values in outputs.items():
            frame[key] = values
        frame["flags"] = self._flags(*masks)
        return frame

    def predict_proba(self, X):
        """Type probabilities, columns ordered as ``classes_`` ([P(ET), P(LT)]).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)

        Returns
        -------
        ndarray of shape (n_samples, 2)
            NaN for a galaxy flagged ``too_few_bands``.
        """
        p_late = self._outputs(X, point_redshift=False)[0]["p_late"]
        return np.column_stack([1.0 - p_late, p_late])

    def predict_redshift(self, X):
        """Photometric redshifts, shape (n_samples,); NaN where flagged ``too_few_bands``."""
        return self._outputs(X)[0]["z_phot"]

    # ------------------------------------------------------------ redshift PDFs
    @abstractmethod
    def _pdf_outputs(self, X):
        """The PDF head's raw outputs for validated magnitudes, (n, K, outputs)."""

    def _pdf_chunks(self, X, z_grid):
        check_is_fitted(self)
        spec = self.network_spec()
        if spec.redshift_pdf is None:
            raise ValueError(
                f"This {type(self).__name__} was fitted without a redshift-PDF head: "
                "refit it with redshift_pdf='mixture' or 'bins' to get p(z)."
            )
        grid = (
            self.z_grid_
            if z_grid is None
            else check_z_grid(z_grid, training_range=self.redshift_range_)
        )
        X = self._check_X(X, reset=False)
        density = self._pdf_density()
        unusable = self.too_few_bands(X)
        # The network runs on blocks of 65,536 rows (one call each); the
        # densities, (rows, K, components, grid) float32 before mixing, on
        # slices of a block that keep them near 64 MB whatever the sample size.
        per_row = density.n_components * len(grid) * self._n_pdf_replicas()
        rows = max(1, 2**24 // per_row)
        for block in range(0, len(X), 65536):
            raw = self._pdf_outputs(X[block : block + 65536])
            for start in range(0, len(raw), rows):
                part = raw[start : start + rows]
                # Equal-weight mixture of the replicas' PDFs (one network: K = 1).
                pdf = normalise_pdf(grid, density.density(part, grid).mean(axis=1))
                first = block + start
                pdf[unusable[first : first + len(part)]] = np.nan  # too few bands: no PDF
                yield grid, pdf

    def _n_pdf_replicas(self):
        return 1

    def predict_pdf(self, X, z_grid=None):
        """p(z) of every galaxy on a redshift grid, from the network's PDF head.

        Needs ``redshift_pdf`` ("mixture" or "bins") at fit. An ensemble
        mixes its replicas' PDFs with equal weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)
        z_grid : array-like of shape (n_grid,), optional
            Increasing, non-negative, covering the training redshift range;
            default ``z_grid_`` (200 points over the training range with a
            10% margin, :func:`skphotoz.pdf.default_z_grid`).

        Returns
        -------
        ndarray of shape (n_samples, n_grid)
            Densities, each row integrating to 1 over ``z_grid`` (trapezoid
            rule); NaN rows for galaxies with too few observed bands, and
            for a galaxy whose p(z) lies wholly beyond the grid (far outside
            the training data: :meth:`predict_joint` flags it
            ``z_out_of_range``).
        """
        parts = [pdf for _, pdf in self._pdf_chunks(X, z_grid)]
        grid = self.z_grid_ if z_grid is None else np.asarray(z_grid, np.float64)
        return np.concatenate(parts) if parts else np.empty((0, len(grid)))

    def predict_pdf_summary(self, X, z_grid=None):
        """Point estimates and intervals derived from each galaxy's p(z).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)
        z_grid : array-like, optional
            As in :meth:`predict_pdf`.

        Returns
        -------
        pandas.DataFrame
            ``mode``, ``median``, ``mean``, ``lower_68``, ``upper_68``,
            ``lower_95``, ``upper_95`` (central intervals) of each PDF
            (:func:`skphotoz.pdf.pdf_summary`); NaN where there is no PDF.
            With ``point_estimate="pdf_median"`` (or "auto") one network's
            ``median`` on the default grid is its :meth:`predict_redshift`
            before the clip to the training bounds (an ensemble's is the
            mean of its replicas' medians); with "regression" that is the
            regression neuron's estimate.
        """
        frames = [
            pd.DataFrame(dict(pdf_summary(grid, pdf))) for grid, pdf in self._pdf_chunks(X, z_grid)
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def predict(self, X):
        """Joint prediction ``[type label, photometric redshift]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Column 0 is the type label (late type when p >= ``threshold``),
            column 1 the redshift. The array is ``object`` when the labels
            are strings and float otherwise, so it has the layout of ``y``.
            A galaxy flagged ``too_few_bands`` gets no label and NaN.
        """
        outputs = self._outputs(X)[0]
        labels = self._labels(outputs["p_late"])
        dtype = object if self.classes_.dtype.kind in "USO" or labels.dtype == object else float
        out = np.empty((len(labels), 2), dtype=dtype)
        out[:, 0], out[:, 1] = labels, outputs["z_phot"]
        return out

    def score(self, X, y, sample_weight=None):
        """Joint score: minus the paper's total loss, BCE + MSE (higher is better).

        See :func:`skphotoz.metrics.joint_score`.
        """
        from skphotoz.metrics import joint_score

        types, redshift = split_targets(y, self.type_column, self.redshift_column)
        outputs = self._outputs(X)[0]
        return joint_score(
            late_type_flags(types, self.classes_),  # unknown labels raise
            outputs["p_late"],
            redshift,
            outputs["z_phot"],
            sample_weight=sample_weight,
        )

    # -------------------------------------------------------------- pickling
    @abstractmethod
    def _rebuild_network(self):
        """An untrained network of the fitted layout, to receive pickled weights."""

    def __getstate__(self):
        # The Keras model is rebuilt from the estimator's parameters and its
        # weights: pickling the graph itself would tie files to one Keras
        # build and drag the optimizer state along.
        state = self.__dict__.copy()
        model = state.pop("model_", None)
        if model is not None:
            state["_network_weights"] = model.get_weights()
        return state

    def __setstate__(self, state):
        weights = state.pop("_network_weights", None)
        self.__dict__.update(state)
        if weights is not None:
            self.model_ = self._rebuild_network()
            self.model_.set_weights(weights)
