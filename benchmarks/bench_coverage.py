"""Does the out-of-coverage flag catch the predictions the model cannot stand behind?

Issue 17. The network (defaults) is trained on one part of a sample and
predicts another part; for each shift we report the flagged fraction, the
sigma_NMAD and outlier fraction (|dz|/(1+z) > 0.15) of flagged and unflagged
galaxies, and the flag's precision and recall for outliers. "Flagged" is any
of ``out_of_coverage`` and ``z_out_of_range`` in ``predict_joint``'s flags.

* ``in-distribution``: a random half trains, the other half is predicted
  (the flag should fire for about 1%);
* ``z<0.3 -> z>0.5`` (SDSS+2MASS training set, ugriz): a redshift shift;
* ``bright -> faint`` (the same): train on r < 17, predict r > 17.5;
* ``unseen gap`` (VIPERS griz + u): train on galaxies with u, predict the
  ones without it.

    python benchmarks/bench_coverage.py [--n 4000]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd

from skphotoz import JointMorphZ
from skphotoz.datasets import load_sdss_2mass, load_vipers, shared_data_home
from skphotoz.metrics import OUTLIER_LIMIT, outlier_fraction, sigma_nmad


def _labels(z):
    # SDSS+2MASS has no type label: a stand-in split at the median redshift
    # keeps the joint target valid; only the redshift is scored here.
    return np.where(z > np.median(z), "LT", "ET")


def evaluate(name, X_train, z_train, types_train, X_test, z_test):
    y = np.column_stack([types_train, z_train]).astype(object)
    model = JointMorphZ(random_state=0).fit(X_train, y)
    out = model.predict_joint(X_test)
    flagged = out["flags"].str.contains("out_of_coverage|z_out_of_range").to_numpy()
    z_phot = out["z_phot"].to_numpy()
    outlier = np.abs(z_phot - z_test) / (1 + z_test) > OUTLIER_LIMIT
    row = {"shift": name, "n_test": len(z_test), "flagged": flagged.mean()}
    for label, mask in (("flagged", flagged), ("unflagged", ~flagged)):
        row[f"sigma_nmad {label}"] = (
            sigma_nmad(z_test[mask], z_phot[mask]) if mask.any() else np.nan
        )
        row[f"outliers {label}"] = (
            outlier_fraction(z_test[mask], z_phot[mask]) if mask.any() else np.nan
        )
    row["precision"] = outlier[flagged].mean() if flagged.any() else np.nan
    row["recall"] = flagged[outlier].mean() if outlier.any() else np.nan
    print(row, flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4000)
    args = parser.parse_args()
    if shared_data_home() is None:
        raise SystemExit("../shared/data is absent: this benchmark needs SDSS+2MASS and VIPERS.")
    rng = np.random.default_rng(0)
    X, y = load_sdss_2mass(return_X_y=True)
    X, z = np.asarray(X, float), np.asarray(y["redshift"], float)
    keep = np.isfinite(X).all(axis=1)
    X, z = X[keep], z[keep]
    pick = rng.choice(len(z), size=min(2 * args.n, len(z)), replace=False)
    Xs, zs = X[pick], z[pick]
    rows = []
    half = len(zs) // 2
    rows.append(
        evaluate("in-distribution", Xs[:half], zs[:half], _labels(zs[:half]), Xs[half:], zs[half:])
    )
    low, high = z < 0.3, z > 0.5
    train = rng.choice(np.flatnonzero(low), size=min(args.n, low.sum()), replace=False)
    rows.append(evaluate("z<0.3 -> z>0.5", X[train], z[train], _labels(z[train]), X[high], z[high]))
    r = X[:, 2]
    bright, faint = np.flatnonzero(r < 17), np.flatnonzero(r > 17.5)
    train = rng.choice(bright, size=min(args.n, len(bright)), replace=False)
    test = rng.choice(faint, size=min(args.n, len(faint)), replace=False)
    rows.append(
        evaluate("bright -> faint", X[train], z[train], _labels(z[train]), X[test], z[test])
    )
    Xv, yv = load_vipers(with_u=True, complete=False, return_X_y=True)
    Xv = np.asarray(Xv, float)
    yv = np.asarray(yv, dtype=object)
    has_u = np.isfinite(Xv[:, 0])
    rows.append(
        evaluate(
            "unseen gap (u)",
            Xv[has_u],
            yv[has_u, 1].astype(float),
            yv[has_u, 0],
            Xv[~has_u],
            yv[~has_u, 1].astype(float),
        )
    )
    frame = pd.DataFrame(rows)
    print("| " + " | ".join(frame.columns) + " |")
    print("|---" * len(frame.columns) + "|")
    for _, row in frame.iterrows():
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
