"""The base module's dropout against the training-set size: what ``base_dropout="auto"`` rests on.

Issue 14. On the largest gappy sample (SDSS+2MASS, docs/benchmarks.md
Sect. 7) the network with the paper's dropout of 0.5 had a clearly higher
sigma_NMAD than the HGB pair. This fits the single network with base
dropout 0.5 and 0.2 (and 0.2 with 300 epochs) and the HGB pair at n = 3k,
10k and 30k training galaxies of the SDSS+2MASS training set (ugriz,
template types), each on three independent splits with a fixed held-out
set of 2,000 galaxies (the samples of benchmarks/bench_fit_scale.py). It
prints per-n means and, in brackets, the paired difference from the HGB
pair with its standard error over the splits; fit seconds are wall time,
one fit at a time.

    python benchmarks/bench_dropout.py [--sizes 3000,10000,30000] [--splits 3]
        [--out benchmarks/results_dropout.csv]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
from bench_fit_scale import _sample
from bench_gappy import paired_cells
from sklearn.metrics import roc_auc_score

PEER = "HGB pair"
FIGURES = ["sigma_nmad", "outliers", "std_dz", "auc"]


def contenders():
    from skphotoz import JointMorphZ
    from skphotoz.baselines import GradientBoostingPair

    return {
        "base dropout 0.5 (paper)": lambda seed: JointMorphZ(
            base_dropout=(0.5,), random_state=seed
        ),
        "base dropout 0.2": lambda seed: JointMorphZ(base_dropout=(0.2,), random_state=seed),
        "base dropout 0.2, 300 epochs": lambda seed: JointMorphZ(
            base_dropout=(0.2,), epochs=300, random_state=seed
        ),
        PEER: lambda seed: GradientBoostingPair(random_state=seed),
    }


def main():
    from skphotoz.metrics import outlier_fraction, sigma_nmad

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="3000,10000,30000")
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results_dropout.csv")
    args = parser.parse_args()
    rows = []
    for n in map(int, args.sizes.split(",")):
        for split in range(args.splits):
            # The loader's random_state stays 0, as in bench_schedule.py.
            X, y, X_test, y_test = _sample(n, split, load_seed=0)
            z_spec = y_test[:, 1].astype(float)
            late = y_test[:, 0] == "LT"
            for name, make in contenders().items():
                model = make(split)
                start = time.perf_counter()
                model.fit(X, y)
                seconds = time.perf_counter() - start
                out = model.predict_joint(X_test)
                z_phot = out["z_phot"].to_numpy(float)
                dz = (z_phot - z_spec) / (1 + z_spec)
                rows.append(
                    {
                        "n": n,
                        "split": split,
                        "contender": name,
                        "seconds": seconds,
                        "sigma_nmad": sigma_nmad(z_spec, z_phot),
                        "outliers": outlier_fraction(z_spec, z_phot),
                        "std_dz": float(np.std(dz)),
                        "auc": roc_auc_score(late, out["p_late"].to_numpy(float)),
                    }
                )
                print(f"n={n} split={split} {name:30s} {seconds:6.1f} s", flush=True)
            pd.DataFrame(rows).to_csv(args.out, index=False)
    print("\n" + table(pd.DataFrame(rows)))


def table(frame):
    """The markdown table: per n and contender, means and paired differences from the peer."""
    lines = ["| n | contender | fit s | " + " | ".join(FIGURES) + " |"]
    lines.append("|---" * (len(FIGURES) + 3) + "|")
    for n, part in frame.groupby("n"):
        peer = part[part.contender == PEER].set_index("split")
        for name, group in part.groupby("contender", sort=False):
            group = group.set_index("split")
            cells = paired_cells(group, None if name == PEER else peer, FIGURES)
            lines.append(
                f"| {n} | {name} | {group.seconds.mean():.1f} | " + " | ".join(cells) + " |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
