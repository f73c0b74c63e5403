"""``ReplicaEnsemble``: a bootstrap ensemble of the joint network, with per-galaxy errors.

The ensemble is trained by :func:`skphotoz.nn.replica.train_replicas`, so its
``n_replicas`` networks cost one vectorised training run rather than
``n_replicas`` fits. Its spread across replicas is the bootstrap (model)
uncertainty of each galaxy's P(LT) and z_phot.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from skphotoz.nn.estimator import JointMorphZ
from skphotoz.validation import check_joint_fit_input, joint_target_tags


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


class ReplicaEnsemble(ClassifierMixin, BaseEstimator):
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
redshift_loss_weight, threshold, standardize, type_column, redshift_column, verbose
        As in :class:`skphotoz.JointMorphZ`. Each replica standardises with
        the mean and standard deviation of its own resample.
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
        key: JointMorphZ._parameter_constraints[key]
        for key in (
            "base_units",
            "base_dropout",
            "class_units",
            "class_dropout",
            "redshift_units",
            "feed_class_probability",
            "epochs",
            "batch_size",
            "learning_rate",
            "lr_decay_floor",
            "redshift_loss_weight",
            "threshold",
            "standardize",
            "type_column",
            "redshift_column",
            "random_state",
            "verbose",
        )
    }
    _parameter_constraints["n_replicas"] = [Interval(numbers.Integral, 1, None, closed="left")]
    _parameter_constraints["calibrate_errors"] = ["boolean"]

    def __init__(
        self,
        *,
        base_units=(512,),
        base_dropout=(0.5,),
        class_units=(32, 32),
        class_dropout=(0.1, 0.1),
        redshift_units=(),
        feed_class_probability=True,
        epochs=300,
        batch_size=64,
        learning_rate=1e-3,
        lr_decay_floor=0.1,
        redshift_loss_weight="auto",
        threshold=0.5,
        standardize=True,
        type_column="type",
        redshift_column="redshift",
        n_replicas=20,
        calibrate_errors=True,
        random_state=None,
        verbose=0,
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
        self.threshold = threshold
        self.standardize = standardize
        self.type_column = type_column
        self.redshift_column = redshift_column
        self.n_replicas = n_replicas
        self.calibrate_errors = calibrate_errors
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = joint_target_tags(super().__sklearn_tags__())
        tags.input_tags.allow_nan = False
        return tags

    # Validation and the prediction API are JointMorphZ's own, reused as is:
    # they only need _forward and the shared parameters.
    _check_X = JointMorphZ._check_X
    _network_kwargs = JointMorphZ._network_kwargs
    predict_proba = JointMorphZ.predict_proba
    predict_redshift = JointMorphZ.predict_redshift
    predict = JointMorphZ.predict
    score = JointMorphZ.score

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
        from skphotoz.nn.replica import predict_replicas, train_estimator_replicas

        X, types, redshift, self.classes_ = check_joint_fit_input(self, X, y)
        self._network_kwargs()  # validate the layout before any work
        late = types == self.classes_[1]
        rng = check_random_state(self.random_state)
        counts = np.zeros((len(X), self.n_replicas), dtype=np.int32)
        for rows in (np.flatnonzero(late), np.flatnonzero(~late)):
            draws = rng.randint(len(rows), size=(len(rows), self.n_replicas))
            for k in range(self.n_replicas):
                counts[:, k] += np.bincount(rows[draws[:, k]], minlength=len(X))
        self.bootstrap_counts_ = counts
        weights = counts.astype(np.float64)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != (len(X),):
                raise ValueError(
                    f"sample_weight must have shape ({len(X)},); got {sample_weight.shape}."
                )
            weights = weights * sample_weight[:, None]
        self.model_ = train_estimator_replicas(
            self,
            X,
            late,
            redshift,
            weights,
            seed=int(rng.randint(np.iinfo(np.int32).max)),
            verbose=self.verbose,
        )
        self.error_scale_ = 1.0
        if self.calibrate_errors:
            # X is validated already; re-validating the array would warn about
            # feature names when the user fitted on a DataFrame.
            _, z_replicas = predict_replicas(self.model_, X)
            self.error_scale_ = out_of_bag_error_scale(z_replicas, redshift, counts)
        return self

    def _replica_outputs(self, X):
        from skphotoz.nn.replica import predict_replicas

        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        p_late, redshift = predict_replicas(self.model_, X)
        return p_late.astype(np.float64), redshift.astype(np.float64)

    def _forward(self, X):
        p_late, redshift = self._replica_outputs(X)
        return p_late.mean(axis=1), redshift.mean(axis=1)

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
            Indexed like ``X`` when it is a DataFrame.
        """
        p_late, redshift = self._replica_outputs(X)
        ddof = 1 if self.n_replicas > 1 else 0
        z_phot = redshift.mean(axis=1)
        lo, hi = np.percentile(redshift, [16, 84], axis=1)
        # The calibration stretches the interval about the mean, keeping its skew.
        scale = getattr(self, "error_scale_", 1.0)
        return pd.DataFrame(
            {
                "p_late": p_late.mean(axis=1),
                "p_late_err": p_late.std(axis=1, ddof=ddof),
                "z_phot": z_phot,
                "z_phot_err": scale * redshift.std(axis=1, ddof=ddof),
                "z_phot_lo68": z_phot - scale * (z_phot - lo),
                "z_phot_hi68": z_phot + scale * (hi - z_phot),
            },
            index=X.index if isinstance(X, pd.DataFrame) else None,
        )

    def __getstate__(self):
        # As JointMorphZ: keep the weights, rebuild the network on load.
        state = self.__dict__.copy()
        model = state.pop("model_", None)
        if model is not None:
            state["_network_weights"] = model.get_weights()
        return state

    def __setstate__(self, state):
        weights = state.pop("_network_weights", None)
        self.__dict__.update(state)
        if weights is not None:
            from skphotoz.nn.replica import build_replica_network

            zeros = np.zeros((self.n_replicas, self.n_features_in_))
            self.model_ = build_replica_network(
                self.n_features_in_,
                self.n_replicas,
                input_mean=zeros,
                input_scale=zeros + 1,
                **self._network_kwargs(),
            )
            self.model_.set_weights(weights)
