"""How many epochs at large n? The single network's schedule against the training-set size.

Issue 13. The default is 300 epochs of batch 64 whatever n is; at 30k
galaxies that is 140,000 steps, against 14,000 at 3k. This compares fixed
epoch counts at n = 3k, 10k and 30k on the SDSS+2MASS training set (ugriz,
template types), each on three independent splits (a fixed held-out set of
2,000 galaxies per split, the training set drawn from the others as in
benchmarks/bench_fit_scale.py). Figures are means over the splits and, in
brackets, the paired difference from 300 epochs with its standard error.
Fit seconds are wall time on this machine (one fit at a time).

    python benchmarks/bench_schedule.py [--sizes 3000,10000,30000] [--epochs 300,100,50,30]
        [--splits 3]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
from bench_fit_scale import _sample
from sklearn.metrics import roc_auc_score


def _split(n_train, seed):
    # The loader's random_state stays 0 for every split, as when Sect. 9 was measured.
    return _sample(n_train, seed, load_seed=0)


def main():
    from skphotoz import JointMorphZ
    from skphotoz.metrics import outlier_fraction, sigma_nmad

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="3000,10000,30000")
    parser.add_argument("--epochs", default="300,100,50,30")
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results_schedule.csv")
    args = parser.parse_args()
    rows = []
    for n in map(int, args.sizes.split(",")):
        for split in range(args.splits):
            X, y, X_test, y_test = _split(n, split)
            z_spec = y_test[:, 1].astype(float)
            late = y_test[:, 0] == "LT"
            for epochs in map(int, args.epochs.split(",")):
                model = JointMorphZ(epochs=epochs, random_state=split)
                start = time.perf_counter()
                model.fit(X, y)
                seconds = time.perf_counter() - start
                z_phot = model.predict_redshift(X_test)
                row = {
                    "n": n,
                    "split": split,
                    "epochs": epochs,
                    "seconds": seconds,
                    "sigma_nmad": sigma_nmad(z_spec, z_phot),
                    "outliers": outlier_fraction(z_spec, z_phot),
                    "std_dz": float(np.std((z_phot - z_spec) / (1 + z_spec))),
                    "auc": roc_auc_score(late, model.predict_proba(X_test)[:, 1]),
                }
                rows.append(row)
                print(row, flush=True)
    frame = pd.DataFrame(rows)
    frame.to_csv(args.out, index=False)
    figures = ["sigma_nmad", "outliers", "std_dz", "auc"]
    print("\n| n | epochs | fit s | " + " | ".join(figures) + " |")
    print("|---" * (3 + len(figures)) + "|")
    for (n, epochs), group in frame.groupby(["n", "epochs"], sort=False):
        reference = frame[(frame.n == n) & (frame.epochs == 300)].set_index("split")
        group = group.set_index("split")
        cells = []
        for figure in figures:
            diff = (group[figure] - reference[figure]).to_numpy()
            error = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
            cell = f"{group[figure].mean():.4f}"
            if epochs != 300:
                cell += f" ({diff.mean():+.4f}±{error:.4f})"
            cells.append(cell)
        print(f"| {n} | {epochs} | {group['seconds'].mean():.1f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
