"""Chunked catalog prediction against a read-everything-at-once baseline.

For catalogs of 1 and 3 million rows (parquet and FITS) this measures, each
in a fresh subprocess, the wall time and the peak resident memory of

* ``chunked``: :func:`skphotoz.catalogs.predict.predict_catalog` (100,000-row chunks);
* ``whole``: read the catalog into memory, predict it, write it (what a
  naive script does).

Memory is reported above the fixed cost of a run on a 1000-row catalog
(TensorFlow alone takes several hundred MB), and the ratio is whole / chunked.

Run: ``python benchmarks/bench_predict_catalog.py`` (``--rows 1000000 3000000``
to change the sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

BANDS = [f"mag_{b}" for b in "ugriz"]


def make_catalog(path, n_rows, seed=0):
    import numpy as np
    import pandas as pd

    from skphotoz.catalogs.formats import write_catalog

    rng = np.random.default_rng(seed)
    z = rng.uniform(0.05, 1.2, n_rows)
    frame = pd.DataFrame(
        21 + 2.5 * np.log10(1 + z)[:, None] + rng.normal(0, 0.5, (n_rows, 5)), columns=BANDS
    )
    frame.insert(0, "objid", np.arange(n_rows, dtype=np.int64))
    frame["ra"] = rng.uniform(0, 360, n_rows)
    frame.loc[rng.random(n_rows) < 0.01, "mag_u"] = -99.0  # 1% not observed in u
    write_catalog(frame, path)


def make_model(path):
    import numpy as np
    import pandas as pd

    from skphotoz import JointMorphZ
    from skphotoz.catalogs import save_model

    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(22, 1, (500, 5)), columns=BANDS)
    y = np.column_stack([np.where(X["mag_u"] > 22, "LT", "ET"), rng.uniform(0, 1, 500)])
    model = JointMorphZ(base_units=(64,), base_dropout=(0.1,), epochs=2, random_state=0)
    save_model(path, model.fit(X, y), BANDS)


def run_variant(mode, model, catalog, output):
    from skphotoz.catalogs import (
        load_model,
        predict_catalog,
        predict_chunk,
        read_catalog,
        write_catalog,
    )

    start = time.perf_counter()
    payload = load_model(model)
    if mode == "chunked":
        predict_catalog(payload, catalog, output, chunk_size=100_000, progress=False)
    elif mode == "startup":  # imports, model and a 1000-row catalog: the fixed cost
        predict_catalog(payload, catalog, output, progress=False)
    else:
        write_catalog(predict_chunk(payload, read_catalog(catalog)), output)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def measure(mode, model, catalog, output):
    out = subprocess.run(
        [sys.executable, __file__, "--variant", mode, str(model), str(catalog), str(output)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument("--variant", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        run_variant(*args.variant)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = tmp / "model.skz"
        make_model(model)
        make_catalog(tmp / "small.parquet", 1000)
        startup = measure("startup", model, tmp / "small.parquet", tmp / "small_out.parquet")
        print(
            f"Fixed cost (TensorFlow, model, 1000 rows): {startup['seconds']:.1f} s, "
            f"{startup['peak_mb']:.0f} MB peak RSS; below, memory is peak RSS minus this."
        )
        print(
            f"{'rows':>9} {'format':>7} {'chunked s':>10} {'whole s':>8} "
            f"{'chunked MB':>11} {'whole MB':>9} {'MB ratio':>9}"
        )
        for n_rows in args.rows:
            for suffix in (".parquet", ".fits"):
                catalog = tmp / f"cat_{n_rows}{suffix}"
                make_catalog(catalog, n_rows)
                chunked = measure("chunked", model, catalog, tmp / f"c{suffix}")
                whole = measure("whole", model, catalog, tmp / f"w{suffix}")
                for name in (f"c{suffix}", f"w{suffix}"):
                    (tmp / name).unlink()
                catalog.unlink()
                extra_c = chunked["peak_mb"] - startup["peak_mb"]
                extra_w = whole["peak_mb"] - startup["peak_mb"]
                print(
                    f"{n_rows:>9} {suffix[1:]:>7} {chunked['seconds']:>10.1f} "
                    f"{whole['seconds']:>8.1f} {extra_c:>11.0f} {extra_w:>9.0f} "
                    f"{extra_w / max(extra_c, 1):>9.1f}"
                )


if __name__ == "__main__":
    main()
