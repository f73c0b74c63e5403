"""The HTML report: tables by hand, every section present, images embedded and non-empty."""

import re

import numpy as np
import pandas as pd
import pytest

from skphotoz import JointMorphZ
from skphotoz.metrics import outlier_fraction, residual_regression
from skphotoz.reporting.html import (
    guess_r_band,
    outlier_counts,
    residual_table,
    type_statistics,
    write_report,
)
from skphotoz.reporting.plots import plot_data_distribution
from skphotoz.reporting.run import out_of_sample_predictions

from .conftest import TINY, report_sample


def test_type_statistics_by_hand():
    r = [20.0, 21.0, 22.0, 23.0, 24.0]
    z = [0.1, 0.2, 0.3, 0.4, 0.5]
    table = type_statistics(r, z, ["ET", "ET", "LT", "LT", "LT"])
    assert table.loc["ET", "r_median"] == 20.5 and table.loc["ET", "r_iqr"] == 0.5
    assert table.loc["LT", "z_spec_median"] == pytest.approx(0.4)
    assert table.loc["LT", "z_spec_iqr"] == pytest.approx(0.1)
    assert table.loc["Total", "r_median"] == 22.0 and table.loc["Total", "r_iqr"] == 2.0
    assert table["n"].tolist() == [2, 3, 5]


def test_residual_table_matches_metrics_and_has_errors():
    rng = np.random.default_rng(0)
    z_spec = rng.uniform(0.1, 1.2, 300)
    z_phot = z_spec + 0.05 - 0.1 * z_spec + rng.normal(0, 0.03, 300)
    table = residual_table(z_spec, z_phot, n_bootstrap=200, random_state=0)
    intercept, slope = residual_regression(z_spec, z_phot)
    assert table.loc["residual_intercept", "value"] == pytest.approx(intercept)
    assert table.loc["residual_slope", "value"] == pytest.approx(slope)
    dz = z_phot - z_spec
    assert table.loc["mean_delta_z", "value"] == pytest.approx(dz.mean())
    assert table.loc["std_delta_z", "value"] == pytest.approx(dz.std(ddof=1))
    # the bootstrap error of the mean is close to the standard error
    assert table.loc["mean_delta_z", "error"] == pytest.approx(dz.std() / np.sqrt(300), rel=0.3)
    assert (table["error"] > 0).all()


def test_outlier_counts():
    z_spec = np.array([0.1, 0.5, 1.0, 1.5])
    z_phot = np.array([0.1, 0.5, 1.5, 1.5])  # one |dz|/(1+z) = 0.25 outlier
    table = outlier_counts(z_spec, {"net": z_phot})
    assert table.loc["net", "n_outliers"] == 1
    assert table.loc["net", "outlier_fraction"] == outlier_fraction(z_spec, z_phot)


def test_guess_r_band():
    assert guess_r_band(["u", "g", "r"]) == "r"
    assert guess_r_band(["sdss_u", "sdss_r"]) == "sdss_r"
    assert guess_r_band(["U", "B", "V", "R", "I"]) == "R"
    assert guess_r_band(["UBVRI_0", "UBVRI_1"]) is None


def test_data_distribution_plot(tmp_path):
    path = tmp_path / "fig1.png"
    plot_data_distribution(
        [20, 21, 22, 23], [0.1, 0.3, 0.5, 0.9], ["ET", "LT", "LT", "LT"], path=path
    )
    assert path.stat().st_size > 5000


def _images(html):
    return re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)


def test_report_has_every_section_and_embedded_images(tmp_path):
    X, y, predictions = report_sample()
    sed = predictions.assign(z_phot=predictions["z_phot"] + 0.1)
    path = write_report(
        tmp_path / "rep",
        X,
        y,
        predictions,
        sed_predictions=sed,
        n_bootstrap=50,
        notes=["test sample"],
    )
    html = path.read_text()
    for heading in [
        "Data (Fig. 1, Table 1)",
        "Contingency table at 0.5 (Table 3)",
        "Youden's p_J",
        "(Table 5)",
        "Accuracy and true type rates (Table 6)",
        "ROC curve (Fig. 5)",
        "Photometric redshift (Figs. 6-7, Table 7)",
        "JointMorphZ: residuals with 99% confidence and prediction bands",
        "SED templates: residuals",
        "Residual table (Table 7)",
        "Outliers",
        "All metrics (value ± bootstrap error)",
        "test sample",
    ]:
        assert heading in html, heading
    assert "residual_slope" in html and "r_median" in html and "true_early_type_rate" in html
    images = _images(html)
    assert len(images) == 5  # Fig. 1, ROC, Fig. 6, two Fig. 7
    assert all(len(image) > 5000 for image in images)
    for name in [
        "fig1_data_distribution.png",
        "roc.png",
        "fig6_zphot_vs_zspec.png",
        "fig7_residuals_network.png",
        "fig7_residuals_sed.png",
    ]:
        assert (tmp_path / "rep" / name).stat().st_size > 5000, name
    outliers = pd.read_csv(tmp_path / "rep" / "outliers.csv", index_col=0)
    assert list(outliers.index) == ["JointMorphZ", "SED templates"]


def test_report_says_why_sed_and_weights_are_missing(tmp_path):
    X, y, predictions = report_sample(60)
    html = write_report(
        tmp_path,
        X,
        y,
        predictions,
        sed_note="no filters given",
        weight_note="not asked",
        n_bootstrap=20,
    ).read_text()
    assert "SED baseline skipped:</b> no filters given" in html
    assert "not asked" in html and len(_images(html)) == 4


def test_report_with_weight_analysis(tmp_path):
    from sklearn.utils import Bunch

    X, y, predictions = report_sample(60)
    rng = np.random.default_rng(0)
    analysis = Bunch(
        layer_weights=rng.normal(size=65),
        random_neuron_weights=rng.normal(size=50),
        class_weights=rng.normal(1, 0.5, size=50),
        statistics=pd.DataFrame({"median": [0.1]}, index=["class_probability"]),
    )
    html = write_report(tmp_path, X, y, predictions, weight_analysis=analysis, n_bootstrap=20)
    text = html.read_text()
    assert "Q-Q analysis" in text and (tmp_path / "weights_qq.png").stat().st_size > 5000


def test_report_rejects_misaligned_predictions(tmp_path):
    X, y, predictions = report_sample(60)
    with pytest.raises(ValueError, match="59 predictions for 60 galaxies"):
        write_report(tmp_path, X, y, predictions.iloc[:59])


def test_out_of_sample_predictions_cover_every_galaxy():
    X, y, _ = report_sample(60)
    pred = out_of_sample_predictions(JointMorphZ(**TINY), X, y, n_folds=3, random_state=0)
    assert pred.shape == (60, 2) and pred.notna().all().all()
    assert pred["p_late"].between(0, 1).all()
