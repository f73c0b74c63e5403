"""Redshift probability densities p(z) tabulated on a redshift grid.

Every skphotoz estimator that gives a redshift PDF (the joint network's
mixture-density head, the SED fitter, FlexZBoost) returns it the same way: a
float64 array of shape (n_galaxies, n_grid) of densities (per unit redshift)
on a strictly increasing grid ``z_grid`` of shape (n_grid,). Every integral
over z is the trapezoid rule on that grid, so a PDF "integrates to 1" exactly
in that sense, and CDFs, quantiles and the metrics of :mod:`skphotoz.metrics`
all agree with one another.

A galaxy whose PDF has no mass on the grid (all zeros) gets a row of NaN:
there is no honest number to give it.
"""

from __future__ import annotations

import numpy as np


def check_z_grid(z_grid, training_range=None):
    """Check a redshift grid and return it as a float64 1-D array.

    Parameters
    ----------
    z_grid : array-like of shape (n_grid,)
        Redshifts at which PDFs are tabulated: finite, >= 0, strictly
        increasing, at least 2 points.
    training_range : (z_min, z_max), optional
        The redshift range of the training set. When given, the grid must
        cover it (``z_grid[0] <= z_min`` and ``z_grid[-1] >= z_max``), since a
        PDF cut inside the range the model was trained on would lose mass
        where galaxies are known to be.

    Returns
    -------
    z_grid : ndarray of shape (n_grid,), float64

    Raises
    ------
    ValueError
        Naming what is wrong with the grid.

    Examples
    --------
    >>> from skphotoz.pdf import check_z_grid
    >>> check_z_grid([0, 0.5, 1.0])
    array([0. , 0.5, 1. ])
    >>> try:
    ...     check_z_grid([0.1, 0.5, 1.0], training_range=(0.0, 1.0))
    ... except ValueError as err:
    ...     print(str(err).split(";")[0])
    z_grid [0.1, 1] does not cover the training redshift range [0, 1]
    """
    try:
        grid = np.asarray(z_grid, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"z_grid must be numeric ({exc}).") from exc
    if grid.ndim != 1:
        raise ValueError(f"z_grid must be 1-D; got shape {grid.shape}.")
    if grid.size < 2:
        raise ValueError(f"z_grid must have at least 2 points; got {grid.size}.")
    if not np.all(np.isfinite(grid)):
        raise ValueError(
            f"z_grid must be finite; it has {int(np.sum(~np.isfinite(grid)))} NaN or inf value(s)."
        )
    steps = np.diff(grid)
    if np.any(steps <= 0):
        k = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(
            "z_grid must be strictly increasing; "
            f"z_grid[{k}] = {grid[k]:g} is followed by z_grid[{k + 1}] = {grid[k + 1]:g}."
        )
    if grid[0] < 0:
        raise ValueError(f"z_grid must be >= 0 (redshifts); its first point is {grid[0]:g}.")
    if training_range is not None:
        z_min, z_max = (float(v) for v in training_range)
        if grid[0] > z_min or grid[-1] < z_max:
            raise ValueError(
                f"z_grid [{grid[0]:g}, {grid[-1]:g}] does not cover the training redshift range "
                f"[{z_min:g}, {z_max:g}]; PDFs would lose mass where training galaxies lie. "
                "Extend the grid, e.g. with skphotoz.pdf.default_z_grid(training_range)."
            )
    return grid


def _check_pdf(z_grid, pdf):
    """Grid and (n, G) float64 densities of matching width, as arrays."""
    z_grid = check_z_grid(z_grid)
    pdf = np.asarray(pdf, dtype=np.float64)
    if pdf.ndim == 1:
        pdf = pdf[np.newaxis, :]
    if pdf.ndim != 2 or pdf.shape[1] != z_grid.size:
        raise ValueError(
            f"pdf must have shape (n_galaxies, {z_grid.size}) to match z_grid; got {pdf.shape}."
        )
    if np.any(np.isinf(pdf)):
        raise ValueError("pdf contains inf; densities must be finite.")
    return z_grid, pdf


def normalise_pdf(z_grid, pdf):
    """Densities on ``z_grid`` that integrate to 1 by the trapezoid rule.

    Parameters
    ----------
    z_grid : array-like of shape (n_grid,)
    pdf : array-like of shape (n_galaxies, n_grid) or (n_grid,)
        Non-negative values proportional to p(z) (likelihoods, histogram
        heights, densities); a 1-D input is one galaxy.

    Returns
    -------
    pdf : ndarray of shape (n_galaxies, n_grid), float64
        Each row divided by its trapezoid integral over ``z_grid``. Negative
        values are clipped to 0 first: they come from interpolation (e.g.
        FlexCode's basis expansion) or round-off and have no meaning as
        probability. A row with zero total mass (or any NaN) becomes a row of
        NaN, never a made-up density.

    Examples
    --------
    >>> from skphotoz.pdf import normalise_pdf
    >>> normalise_pdf([0.0, 1.0, 2.0], [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    array([[0.5, 0.5, 0.5],
           [nan, nan, nan]])
    """
    z_grid, pdf = _check_pdf(z_grid, pdf)
    pdf = np.clip(pdf, 0.0, None)  # NaN stays NaN and makes the row NaN below
    mass = np.trapezoid(pdf, z_grid, axis=1)
    good = np.isfinite(mass) & (mass > 0)
    out = np.full_like(pdf, np.nan)
    out[good] = pdf[good] / mass[good, np.newaxis]
    return out


#: Points of the default redshift grid (:func:`default_z_grid`): a fitted
#: model's ``z_grid_``, and the grid its PDF median is read on.
DEFAULT_GRID_POINTS = 200


def default_z_grid(training_range, n_points=DEFAULT_GRID_POINTS):
    """A grid covering the training redshift range with a 10% margin each side.

    The grid runs from ``max(0, z_min - 0.1 w)`` to ``z_max + 0.1 w``, with
    ``w = z_max - z_min``, in ``n_points`` equal steps. The margin keeps the
    tails of galaxies near the ends of the training range on the grid; the
    lower end stops at 0 because redshifts are non-negative.

    Parameters
    ----------
    training_range : (z_min, z_max)
        The redshift range of the training set, ``0 <= z_min < z_max``.
    n_points : int, default=200

    Returns
    -------
    z_grid : ndarray of shape (n_points,), float64

    Examples
    --------
    >>> from skphotoz.pdf import default_z_grid
    >>> default_z_grid((0.5, 1.5), n_points=5)
    array([0.4, 0.7, 1. , 1.3, 1.6])
    >>> default_z_grid((0.02, 1.0), n_points=3)  # the margin stops at z = 0
    array([0.   , 0.549, 1.098])
    """
    z_min, z_max = (float(v) for v in training_range)
    if not (np.isfinite(z_min) and np.isfinite(z_max) and 0 <= z_min < z_max):
        raise ValueError(
            f"training_range must be (z_min, z_max) with 0 <= z_min < z_max; got {training_range}."
        )
    if int(n_points) != n_points or n_points < 2:
        raise ValueError(f"n_points must be an integer >= 2; got {n_points!r}.")
    margin = 0.1 * (z_max - z_min)
    return np.linspace(max(0.0, z_min - margin), z_max + margin, int(n_points))


def pdf_cdf(z_grid, pdf):
    """Cumulative distribution on the grid: the running trapezoid integral of each PDF.

    Rows are normalised first (:func:`normalise_pdf`), so each CDF is 0 at
    ``z_grid[0]`` and 1 at ``z_grid[-1]``; it is exact for a density that is
    linear between grid points. A row without mass is NaN.

    Parameters
    ----------
    z_grid : array-like of shape (n_grid,)
    pdf : array-like of shape (n_galaxies, n_grid)

    Returns
    -------
    cdf : ndarray of shape (n_galaxies, n_grid), float64

    Examples
    --------
    >>> from skphotoz.pdf import pdf_cdf
    >>> pdf_cdf([0.0, 1.0, 2.0], [[1.0, 1.0, 1.0]])
    array([[0. , 0.5, 1. ]])
    """
    z_grid, pdf = _check_pdf(z_grid, pdf)
    pdf = normalise_pdf(z_grid, pdf)
    steps = 0.5 * (pdf[:, 1:] + pdf[:, :-1]) * np.diff(z_grid)
    cdf = np.zeros_like(pdf)
    np.cumsum(steps, axis=1, out=cdf[:, 1:])
    # The cumulative sum adds in another order than np.trapezoid; dividing by
    # the last value makes the end exactly 1 rather than 1 +- round-off.
    with np.errstate(invalid="ignore"):
        return cdf / cdf[:, -1:]


def interpolate_rows(z_grid, values, z):
    """Row i of ``values`` (tabulated on ``z_grid``) linearly interpolated at ``z[i]``.

    Vectorised ``np.interp`` over rows; ``z`` must lie within the grid.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.pdf import interpolate_rows
    >>> values = np.array([[0.0, 2.0], [4.0, 4.0]])
    >>> interpolate_rows(np.array([0.0, 1.0]), values, np.array([0.25, 0.5]))
    array([0.5, 4. ])
    """
    j = np.clip(np.searchsorted(z_grid, z, side="right") - 1, 0, z_grid.size - 2)
    t = (z - z_grid[j]) / (z_grid[j + 1] - z_grid[j])
    rows = np.arange(values.shape[0])
    return (1 - t) * values[rows, j] + t * values[rows, j + 1]


def cdf_at(z_grid, cdf, z):
    """CDF of row i at ``z[i]``: linear between grid points, 0 below the grid, 1 above.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.pdf import cdf_at
    >>> cdf_at(np.array([0.0, 1.0]), np.array([[0.0, 1.0]] * 3), np.array([-1.0, 0.5, 2.0]))
    array([0. , 0.5, 1. ])
    """
    inside = interpolate_rows(z_grid, cdf, np.clip(z, z_grid[0], z_grid[-1]))
    return np.where(z < z_grid[0], 0.0, np.where(z > z_grid[-1], 1.0, inside))


def cdf_quantiles(z_grid, cdf, q):
    """Quantiles ``q`` of each row of a grid CDF (from :func:`pdf_cdf`): (n, len(q)).

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.pdf import cdf_quantiles
    >>> cdf_quantiles(np.array([0.0, 1.0]), np.array([[0.0, 1.0]]), np.array([0.25, 0.5]))
    array([[0.25, 0.5 ]])
    """
    q = np.asarray(q, dtype=np.float64)
    out = np.empty((cdf.shape[0], q.size))
    rows = np.arange(cdf.shape[0])
    # One pass per quantile level keeps memory at (n, G), not (n, len(q), G).
    for k, level in enumerate(q):
        # The generalised inverse, the smallest z with F(z) >= q: a flat stretch
        # of the CDF (no mass between grid points) then gives its first point.
        hi = np.clip((cdf < level).sum(axis=1), 1, z_grid.size - 1)
        c_lo, c_hi = cdf[rows, hi - 1], cdf[rows, hi]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(c_hi > c_lo, (level - c_lo) / (c_hi - c_lo), 0.0)
        out[:, k] = z_grid[hi - 1] + np.clip(t, 0.0, 1.0) * (z_grid[hi] - z_grid[hi - 1])
        out[np.isnan(cdf[:, -1]), k] = np.nan
    return out


def pdf_quantiles(z_grid, pdf, q):
    """Quantiles of each PDF, inverting the grid CDF by linear interpolation.

    The CDF at the grid points is :func:`pdf_cdf`; between grid points it is
    taken as linear, which is also how :func:`skphotoz.metrics.pit` reads it,
    so the PIT of a quantile ``z_q`` is ``q``. Where the CDF is flat (no mass),
    the smallest redshift with F(z) >= q is returned.

    Parameters
    ----------
    z_grid : array-like of shape (n_grid,)
    pdf : array-like of shape (n_galaxies, n_grid)
    q : float or array-like of shape (n_quantiles,)
        Levels in [0, 1].

    Returns
    -------
    quantiles : ndarray of shape (n_galaxies, n_quantiles), float64
        NaN for a row without mass.

    Examples
    --------
    >>> from skphotoz.pdf import pdf_quantiles
    >>> pdf_quantiles([0.0, 1.0, 2.0], [[1.0, 1.0, 1.0]], [0.25, 0.5, 1.0])
    array([[0.5, 1. , 2. ]])
    """
    z_grid, pdf = _check_pdf(z_grid, pdf)
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if q.ndim != 1 or not np.all((q >= 0) & (q <= 1)):
        raise ValueError(f"q must be levels in [0, 1] (a float or 1-D array); got {q}.")
    return cdf_quantiles(z_grid, pdf_cdf(z_grid, pdf), q)


def pdf_summary(z_grid, pdf):
    """Point estimates and central intervals of each PDF.

    Parameters
    ----------
    z_grid : array-like of shape (n_grid,)
    pdf : array-like of shape (n_galaxies, n_grid)

    Returns
    -------
    summary : Bunch of ndarrays of shape (n_galaxies,)
        ``mode`` (the grid point of highest density), ``median``, ``mean``
        (trapezoid integral of z p(z)), ``lower_68``/``upper_68`` (quantiles
        0.16 and 0.84) and ``lower_95``/``upper_95`` (0.025 and 0.975). All
        NaN for a row without mass.

    Examples
    --------
    >>> from skphotoz.pdf import pdf_summary
    >>> s = pdf_summary([0.0, 1.0, 2.0], [[0.0, 1.0, 0.0]])
    >>> float(s.mode[0]), float(s.median[0]), float(s.mean[0])
    (1.0, 1.0, 1.0)
    """
    from sklearn.utils import Bunch

    z_grid, pdf = _check_pdf(z_grid, pdf)
    pdf = normalise_pdf(z_grid, pdf)
    missing = np.isnan(pdf[:, 0])
    levels = np.array([0.5, 0.16, 0.84, 0.025, 0.975])
    quantiles = cdf_quantiles(z_grid, pdf_cdf(z_grid, pdf), levels)
    mode = z_grid[np.argmax(np.nan_to_num(pdf, nan=0.0), axis=1)]
    return Bunch(
        mode=np.where(missing, np.nan, mode),
        median=quantiles[:, 0],
        mean=np.trapezoid(pdf * z_grid, z_grid, axis=1),
        lower_68=quantiles[:, 1],
        upper_68=quantiles[:, 2],
        lower_95=quantiles[:, 3],
        upper_95=quantiles[:, 4],
    )


def mix_pdfs(pdfs, weights=None):
    """Weighted mixture of several PDFs tabulated on one grid (e.g. an ensemble's replicas).

    The mixture density is ``sum_k w_k p_k(z) / sum_k w_k``; it integrates to
    1 when every ``p_k`` does. A galaxy that any component gives NaN is NaN in
    the mixture (a replica without an answer is not silently dropped).

    Parameters
    ----------
    pdfs : sequence of K arrays of shape (n_galaxies, n_grid), or array (K, n_galaxies, n_grid)
        Densities on the same grid.
    weights : array-like of shape (K,), optional
        Non-negative; equal weights when omitted.

    Returns
    -------
    pdf : ndarray of shape (n_galaxies, n_grid), float64

    Examples
    --------
    >>> from skphotoz.pdf import mix_pdfs
    >>> mix_pdfs([[[1.0, 0.0]], [[0.0, 1.0]]], weights=[3, 1])
    array([[0.75, 0.25]])
    """
    try:
        stack = np.asarray(pdfs, dtype=np.float64)
    except ValueError as exc:  # ragged: the PDF sets differ in shape
        raise ValueError(
            f"pdfs must be K >= 1 arrays of one shape (n_galaxies, n_grid) ({exc})."
        ) from exc
    if stack.ndim != 3 or stack.shape[0] == 0:
        raise ValueError(
            "pdfs must be K >= 1 arrays of one shape (n_galaxies, n_grid); "
            f"got an array of shape {stack.shape}."
        )
    if weights is None:
        weights = np.ones(stack.shape[0])
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (stack.shape[0],):
        raise ValueError(
            f"weights must have shape ({stack.shape[0]},), one per PDF set; got {weights.shape}."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError(f"weights must be finite, >= 0 and not all 0; got {weights}.")
    return np.tensordot(weights / weights.sum(), stack, axes=1)


def gaussian_mixture_pdf(z_grid, weights, means, sigmas):
    """Densities of per-galaxy Gaussian mixtures on the grid (a mixture-density-network head).

    ``p_i(z) = sum_m w_im N(z; mu_im, sigma_im)``, evaluated exactly at the
    grid points. It is not renormalised to the grid: mass below
    ``z_grid[0]`` or above ``z_grid[-1]`` is left out, so the row integral is
    the mixture's probability on the grid. Pass the result to
    :func:`normalise_pdf` for the PDF truncated to the grid.

    Parameters
    ----------
    z_grid : array-like of shape (n_grid,)
    weights : array-like of shape (n_galaxies, n_components)
        Non-negative, each row summing to 1 (to 1e-5, enough for a float32
        softmax).
    means : array-like of shape (n_galaxies, n_components)
    sigmas : array-like of shape (n_galaxies, n_components)
        Positive standard deviations.

    Returns
    -------
    pdf : ndarray of shape (n_galaxies, n_grid), float64

    Examples
    --------
    >>> from skphotoz.pdf import gaussian_mixture_pdf
    >>> pdf = gaussian_mixture_pdf([0.5, 1.0, 1.5], [[0.5, 0.5]], [[0.5, 1.5]], [[0.1, 0.1]])
    >>> pdf.round(3)  # each component's peak 1/(0.1 sqrt(2 pi)) = 3.989, halved
    array([[1.995, 0.   , 1.995]])
    """
    z_grid = check_z_grid(z_grid)
    weights, means, sigmas = (
        np.atleast_2d(np.asarray(a, dtype=np.float64)) for a in (weights, means, sigmas)
    )
    if not (weights.ndim == 2 and weights.shape == means.shape == sigmas.shape):
        raise ValueError(
            "weights, means and sigmas must share one shape (n_galaxies, n_components); got "
            f"{weights.shape}, {means.shape} and {sigmas.shape}."
        )
    if not all(np.all(np.isfinite(a)) for a in (weights, means, sigmas)):
        raise ValueError("weights, means and sigmas must be finite.")
    if np.any(sigmas <= 0):
        raise ValueError(f"sigmas must be > 0; the smallest is {sigmas.min():g}.")
    if np.any(weights < 0) or not np.allclose(weights.sum(axis=1), 1.0, rtol=0, atol=1e-5):
        raise ValueError("weights must be >= 0 and sum to 1 in every row (galaxy).")
    pdf = np.zeros((weights.shape[0], z_grid.size))
    # One component at a time keeps memory at (n, G) rather than (n, M, G).
    for m in range(weights.shape[1]):
        u = (z_grid - means[:, m, np.newaxis]) / sigmas[:, m, np.newaxis]
        pdf += weights[:, m, np.newaxis] * np.exp(-0.5 * u**2) / sigmas[:, m, np.newaxis]
    return pdf / np.sqrt(2 * np.pi)


def to_qp_ensemble(z_grid, pdf):
    """The PDFs as a ``qp.Ensemble`` of ``qp.interp`` distributions, for RAIL.

    ``qp`` (PyPI ``qp-prob``) is an optional dependency:
    ``pip install "skphotoz[pdf]"``. Rows are normalised first
    (:func:`normalise_pdf`); qp interpolates linearly between grid points and
    is 0 outside the grid.

    Parameters
    ----------
    z_grid : array-like of shape (n_grid,)
    pdf : array-like of shape (n_galaxies, n_grid)

    Returns
    -------
    ensemble : qp.Ensemble
        ``qp.interp`` with ``xvals=z_grid`` and ``yvals`` the normalised PDFs.

    Examples
    --------
    >>> from skphotoz.pdf import to_qp_ensemble
    >>> ens = to_qp_ensemble([0.0, 1.0, 2.0], [[0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    >>> int(ens.npdf), ens.pdf([1.0]).ravel().tolist()
    (2, [1.0, 0.5])
    """
    try:
        import qp
    except ImportError as exc:
        raise ImportError(
            'to_qp_ensemble needs qp (PyPI qp-prob): pip install "skphotoz[pdf]".'
        ) from exc
    z_grid, pdf = _check_pdf(z_grid, pdf)
    return qp.Ensemble(qp.interp, data={"xvals": z_grid, "yvals": normalise_pdf(z_grid, pdf)})
