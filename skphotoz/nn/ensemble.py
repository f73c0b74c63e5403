"""``ReplicaEnsemble``: a bootstrap ensemble of the joint network, with per-galaxy errors.

The ensemble is trained by :func:`skphotoz.nn.replica.train_replicas`, so its
``n_replicas`` networks cost one vectorised training run rather than
``n_replicas`` fits. Its spread across replicas is the bootstrap (model)
uncertainty of each galaxy's P(LT) and z_phot.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from skphotoz.nn.base import BaseJointNetwork
from skphotoz.nn.density import replica_pdf_range


def out_of_bag_error_scale(z_replicas, z_spec, counts, coverage=0.68):
    """Factor s such that |z_oob - z_spec| <= s * spread_oob for ``coverage`` of galaxies.

    For each training galaxy, the replicas that never drew it (``counts`` 0)
    predicted it as unseen data: their mean z_oob and standard deviation
    spread_oob are an honest held-out prediction and model spread. Galaxies
    out of bag in fewer than 3 replicas are skipped. Approximation: the
    out-of-bag mean averages ~37% of the replicas, so its residuals are a
    little larger than those of the full ensemble and s errs on the
    conservative (wide) side.

    Parameters
    ----------
    z_replicas : ndarray of shape (n, K)
        Every replica's redshift for the training galaxies.
    z_spec : ndarray of shape (n,)
    counts : ndarray of shape (n, K)
        Bootstrap counts (0 = out of bag).
    coverage : float, default=0.68

    Returns
    -------
    float
        1.0 when fewer than 10 galaxies can be used.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.ensemble import out_of_bag_error_scale
    >>> rng = np.random.default_rng(0)
    >>> z = rng.uniform(0, 1, 2000)
    >>> replicas = z[:, None] + rng.normal(0, 0.02, (2000, 30)) + rng.normal(0, 0.06, (2000, 1))
    >>> counts = rng.poisson(1.0, (2000, 30))
    >>> round(out_of_bag_error_scale(replicas, z, counts), 1)  # sqrt(0.02**2 + 0.06**2) / 0.02
    3.2
    """
    # Each galaxy's out-of-bag replicas only: a masked array hides the others.
    oob = np.ma.masked_array(z_replicas, mask=np.asarray(counts) != 0)
    usable = oob.count(axis=1) >= 3
    if usable.sum() < 10:
        return 1.0
    z_oob = oob.mean(axis=1)[usable].filled(np.nan)
    spread = oob.std(axis=1, ddof=1)[usable].filled(np.nan)
    ratio = np.abs(z_oob - np.asarray(z_spec, dtype=float)[usable]) / np.maximum(spread, 1e-12)
    return float(np.quantile(ratio, coverage))


class ReplicaEnsemble(BaseJointNetwork):
    """Bootstrap ensemble of the joint network, trained as replicas in one computation.

    ``n_replicas`` copies of the network of :class:`skphotoz.JointMorphZ`
    (``protocol="fixed"``: exactly ``epochs`` epochs, sigmoid learning-rate
    decay) are each trained on a bootstrap resample of the training galaxies,
    drawn with replacement within each type so every replica sees both types.
    Predictions are replica means; :meth:`predict_uncertainty` adds their
    spread, a per-galaxy bootstrap (model) uncertainty.

    Parameters
    ----------
    base_units, base_dropout, class_units, class_dropout, redshift_units, \
feed_class_probability, epochs, batch_size, learning_rate, lr_decay_floor, \
redshift_loss_weight, class_weight, missing_bands, band_dropout, colours, shared_base, \
redshift_pdf, pdf_components, pdf_loss_weight, point_estimate, min_observed_bands, threshold, \
standardize, type_column, redshift_column, early_label, verbose
        As in :class:`skphotoz.JointMorphZ`. Each replica standardises with
        the mean and standard deviation of its own resample; under
        ``point_estimate="pdf_median"`` each replica's redshift is its own
        PDF's median, and the ensemble averages them.
    n_replicas : int, default=20
        Number of bootstrap replicas.
    calibrate_errors : bool, default=True
        Scale the quoted redshift errors so that they cover 68% of the
        training galaxies' out-of-bag residuals (see :meth:`fit`). With
        False, ``z_phot_err`` is the raw spread between replicas, which
        covered only ~16% of held-out spec-z on CNOC2 (docs/benchmarks.md).
    random_state : int, RandomState instance or None, default=None
        Seeds the resamples, weight initialisation, dropout and batch order.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    bootstrap_counts_ : ndarray of shape (n_samples, n_replicas)
        How often each training galaxy was drawn for each replica (0 means
        out-of-bag).
    error_scale_ : float
        Factor applied to the replica spread of z (1 without calibration).
    model_ : keras.Model
        The replica network (outputs have one column per replica).

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.ensemble import ReplicaEnsemble
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(60, 4))
    >>> y = np.column_stack([np.where(X[:, 0] > 22, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> model = ReplicaEnsemble(base_units=(16,), base_dropout=(0.1,), class_units=(8,),
    ...                         class_dropout=(0.0,), epochs=2, n_replicas=3, random_state=0)
    >>> list(model.fit(X, y).predict_uncertainty(X[:2]).columns)[:2]
    ['p_late', 'p_late_err']
    """

    _parameter_constraints = {
        **BaseJointNetwork._parameter_constraints,
        "n_replicas": [Interval(numbers.Integral, 1, None, closed="left")],
        "calibrate_errors": ["boolean"],
    }

    def __init__(
        self,
        *,
        base_units=(512,),
        base_dropout="auto",
        class_units=(32, 32),
        class_dropout=(0.1, 0.1),
        redshift_units="auto",
        feed_class_probability=True,
        epochs="auto",
        batch_size=64,
        learning_rate=1e-3,
        lr_decay_floor=0.1,
        redshift_loss_weight="auto",
        class_weight=None,
        missing_bands="auto",
        band_dropout=0.1,
        colours="auto",
        shared_base=True,
        redshift_pdf=None,
        pdf_components=None,
        pdf_loss_weight=1.0,
        point_estimate="auto",
        min_observed_bands=2,
        threshold=0.5,
        standardize=True,
        type_column="type",
        redshift_column="redshift",
        early_label=None,
        n_replicas=20,
        calibrate_errors=True,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            base_units=base_units,
            base_dropout=base_dropout,
            class_units=class_units,
            class_dropout=class_dropout,
            redshift_units=redshift_units,
            feed_class_probability=feed_class_probability,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            lr_decay_floor=lr_decay_floor,
            redshift_loss_weight=redshift_loss_weight,
            class_weight=class_weight,
            missing_bands=missing_bands,
            band_dropout=band_dropout,
            colours=colours,
            shared_base=shared_base,
            redshift_pdf=redshift_pdf,
            pdf_components=pdf_components,
            pdf_loss_weight=pdf_loss_weight,
            point_estimate=point_estimate,
            min_observed_bands=min_observed_bands,
            threshold=threshold,
            standardize=standardize,
            type_column=type_column,
            redshift_column=redshift_column,
            early_label=early_label,
            random_state=random_state,
            verbose=verbose,
        )
        self.n_replicas = n_replicas
        self.calibrate_errors = calibrate_errors

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train ``n_replicas`` bootstrap replicas in one call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)
        y : array-like of shape (n_samples, 2), DataFrame or astropy Table
            Joint target ``[type, redshift]``.
        sample_weight : array-like of shape (n_samples,), optional
            Multiplies every replica's bootstrap counts.

        Returns
        -------
        self : ReplicaEnsemble
        """
        # The replica module builds Keras layers: imported on use, so that
        # importing skphotoz does not start TensorFlow.
        from skphotoz.nn.replica import train_replicas

        X, late, redshift, weights, spec = self._fit_inputs(X, y, sample_weight)
        rng = check_random_state(self.random_state)
        counts = np.zeros((len(X), self.n_replicas), dtype=np.int32)
        for rows in (np.flatnonzero(late), np.flatnonzero(~late)):
            draws = rng.randint(len(rows), size=(len(rows), self.n_replicas))
            for k in range(self.n_replicas):
                counts[:, k] += np.bincount(rows[draws[:, k]], minlength=len(X))
        self.bootstrap_counts_ = counts
        settings = self._replica_training_settings()
        # Class weights are in ``weights`` already (computed on the whole sample).
        settings["class_weight"] = None
        settings["epochs"] = self.n_epochs(len(X))
        if spec.redshift_pdf is not None:
            settings["pdf_range"] = self.pdf_range_ = replica_pdf_range(
                redshift, counts * weights[:, None]
            )
        self.model_ = train_replicas(
            X,
            late,
            redshift,
            counts * weights[:, None],
            spec=spec,
            seed=int(rng.randint(np.iinfo(np.int32).max)),
            verbose=self.verbose,
            jit_compile=self._compiles_epochs(len(X)),
            **settings,
        )
        # X is validated already; re-validating the array would warn about
        # feature names when the user fitted on a DataFrame.
        _, z_replicas = self._replica_outputs(X)
        # The replicas' typical disagreement on galaxies like the training ones.
        self.typical_spread_ = float(
            np.median(z_replicas.std(axis=1, ddof=min(1, self.n_replicas - 1)))
        )
        self.error_scale_ = 1.0
        if self.calibrate_errors:
            self.error_scale_ = out_of_bag_error_scale(z_replicas, redshift, counts)
        return self

    #: Replica spread of z, in units of its training median, above which the
    #: replicas are said to disagree (``replica_disagreement``).
    DISAGREEMENT_FACTOR = 5.0

    def _model_flags(self, outputs):
        spread = outputs["z_phot_err"] / self.error_scale_
        with np.errstate(invalid="ignore"):
            disagree = spread > self.DISAGREEMENT_FACTOR * max(self.typical_spread_, 1e-6)
        return {"replica_disagreement": disagree}

    def _replica_outputs(self, X, pdf_median=None):
        """Each replica's P(late type) and point redshift, (n, K) each.

        With ``pdf_median`` (default: as ``point_estimate`` says) a replica's
        point redshift is its own PDF's median, so the mean, spread and
        interval over replicas are those of the medians, as they are of the
        regression neuron's values otherwise.
        """
        from skphotoz.nn.replica import predict_replicas

        if pdf_median is None:
            pdf_median = self.uses_pdf_median()
        if pdf_median:
            p_late, _, raw = predict_replicas(self.model_, X, pdf=True)
            return p_late.astype(np.float64), self._pdf_density().medians(raw, self.z_grid_)
        p_late, redshift = predict_replicas(self.model_, X)
        return p_late.astype(np.float64), redshift.astype(np.float64)

    def _pdf_outputs(self, X):
        from skphotoz.nn.replica import predict_replicas

        return predict_replicas(self.model_, X, pdf=True)[2]

    def _n_pdf_replicas(self):
        return self.n_replicas

    def _network_outputs(self, X, pdf_median):
        p_late, redshift = self._replica_outputs(X, pdf_median)
        ddof = 1 if self.n_replicas > 1 else 0
        z_phot = redshift.mean(axis=1)
        lo, hi = np.percentile(redshift, [16, 84], axis=1)
        # The calibration stretches the interval about the mean, keeping its skew.
        scale = self.error_scale_
        return {
            "p_late": p_late.mean(axis=1),
            "z_phot": z_phot,
            "p_late_err": p_late.std(axis=1, ddof=ddof),
            "z_phot_err": scale * redshift.std(axis=1, ddof=ddof),
            "z_phot_lo68": z_phot - scale * (z_phot - lo),
            "z_phot_hi68": z_phot + scale * (hi - z_phot),
        }

    def predict_uncertainty(self, X):
        """Replica means and spreads of P(late type) and redshift, per galaxy.

        The spread is over the ``n_replicas`` bootstrap replicas: it is the
        bootstrap (model) uncertainty of the network, from resampling the
        training galaxies and from the random initialisation and dropout, and
        does NOT include the photometric errors of the galaxy itself.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)

        Returns
        -------
        pandas.DataFrame
            ``p_late`` and ``z_phot``: replica means (as :meth:`predict_proba`
            and :meth:`predict_redshift`); ``p_late_err``: the replica
            standard deviation of P(LT) (ddof=1; 0 for a single replica);
            ``z_phot_err``: that of z times ``error_scale_``;
            ``z_phot_lo68``/``z_phot_hi68``: the 16th/84th percentiles of the
            replica redshifts, stretched about ``z_phot`` by ``error_scale_``.
            Indexed like ``X`` when it is a DataFrame. :meth:`predict_joint`
            gives the same columns with the type and the flags.
        """
        columns = ["p_late", "p_late_err", "z_phot", "z_phot_err", "z_phot_lo68", "z_phot_hi68"]
        return self.predict_joint(X)[columns]

    def _rebuild_network(self):
        from skphotoz.nn.replica import build_replica_network

        # The standardisation's statistics are weights too: placeholders here,
        # overwritten with the pickled values.
        spec = self.network_spec()
        zeros = np.zeros((self.n_replicas, spec.n_features(self.n_features_in_)))
        return build_replica_network(
            self.n_features_in_,
            self.n_replicas,
            spec,
            input_mean=zeros,
            input_scale=zeros + 1,
        )
