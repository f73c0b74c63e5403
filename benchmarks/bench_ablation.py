"""What joint training buys: the joint network against its sequential ancestor and ablation.

Issue 16. On each sample every contender sees the same type-stratified
5-fold splits (``StratifiedTypeKFold(5, shuffle=True, random_state=0)``):

* ``JointMorphZ defaults``: the joint network (de Diego et al. 2021), the
  reference;
* ``SequentialPair``: two separate sequential networks of the same size, one
  for the type and one for z (de Diego et al. 2020), same training protocol;
* ``JointMorphZ, no p feed``: the joint network without p = P(LT) in the
  redshift branch; the two tasks still share the base module. With
  ``SequentialPair`` it splits what joint training buys into the shared base
  module and the link through p;
* ``RF pair`` and ``HGB pair``: random forests and histogram gradient
  boosting, one model per task.

Per fold: sigma_NMAD, the outlier fraction (|dz|/(1+z) > 0.15),
std(dz/(1+z)), the ROC AUC and the true early- and late-type rates at the
fold's Youden threshold (``fold_metrics`` of ``bench_gappy.py``). The table
shows the mean over folds and, for each contender, the paired per-fold
difference from ``JointMorphZ defaults`` with its standard error.

    python benchmarks/bench_ablation.py [--samples cnoc2,vipers,demo] [--epochs N]
        [--contenders "A|B|..."] [--out benchmarks/results_ablation.csv]

``--epochs`` overrides the epochs of the three networks (e.g. 2 for a smoke
run); by default they train for their own default (300).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
from bench_gappy import fold_metrics

from skphotoz import JointMorphZ
from skphotoz.baselines import GradientBoostingPair, IndependentPair, SequentialPair
from skphotoz.datasets import load_cnoc2, load_demo, load_vipers, shared_data_home
from skphotoz.model_selection import StratifiedTypeKFold, cross_val_predict_joint

REFERENCE = "JointMorphZ defaults"

#: name -> factory of the estimator; ``network`` holds the epochs override.
CONTENDERS = {
    REFERENCE: lambda network: JointMorphZ(**network, random_state=0),
    "SequentialPair": lambda network: SequentialPair(**network, random_state=0),
    "JointMorphZ, no p feed": lambda network: JointMorphZ(
        feed_class_probability=False, **network, random_state=0
    ),
    # Separate bases: the type branch gets a base module of its own, p still
    # feeds the redshift; with no p feed too, it is SequentialPair's model
    # trained by the compiled replica loop.
    "JointMorphZ, separate bases": lambda network: JointMorphZ(
        shared_base=False, **network, random_state=0
    ),
    "separate networks (replica path)": lambda network: JointMorphZ(
        shared_base=False, feed_class_probability=False, **network, random_state=0
    ),
    "JointMorphZ, all colours": lambda network: JointMorphZ(
        colours="all", **network, random_state=0
    ),
    "RF pair": lambda network: IndependentPair(random_state=0),
    "HGB pair": lambda network: GradientBoostingPair(random_state=0),
}

SAMPLES = {
    "cnoc2": lambda: load_cnoc2(return_X_y=True),
    "vipers": lambda: load_vipers(return_X_y=True),
    "demo": lambda: load_demo(n_samples=2000, return_X_y=True),
}

#: column of fold_metrics -> table heading.
FIGURES = {
    "sigma_nmad": "sigma_NMAD",
    "outliers": "outliers",
    "std_dz": "std(dz/(1+z))",
    "auc": "ROC AUC",
    "tet_youden": "TET (Youden)",
    "tlt_youden": "TLT (Youden)",
}


def run_sample(name, X, y, contenders, network):
    types, z_spec = y.iloc[:, 0].to_numpy(), y.iloc[:, 1].to_numpy(dtype=float)
    late = types == np.unique(types)[1]
    splits = list(StratifiedTypeKFold(5, shuffle=True, random_state=0).split(X, y))
    rows = []
    for contender in contenders:
        start = time.perf_counter()
        model = CONTENDERS[contender](network)
        oof = cross_val_predict_joint(model, X, y, cv=splits, random_state=0)
        seconds = time.perf_counter() - start
        p_late, z_phot = oof["p_late"].to_numpy(), oof["z_phot"].to_numpy()
        for k, (_, test) in enumerate(splits):
            ok = test[np.isfinite(z_phot[test])]
            metrics = fold_metrics(late[ok], z_spec[ok], p_late[ok], z_phot[ok])
            rows.append(
                {"sample": name, "contender": contender, "fold": k, "seconds": seconds, **metrics}
            )
        print(f"  {contender:24s} {seconds:7.1f} s", flush=True)
    return pd.DataFrame(rows)


def summary(frame):
    """Markdown: mean per contender, and its paired difference from the reference ± SE."""
    lines = []
    for sample, part in frame.groupby("sample", sort=False):
        reference = part[part.contender == REFERENCE].set_index("fold")
        lines.append(f"\n### {sample} ({part.fold.nunique()} folds)\n")
        lines.append("| contender | " + " | ".join(FIGURES.values()) + " | s |")
        lines.append("|---" * (len(FIGURES) + 2) + "|")
        for contender, rows in part.groupby("contender", sort=False):
            rows = rows.set_index("fold")
            cells = []
            for figure in FIGURES:
                cell = f"{rows[figure].mean():.4f}"
                if contender != REFERENCE and not reference.empty:
                    diff = rows[figure] - reference[figure]
                    error = diff.std(ddof=1) / np.sqrt(len(diff))
                    cell += f" ({diff.mean():+.4f}±{error:.4f})"
                cells.append(cell)
            seconds = rows.seconds.iloc[0]
            lines.append(f"| {contender} | " + " | ".join(cells) + f" | {seconds:.0f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", default=",".join(SAMPLES))
    parser.add_argument("--contenders", default="|".join(CONTENDERS), help="separated by |")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of the networks")
    parser.add_argument("--out", default="benchmarks/results_ablation.csv")
    args = parser.parse_args()
    contenders = args.contenders.split("|")
    network = {} if args.epochs is None else {"epochs": args.epochs}
    frames = []
    for name in args.samples.split(","):
        if name in ("cnoc2", "vipers") and shared_data_home() is None:
            print(f"{name}: skipped, ../shared/data is absent")
            continue
        X, y = SAMPLES[name]()
        print(f"{name}: {len(X)} galaxies, {X.shape[1]} bands", flush=True)
        frames.append(run_sample(name, X, y, contenders, network))
        pd.concat(frames).to_csv(args.out, index=False)
    print(f"Each cell: mean over folds (paired difference from {REFERENCE} ± its standard error)")
    print(summary(pd.concat(frames)))


if __name__ == "__main__":
    main()
