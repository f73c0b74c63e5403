"""The joint loss: binary cross-entropy on the type plus a weighted MSE on the redshift.

With a redshift-PDF head (:mod:`skphotoz.nn.density`) a third term is added:
``pdf_loss_weight`` times the negative log-likelihood of the spectroscopic
redshift under the predicted p(z).

One definition serves both trainers: :meth:`JointLoss.compile_arguments` gives
Keras' ``Model.compile`` its per-output losses and weights, and
:meth:`JointLoss.replica_total` computes the same quantity for K replicas at
once in the hand-written replica loop. Per-galaxy weights (sample weights,
bootstrap counts, LOO masks and class weights, multiplied together) enter
both as sample weights, with Keras' "sum over batch size" reduction: a
batch's loss is ``sum(w * loss) / rows``, not ``/ sum(w)``.

To add a loss term, change this class: both trainers take it from here.
"""

from __future__ import annotations

import numpy as np

from skphotoz.nn.spec import CLASS_OUTPUT, PDF_OUTPUT, REDSHIFT_OUTPUT


def class_weight_factors(late, class_weight):
    """Per-galaxy factors of a ``class_weight`` option ("balanced", a dict or None).

    Parameters
    ----------
    late : ndarray of bool, shape (n,)
        True for late-type galaxies.
    class_weight : None, "balanced" or dict
        A dict maps ``"early"``/``"late"`` (or the labels 0/1) to weights.
        "balanced" weighs each type by ``n / (2 * n_type)``, as scikit-learn
        does, so that both types carry the same total weight.

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.loss import class_weight_factors
    >>> class_weight_factors(np.array([True, True, True, False]), "balanced").tolist()
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    """
    late = np.asarray(late, dtype=bool)
    if class_weight is None:
        return np.ones(len(late))
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict; got {class_weight!r}."
            )
        n_late = late.sum()
        n_early = len(late) - n_late
        if n_late == 0 or n_early == 0:
            return np.ones(len(late))
        return np.where(late, len(late) / (2.0 * n_late), len(late) / (2.0 * n_early))
    keys = {"early": "early", "late": "late", 0: "early", 1: "late"}
    weights = {"early": 1.0, "late": 1.0}
    for key, value in class_weight.items():
        if key not in keys:
            raise ValueError(f"class_weight keys must be 'early'/'late' (or 0/1); got {key!r}.")
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"class_weight values must be finite and >= 0; got {value!r}.")
        weights[keys[key]] = float(value)
    return np.where(late, weights["late"], weights["early"])


class JointLoss:
    """BCE(type) + ``redshift_loss_weight`` * MSE(redshift), per-galaxy weighted.

    Parameters
    ----------
    redshift_loss_weight : float, default=1.0
        Weight of the redshift term (the type term has weight 1).
    density : RedshiftDensity, optional
        The PDF head's family and range; None: no PDF term.
    pdf_loss_weight : float, default=1.0
        Weight of the PDF head's negative log-likelihood.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.loss import JointLoss
    >>> loss = JointLoss(redshift_loss_weight=10.0)
    >>> sorted(loss.compile_arguments()["loss_weights"].items())
    [('p_late', 1.0), ('redshift', 10.0)]
    >>> logit = np.zeros((1, 2, 1), "float32"); z = np.full((1, 2, 1), 0.5, "float32")
    >>> total = loss.replica_total(logit, z, np.array([1.0, 0.0], "float32"),
    ...                            np.array([0.5, 0.7], "float32"), np.ones((2, 1), "float32"), 2.0)
    >>> round(float(total), 4)  # ln 2 + 10 * (0 + 0.04) / 2
    0.8931
    """

    def __init__(self, redshift_loss_weight=1.0, density=None, pdf_loss_weight=1.0):
        self.redshift_loss_weight = float(redshift_loss_weight)
        self.density = density
        self.pdf_loss_weight = float(pdf_loss_weight)

    def compile_arguments(self):
        """``loss`` and ``loss_weights`` for ``keras.Model.compile`` of the joint network.

        Keras computes the cross-entropy of a sigmoid output from its logit,
        so this is the same quantity as :meth:`replica_total`.
        """
        import keras

        arguments = {
            "loss": {
                CLASS_OUTPUT: keras.losses.BinaryCrossentropy(),
                REDSHIFT_OUTPUT: keras.losses.MeanSquaredError(),
            },
            "loss_weights": {CLASS_OUTPUT: 1.0, REDSHIFT_OUTPUT: self.redshift_loss_weight},
        }
        if self.density is not None:
            density = self.density

            def negative_log_likelihood(y_true, y_pred):
                from keras import ops

                return density.negative_log_likelihood(y_pred, ops.reshape(y_true, (-1,)))

            arguments["loss"][PDF_OUTPUT] = negative_log_likelihood
            arguments["loss_weights"][PDF_OUTPUT] = self.pdf_loss_weight
        return arguments

    def replica_terms(self, logit, z_pred, late, redshift, weights, n_real, pdf_raw=None):
        """The type, redshift and PDF terms, each summed over K replicas, of one batch.

        ``logit``/``z_pred`` are (K, batch, 1); ``late``/``redshift`` (batch,);
        ``weights`` (batch, K); ``n_real`` the number of real (not padding)
        rows in the batch; ``pdf_raw`` (K, batch, outputs) the PDF head's
        outputs (the PDF term is 0 without a density). The cross-entropy is
        computed from the logit in the numerically stable form Keras uses.
        """
        from keras import ops

        logit = ops.transpose(ops.squeeze(logit, -1))
        z_pred = ops.transpose(ops.squeeze(z_pred, -1))
        t = ops.expand_dims(late, 1)
        bce = ops.relu(logit) - logit * t + ops.log1p(ops.exp(-ops.abs(logit)))
        mse = ops.square(z_pred - ops.expand_dims(redshift, 1))
        pdf_term = ops.zeros((), dtype=bce.dtype)
        if self.density is not None:
            nll = ops.transpose(self.density.negative_log_likelihood(pdf_raw, redshift))
            pdf_term = ops.sum(weights * nll) / n_real
        return ops.sum(weights * bce) / n_real, ops.sum(weights * mse) / n_real, pdf_term

    def combine(self, class_term, redshift_term, pdf_term=0.0):
        """The total loss from its terms (tensors or arrays alike)."""
        return (
            class_term + self.redshift_loss_weight * redshift_term + self.pdf_loss_weight * pdf_term
        )

    def replica_total(self, logit, z_pred, late, redshift, weights, n_real, pdf_raw=None):
        """The loss minimised by the replica trainer: see :meth:`replica_terms`."""
        return self.combine(
            *self.replica_terms(logit, z_pred, late, redshift, weights, n_real, pdf_raw)
        )
