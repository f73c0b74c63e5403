"""Bad input to the command line: one ``Error:`` line, a non-zero exit, never a traceback.

Each case is refused before any training, so these run in seconds.
"""

import json
import subprocess
import sys
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.dummy import DummyClassifier

from skphotoz import JointMorphZ
from skphotoz.catalogs import save_model, write_catalog
from skphotoz.cli import main
from skphotoz.cli.common import staged_folder

from .conftest import TINY, make_joint_sample

LABELS = ["--type-col", "TYPE", "--z-col", "Z"]
NET = ["--epochs", "2", "--base-units", "16"]
BANDS = list("ugriz")


def refused(*args):
    """Run ``skphotoz args``; assert it ended in one error line; return that line."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code != 0, result.output
    # click's own exit, not an exception escaping (which a terminal would show as a traceback)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert result.output.rstrip("\n").endswith(errors[0])  # nothing after it
    return errors[0]


@pytest.fixture
def catalog(tmp_path):
    """300 labelled rows as FITS."""
    X, _, types, redshift = make_joint_sample(n=300, seed=1)
    frame = pd.DataFrame(X, columns=BANDS).assign(TYPE=types, Z=redshift)
    path = tmp_path / "cat.fits"
    write_catalog(frame, path)
    return path


@pytest.fixture
def model_file(tmp_path):
    """A valid format-2 file (the model inside does not matter: it is refused before use)."""
    path = tmp_path / "model.skz"
    save_model(path, DummyClassifier().fit([[1]], [0]), BANDS)
    return path


def _earlier_report(folder, files):
    """A report folder as an earlier ``skphotoz report`` left it."""
    with staged_folder(folder) as staging:
        for name, text in files.items():
            (staging / name).write_text(text)


def _fit_args(catalog, output, *extra):
    return ["fit", catalog, "--bands", ",".join(BANDS), *LABELS, *NET, "-o", output, *extra]


def test_too_many_folds(tmp_path, catalog):
    error = refused("cv", catalog, "--bands", "u,g,r,i,z", *LABELS, "--folds", "400")
    assert "--folds 400 needs at least 400 galaxies of each type" in error
    error = refused("report", catalog, "--bands", "u,g,r,i,z", *LABELS, "--folds", "400", "-o",
                    tmp_path / "rep")  # fmt: skip
    assert "--folds 400" in error and not (tmp_path / "rep").exists()
    assert not (tmp_path / "cv_results.csv").exists()


@pytest.fixture(params=["garbage", "truncated", "empty"])
def broken_fits(request, tmp_path, catalog):
    path = tmp_path / "broken.fits"
    data = catalog.read_bytes()
    content = {
        "garbage": b"this is not a FITS file\n" * 200,
        "truncated": data[: len(data) - 4000],  # the table's data cut short
        "empty": b"",
    }[request.param]
    path.write_bytes(content)
    return path


def test_unreadable_catalog(tmp_path, broken_fits, model_file):
    for args in (
        _fit_args(broken_fits, tmp_path / "m.skz"),
        ["predict", model_file, broken_fits, "-o", tmp_path / "p.fits"],
        ["inspect", broken_fits],
        ["cv", broken_fits, "--bands", "u,g", *LABELS, "-o", tmp_path / "cv.csv"],
    ):
        assert f"Cannot read {broken_fits}" in refused(*args)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.fits", "cat.fits", "model.skz"]


def _damaged(model_file, how):
    if how == "empty":
        model_file.write_bytes(b"")
    elif how == "text":
        model_file.write_text("bands: u,g,r\n")
    elif how == "missing key":
        with zipfile.ZipFile(model_file) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        header = json.loads(members["metadata.json"])
        del header["sentinels"]
        members["metadata.json"] = json.dumps(header).encode()
        with zipfile.ZipFile(model_file, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
    elif how == "zeroed bytes":
        data = bytearray(model_file.read_bytes())
        data[len(data) // 2 : len(data) // 2 + 32] = bytes(32)
        model_file.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("empty", "is empty"),
        ("text", "is not a skphotoz model file: not a zip archive"),
        ("missing key", "metadata.json lacks ['sentinels']"),
        ("zeroed bytes", "is damaged: its checksum does not match"),
    ],
)
def test_bad_model_file(tmp_path, catalog, model_file, how, message):
    _damaged(model_file, how)
    out = tmp_path / "p.parquet"
    error = refused("predict", model_file, catalog, "-o", out)
    assert str(model_file) in error and message in error
    assert not out.exists()


def test_a_pickle_model_needs_allow_pickle(tmp_path, catalog):
    frame = pd.DataFrame(make_joint_sample(n=40)[0], columns=BANDS)
    net = JointMorphZ(**TINY).fit(frame, make_joint_sample(n=40)[1])
    old = tmp_path / "old.skz"
    joblib.dump(  # a model file as skphotoz wrote it before format 2
        {
            "estimator": net,
            "bands": BANDS,
            "unit": "mag",
            "sentinels": [-99.0],
            "skphotoz_version": "0.1.0",
        },
        old,
    )
    error = refused("predict", old, catalog, "-o", tmp_path / "p.csv")
    assert "made by skphotoz 0.1.0, format 1 (a pickle); this build reads format 2" in error
    assert "refit it with `skphotoz fit`" in error and "--allow-pickle" in error
    result = CliRunner().invoke(
        main, ["predict", str(old), str(catalog), "-o", str(tmp_path / "p.csv"), "--allow-pickle"]
    )
    assert result.exit_code == 0, result.output
    assert "300 rows, 300 predicted" in result.output


def test_outputs_are_checked_before_any_work(tmp_path, catalog, model_file):
    nowhere = tmp_path / "no_such_folder"
    assert "does not exist; create it first" in refused(*_fit_args(catalog, nowhere / "m.skz"))
    for args in (
        ["predict", model_file, catalog, "-o", nowhere / "p.fits"],
        ["cv", catalog, "--bands", "u,g", *LABELS, "-o", nowhere / "cv.csv"],
        ["report", catalog, "--bands", "u,g", *LABELS, "-o", nowhere / "rep"],
    ):
        assert "does not exist; create it first" in refused(*args)

    existing = tmp_path / "existing.csv"
    existing.write_text("keep me\n")
    for args in (
        _fit_args(catalog, existing),
        ["predict", model_file, catalog, "-o", existing],
        ["cv", catalog, "--bands", "u,g", *LABELS, "-o", existing],
    ):
        assert refused(*args).endswith("existing.csv exists; pass --overwrite to replace it.")
    assert existing.read_text() == "keep me\n"

    report = tmp_path / "rep"
    _earlier_report(report, {"report.html": "an earlier report"})
    assert "holds an earlier run's files; pass --overwrite" in refused(
        "report", catalog, "--bands", "u,g", *LABELS, "-o", report
    )
    # a folder with files skphotoz did not write is never replaced, --overwrite or not
    assert "holds files that skphotoz did not write" in refused(
        "report", catalog, "--bands", "u,g", *LABELS, "--overwrite", "-o", tmp_path
    )
    (report / "my_notes.txt").write_text("mine")
    assert "did not write (my_notes.txt)" in refused(
        "report", catalog, "--bands", "u,g", *LABELS, "--overwrite", "-o", report
    )


def test_fit_overwrite_replaces_the_model(tmp_path, catalog):
    out = tmp_path / "m.skz"
    out.write_text("an old model")
    result = CliRunner().invoke(main, [str(a) for a in _fit_args(catalog, out, "--overwrite")])
    assert result.exit_code == 0, result.output
    assert zipfile.is_zipfile(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.fits", "m.skz"]  # no partial file


def test_report_with_a_bogus_filter_leaves_the_earlier_report_alone(tmp_path, catalog):
    report = tmp_path / "rep"
    earlier = {"report.html": "earlier report", "fig1_data_distribution.png": "earlier figure"}
    _earlier_report(report, earlier)
    before = {p.name: p.read_text() for p in report.iterdir()}
    error = refused(
        "report",
        catalog,
        "--bands",
        "u,g,r,i,z",
        *LABELS,
        "--filters",
        "sdss_u0,sdss_g0,sdss_r0,sdss_i0,bogus",
        "--overwrite",
        "-o",
        report,
    )
    assert error.startswith("Error: --filters: Unknown band(s) ['bogus']")
    assert {p.name: p.read_text() for p in report.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.fits", "rep"]  # nothing staged


def test_a_real_terminal_sees_one_line(tmp_path, catalog):
    """Outside click's test runner too: the installed entry point, stderr, exit status."""
    command = "from skphotoz.cli import main; main()"
    args = [str(a) for a in _fit_args(catalog, tmp_path / "missing" / "m.skz")]
    done = subprocess.run(
        [sys.executable, "-c", command, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"Error: The folder of {tmp_path / 'missing' / 'm.skz'} does not exist; create it first."
    ]


def test_progress_bars_only_on_a_terminal(tmp_path, catalog):
    """Predicting with its output captured (not a terminal) writes no bar."""
    X, y, _, redshift = make_joint_sample(n=300, seed=1)  # the catalog's galaxies
    net = JointMorphZ(**TINY).fit(pd.DataFrame(X, columns=BANDS), y)
    model = tmp_path / "m.skz"
    save_model(model, net, BANDS)
    result = CliRunner().invoke(
        main, ["predict", str(model), str(catalog), "-o", str(tmp_path / "p.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "\r" not in result.output and "row/s" not in result.output
    assert len(result.output.splitlines()) == 2  # the model's bands, what was written
    np.testing.assert_allclose(pd.read_csv(tmp_path / "p.csv")["Z"], redshift)
