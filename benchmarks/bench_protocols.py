"""Which training settings should be the default? Measured on real samples.

Every contender sees the same stratified K-fold splits of the same data; the
RF pair (one random forest for the type, one for z, on the same magnitudes)
and the HGB pair (``GradientBoostingPair``: histogram gradient boosting on
magnitudes and colours, the strongest simple peer) are the bars the network
has to clear on both tasks: the summary gives each contender's paired gain
over both. Results go to docs/benchmarks.md.

    python benchmarks/bench_protocols.py [--folds 5] [--samples cnoc2,vipers,demo]
        [--n-demo 3000] [--out results.csv]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.metrics import balanced_accuracy_score

from skphotoz import JointMorphZ
from skphotoz.baselines.pairs import GradientBoostingPair, IndependentPair
from skphotoz.datasets import load_cnoc2, load_demo, load_vipers, shared_data_home
from skphotoz.metrics import classification_metrics, photoz_metrics
from skphotoz.model_selection import StratifiedTypeKFold

# Every contender names its redshift loss weight: the estimator's default
# ("auto") is itself the outcome of this benchmark.
CONTENDERS = {
    "default": {},
    "paper (literal)": {"protocol": "paper", "epochs": 1000, "redshift_loss_weight": 1.0},
    "total_loss p20": {
        "protocol": "total_loss",
        "epochs": 1000,
        "early_stopping_patience": 20,
        "redshift_loss_weight": 1.0,
    },
    "fixed 300": {"protocol": "fixed", "epochs": 300, "redshift_loss_weight": 1.0},
    "fixed 300 lr3e-3": {
        "protocol": "fixed",
        "epochs": 300,
        "learning_rate": 3e-3,
        "redshift_loss_weight": 1.0,
    },
    "fixed 300 zw10": {"protocol": "fixed", "epochs": 300, "redshift_loss_weight": 10.0},
    "fixed 600": {"protocol": "fixed", "epochs": 600, "redshift_loss_weight": 1.0},
    "fixed 300 zw30": {"protocol": "fixed", "epochs": 300, "redshift_loss_weight": 30.0},
}

#: The simple peers every contender is compared with, run on every sample.
BASELINES = {
    "RF pair": lambda: IndependentPair(random_state=0),
    "HGB pair": lambda: GradientBoostingPair(random_state=0),
}


def evaluate(name, params, X, y, train, test, fold):
    start = time.perf_counter()
    if params is None:
        model = BASELINES[name]().fit(X.iloc[train], y.iloc[train])
        p_late = model.predict_proba(X.iloc[test])[:, 1]
        z_phot = model.predict_redshift(X.iloc[test])
        epochs = np.nan
    else:
        model = JointMorphZ(random_state=fold, **params).fit(X.iloc[train], y.iloc[train])
        p_late = model.predict_proba(X.iloc[test])[:, 1]
        z_phot = model.predict_redshift(X.iloc[test])
        epochs = model.n_epochs_
    late_true = (y["type"].iloc[test] == "LT").to_numpy()
    z_spec = y["redshift"].iloc[test].to_numpy()
    row = {
        "contender": name,
        "fold": fold,
        "epochs_run": epochs,
        "fit_seconds": time.perf_counter() - start,
    }
    row.update(classification_metrics(late_true, p_late))
    row["balanced_accuracy"] = balanced_accuracy_score(late_true, p_late >= 0.5)
    row.update(photoz_metrics(z_spec, z_phot))
    return row


def run(sample, X, y, folds, n_jobs, contenders=None):
    cv = StratifiedTypeKFold(folds, shuffle=True, random_state=0)
    splits = list(cv.split(X, y))
    chosen = CONTENDERS if contenders is None else {k: CONTENDERS[k] for k in contenders}
    jobs = [*((name, None) for name in BASELINES), *chosen.items()]
    rows = Parallel(n_jobs=n_jobs, verbose=5)(
        delayed(evaluate)(name, params, X, y, tr, te, k)
        for name, params in jobs
        for k, (tr, te) in enumerate(splits)
    )
    frame = pd.DataFrame(rows)
    frame.insert(0, "sample", sample)
    return frame


def summarise(frame):
    metrics = [
        "roc_auc",
        "balanced_accuracy",
        "accuracy",
        "binary_cross_entropy",
        "sigma_nmad",
        "std_delta_z",
        "outlier_fraction",
        "mse",
        "epochs_run",
    ]
    out = []
    for (sample, name), group in frame.groupby(["sample", "contender"], sort=False):
        row = {"sample": sample, "contender": name}
        for m in metrics:
            values = group[m].to_numpy(float)
            sem = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else np.nan
            row[m] = f"{values.mean():.4f} ± {sem:.4f}"
        # Paired over folds: positive = better than the peer (gain_ over the
        # RF pair, gain_hgb_ over the HGB pair).
        for peer, prefix in (("RF pair", "gain_"), ("HGB pair", "gain_hgb_")):
            base = frame[(frame["sample"] == sample) & (frame["contender"] == peer)]
            for m, sign in [
                ("roc_auc", 1),
                ("balanced_accuracy", 1),
                ("sigma_nmad", -1),
                ("outlier_fraction", -1),
                ("mse", -1),
            ]:
                diff = sign * (group[m].to_numpy() - base[m].to_numpy())
                sem = diff.std(ddof=1) / np.sqrt(len(diff))
                row[f"{prefix}{m}"] = f"{diff.mean():+.4f} ± {sem:.4f}"
        out.append(row)
    return pd.DataFrame(out)


def load_sample(name, n_demo):
    """(label, X, y) of a named sample; None when its data folder is absent."""
    if name == "demo":
        X, y = load_demo(n_samples=n_demo, random_state=0, return_X_y=True)
        return "demo SDSS+2MASS", X, y
    if shared_data_home() is None:
        print(f"../shared/data absent: {name} skipped")
        return None
    if name == "cnoc2":
        return ("CNOC2 UBVRI", *load_cnoc2(return_X_y=True))
    if name == "vipers":
        return ("VIPERS griz", *load_vipers(return_X_y=True))
    raise ValueError(f"unknown sample {name!r}")


MARKDOWN_COLUMNS = {
    "roc_auc": "AUC",
    "balanced_accuracy": "balanced acc.",
    "sigma_nmad": "sigma_NMAD",
    "outlier_fraction": "outliers",
    "mse": "MSE(z)",
    "epochs_run": "epochs",
}


def markdown(frame):
    """Mean ± standard error over folds, per sample and contender, as a Markdown table."""
    lines = [
        "| sample | contender | " + " | ".join(MARKDOWN_COLUMNS.values()) + " |",
        "|---" * (2 + len(MARKDOWN_COLUMNS)) + "|",
    ]
    for (sample, name), group in frame.groupby(["sample", "contender"], sort=False):
        cells = []
        for column in MARKDOWN_COLUMNS:
            values = group[column].to_numpy(float)
            if np.isnan(values).all():
                cells.append("")
            elif column == "epochs_run":
                cells.append(f"{values.mean():.0f}")
            else:
                sem = values.std(ddof=1) / np.sqrt(len(values))
                cells.append(f"{values.mean():.4f} ± {sem:.4f}")
        lines.append(f"| {sample} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--n-demo", type=int, default=3000)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--samples", default="cnoc2,vipers,demo")
    parser.add_argument(
        "--contenders",
        default=None,
        help=f"comma-separated subset of: {', '.join(CONTENDERS)} (default: all)",
    )
    parser.add_argument("--out", default="bench_protocols.csv")
    parser.add_argument(
        "--summarise",
        nargs="+",
        metavar="CSV",
        help="print the Markdown table of earlier runs' CSV files and exit",
    )
    args = parser.parse_args()
    if args.summarise:
        print(markdown(pd.concat([pd.read_csv(p) for p in args.summarise], ignore_index=True)))
        return
    frames = []
    for name in args.samples.split(","):
        sample = load_sample(name, args.n_demo)
        if sample is None:
            continue
        contenders = None if args.contenders is None else args.contenders.split(",")
        frames.append(run(*sample, args.folds, args.n_jobs, contenders))
        # Written after every sample, so a long run keeps what it has measured.
        pd.concat(frames, ignore_index=True).to_csv(args.out, index=False)
    frame = pd.concat(frames, ignore_index=True)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(summarise(frame).to_string(index=False))


if __name__ == "__main__":
    main()
