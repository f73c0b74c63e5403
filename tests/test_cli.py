"""``skphotoz fit / predict / cv / report`` through click's CliRunner on small catalogs."""

import re

import numpy as np
import pandas as pd
import pytest
from astropy.table import Table
from click.testing import CliRunner

from skphotoz.catalogs import load_model, read_catalog, write_catalog
from skphotoz.cli import main

from .conftest import make_joint_sample
from .test_io import gap_flags

NET = ["--epochs", "2", "--base-units", "16"]
LABELS = ["--type-col", "SC", "--et-values", "2", "--lt-values", "4,5", "--z-col", "Z"]
SDSS = "sdss_u0,sdss_g0,sdss_r0,sdss_i0,sdss_z0"


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


@pytest.fixture
def cnoc2_like(tmp_path):
    """A CNOC2-shaped catalog: a 5-vector magnitude column, SC codes, 0 = missing."""
    X, _, types, redshift = make_joint_sample(n=80, seed=3)
    table = Table()
    table["ID"] = np.arange(500, 580)[::-1]
    table["UBVRI"] = X
    codes = np.where(types == "ET", 2.0, np.where(np.arange(80) % 2, 4.0, 5.0))
    codes[[10, 11]] = 6.0  # AGN: neither type
    table["SC"] = codes
    table["Z"] = redshift
    table["UBVRI"][7, 1] = 0.0  # not measured
    path = tmp_path / "cat.fits"
    table.write(path)
    return path


def test_help_texts_tell_a_newcomer_what_to_type():
    text = run("--help").output
    for word in ["fit", "predict", "cv", "report", "demo", "compare", "--et-values", "-o"]:
        assert word in text, word
    fit_help = run("fit", "--help").output
    for word in [
        "--bands",
        "--type-col",
        "--z-col",
        "--et-values",
        "--lt-values",
        "--unit",
        "nanomaggies",
        "--epochs",
        "--uncertainty",
        "--impute",
        "Example",
        "UBVRI",
        "--overwrite",
    ]:
        assert word in fit_help, word
    assert "Rows with missing bands are trained on" in " ".join(fit_help.split())
    assert "The model file holds no code" in " ".join(fit_help.split())
    predict_help = run("predict", "--help").output
    for word in [
        "predict_flag",
        "missing",
        "too_few_bands",
        "--chunk-size",
        "p_lt",
        "z_phot",
        "row order",
        "--overwrite",
        "--allow-pickle",
    ]:
        assert word in predict_help, word
    # what is safe to load, and the warning on the one flag that is not
    assert "nothing written in it is run" in " ".join(predict_help.split())
    assert "runs any code it holds" in " ".join(predict_help.split())
    assert "(no prediction)" not in predict_help  # a gap no longer means no prediction
    cv_help = run("cv", "--help").output
    assert "--loo" in cv_help and "--bootstrap" in cv_help and "--folds" in cv_help
    assert "--overwrite" in cv_help
    report_help = run("report", "--help").output
    for word in [
        "--demo",
        "--filters",
        "report.html",
        "--weights",
        "Youden",
        "--sed-offsets",
        "--overwrite",
    ]:
        assert word in report_help, word


def test_fit_then_predict_keeps_every_row(tmp_path, cnoc2_like):
    model = tmp_path / "m.skz"
    result = run("fit", cnoc2_like, "--bands", "UBVRI", *LABELS, *NET, "-o", model)
    assert result.exit_code == 0, result.output
    assert "left out 2 row(s): type value in neither" in result.output
    assert "1 of them with missing band(s): kept" in result.output  # no --impute needed
    assert "Using 78 galaxies" in result.output
    payload = load_model(model)
    assert payload["format"] == 2
    assert payload["bands"] == [f"UBVRI_{j}" for j in range(5)]
    assert payload["type_labels"] == ["ET", "LT"] and payload["n_training"] == 78
    assert payload["estimator"].missing_bands_  # the gap switched the native input on

    out = tmp_path / "pred.fits"
    result = run("predict", model, cnoc2_like, "-o", out, "--chunk-size", "30")
    assert result.exit_code == 0, result.output
    assert "80 rows, 80 predicted" in result.output
    pred = read_catalog(out)
    assert pred["ID"].tolist() == list(range(579, 499, -1))
    flags = gap_flags(pred["predict_flag"])
    assert flags[7] == "missing:UBVRI_1" and (flags.drop(7) == "").all()
    assert pred["z_phot"].notna().all()  # the row with a missing band is predicted too
    # Every row typed with the catalog's own labels (a 2-epoch network may give one type only).
    assert set(pred["type"].str.strip()) <= {"ET", "LT"} and pred["type"].str.strip().all()
    # predicting again over the output refuses to overwrite, then replaces the columns
    assert run("predict", model, cnoc2_like, "-o", out).exit_code != 0
    again = run("predict", model, out, "-o", tmp_path / "again.parquet", "--no-progress")
    assert again.exit_code == 0, again.output
    assert list(read_catalog(tmp_path / "again.parquet").columns) == list(pred.columns)


def test_predict_names_the_missing_band(tmp_path, cnoc2_like):
    frame = pd.DataFrame(make_joint_sample(n=40)[0], columns=list("ugriz"))
    frame["TYPE"], frame["ZS"] = make_joint_sample(n=40)[2], make_joint_sample(n=40)[3]
    write_catalog(frame, tmp_path / "train.csv")
    model = tmp_path / "m.skz"
    fitted = run(
        "fit",
        tmp_path / "train.csv",
        "--bands",
        "u,g,r",
        "--bands",
        "i,z",
        "--type-col",
        "TYPE",
        "--z-col",
        "ZS",
        *NET,
        "-o",
        model,
    )
    assert fitted.exit_code == 0, fitted.output
    write_catalog(frame.drop(columns=["i"]), tmp_path / "other.csv")
    result = run("predict", model, tmp_path / "other.csv", "-o", tmp_path / "o.csv")
    assert result.exit_code != 0
    assert "lacks the band column(s) ['i']" in result.output


def test_fit_errors_say_what_to_do(tmp_path, cnoc2_like):
    out = tmp_path / "m.skz"
    no_map = run(
        "fit", cnoc2_like, "--bands", "UBVRI", "--type-col", "SC", "--z-col", "Z", "-o", out
    )
    assert no_map.exit_code != 0 and "--et-values" in no_map.output
    bad_band = run("fit", cnoc2_like, "--bands", "UBVRI,K", *LABELS, "-o", out)
    assert bad_band.exit_code != 0 and "['K'] match no column" in bad_band.output
    assert not out.exists()


def test_gaps_are_trained_on_and_predicted_without_impute(tmp_path, cnoc2_like):
    table = Table.read(cnoc2_like)
    table["UBVRI"][20, 0] = -99.0
    table["UBVRI"][21, 1:3] = [99.99, np.nan]
    table["UBVRI"][30] = -99.0  # nothing observed: nothing to learn from
    table["UBVRI"][31, 1:] = [-99.0, 0.0, 99.0, 999.0]  # one band: trained on, not predicted
    catalog = tmp_path / "gappy.fits"
    table.write(catalog)
    model = tmp_path / "m.skz"
    result = run("fit", catalog, "--bands", "UBVRI", *LABELS, *NET, "-o", model)
    assert result.exit_code == 0, result.output
    assert "left out 1 row(s): no observed band" in result.output
    assert "Using 77 galaxies" in result.output  # 80 - 2 neither type - 1 empty
    assert "4 of them with missing band(s): kept" in result.output
    assert load_model(model)["left_out"]["no observed band"] == 1

    out = tmp_path / "pred.parquet"
    result = run("predict", model, catalog, "-o", out, "--no-progress")
    assert result.exit_code == 0, result.output
    assert "80 rows, 78 predicted" in result.output
    pred = read_catalog(out)
    flags = gap_flags(pred["predict_flag"])
    every = ",".join(f"UBVRI_{j}" for j in range(5))
    assert flags[7] == "missing:UBVRI_1" and flags[20] == "missing:UBVRI_0"
    assert flags[21] == "missing:UBVRI_1,UBVRI_2"
    assert flags[30] == f"missing:{every};too_few_bands"
    assert flags[31] == "missing:UBVRI_1,UBVRI_2,UBVRI_3,UBVRI_4;too_few_bands"
    assert (flags.drop([7, 20, 21, 30, 31]) == "").all()
    # no number for a galaxy without enough bands; every other one has one
    assert pred.loc[[30, 31], ["p_lt", "z_phot"]].isna().all().all()
    assert (pred.loc[[30, 31], "type"] == "").all()
    assert pred.drop(index=[30, 31])[["p_lt", "z_phot"]].notna().all().all()

    # cv scores only galaxies the network predicts, and says which it left out
    cv_out = tmp_path / "cv.csv"
    result = run(
        "cv",
        catalog,
        "--bands",
        "UBVRI",
        *LABELS,
        *NET,
        "--folds",
        "2",
        "--n-bootstrap",
        "10",
        "-o",
        cv_out,
    )
    assert result.exit_code == 0, result.output
    assert "left out 2 row(s): fewer than 2 observed bands" in result.output
    table = pd.read_csv(cv_out)
    assert len(table) == 76 and table["z_phot"].notna().all()
    assert not {30, 31} & set(table["catalog_row"])


@pytest.mark.parametrize("mode", [["--folds", "2"], ["--loo"], ["--bootstrap", "2"]])
def test_cv_modes(tmp_path, cnoc2_like, mode):
    out = tmp_path / "cv.csv"
    result = run(
        "cv", cnoc2_like, "--bands", "UBVRI", *LABELS, *NET, *mode, "--n-bootstrap", "20", "-o", out
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    if mode[0] == "--bootstrap":
        assert len(table) == 2 and "sigma_nmad" in table.columns
        assert "median" in result.output
    else:
        assert len(table) == 78 and table["p_late"].between(0, 1).all()
        assert table["catalog_row"].tolist()[:3] == [0, 1, 2]
        assert re.search(r"accuracy\s+\d\.\d{4} ± \d\.\d{4}", result.output)
        assert "sigma_nmad" in result.output


def test_report_on_a_catalog(tmp_path, cnoc2_like):
    out = tmp_path / "rep"
    result = run(
        "report",
        cnoc2_like,
        "--bands",
        "UBVRI",
        *LABELS,
        *NET,
        "--folds",
        "2",
        "--n-bootstrap",
        "20",
        "--filters",
        SDSS,
        "--r-band",
        "UBVRI_2",
        # One quick peer: the default peers' table is tested in test_report_peers_pdf.py.
        "--peers",
        "RF pair",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert "SED templates" in html and "SED baseline skipped" not in html
    assert "Left out 2 row(s)" in html and "2-fold cross-validation" in html
    assert "Galaxies with missing bands: 1, taken natively by the network" in html
    assert html.count("data:image/png;base64,") == 5
    assert (out / "fig1_data_distribution.png").stat().st_size > 5000
    first_run = {p.name for p in out.iterdir()}

    # the same folder again, without --filters: replaced whole, no SED file left over
    plain = run(
        "report",
        cnoc2_like,
        "--bands",
        "UBVRI",
        *LABELS,
        *NET,
        "--folds",
        "2",
        "--n-bootstrap",
        "20",
        "--peers",
        "none",
        "--overwrite",
        "-o",
        out,
    )
    assert plain.exit_code == 0, plain.output
    text = (out / "report.html").read_text()
    assert "SED baseline skipped" in text and "--filters" in text
    assert "No r band recognised" in text
    second_run = {p.name for p in out.iterdir()}
    assert second_run < first_run  # the SED baseline's figures and tables are gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.fits", "rep"]  # no staging left


def test_report_needs_a_catalog_or_demo(tmp_path, cnoc2_like):
    both = run("report", cnoc2_like, "--demo", "-o", tmp_path)
    assert both.exit_code != 0 and "not both" in both.output
    result = run("report", cnoc2_like, "-o", tmp_path)
    assert result.exit_code != 0 and "--bands" in result.output
    out = tmp_path / "rep"
    bad = run("report", cnoc2_like, "--bands", "UBVRI", *LABELS, "--filters", "sdss_u0", "-o", out)
    assert bad.exit_code != 0 and "1 filter(s) for 5 band(s)" in bad.output
    assert not out.exists()


def test_report_on_the_demo_with_weights(tmp_path):
    out = tmp_path / "demo"
    result = run(
        "report",
        "--n-galaxies",
        "150",
        *NET,
        "--folds",
        "2",
        "--n-bootstrap",
        "20",
        "--weights",
        "3",
        "--peers",
        "none",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "No CATALOG given" in result.output
    html = (out / "report.html").read_text()
    assert "demo sample" in html and "SED templates" in html
    assert "Q-Q analysis" in html and (out / "weights_qq.png").stat().st_size > 5000
    assert html.count("data:image/png;base64,") == 6


@pytest.mark.slow
def test_cnoc2_end_to_end(tmp_path, data_home):
    """The issue's "done when": fit, predict and report on the real CNOC2 catalog."""
    catalog = data_home / "cnoc2" / "cnoc2.fits"
    model = tmp_path / "cnoc2.skz"
    fitted = run("fit", catalog, "--bands", "UBVRI", *LABELS, "--epochs", "30", "-o", model)
    assert fitted.exit_code == 0, fitted.output
    assert "left out 10 row(s): type value in neither" in fitted.output
    out = tmp_path / "cnoc2_pred.fits"
    predicted = run("predict", model, catalog, "-o", out)
    assert predicted.exit_code == 0, predicted.output
    pred = read_catalog(out)
    original = read_catalog(catalog)
    assert len(pred) == 1255 and np.array_equal(pred["Z"], original["Z"])
    good = pred["predict_flag"].str.strip() == ""
    assert good.sum() > 1100
    typed = good & pred["SC"].isin([2, 4, 5])
    truth = np.where(pred.loc[typed, "SC"] == 2, "ET", "LT")
    assert (pred.loc[typed, "type"].str.strip() == truth).mean() > 0.8
    dz = np.abs(pred.loc[good, "z_phot"] - pred.loc[good, "Z"]) / (1 + pred.loc[good, "Z"])
    assert np.median(dz) < 0.1
    report = run(
        "report",
        catalog,
        "--bands",
        "UBVRI",
        *LABELS,
        "--epochs",
        "30",
        "--r-band",
        "UBVRI_3",
        "--filters",
        "bessell_U,bessell_B,bessell_V,bessell_R,bessell_I",
        "--sed-offsets",
        "0.81,-0.10,0.01,0.19,0.44",
        "-o",
        tmp_path / "rep",
    )
    assert report.exit_code == 0, report.output
    assert (tmp_path / "rep" / "report.html").read_text().count("data:image/png") == 5


def test_inspect_lists_columns_and_type_codes(cnoc2_like):
    result = run("inspect", cnoc2_like)
    assert result.exit_code == 0, result.output
    assert "80 rows" in result.output and "UBVRI_4" in result.output
    assert re.search(r"SC .*values 4\.0 \(\d+\), .*6\.0 \(2\)", result.output)
    assert "1 look like 'missing': 0 (1)" in result.output
    # 80 distinct IDs above the placeholder limit are data, not placeholders
    assert "missing" not in next(line for line in result.output.splitlines() if " ID " in line)


def test_fit_with_impute_and_youden_threshold(tmp_path, cnoc2_like):
    model = tmp_path / "m.skz"
    result = run(
        "fit",
        cnoc2_like,
        "--bands",
        "UBVRI",
        *LABELS,
        *NET,
        "--impute",
        "--threshold",
        "youden",
        "-o",
        model,
    )
    assert result.exit_code == 0, result.output
    assert "Using 78 galaxies" in result.output  # the row with a missing U is kept
    payload = load_model(model)
    assert 0 < payload["estimator"][-1].threshold_ < 1
    out = tmp_path / "p.parquet"
    assert run("predict", model, cnoc2_like, "-o", out).exit_code == 0
    pred = read_catalog(out)
    assert pred.loc[7, "predict_flag"] == "imputed:UBVRI_1" and pred["z_phot"].notna().all()


def test_uncertainty_option(tmp_path, cnoc2_like):
    model = tmp_path / "m.skz"
    result = run(
        "fit", cnoc2_like, "--bands", "UBVRI", *LABELS, *NET, "--uncertainty", "3", "-o", model
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "p.fits"
    assert run("predict", model, cnoc2_like, "-o", out).exit_code == 0
    pred = read_catalog(out)
    good = pred["predict_flag"].str.strip() == ""
    assert (pred.loc[good, "z_phot_err"] >= 0).all() and (pred.loc[good, "p_lt_err"] >= 0).all()
    assert (pred.loc[good, "z_phot_err"] > 0).any()  # replicas disagree somewhere
    assert pred.loc[7, "z_phot_err"] >= 0  # the row with a missing band has an error too
    bad = run(
        "fit",
        cnoc2_like,
        "--bands",
        "UBVRI",
        *LABELS,
        "--uncertainty",
        "3",
        "--protocol",
        "paper",
        "-o",
        tmp_path / "x.skz",
    )
    assert bad.exit_code != 0 and "--protocol fixed" in bad.output


def test_predict_writes_the_out_of_coverage_flag(tmp_path, cnoc2_like):
    """Issue 17: a galaxy far from every training galaxy says so in predict_flag."""
    model = tmp_path / "m.skz"
    assert run("fit", cnoc2_like, "--bands", "UBVRI", *LABELS, *NET, "-o", model).exit_code == 0
    catalog = Table.read(cnoc2_like)
    catalog["UBVRI"][0] = catalog["UBVRI"][0] + 8.0  # 8 mag fainter in every band
    far = tmp_path / "far.fits"
    catalog.write(far)
    out = tmp_path / "pred.csv"
    result = run("predict", model, far, "-o", out)
    assert result.exit_code == 0, result.output
    flags = read_catalog(out)["predict_flag"].fillna("")
    assert "out_of_coverage" in flags.iloc[0]
    # Calibrated at 1% of training-like galaxies: the others are mostly unflagged.
    assert flags.iloc[1:].str.contains("out_of_coverage").mean() < 0.1
