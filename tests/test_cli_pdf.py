"""``skphotoz fit --redshift-pdf`` and ``skphotoz predict --pdf`` (issue 15) on a tiny catalog."""

import numpy as np
import pandas as pd
import pytest
from astropy.table import Table

from skphotoz.catalogs import load_model, read_catalog
from skphotoz.catalogs.predict import PDF_QUANTILE_LEVELS, pdf_columns

from .conftest import make_joint_sample
from .test_cli import LABELS, NET, run

# The 80-row CNOC2-shaped catalog of test_cli, with row 30 unobserved in every
# band and row 31 in all but one: neither gets a prediction, so neither a PDF.
NO_PDF = [30, 31]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    X, _, types, redshift = make_joint_sample(n=80, seed=3)
    table = Table()
    table["ID"] = np.arange(500, 580)[::-1]
    table["UBVRI"] = X
    table["SC"] = np.where(types == "ET", 2.0, np.where(np.arange(80) % 2, 4.0, 5.0))
    table["Z"] = redshift
    table["UBVRI"][7, 1] = 0.0  # not measured: predicted from the other bands
    table["UBVRI"][30] = -99.0
    table["UBVRI"][31, 1:] = -99.0
    path = tmp_path_factory.mktemp("pdfcat") / "cat.fits"
    table.write(path)
    return path


@pytest.fixture(scope="module")
def pdf_model(catalog):
    model = catalog.parent / "pdf.skz"
    result = run(
        "fit", catalog, "--bands", "UBVRI", *LABELS, *NET, "--redshift-pdf", "mixture", "-o", model
    )
    assert result.exit_code == 0, result.output
    assert "--pdf" in result.output  # the next step it suggests
    return model


def _value_columns(frame, prefix):
    return [c for c in frame.columns if c.startswith(prefix)]


def _predict_quantiles(model, catalog, folder, suffix):
    """``predict --pdf`` in chunks of 30 with the ID column: (predictions, quantile file)."""
    out, pdf = folder / f"pred{suffix}", folder / f"pdf{suffix}"
    result = run(
        "predict", model, catalog, "-o", out, "--pdf", pdf, "--pdf-id-col", "ID",
        "--chunk-size", "30", "--no-progress",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Wrote {pdf}: p(z) of 78 of 80 rows as quantiles" in result.output
    return read_catalog(out), read_catalog(pdf)


def test_fit_redshift_pdf_round_trips_through_the_model_file(pdf_model, catalog):
    estimator = load_model(pdf_model)["estimator"]
    assert estimator.redshift_pdf == "mixture"
    assert estimator.z_grid_.shape == (200,) and estimator.z_grid_.dtype == np.float64
    assert all(type(v) is float for v in estimator.redshift_range_)
    assert isinstance(estimator.pdf_range_, tuple) and len(estimator.pdf_range_) == 2
    X = read_catalog(catalog)[[f"UBVRI_{j}" for j in range(5)]].iloc[:5]
    pdf = estimator.predict_pdf(X)
    np.testing.assert_allclose(np.trapezoid(pdf, estimator.z_grid_, axis=1), 1.0, rtol=1e-9)


@pytest.mark.parametrize("suffix", [".parquet", ".fits"])
def test_predict_pdf_quantiles(tmp_path, pdf_model, catalog, suffix):
    pred, quantiles = _predict_quantiles(pdf_model, catalog, tmp_path, suffix)
    columns = _value_columns(quantiles, "z_q")
    assert list(quantiles.columns) == ["ID", "catalog_row", *columns]
    assert columns == pdf_columns("quantiles") and len(columns) == 13
    assert [float("0." + c[3:]) for c in columns] == list(PDF_QUANTILE_LEVELS)
    assert quantiles["catalog_row"].tolist() == list(range(80))
    assert quantiles["ID"].tolist() == pred["ID"].tolist()  # row for row with the main output
    values = quantiles[columns].to_numpy()
    assert values.dtype == np.float32  # 13 x 4 = 52 bytes a galaxy
    # no row dropped: the two without a prediction are NaN, every other is finite
    assert np.isnan(values[NO_PDF]).all()
    good = np.delete(values, NO_PDF, axis=0)
    assert np.isfinite(good).all()
    assert (np.diff(good, axis=1) >= 0).all()  # quantiles never decrease along a row
    assert pred["z_phot"].isna().to_numpy().nonzero()[0].tolist() == NO_PDF
    grid = load_model(pdf_model)["estimator"].z_grid_
    assert (good >= grid[0]).all() and (good <= grid[-1]).all()


def test_predict_pdf_grid_rows_integrate_to_one(tmp_path, pdf_model, catalog):
    out, pdf = tmp_path / "pred.parquet", tmp_path / "pdf.parquet"
    result = run(
        "predict", pdf_model, catalog, "-o", out, "--pdf", pdf, "--pdf-format", "grid",
        "--no-progress",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = read_catalog(pdf)
    columns = _value_columns(frame, "pdf_")
    assert list(frame.columns) == ["catalog_row", *columns] and len(columns) == 200
    # The grid is in the column names, to float32 precision: the model's grid.
    z_grid = np.array([float(c[4:]) for c in columns])
    model_grid = load_model(pdf_model)["estimator"].z_grid_
    np.testing.assert_allclose(z_grid, model_grid, rtol=1e-7, atol=1e-9)
    density = frame[columns].to_numpy()
    assert density.dtype == np.float32  # 200 x 4 = 800 bytes a galaxy
    assert np.isnan(density[NO_PDF]).all()
    density = np.delete(density, NO_PDF, axis=0).astype(np.float64)
    assert (density >= 0).all()
    # Exactly 1 in float64 before writing; float32 storage rounds each density
    # by <= 6e-8 relative and each name's z likewise, so 1e-5 has a wide margin.
    np.testing.assert_allclose(np.trapezoid(density, z_grid, axis=1), 1.0, rtol=1e-5)


def test_chunked_pdf_output_equals_unchunked(tmp_path, pdf_model, catalog):
    files = {}
    for size in (7, 1000):
        files[size] = tmp_path / f"pdf{size}.parquet"
        result = run(
            "predict", pdf_model, catalog, "-o", tmp_path / f"p{size}.parquet",
            "--pdf", files[size], "--pdf-format", "grid", "--chunk-size", size, "--no-progress",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(read_catalog(files[7]), read_catalog(files[1000]))


def test_predict_pdf_without_a_head_says_how_to_refit(tmp_path, catalog):
    model = tmp_path / "plain.skz"
    assert run("fit", catalog, "--bands", "UBVRI", *LABELS, *NET, "-o", model).exit_code == 0
    out, pdf = tmp_path / "pred.parquet", tmp_path / "pdf.parquet"
    result = run("predict", model, catalog, "-o", out, "--pdf", pdf)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error:")
    assert "skphotoz fit" in result.output and "--redshift-pdf" in result.output
    assert not out.exists() and not pdf.exists()  # refused before any work


def test_pdf_options_are_checked_before_any_work(tmp_path, pdf_model, catalog):
    out, pdf = tmp_path / "pred.parquet", tmp_path / "pdf.parquet"
    lone = run("predict", pdf_model, catalog, "-o", out, "--pdf-format", "grid")
    assert lone.exit_code == 2 and "need --pdf PATH" in lone.output
    same = run("predict", pdf_model, catalog, "-o", out, "--pdf", out)
    assert same.exit_code == 2 and "another file than -o OUTPUT" in same.output
    suffix = run("predict", pdf_model, catalog, "-o", out, "--pdf", tmp_path / "pdf.txt")
    assert suffix.exit_code == 1 and "Cannot tell the format" in suffix.output
    no_id = run("predict", pdf_model, catalog, "-o", out, "--pdf", pdf, "--pdf-id-col", "OBJ")
    assert no_id.exit_code == 1 and "has no column(s) ['OBJ']" in no_id.output
    assert not out.exists() and not pdf.exists()


def test_youden_thresholded_model_writes_pdfs(tmp_path, catalog):
    """YoudenThresholdCV passes predict_pdf through, so --threshold youden keeps the PDF."""
    # Row 31 has one observed band: the inner CV gives it no score, and the
    # threshold is learnt on the galaxies that are scored.
    model = tmp_path / "youden.skz"
    fitted = run(
        "fit", catalog, "--bands", "UBVRI", *LABELS, "--epochs", "1", "--base-units", "8",
        "--threshold", "youden", "--redshift-pdf", "mixture", "-o", model,
    )  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    estimator = load_model(model)["estimator"]
    assert type(estimator).__name__ == "YoudenThresholdCV"
    pred, quantiles = _predict_quantiles(model, catalog, tmp_path, ".ecsv")
    assert quantiles["ID"].tolist() == pred["ID"].tolist()
    values = quantiles[pdf_columns("quantiles")].to_numpy()
    assert np.isnan(values[NO_PDF]).all()  # ECSV keeps NaN rows NaN
    assert np.isfinite(np.delete(values, NO_PDF, axis=0)).all()
    X = read_catalog(catalog)[[f"UBVRI_{j}" for j in range(5)]].iloc[:3]
    np.testing.assert_allclose(
        values[:3], _quantiles_of(estimator, X), rtol=1e-6, atol=1e-6
    )  # the wrapped network's own p(z)


def _quantiles_of(estimator, X):
    from skphotoz.pdf import pdf_quantiles

    pdf = estimator.estimator_.predict_pdf(X)
    return pdf_quantiles(estimator.z_grid_, pdf, PDF_QUANTILE_LEVELS).astype(np.float32)


def test_pdf_output_respects_overwrite(tmp_path, pdf_model, catalog):
    out, pdf = tmp_path / "pred.parquet", tmp_path / "pdf.parquet"
    pdf.write_text("an earlier file")
    refused = run("predict", pdf_model, catalog, "-o", out, "--pdf", pdf)
    assert refused.exit_code == 1 and f"{pdf} exists; pass --overwrite" in refused.output
    assert not out.exists() and pdf.read_text() == "an earlier file"  # nothing written
    args = ("predict", pdf_model, catalog, "-o", out, "--pdf", pdf, "--no-progress")
    assert run(*args, "--overwrite").exit_code == 0
    assert len(read_catalog(pdf)) == 80
    again = run(*args)  # both outputs exist now
    assert again.exit_code == 1 and f"{out} exists; pass --overwrite" in again.output
    assert run(*args, "--overwrite", "--pdf-format", "grid").exit_code == 0
    assert len(_value_columns(read_catalog(pdf), "pdf_")) == 200


def test_imputing_ensemble_pdf_and_the_readme_recipes(tmp_path, catalog):
    """An --uncertainty --impute model's mixed PDF, read back into qp as README.md shows."""
    qp = pytest.importorskip("qp")
    from skphotoz.pdf import to_qp_ensemble

    model = tmp_path / "ens.skz"
    fitted = run(
        "fit", catalog, "--bands", "UBVRI", *LABELS, *NET, "--uncertainty", "2", "--impute",
        "--redshift-pdf", "bins", "-o", model,
    )  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    for fmt in ("quantiles", "grid"):
        result = run(
            "predict", model, catalog, "-o", tmp_path / f"p_{fmt}.fits",
            "--pdf", tmp_path / f"{fmt}.parquet", "--pdf-format", fmt, "--no-progress",
        )  # fmt: skip
        assert result.exit_code == 0, result.output

    # README.md, "Redshift PDFs from the command line"
    q = read_catalog(tmp_path / "quantiles.parquet")
    cols = [c for c in q.columns if c.startswith("z_q")]
    levels = np.array([float("0." + c[3:]) for c in cols])  # z_q025 -> 0.025
    q = q.dropna(subset=cols)  # rows without a prediction have no PDF
    ens = qp.Ensemble(qp.quant, data={"quants": levels, "locs": q[cols].to_numpy(np.float64)})
    g = read_catalog(tmp_path / "grid.parquet")
    cols = [c for c in g.columns if c.startswith("pdf_")]
    z_grid = np.array([float(c[4:]) for c in cols])  # pdf_0.4512 -> z = 0.4512
    g = g.dropna(subset=cols)
    grid_ens = to_qp_ensemble(z_grid, g[cols].to_numpy(np.float64))

    # Behind the imputer one observed band is enough (row 31), none is not (row 30).
    predicted = read_catalog(tmp_path / "p_grid.fits")["z_phot"].notna()
    assert predicted.sum() == 79 and not predicted[30]
    assert ens.npdf == grid_ens.npdf == 79
    assert (
        q["catalog_row"].tolist()
        == g["catalog_row"].tolist()
        == predicted[predicted].index.tolist()
    )
    # Both files describe the same p(z): their medians agree to a grid step.
    step = np.diff(z_grid).max()
    np.testing.assert_allclose(
        ens.median().ravel(), grid_ens.median().ravel(), atol=2 * step, rtol=0
    )


def test_help_texts_name_the_pdf_options():
    fit_help = " ".join(run("fit", "--help").output.split())
    assert "--redshift-pdf [mixture|bins]" in fit_help and "predict --pdf" in fit_help
    predict_help = " ".join(run("predict", "--help").output.split())
    for words in (
        "--pdf FILE",
        "--pdf-format [quantiles|grid]",
        "--pdf-id-col",
        "52 bytes",
        "800 bytes",
        "catalog_row",
        "never left out",
        "--overwrite covers both files",
    ):
        assert words in predict_help, words
