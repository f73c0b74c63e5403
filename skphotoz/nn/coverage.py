"""How far a galaxy lies from the training data: the out-of-coverage flag.

A photo-z catalog is used at survey scale by people who never look at each
row, so a prediction the model cannot stand behind must say so. Three checks,
all in the model's input space (magnitudes standardised with the training
statistics of the observed bands):

* **Neighbours.** The distance to the ``n_neighbors``-th nearest training
  galaxy, divided by the ``quantile`` of the training galaxies' own such
  distance (each measured without itself). A ratio above 1 is
  ``out_of_coverage``; calibrated so that about ``1 - quantile`` of galaxies
  drawn like the training set are flagged. A missing band counts as the
  training mean in this distance (approximation: a gap is not an extra
  dimension here; the next check covers unseen gap patterns).
* **Gap patterns.** A band missing (or not detected) at prediction that was
  never missing in training: the network never learnt that case, so the row
  is ``out_of_coverage`` too.
* **Redshift range.** A predicted redshift below 0 or beyond the training
  range by more than ``z_margin`` of its width is ``z_out_of_range``; the
  estimators clip it to those bounds (:meth:`TrainingCoverage.redshift_bounds`).

scikit-learn's ``KDTree`` does the neighbour search (O(log n) a query).
It is not part of the saved state: a model file (skops, which trusts no
Cython internals) keeps the standardised training points, and loading
builds the tree again from them, the same tree, so the same neighbours.
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import KDTree


def redshift_bounds(z_min, z_max, z_margin=0.2):
    """``(max(z_min - m, 0), z_max + m)`` with ``m = z_margin * (z_max - z_min)``.

    A predicted redshift outside is ``z_out_of_range`` and is clipped to
    these bounds.

    Examples
    --------
    >>> from skphotoz.nn.coverage import redshift_bounds
    >>> tuple(round(b, 6) for b in redshift_bounds(0.1, 1.1))
    (0.0, 1.3)
    """
    margin = z_margin * (z_max - z_min)
    return max(z_min - margin, 0.0), z_max + margin


class TrainingCoverage:
    """The training sample's footprint in the network's input space.

    Parameters
    ----------
    n_neighbors : int, default=5
    quantile : float, default=0.99
        Training galaxies' own neighbour distance that calibrates a ratio of 1.
    z_margin : float, default=0.2
        Fraction of the training redshift range allowed beyond it.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.coverage import TrainingCoverage
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, (500, 4))
    >>> coverage = TrainingCoverage().fit(X, rng.uniform(0.1, 0.5, 500))
    >>> ratio = coverage.distance_ratio(np.vstack([X[:1], X[:1] + 30]))
    >>> bool(ratio[0] < 1), bool(ratio[1] > 1)
    (True, True)
    >>> import pickle  # the tree is rebuilt on loading, with the same neighbours
    >>> again = pickle.loads(pickle.dumps(coverage))
    >>> bool((again.distance_ratio(X[:5]) == coverage.distance_ratio(X[:5])).all())
    True
    """

    def __init__(self, n_neighbors=5, quantile=0.99, z_margin=0.2):
        self.n_neighbors = n_neighbors
        self.quantile = quantile
        self.z_margin = z_margin

    def _space(self, X):
        Z = (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
        return np.where(np.isfinite(Z), Z, 0.0)

    def fit(self, X, redshift):
        """Learn the footprint from training magnitudes (NaN/inf = gaps) and redshifts."""
        X = np.asarray(X, dtype=np.float64)
        finite = np.where(np.isfinite(X), X, np.nan)
        self.mean_ = np.nanmean(finite, axis=0)
        scale = np.nanstd(finite, axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        Z = self._space(X)
        self.tree_ = KDTree(Z)
        k = min(self.n_neighbors, len(Z) - 1)
        self.k_ = max(k, 1)
        # k + 1 neighbours: the first is the galaxy itself, at distance 0.
        own = self.tree_.query(Z, k=min(self.k_ + 1, len(Z)))[0][:, -1]
        self.distance_scale_ = float(np.quantile(own, self.quantile)) or 1.0
        self.gap_seen_ = ~np.isfinite(X).all(axis=0)
        redshift = np.asarray(redshift, dtype=np.float64)
        self.redshift_range_ = (float(redshift.min()), float(redshift.max()))
        return self

    def distance_ratio(self, X):
        """Distance to the k-th nearest training galaxy over its calibrated scale."""
        X = np.asarray(X, dtype=np.float64)
        if len(X) == 0:
            return np.empty(0)
        return self.tree_.query(self._space(X), k=self.k_)[0][:, -1] / self.distance_scale_

    def redshift_bounds(self):
        """:func:`redshift_bounds` of the training range: the redshifts the model stands behind."""
        return redshift_bounds(*self.redshift_range_, z_margin=self.z_margin)

    def flags(self, X, z_phot):
        """``(distance_ratio, out_of_coverage, z_out_of_range)`` per galaxy."""
        X = np.asarray(X, dtype=np.float64)
        ratio = self.distance_ratio(X)
        unseen_gap = (~np.isfinite(X) & ~self.gap_seen_).any(axis=1)
        lo, hi = self.redshift_bounds()
        z = np.asarray(z_phot, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            z_bad = (z < lo) | (z > hi)
        return ratio, (ratio > 1) | unseen_gap, z_bad

    def __getstate__(self):
        # The KDTree pickles through sklearn's Cython internals, which the
        # model file's loader (skops) rightly refuses to trust; its points are
        # plain arrays, and KDTree(points) is deterministic.
        state = self.__dict__.copy()
        tree = state.pop("tree_", None)
        if tree is not None:
            state["training_points_"] = np.asarray(tree.data)
        return state

    def __setstate__(self, state):
        state = dict(state)
        points = state.pop("training_points_", None)
        self.__dict__.update(state)  # a pickle from before this change holds tree_ itself
        if points is not None:
            self.tree_ = KDTree(points)
