"""The redshift-PDF head: how the network's raw outputs become p(z), and its loss.

With ``redshift_pdf`` set, the joint network gets a third head beside the
type and the point redshift: a Dense layer on the same input as the redshift
neuron (the base output concatenated with p, the paper's design), whose
outputs parametrise a density. Two families, chosen by ``redshift_pdf``:

* ``"mixture"``: a Gaussian mixture of M components (a mixture density
  network, Bishop 1994). Outputs ``3 M`` numbers per galaxy: the mixing
  logits, the means and the widths. Means are ``centre_m + span * raw`` with
  the centres spread evenly over the training redshift range, so that the
  components start apart; widths are ``span * (softplus(raw) + 1e-3)``.
* ``"bins"``: a softmax over B equal bins spanning the padded training range
  (a classifier over redshift bins); the density is the bin probability over
  the bin width, linearly interpolated between bin centres on a grid
  (which keeps each galaxy's total probability).

The training term is the negative log-likelihood of the spectroscopic
redshift, ``-log p(z_spec)``, per galaxy, weighted like the other terms
(:class:`skphotoz.nn.loss.JointLoss`). ``z_lo``/``z_hi`` (the padded training
range, per replica) are data: they travel with a fitted estimator as plain
numbers, and the network itself stays range-free.

Written by hand because the loss has to run inside the compiled replica
trainer (Keras ops, a replica axis); the grid evaluation is NumPy.
"""

from __future__ import annotations

import math

import numpy as np

#: The PDF families and their default number of components (mixture) or bins.
PDF_FAMILIES = {"mixture": 5, "bins": 64}

# Smallest mixture width, in units of the training range: keeps -log p finite
# when a component collapses onto one galaxy.
_MIN_WIDTH = 1e-3


class RedshiftDensity:
    """p(z) from the raw outputs of the PDF head, for one or K networks.

    Parameters
    ----------
    family : {"mixture", "bins"}
    n_components : int
        Mixture components or bins.
    z_lo, z_hi : float or array-like of shape (K,)
        The redshift range the head covers (per replica).

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.density import RedshiftDensity
    >>> density = RedshiftDensity("bins", 4, 0.0, 1.0)
    >>> grid = np.linspace(0, 1, 101)
    >>> pdf = density.density(np.zeros((1, 1, 4)), grid)  # equal logits: uniform
    >>> round(float(np.trapezoid(pdf[0, 0], grid)), 3)
    1.0
    """

    def __init__(self, family, n_components, z_lo, z_hi):
        if family not in PDF_FAMILIES:
            raise ValueError(f"redshift_pdf must be one of {sorted(PDF_FAMILIES)}; got {family!r}.")
        self.family = family
        self.n_components = int(n_components)
        self.z_lo = np.atleast_1d(np.asarray(z_lo, np.float64))
        self.z_hi = np.atleast_1d(np.asarray(z_hi, np.float64))
        if np.any(self.z_hi <= self.z_lo):
            raise ValueError("The redshift range of the PDF head is empty (z_hi <= z_lo).")

    def replica(self, k):
        """The density of replica ``k`` alone (its own redshift range)."""
        return RedshiftDensity(self.family, self.n_components, self.z_lo[k], self.z_hi[k])

    @property
    def n_outputs(self):
        """Raw outputs per galaxy."""
        return 3 * self.n_components if self.family == "mixture" else self.n_components

    # ------------------------------------------------------------- training
    def negative_log_likelihood(self, raw, redshift):
        """``-log p(redshift)`` per galaxy (Keras ops).

        ``raw`` is (K, batch, n_outputs) and ``redshift`` (batch,), or
        ``raw`` (batch, n_outputs) for one network; returns (K, batch) or
        (batch,).
        """
        from keras import ops

        replica_axis = len(raw.shape) == 3
        lo, hi = self.z_lo.astype(np.float32), self.z_hi.astype(np.float32)
        if replica_axis:  # (K,) -> (K, 1, 1) against (K, batch, outputs)
            lo, hi = lo[:, None, None], hi[:, None, None]
        else:
            lo, hi = lo[0], hi[0]
        span = hi - lo
        z = ops.expand_dims(ops.cast(redshift, raw.dtype), -1)
        m = self.n_components
        if self.family == "mixture":
            log_w = ops.log_softmax(raw[..., :m], axis=-1)
            centres = lo + span * (np.arange(m, dtype=np.float32) + 0.5) / m
            mean = centres + span * raw[..., m : 2 * m]
            width = span * (ops.softplus(raw[..., 2 * m :]) + _MIN_WIDTH)
            log_normal = (
                -0.5 * ops.square((z - mean) / width) - ops.log(width) - 0.5 * math.log(2 * math.pi)
            )
            return -ops.logsumexp(log_w + log_normal, axis=-1)
        bin_width = span / m
        # A redshift outside the range counts in the nearest end bin.
        index = ops.clip(ops.floor((z - lo) / bin_width), 0, m - 1)
        one_hot = ops.cast(ops.arange(m, dtype="float32") == index, raw.dtype)
        log_p = ops.sum(one_hot * ops.log_softmax(raw, axis=-1), axis=-1)
        return -(log_p - ops.log(ops.squeeze(bin_width, -1) if replica_axis else bin_width))

    # ----------------------------------------------------------- prediction
    def density(self, raw, z_grid):
        """Densities on ``z_grid`` of every galaxy and replica: (n, K, G) from (n, K, outputs).

        Computed in float32, as the network computes (relative error ~1e-6):
        the exponentials of a mixture are most of the cost of ``predict_pdf``.
        """
        raw = np.asarray(raw, np.float32)
        grid = np.asarray(z_grid, np.float32)
        m = self.n_components
        prob, mean, lo, span = self._weights_and_locations(raw)
        if self.family == "mixture":
            width = span * (np.logaddexp(np.float32(0), raw[..., 2 * m :]) + _MIN_WIDTH)
            # Each component's weight over its width, folded in before the grid axis.
            scale = prob / (width * np.float32(math.sqrt(2 * math.pi)))
            u = (grid - mean[..., None]) / width[..., None]
            return np.einsum("nkm,nkmg->nkg", scale, np.exp(np.float32(-0.5) * u * u))
        bin_width = span / m
        height = prob / bin_width
        out = np.zeros((*raw.shape[:2], len(grid)), np.float32)
        for k in range(raw.shape[1]):
            # Linear between bin centres, flat from the outer centres to the
            # range's ends: this keeps the total probability exactly (each
            # trapezoid gains what its neighbour loses). The interpolation
            # weights are the same for every galaxy: one gather per replica.
            start, width = lo[0, k, 0], bin_width[0, k, 0]
            centres = start + (np.arange(m, dtype=np.float32) + 0.5) * width
            xp = np.concatenate([[start], centres, [start + m * width]])
            inside = (grid >= xp[0]) & (grid <= xp[-1])
            j = np.clip(np.searchsorted(xp, grid[inside], side="right") - 1, 0, m)
            t = (grid[inside] - xp[j]) / (xp[j + 1] - xp[j])
            fp = np.pad(height[:, k], ((0, 0), (1, 1)), mode="edge")
            out[:, k, inside] = fp[:, j] * (1 - t) + fp[:, j + 1] * t
        return out

    def medians(self, raw, z_grid):
        """Median of each replica's p(z) on ``z_grid``: (n, K) from (n, K, outputs).

        The number :func:`skphotoz.pdf.pdf_quantiles` gives at 0.5 for the
        density on that grid (CDF linear between grid points), so a model's
        point redshift under ``point_estimate="pdf_median"`` is exactly the
        ``median`` of its :meth:`predict_pdf_summary` on the same grid.
        Computed in slices that keep the (rows, K, grid) densities near 64 MB.

        A p(z) with no mass on the grid (all of it beyond the grid's ends,
        as for a galaxy far outside the training data) has no median there:
        it gets its mean, :meth:`means`, a number beyond the grid, which the
        estimators clip to the training bounds and flag ``z_out_of_range``,
        rather than a NaN that would look like a galaxy with too few bands.
        """
        from skphotoz.pdf import pdf_quantiles

        raw = np.asarray(raw)
        grid = np.asarray(z_grid, np.float64)
        n, k = raw.shape[:2]
        out = np.empty((n, k))
        rows = max(1, 2**24 // (k * self.n_components * len(grid)))
        for start in range(0, n, rows):
            part = raw[start : start + rows]
            density = self.density(part, grid)
            m = len(density)
            median = pdf_quantiles(grid, density.reshape(m * k, -1), 0.5).reshape(m, k)
            empty = np.isnan(median)
            if empty.any():
                median[empty] = self.means(part)[empty]
            out[start : start + m] = median
        return out

    def means(self, raw):
        """Mean redshift of each replica's (untruncated) p(z): (n, K) from (n, K, outputs).

        For bins it is the probability-weighted bin centre.
        """
        weights, locations, _, _ = self._weights_and_locations(np.asarray(raw, np.float64))
        return (weights * locations).sum(axis=-1)

    def _weights_and_locations(self, raw):
        """Softmax weights and locations (mixture means, or bin centres), (n, K, m) each.

        Also the range's start and span, shaped (1, K, 1); all in ``raw``'s
        float type.
        """
        dtype = raw.dtype
        lo = self.z_lo.astype(dtype)[None, :, None]
        span = (self.z_hi - self.z_lo).astype(dtype)[None, :, None]
        m = self.n_components
        logits = raw[..., :m]  # all of a bins head's outputs
        weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        locations = lo + span * (np.arange(m, dtype=dtype) + 0.5) / m
        if self.family == "mixture":
            locations = locations + span * raw[..., m : 2 * m]
        return weights, locations, lo, span


def replica_pdf_range(redshift, weights):
    """The padded redshift range each replica's PDF head covers: ``(z_lo, z_hi)``, each (K,).

    Replica k covers the range of its own training rows (weight > 0),
    widened as :func:`skphotoz.pdf.default_z_grid` widens it, so that a
    held-out galaxy's redshift never sets the range of the fold that
    predicts it.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.density import replica_pdf_range
    >>> replica_pdf_range(np.array([0.5, 1.0, 1.5]), np.array([[1, 1], [1, 1], [1, 0]]))
    (array([0.4 , 0.45]), array([1.6 , 1.05]))
    """
    from skphotoz.pdf import default_z_grid

    redshift = np.asarray(redshift, np.float64)
    weights = np.asarray(weights)
    bounds = []
    for k in range(weights.shape[1]):
        rows = redshift[weights[:, k] > 0]
        lo, hi = default_z_grid((rows.min(), rows.max()), n_points=2)
        bounds.append((lo, hi))
    bounds = np.asarray(bounds)
    return bounds[:, 0], bounds[:, 1]
