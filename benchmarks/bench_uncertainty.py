"""Do ReplicaEnsemble's per-galaxy uncertainties cover held-out spectroscopic redshifts?

Trains a bootstrap ensemble on a stratified 70% of a real sample and, on the
other 30%, counts how many spec-z fall inside the quoted 68% interval
(``z_phot_lo68``..``z_phot_hi68``, the 16th-84th percentiles over replicas) and
within ``z_phot +- z_phot_err``. A calibrated 68% interval covers 68%. The raw
replica spread is the bootstrap (model) uncertainty only and covers far less,
so ``ReplicaEnsemble`` scales it on the training galaxies' out-of-bag
residuals (``--raw`` turns that off). Also prints the factor by which the
quoted ``z_phot_err`` would still have to be scaled to cover 68% of the
held-out galaxies (1 = calibrated).

    python benchmarks/bench_uncertainty.py [--sample cnoc2|vipers|demo] [--raw]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.model_selection import train_test_split

from skphotoz import ReplicaEnsemble
from skphotoz.datasets import load_cnoc2, load_demo, load_vipers
from skphotoz.metrics import photoz_metrics

LOADERS = {
    "cnoc2": lambda: load_cnoc2(return_X_y=True),
    "vipers": lambda: load_vipers(return_X_y=True),
    "demo": lambda: load_demo(n_samples=3000, random_state=0, return_X_y=True),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", choices=sorted(LOADERS), default="cnoc2")
    parser.add_argument("--n-replicas", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument(
        "--raw", action="store_true", help="quote the raw replica spread (calibrate_errors=False)"
    )
    args = parser.parse_args()

    X, y = LOADERS[args.sample]()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y["type"], random_state=0
    )
    start = time.perf_counter()
    model = ReplicaEnsemble(
        n_replicas=args.n_replicas,
        epochs=args.epochs,
        calibrate_errors=not args.raw,
        random_state=0,
    )
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    table = model.predict_uncertainty(X_test)
    z_spec = y_test["redshift"].to_numpy()
    z_phot = table["z_phot"].to_numpy()
    err = table["z_phot_err"].to_numpy()
    inside_68 = (z_spec >= table["z_phot_lo68"]) & (z_spec <= table["z_phot_hi68"])
    inside_err = np.abs(z_spec - z_phot) <= err
    # The scale s with |dz| <= s * err for 68% of galaxies: the calibration a
    # user would need for the quoted error to be a 68% interval.
    scale_68 = np.quantile(np.abs(z_spec - z_phot) / np.maximum(err, 1e-12), 0.68)
    metrics = photoz_metrics(z_spec, z_phot)
    print(f"sample {args.sample}: {len(X_train)} training, {len(X_test)} held-out galaxies")
    print(f"{args.n_replicas} replicas x {args.epochs} epochs trained in {seconds:.0f} s")
    print(
        f"held-out sigma_NMAD {metrics['sigma_nmad']:.4f}, outliers "
        f"{metrics['outlier_fraction']:.3f}"
    )
    median_dz = np.median(np.abs(z_spec - z_phot))
    print(f"error_scale_ (out-of-bag calibration; 1 = raw spread): {model.error_scale_:.2f}")
    print(f"median z_phot_err {np.median(err):.4f}; median |dz| {median_dz:.4f}")
    print(f"spec-z inside the 68% replica interval: {inside_68.mean():.3f}")
    print(f"spec-z within z_phot +- z_phot_err:      {inside_err.mean():.3f}")
    print(f"z_phot_err must be scaled by {scale_68:.2f} to cover 68% of held-out galaxies")


if __name__ == "__main__":
    main()
