"""``JointMorphZ``: galaxy type and photometric redshift from one network.

Why not scikeras: scikeras 0.13 is unmaintained and, on scikit-learn >= 1.6,
reports wrong tags (``is_classifier`` is False, so an integer ``cv`` becomes a
plain KFold and ``roc_auc`` scores come back NaN). It also assumes one target
encoder per output, while our target is one joint ``[type, redshift]`` column
pair. Driving Keras directly from a ``BaseEstimator`` costs a hundred lines
and gets the tags, cloning and pickling right.
"""

from __future__ import annotations

import numbers
import os

import numpy as np
from sklearn.base import _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from skphotoz.nn.base import BaseJointNetwork, network_features, observed_standardisation
from skphotoz.nn.density import replica_pdf_range
from skphotoz.nn.spec import PDF_OUTPUT, PROTOCOLS, effective_redshift_loss_weight

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Predictions are made in large slices: a direct call avoids the per-batch
# overhead of ``Model.predict`` and its console progress bar.
_PREDICT_CHUNK = 65536


class JointMorphZ(BaseJointNetwork):
    """Joint early/late type classifier and photometric-redshift regressor.

    The non-sequential network of de Diego et al. (2021, A&A 655, A56): a
    shared base module feeds a classification branch giving p = P(late
    type) and a redshift branch that also sees p, so one model gives a type
    and a redshift that are consistent with each other.

    Parameters
    ----------
    base_units : tuple, default=(512,)
        Base module Dense(relu) widths.
    base_dropout : tuple or "auto", default="auto"
        Base module dropout rates, one per layer. "auto": the paper's 0.5
        below 5,000 training galaxies (and under ``protocol="paper"``), 0.2
        from there, where 0.5 cost sigma_NMAD against the trees
        (:func:`skphotoz.nn.spec.resolve_base_dropout`; docs/benchmarks.md,
        Sect. 7). The rates used are ``base_dropout_``.
    class_units, class_dropout : tuple, default=(32, 32), (0.1, 0.1)
        Classification branch widths and dropout rates.
    redshift_units : tuple or "auto", default="auto"
        Dense(relu) layers on the base output before the concatenation with
        p (``()`` is the paper's branch, ``(16,)`` its Architecture 4).
        "auto": ``(64, 64)``, or the paper's ``()`` under
        ``protocol="paper"`` (:func:`skphotoz.nn.spec.resolve_redshift_units`):
        the hidden layers lowered sigma_NMAD on every gappy sample of
        docs/benchmarks.md, Sect. 7.
    feed_class_probability : bool, default=True
        Feed p into the redshift branch (the paper's design).
    protocol : {"fixed", "paper", "total_loss"}, default="fixed"
        ``"paper"``: hold out ``validation_fraction`` (stratified by type),
        EarlyStopping on the validation class loss (patience
        ``early_stopping_patience``) and ReduceLROnPlateau on the validation
        redshift loss (``lr_reduce_factor``, ``lr_reduce_patience``), at most
        ``epochs`` epochs. ``"fixed"``: all data, exactly ``epochs`` epochs,
        sigmoid learning-rate decay (the paper's final-run mode).
        ``"total_loss"``: like ``"paper"`` but both callbacks watch the
        total validation loss and the best weights are restored.
        See docs/benchmarks.md for the measurements behind the default.
    epochs : int or "auto", default="auto"
        Number of epochs (``"fixed"``) or the upper bound (other protocols).
        "auto" is 300, the paper's, up to about 3,000 galaxies, then as many
        as fit in the optimisation steps of that fit (14,100 of batch 64),
        never fewer than 100: 30,000 galaxies train 100 epochs, with the
        quality of 300 within the paired errors measured (docs/benchmarks.md,
        Sect. 9). Under other protocols "auto" is an upper bound of 300.
    batch_size : int, default=64
    learning_rate : float, default=1e-3
        Initial RMSprop learning rate.
    validation_fraction : float, default=1/3
        Held-out fraction for the early-stopping protocols (the paper uses
        64 of 192).
    early_stopping_patience : int, default=10
    lr_reduce_factor : float, default=0.9
    lr_reduce_patience : int, default=5
    trainer : {"auto", "compiled", "keras"}, default="auto"
        ``"compiled"``: the replica trainer with one replica, each epoch one
        compiled call (XLA from about a thousand steps on): the fast path,
        statistically equivalent to Keras' loop (docs/benchmarks.md).
        ``"keras"``: Keras' ``Model.fit``, needed by the early-stopping
        protocols. ``"auto"``: compiled under ``protocol="fixed"``.
    lr_decay_floor : float, default=0.1
        Final learning rate of the sigmoid schedule, as a fraction of
        ``learning_rate`` (``"fixed"`` only).
    redshift_loss_weight : float or "auto", default="auto"
        Weight of the MSE term in the total loss (BCE has weight 1). "auto"
        is 1 under ``protocol="paper"`` (the paper's equal weights) and
        :data:`skphotoz.nn.spec.AUTO_REDSHIFT_LOSS_WEIGHT` (10) otherwise, the
        value that measured best on real samples (docs/benchmarks.md).
    class_weight : None, "balanced" or dict, default=None
        Weights of the two types in the cross-entropy, multiplying any
        ``sample_weight``: "balanced" gives both types the same total weight;
        a dict maps "early"/"late" to weights.
    missing_bands : {"auto", "native", "error"}, default="auto"
        How bands without a magnitude are handled. NaN marks a band that was
        not observed and +inf a non-detection
        (:class:`skphotoz.preprocessing.SentinelToNaN` converts catalog
        codes). ``"native"``: the network takes, for each band, its z-scored
        magnitude (0 where absent), whether it was observed and whether it was
        a non-detection (:mod:`skphotoz.nn.layers`); the standardisation uses
        the observed magnitudes only, and ``band_dropout`` teaches the network
        to predict from any subset of bands. ``"auto"``: native when the
        training magnitudes have a gap, otherwise the paper's plain input
        (a galaxy with a gap is then still predicted from its other bands,
        but flagged, since the network never learnt that case). ``"error"``:
        a missing band is a ValueError, as in the paper.
    band_dropout : float, default=0.1
        With the native encoding, the probability that training hides an
        observed band of a galaxy (per band, per step), so that the network
        learns to predict from any subset of bands. It acts only when the
        training set has gaps. With all-pair colours, 0.1 raised the AUC on a
        sample with 30% of its bands missing at random from 0.952 to 0.976
        and cut CNOC2's outliers, for sigma_NMAD +0.0005 on VIPERS and
        +0.0010 on faint-limited gaps (docs/benchmarks.md, Sect. 7).
    colours : bool, "adjacent", "all" or "auto", default="auto"
        Also feed colours, computed inside the network, so a colour is
        missing when either band is: of adjacent bands in column order
        (True or "adjacent") or of every pair of bands ("all", which keeps
        a colour across a gap). "auto" is "all", except under
        ``protocol="paper"``, whose input is the magnitudes alone. Colours
        lowered sigma_NMAD on all four gappy samples measured; all pairs
        beat adjacent ones on gappy samples (with band dropout) and tie on
        complete ones (docs/benchmarks.md, Sects. 7 and 10).
    shared_base : bool, default=True
        One base module for both branches (the paper's design). False gives
        the type branch a base of its own (the ablation of Sect. 10).
    redshift_pdf : {"mixture", "bins"} or None, default=None
        Add a redshift-PDF head beside the point redshift, on the same input
        as the redshift neuron (:mod:`skphotoz.nn.density`): a Gaussian
        mixture or a histogram over redshift bins, trained by the negative
        log-likelihood of the spec-z. Gives :meth:`predict_pdf`.
    pdf_components : int or None, default=None
        Mixture components (default 5) or bins (default 64).
    pdf_loss_weight : float, default=1.0
        Weight of the PDF head's term in the joint loss.
    point_estimate : {"auto", "regression", "pdf_median"}, default="auto"
        What ``z_phot`` is: the regression neuron's value (the paper's), or
        the median of the galaxy's p(z) from the PDF head. "auto": the
        median when there is a PDF head, the neuron otherwise.
    min_observed_bands : int, default=2
        A galaxy with fewer observed bands (one colour, at least) gets no
        prediction: NaN and the flag ``too_few_bands``, never a number.
    threshold : float, default=0.5
        A galaxy is late type when p >= threshold. Use
        :class:`skphotoz.thresholding.YoudenThresholdCV` to learn the Youden
        threshold.
    standardize : bool, default=True
        Z-score the magnitudes with the training mean and standard deviation.
    type_column, redshift_column : str, default="type", "redshift"
        Column names when ``y`` is a DataFrame or an astropy Table.
    early_label : str, int, bool or None, default=None
        The type label of early-type galaxies in ``y``; the other label is
        the late type. None recognises ET/LT, early/late, E/L, red/blue,
        elliptical/spiral (any case), 0/1 and False/True (0 and False early)
        and refuses any other pair of labels
        (:func:`skphotoz.validation.type_classes`).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation
        split.
    verbose : int, default=0
        0 silent, 1 a progress bar over epochs, 2 one Keras line per epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[early, late]`` type labels (not necessarily sorted);
        ``predict_proba`` columns follow them.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Band names, when ``X`` is a DataFrame.
    mean_, scale_ : ndarray of shape (n_inputs,)
        Input standardisation (over observed magnitudes, then colours).
    missing_bands_ : bool
        Whether the network was built with the missing-band encoding.
    base_dropout_ : tuple
        The base module's dropout rates used (``base_dropout`` resolved).
    model_ : keras.Model
        The trained network.
    history_ : dict of list
        Training history per epoch: the losses and the learning rate.
    trainer_ : {"compiled", "keras"}
        The trainer that ran.
    n_epochs_ : int
        Epochs actually run.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz import JointMorphZ
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(60, 4))
    >>> y = np.column_stack([np.where(X[:, 0] > 22, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> model = JointMorphZ(base_units=(16,), base_dropout=(0.1,), epochs=2, random_state=0)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        **BaseJointNetwork._parameter_constraints,
        "protocol": [StrOptions(set(PROTOCOLS))],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "early_stopping_patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr_reduce_factor": [Interval(numbers.Real, 0, 1, closed="neither")],
        "lr_reduce_patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "trainer": [StrOptions({"auto", "compiled", "keras"})],
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
        protocol="fixed",
        epochs="auto",
        batch_size=64,
        learning_rate=1e-3,
        validation_fraction=1 / 3,
        early_stopping_patience=10,
        lr_reduce_factor=0.9,
        lr_reduce_patience=5,
        trainer="auto",
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
        self.protocol = protocol
        self.validation_fraction = validation_fraction
        self.early_stopping_patience = early_stopping_patience
        self.lr_reduce_factor = lr_reduce_factor
        self.lr_reduce_patience = lr_reduce_patience
        self.trainer = trainer

    def _build_network(self, seed=None):
        from skphotoz.nn.network import build_joint_network

        spec = self.network_spec()
        inside = spec.encodes_inside
        stats = {"input_mean": self.mean_, "input_scale": self.scale_} if inside else {}
        return build_joint_network(self.n_features_in_, spec, seed=seed, **stats)

    def _rebuild_network(self):
        if getattr(self, "trainer_", "keras") == "keras":
            return self._build_network()
        from skphotoz.nn.replica import build_replica_network

        return build_replica_network(
            self.n_features_in_,
            1,
            self.network_spec(),
            input_mean=self.mean_[None],
            input_scale=self.scale_[None],
        )

    # ------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on magnitudes and a joint ``[type, redshift]`` target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)
            AB magnitudes; NaN for a band not observed and +inf for a
            non-detection (see ``missing_bands``).
        y : array-like of shape (n_samples, 2), DataFrame or astropy Table
            Type label (``"ET"``/``"LT"`` or 0/1) and spectroscopic redshift.
        sample_weight : array-like of shape (n_samples,), optional
            Per-galaxy weights (e.g. bootstrap counts).

        Returns
        -------
        self : JointMorphZ
        """
        X, late, redshift, weights, spec = self._fit_inputs(X, y, sample_weight)
        self.trainer_ = self._resolve_trainer()
        if spec.redshift_pdf is not None:
            self.pdf_range_ = replica_pdf_range(redshift, weights[:, None])
        features = network_features(X, spec.colours)
        if self.standardize:
            self.mean_, self.scale_ = observed_standardisation(features)
        else:
            self.mean_ = np.zeros(features.shape[1])
            self.scale_ = np.ones(features.shape[1])
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if self.trainer_ == "compiled":
            self._fit_compiled(X, late, redshift, weights, spec, seed)
        else:
            if sample_weight is None and self.class_weight is None:
                weights = None  # Keras' unweighted path: the paper's exact arithmetic
            self._fit_keras(X, late, redshift, weights, spec, seed)
        self.n_epochs_ = len(self.history_["learning_rate"])
        return self

    def _resolve_trainer(self):
        if self.trainer == "auto":
            return "compiled" if self.protocol == "fixed" else "keras"
        if self.trainer == "compiled" and self.protocol != "fixed":
            raise ValueError(
                f"trainer='compiled' runs a fixed-epoch schedule; protocol={self.protocol!r} "
                "needs Keras' callbacks (trainer='keras' or 'auto')."
            )
        return self.trainer

    def _fit_compiled(self, X, late, redshift, weights, spec, seed):
        """The fast path: the replica trainer with one replica, each epoch one compiled call.

        Statistically equivalent to Keras' loop under ``protocol="fixed"``
        (the same loss, optimizer, schedule and batch size), not identical:
        the dropout masks come from another random stream and the last batch
        is padded (see :mod:`skphotoz.nn.replica`).
        """
        from skphotoz.nn.replica import train_replicas

        settings = self._replica_training_settings()
        settings.update(class_weight=None, standardize=None)  # both are applied here
        settings["epochs"] = self.n_epochs(len(X))
        self.model_, self.history_ = train_replicas(
            X,
            late,
            redshift,
            weights[:, None],
            spec=spec,
            seed=seed,
            verbose=int(self.verbose >= 1),
            input_mean=self.mean_[None],
            input_scale=self.scale_[None],
            jit_compile=self._compiles_epochs(len(X)),
            pdf_range=getattr(self, "pdf_range_", None),
            return_history=True,
            progress_label="JointMorphZ",
            **settings,
        )

    def _fit_keras(self, X, late, redshift, weights, spec, seed):
        """Keras' own ``Model.fit``, with the callbacks of the protocol."""
        from skphotoz.nn.loss import JointLoss
        from skphotoz.nn.network import (
            TqdmEpochs,
            compile_joint_network,
            keras_seed,
            protocol_callbacks,
        )

        if spec.encodes_inside:
            Xs = X.astype(np.float32)  # the network encodes and standardises itself
        else:
            Xs = ((X - self.mean_) / self.scale_).astype(np.float32)
        weights = None if weights is None else weights.astype(np.float32)
        with keras_seed(seed):
            self.model_ = compile_joint_network(
                self._build_network(seed),
                learning_rate=self.learning_rate,
                loss=JointLoss(
                    effective_redshift_loss_weight(self.redshift_loss_weight, self.protocol),
                    density=self._pdf_density(spec),
                    pdf_loss_weight=self.pdf_loss_weight,
                ),
            )
            targets = {"p_late": late.astype(np.float32), "redshift": redshift.astype(np.float32)}
            if spec.redshift_pdf is not None:
                targets[PDF_OUTPUT] = targets["redshift"]
            epochs = self.n_epochs(len(X))
            fit_kwargs = {"epochs": epochs, "batch_size": self.batch_size}
            fit_kwargs["callbacks"] = protocol_callbacks(
                self.protocol,
                epochs=epochs,
                learning_rate=self.learning_rate,
                lr_decay_floor=self.lr_decay_floor,
                early_stopping_patience=self.early_stopping_patience,
                lr_reduce_factor=self.lr_reduce_factor,
                lr_reduce_patience=self.lr_reduce_patience,
            )
            Xt, yt, wt = Xs, targets, weights
            if self.protocol != "fixed":
                (Xt, yt, wt), validation = self._validation_split(Xs, targets, weights, seed)
                fit_kwargs["validation_data"] = validation
            if self.verbose == 1:
                fit_kwargs["callbacks"].append(TqdmEpochs(epochs))
            history = self.model_.fit(
                Xt, yt, sample_weight=wt, verbose=2 if self.verbose >= 2 else 0, **fit_kwargs
            )
        self.history_ = {k: [float(v) for v in vals] for k, vals in history.history.items()}

    def _validation_split(self, Xs, targets, weights, seed):
        """((X, y, w) to train on, validation tuple): a type-stratified hold-out."""
        train_idx, val_idx = train_test_split(
            np.arange(len(Xs)),
            test_size=self.validation_fraction,
            stratify=targets["p_late"],
            random_state=seed,
        )

        def take(idx):
            w = None if weights is None else weights[idx]
            return Xs[idx], {k: v[idx] for k, v in targets.items()}, w

        Xv, yv, wv = take(val_idx)
        return take(train_idx), ((Xv, yv) if wv is None else (Xv, yv, wv))

    def replica_settings(self):
        """Keyword arguments of :func:`skphotoz.nn.replica.train_replicas` for this model.

        This is the capability :mod:`skphotoz.model_selection` looks for: an
        estimator (or a Pipeline's final step) that has it trains all folds of
        a cross-validation as replicas of one vectorised network. The layout
        (``spec``) is resolved from the data by :meth:`network_spec`.

        Raises
        ------
        ValueError
            Unless ``protocol="fixed"``: an early-stopping protocol stops each
            fold at its own epoch, which replicas cannot.
        """
        if self.protocol != "fixed":
            raise ValueError(
                f"protocol={self.protocol!r} stops each fold at its own epoch; only "
                "protocol='fixed' (one fixed-epoch schedule) trains as replicas."
            )
        return self._replica_training_settings()

    # --------------------------------------------------------------- predict
    def _network_input(self, X):
        if self.trainer_ == "compiled" or self.network_spec().encodes_inside:
            return X.astype(np.float32)  # the network standardises and encodes itself
        # A gap the network has no encoding for reads as the training mean
        # (0 once z-scored): predicted from the other bands, and flagged.
        Xs = np.nan_to_num((X - self.mean_) / self.scale_, nan=0.0, posinf=0.0)
        return Xs.astype(np.float32)

    def _pdf_outputs(self, X):
        return _pdf_raw(self.model_.predict_on_batch(self._network_input(X)))

    def _network_outputs(self, X, pdf_median):
        Xs = self._network_input(X)
        p_late = np.empty(len(Xs), dtype=np.float64)
        redshift = np.empty(len(Xs), dtype=np.float64)
        density = self._pdf_density() if pdf_median else None
        for start in range(0, len(Xs), _PREDICT_CHUNK):
            # predict_on_batch runs the compiled inference function: 1.6x the
            # eager call (benchmarks/results_replica.md), with no progress bar.
            chunk = Xs[start : start + _PREDICT_CHUNK]
            out = self.model_.predict_on_batch(chunk)
            rows = slice(start, start + len(chunk))
            p_late[rows] = np.asarray(out["p_late"])[:, 0]
            if density is None:
                redshift[rows] = np.asarray(out["redshift"])[:, 0]
            else:  # the PDF head's median, from the same forward pass
                redshift[rows] = density.medians(_pdf_raw(out), self.z_grid_)[:, 0]
        return {"p_late": p_late, "z_phot": redshift}


def _pdf_raw(outputs):
    """The PDF head's raw outputs from a forward pass, (n, K, outputs).

    The compiled trainer's network has a replica axis (K = 1); Keras' own
    network has none, so one is added.
    """
    raw = np.asarray(outputs[PDF_OUTPUT])
    return raw if raw.ndim == 3 else raw[:, None, :]
