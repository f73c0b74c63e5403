"""One function that turns a few settings into a ready-to-fit joint model.

``skphotoz fit``, ``cv``, ``demo``, ``compare`` and
:func:`skphotoz.reporting.run.run_report` all describe the model by the same
handful of settings (epochs, protocol, layer widths, threshold, replicas,
imputation, a redshift-PDF head); :func:`make_model` is the one place that
knows which estimator and which wrappers those settings mean.
"""

from __future__ import annotations

from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline


def make_model(
    *,
    epochs=None,
    protocol=None,
    base_units=None,
    threshold=None,
    n_replicas=None,
    missing_bands=None,
    impute=False,
    redshift_pdf=None,
    random_state=None,
    verbose=0,
):
    """A joint type + redshift model, with the wrappers its settings ask for.

    A setting left at ``None`` keeps the estimator's own default, so the
    defaults live in :class:`~skphotoz.nn.estimator.JointMorphZ` only.

    Parameters
    ----------
    epochs : int, optional
        Training epochs.
    protocol : {"fixed", "paper", "total_loss"}, optional
        Training protocol of :class:`~skphotoz.nn.estimator.JointMorphZ`.
        Replicas (``n_replicas``) train with ``"fixed"`` only.
    base_units : sequence of int, optional
        Widths of the shared layers; each is followed by a 0.5 dropout, as
        in the paper.
    threshold : float or "youden", optional
        Late type when P(LT) >= this. ``"youden"`` wraps the model in
        :class:`~skphotoz.thresholding.YoudenThresholdCV` (5 folds), which
        learns Youden's threshold on the training data.
    n_replicas : int, optional
        Train that many bootstrap replicas
        (:class:`~skphotoz.nn.ensemble.ReplicaEnsemble`): predictions are
        replica means with their spread as the error.
    missing_bands : {"auto", "native", "error"}, optional
        How the network treats a band without a magnitude (see
        :class:`~skphotoz.nn.estimator.JointMorphZ`); the estimator's
        default, "auto", takes NaN bands natively when the training data
        has them.
    impute : bool, default=False
        Put a median :class:`~sklearn.impute.SimpleImputer` (with missing
        indicators) in front, so the network sees every band filled instead
        of taking the gaps natively.
    redshift_pdf : {"mixture", "bins"}, optional
        Give the network a redshift-PDF head, so the fitted model has
        ``predict_pdf`` (see :class:`~skphotoz.nn.estimator.JointMorphZ`);
        None keeps the point redshift only.
    random_state : int, optional
        Seed of the network and of Youden's folds.
    verbose : int, default=0
        Training output of the network.

    Returns
    -------
    estimator
        A :class:`~skphotoz.nn.estimator.JointMorphZ` or
        :class:`~skphotoz.nn.ensemble.ReplicaEnsemble`, inside
        ``YoudenThresholdCV`` and then a pipeline when asked.

    Raises
    ------
    ValueError
        ``n_replicas`` with a protocol other than ``"fixed"`` or with
        ``threshold="youden"``, or a threshold that is neither a number nor
        ``"youden"``.

    Examples
    --------
    >>> from skphotoz.nn.factory import make_model
    >>> make_model(epochs=20, base_units=(64, 32)).network_spec().base_dropout
    (0.5, 0.5)
    >>> [name for name, _ in make_model(threshold="youden", impute=True).steps]
    ['simpleimputer', 'youdenthresholdcv']
    >>> make_model(n_replicas=3, redshift_pdf="bins").redshift_pdf
    'bins'
    """
    from skphotoz.nn.ensemble import ReplicaEnsemble
    from skphotoz.nn.estimator import JointMorphZ
    from skphotoz.thresholding import YoudenThresholdCV

    youden = threshold == "youden"
    params = {"random_state": random_state, "verbose": verbose}
    if epochs is not None:
        params["epochs"] = epochs
    if missing_bands is not None:
        params["missing_bands"] = missing_bands
    if redshift_pdf is not None:
        params["redshift_pdf"] = redshift_pdf
    if base_units is not None:
        # base_dropout="auto" gives every base layer the same rate.
        params["base_units"] = tuple(base_units)
    if threshold is not None and not youden:
        try:
            params["threshold"] = float(threshold)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"threshold is a number or 'youden', not {threshold!r}.") from exc
    if n_replicas:
        # Replicas train side by side for a fixed number of epochs, and a
        # Youden threshold would need an inner CV for every replica.
        if protocol not in (None, "fixed") or youden:
            raise ValueError(
                "n_replicas trains replicas with protocol='fixed' and a numeric threshold "
                f"(got protocol={protocol!r}, threshold={threshold!r})."
            )
        estimator = ReplicaEnsemble(n_replicas=n_replicas, **params)
    else:
        if protocol is not None:
            params["protocol"] = protocol
        estimator = JointMorphZ(**params)
    if youden:
        estimator = YoudenThresholdCV(estimator, cv=5, random_state=random_state)
    if impute:
        estimator = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), estimator)
    return estimator
