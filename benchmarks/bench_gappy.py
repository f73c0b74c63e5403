"""Gappy, imbalanced photometry: the joint network against the strongest simple peer.

Issue 14. Every contender sees the same type-stratified 5-fold splits of the
same galaxies; per fold we compute sigma_NMAD, the outlier fraction
(|dz|/(1+z) > 0.15), std(dz/(1+z)), the ROC AUC and the true early- and
late-type rates at p = 0.5 and at the fold's Youden threshold, then the paired
per-fold difference of each contender from the HistGradientBoosting pair on
magnitudes + adjacent colours with NaN left in (mean and standard error over
folds). Results go to docs/benchmarks.md.

Samples (the hardest we have; ``--samples``):

* ``vipers``: VIPERS ugriz with its u band missing for 55% of galaxies;
* ``cnoc2``: CNOC2 UBVRI with the missing U kept;
* ``demo-random``: the demo sample, 8% early types (OTELO's mix), 30% of
  the magnitudes removed at random;
* ``demo-faint``: the same galaxies, a band removed where the galaxy is
  faint in it (the faintest 30% of each band's magnitudes, less in the
  reddest bands), as a survey's detection limit does;
* ``sdss``: the SDSS+2MASS training set in shared/ (ugriz for every galaxy,
  J, H, K missing wherever 2MASS has no measurement, 85% of them), typed
  like the demo sample (best template at the spec-z; a model's types, not
  observed ones) and drawn at OTELO's 8% early types (``--n-sdss``).

    python benchmarks/bench_gappy.py [--samples vipers,cnoc2,demo-random,demo-faint,sdss]
        [--n-demo 2000] [--n-sdss 8000] [--contenders "A|B|..."] [--seeds 0,1,2]
        [--out benchmarks/results_gappy.csv]

It prints the per-sample tables, each contender's verdicts against the
target (won / ahead / tie / behind the peer on the five figures), and, with
several seeds, how much re-seeding moves each figure.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from skphotoz import JointMorphZ, ReplicaEnsemble
from skphotoz.baselines import GradientBoostingPair, IndependentPair
from skphotoz.datasets import (
    load_cnoc2,
    load_demo,
    load_sdss_2mass,
    load_vipers,
    shared_data_home,
)
from skphotoz.metrics import outlier_fraction, sigma_nmad
from skphotoz.model_selection import StratifiedTypeKFold, cross_val_predict_joint
from skphotoz.thresholding import youden_threshold

PEER = "HGB pair, mags+colours, NaN"

CONTENDERS = {
    "JointMorphZ defaults": lambda: JointMorphZ(random_state=0),
    "JointMorphZ band_dropout=0.1": lambda: JointMorphZ(band_dropout=0.1, random_state=0),
    "JointMorphZ colours": lambda: JointMorphZ(colours=True, random_state=0),
    "JointMorphZ colours balanced": lambda: JointMorphZ(
        colours=True, class_weight="balanced", random_state=0
    ),
    "JointMorphZ median-imputed": lambda: make_pipeline(
        SimpleImputer(add_indicator=True), JointMorphZ(random_state=0)
    ),
    "ReplicaEnsemble K=5 colours": lambda: ReplicaEnsemble(
        n_replicas=5, colours=True, random_state=0
    ),
    "JointMorphZ all colours": lambda: JointMorphZ(colours="all", random_state=0),
    "JointMorphZ all colours, z weight 3": lambda: JointMorphZ(
        colours="all", redshift_loss_weight=3.0, random_state=0
    ),
    "ReplicaEnsemble K=5 all colours": lambda: ReplicaEnsemble(
        n_replicas=5, colours="all", random_state=0
    ),
    "JointMorphZ all colours, class 64-64": lambda: JointMorphZ(
        colours="all", class_units=(64, 64), random_state=0
    ),
    "JointMorphZ all colours, band_dropout=0.1": lambda: JointMorphZ(
        colours="all", band_dropout=0.1, random_state=0
    ),
    "JointMorphZ all colours, 600 epochs": lambda: JointMorphZ(
        colours="all", epochs=600, random_state=0
    ),
    "JointMorphZ all colours, band_dropout=0.2": lambda: JointMorphZ(
        colours="all", band_dropout=0.2, random_state=0
    ),
    "ReplicaEnsemble K=5 all colours, band_dropout=0.1": lambda: ReplicaEnsemble(
        n_replicas=5, colours="all", band_dropout=0.1, random_state=0
    ),
    "JointMorphZ all colours, pdf mixture": lambda: JointMorphZ(
        colours="all", redshift_pdf="mixture", random_state=0
    ),
    "JointMorphZ pdf mixture, median z": lambda: JointMorphZ(
        redshift_pdf="mixture", random_state=0
    ),
    "JointMorphZ base_dropout=0.2": lambda: JointMorphZ(base_dropout=(0.2,), random_state=0),
    "JointMorphZ base_dropout=0.5": lambda: JointMorphZ(base_dropout=(0.5,), random_state=0),
    "ReplicaEnsemble K=5": lambda: ReplicaEnsemble(n_replicas=5, random_state=0),
    "JointMorphZ base_dropout=0.2, 300 epochs": lambda: JointMorphZ(
        base_dropout=(0.2,), epochs=300, random_state=0
    ),
    "JointMorphZ redshift weight 3": lambda: JointMorphZ(redshift_loss_weight=3.0, random_state=0),
    "JointMorphZ class 64-64": lambda: JointMorphZ(class_units=(64, 64), random_state=0),
    "JointMorphZ class dropout 0": lambda: JointMorphZ(class_dropout=(0.0, 0.0), random_state=0),
    "JointMorphZ 512-512, base_dropout=0.2": lambda: JointMorphZ(
        base_units=(512, 512), base_dropout=(0.2, 0.2), random_state=0
    ),
    "JointMorphZ no hidden redshift layer": lambda: JointMorphZ(redshift_units=(), random_state=0),
    "JointMorphZ redshift branch 32-32": lambda: JointMorphZ(
        redshift_units=(32, 32), random_state=0
    ),
    "JointMorphZ redshift branch 128-128": lambda: JointMorphZ(
        redshift_units=(128, 128), random_state=0
    ),
    PEER: lambda: GradientBoostingPair(random_state=0),
    "HGB pair, tuned": lambda: GradientBoostingPair(tune=True, random_state=0),
    "RF pair, median-imputed": lambda: make_pipeline(
        SimpleImputer(add_indicator=True), IndependentPair(random_state=0)
    ),
}


def _demo(n, random_state, faint):
    X, y = load_demo(
        n_samples=n, early_type_fraction=0.08, random_state=random_state, return_X_y=True
    )
    X = X.copy()
    rng = np.random.default_rng(random_state)
    values = np.array(X, dtype=float)  # a writable copy
    if faint:
        # A detection limit per band: the faintest 30% go (J, H, Ks: 20%).
        share = np.where(np.arange(values.shape[1]) < 5, 0.30, 0.20)
        limits = np.array([np.quantile(values[:, j], 1 - s) for j, s in enumerate(share)])
        holes = values > limits
    else:
        holes = rng.random(values.shape) < 0.30
    values[holes] = np.nan
    X.loc[:, :] = values
    return X, y


def _sdss(n, random_state):
    """SDSS+2MASS with its natural JHK gaps, at 8% early types (all its late types fit)."""
    X, y = load_sdss_2mass(with_2mass=True, complete=False, label="template", return_X_y=True)
    rng = np.random.default_rng(random_state)
    early = np.flatnonzero(y["type"].to_numpy() == "ET")
    late = np.flatnonzero(y["type"].to_numpy() == "LT")
    n_early = round(0.08 * n)
    if n_early > len(early) or n - n_early > len(late):
        raise ValueError(f"--n-sdss {n} is more than the set holds at 8% early types.")
    early = rng.choice(early, n_early, replace=False)
    late = rng.choice(late, n - n_early, replace=False)
    rows = np.sort(np.concatenate([early, late]))
    return X.iloc[rows].reset_index(drop=True), y.iloc[rows].reset_index(drop=True)


def load_sample(name, n_demo, n_sdss=8000):
    if name == "vipers":
        return load_vipers(with_u=True, complete=False, return_X_y=True)
    if name == "cnoc2":
        return load_cnoc2(complete=False, return_X_y=True)
    if name == "demo-random":
        return _demo(n_demo, 0, faint=False)
    if name == "demo-faint":
        return _demo(n_demo, 0, faint=True)
    if name == "sdss":
        return _sdss(n_sdss, 0)
    raise ValueError(f"unknown sample {name!r}")


def fold_metrics(late, z_spec, p_late, z_phot):
    dz = (z_phot - z_spec) / (1 + z_spec)
    youden = youden_threshold(late, p_late)
    at_half = p_late >= 0.5
    return {
        "sigma_nmad": sigma_nmad(z_spec, z_phot),
        "outliers": outlier_fraction(z_spec, z_phot),
        "std_dz": float(np.std(dz)),
        "auc": roc_auc_score(late, p_late),
        "tet_youden": youden["true_early_type_rate"],
        "tlt_youden": youden["true_late_type_rate"],
        "min_rate_youden": min(youden["true_early_type_rate"], youden["true_late_type_rate"]),
        "tet_0.5": float(np.mean(~at_half[~late])),
        "tlt_0.5": float(np.mean(at_half[late])),
    }


def run_sample(name, X, y, contenders, folds, seeds=(0,)):
    """Per-fold figures of every contender, on the galaxies that EVERY contender predicts.

    A joint network gives no number to a galaxy with fewer observed bands
    than its ``min_observed_bands`` (2), where the trees still answer; the
    figures are computed on the galaxies all contenders predicted, so that
    every contender is scored on the same galaxies, and ``unpredicted``
    says how many each one left out.

    ``seeds``: every contender but the peer is run once per seed (the
    ``random_state`` of :func:`cross_val_predict_joint`, which seeds the
    networks' initial weights, dropout and batch order); the peer, the
    fixed reference of every paired difference, runs once at seed 0.
    """
    types = np.asarray(y.iloc[:, 0]) if hasattr(y, "iloc") else np.asarray(y)[:, 0]
    z_spec = np.asarray(y.iloc[:, 1] if hasattr(y, "iloc") else np.asarray(y)[:, 1], float)
    late = types == np.unique(types)[1]
    splits = list(StratifiedTypeKFold(folds, shuffle=True, random_state=0).split(X, y))
    predictions, seconds = {}, {}
    for contender in contenders:
        for seed in (0,) if contender == PEER else seeds:
            start = time.perf_counter()
            oof = cross_val_predict_joint(
                CONTENDERS[contender](), X, y, cv=splits, random_state=seed
            )
            seconds[contender, seed] = time.perf_counter() - start
            predictions[contender, seed] = oof["p_late"].to_numpy(), oof["z_phot"].to_numpy()
            print(f"  {contender:32s} seed {seed} {seconds[contender, seed]:7.1f} s", flush=True)
    common = np.logical_and.reduce([np.isfinite(z) for _, z in predictions.values()])
    rows = []
    for (contender, seed), (p_late, z_phot) in predictions.items():
        for k, (_, test) in enumerate(splits):
            ok = test[common[test]]
            rows.append(
                {
                    "sample": name,
                    "contender": contender,
                    "seed": seed,
                    "fold": k,
                    "seconds": seconds[contender, seed],
                    "unpredicted": int(np.isnan(z_phot).sum()),
                    "scored": int(common.sum()),
                    **fold_metrics(late[ok], z_spec[ok], p_late[ok], z_phot[ok]),
                }
            )
    return pd.DataFrame(rows)


FIGURES = [
    "sigma_nmad",
    "outliers",
    "std_dz",
    "auc",
    "min_rate_youden",
    "tet_youden",
    "tlt_youden",
    "tet_0.5",
    "tlt_0.5",
]


def paired_difference(rows, peer, figure):
    """Mean per-fold difference of ``figure`` from ``peer``, and its standard error."""
    diff = rows[figure] - peer[figure]
    return diff.mean(), diff.std(ddof=1) / np.sqrt(len(diff))


def paired_cells(rows, peer, figures):
    """Table cells "mean (paired difference from ``peer`` ± its standard error)".

    ``rows`` and ``peer`` are indexed by fold (or split); ``peer=None`` gives
    the means alone, for the peer's own row.
    """
    cells = []
    for figure in figures:
        mean = rows[figure].mean()
        if peer is None:
            cells.append(f"{mean:.4f}")
            continue
        diff, err = paired_difference(rows, peer, figure)
        cells.append(f"{mean:.4f} ({diff:+.4f}±{err:.4f})")
    return cells


#: The five figures of the issue's target, and the sign that makes a difference better.
TARGET = {"sigma_nmad": -1, "outliers": -1, "std_dz": -1, "auc": 1, "min_rate_youden": 1}


def _with_seeds(frame):
    # Results written before --seeds existed have no seed column: seed 0.
    return frame if "seed" in frame else frame.assign(seed=0)


def _label(contender, seed):
    return contender if seed == 0 else f"{contender}, seed {seed}"


def verdicts(frame, contender, seed=0):
    """The target table: each figure's paired difference from the peer, and its verdict.

    "won": better by more than one paired standard error; "ahead": better by
    less; "tie": equal; "behind": worse.
    """
    frame = _with_seeds(frame)
    lines = [
        f"\n{_label(contender, seed)} against the peer\n",
        "| sample | " + " | ".join(TARGET) + " |",
        "|---" * (len(TARGET) + 1) + "|",
    ]
    tally = {"won": 0, "ahead": 0, "tie": 0, "behind": 0}
    for sample, part in frame.groupby("sample", sort=False):
        peer = part[part.contender == PEER].set_index("fold")
        rows = part[(part.contender == contender) & (part.seed == seed)].set_index("fold")
        if rows.empty or peer.empty:
            continue
        cells = []
        for figure, sign in TARGET.items():
            diff, err = paired_difference(rows, peer, figure)
            better = sign * diff
            # A difference in one fold alone has |mean| equal to its standard
            # error in exact arithmetic; rounding must not make that a win.
            if better > err * (1 + 1e-9):
                verdict = "won"
            else:
                verdict = "ahead" if better > 0 else "tie" if better == 0 else "behind"
            tally[verdict] += 1
            cells.append(f"{diff:+.4f}±{err:.4f} {verdict}")
        lines.append(f"| {sample} | " + " | ".join(cells) + " |")
    lines.append(", ".join(f"{k} {v}" for k, v in tally.items()))
    return "\n".join(lines)


def seed_spread(frame):
    """Across-seed standard deviation of each contender's figures (its seed noise).

    For every sample and contender run with two seeds or more: the standard
    deviation, over seeds, of the 5-fold mean of each target figure. A
    margin over the peer smaller than this is within what re-seeding the
    same network moves.
    """
    frame = _with_seeds(frame)
    lines = [
        "\nSeed spread: standard deviation over seeds of the fold-mean figures\n",
        "| sample | contender | seeds | " + " | ".join(TARGET) + " |",
        "|---" * (len(TARGET) + 3) + "|",
    ]
    for (sample, contender), part in frame.groupby(["sample", "contender"], sort=False):
        means = part.groupby("seed")[list(TARGET)].mean()
        if len(means) < 2:
            continue
        cells = [f"{means[figure].std(ddof=1):.4f}" for figure in TARGET]
        lines.append(f"| {sample} | {contender} | {len(means)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(frame):
    """Mean per contender, and the paired difference from the peer with its standard error."""
    frame = _with_seeds(frame)
    lines = []
    for sample, part in frame.groupby("sample", sort=False):
        peer = part[part.contender == PEER].set_index("fold")
        lines.append(
            f"\n### {sample} ({int(part.fold.nunique())} folds; {int(part.scored.iloc[0])} "
            "galaxies predicted by every contender)\n"
        )
        lines.append("| contender | " + " | ".join(FIGURES) + " | unpredicted | s |")
        lines.append("|---" * (len(FIGURES) + 3) + "|")
        for (contender, seed), rows in part.groupby(["contender", "seed"], sort=False):
            rows = rows.set_index("fold")
            cells = paired_cells(rows, None if contender == PEER else peer, FIGURES)
            lines.append(
                f"| {_label(contender, seed)} | "
                + " | ".join(cells)
                + f" | {rows.unpredicted.iloc[0]} | {rows.seconds.iloc[0]:.0f} |"
            )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", default="vipers,cnoc2,demo-random,demo-faint,sdss")
    parser.add_argument("--contenders", default="|".join(CONTENDERS), help="separated by |")
    parser.add_argument("--n-demo", type=int, default=2000)
    parser.add_argument("--n-sdss", type=int, default=8000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--seeds", default="0", help="comma-separated seeds for every contender but the peer"
    )
    parser.add_argument("--out", default="benchmarks/results_gappy.csv")
    args = parser.parse_args()
    contenders = args.contenders.split("|")
    seeds = tuple(int(seed) for seed in args.seeds.split(","))
    frames = []
    for name in args.samples.split(","):
        if name in ("vipers", "cnoc2", "sdss") and shared_data_home() is None:
            print(f"{name}: skipped, ../shared/data is absent")
            continue
        X, y = load_sample(name, args.n_demo, args.n_sdss)
        gaps = float(np.isnan(np.asarray(X, dtype=float)).mean())
        print(f"{name}: {len(X)} galaxies, {gaps:.1%} of magnitudes missing", flush=True)
        frames.append(run_sample(name, X, y, contenders, args.folds, seeds))
        pd.concat(frames).to_csv(args.out, index=False)
    frame = pd.concat(frames)
    print("Each cell: mean over folds (paired difference from the HGB pair ± its standard error)")
    print(summary(frame))
    for contender in contenders:
        if contender != PEER:
            print(verdicts(frame, contender))
    if len(seeds) > 1:
        print(seed_spread(frame))


if __name__ == "__main__":
    main()
