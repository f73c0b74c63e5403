"""The main job, end to end: ``skphotoz demo`` and the quickstart example."""

import importlib.util
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from skphotoz.cli import main
from skphotoz.datasets import load_demo

ROOT = Path(__file__).resolve().parent.parent


def test_demo_sample_is_complete_and_labelled():
    bunch = load_demo()
    assert bunch.data.shape == (9987, 8)
    assert list(bunch.data.columns) == ["u", "g", "r", "i", "z", "J", "H", "Ks"]
    assert bunch.data.notna().all().all()
    assert set(bunch.target["type"]) == {"ET", "LT"}
    early = (bunch.target["type"] == "ET").mean()
    assert 0.05 < early < 0.8
    assert bunch.target["redshift"].between(0, 1).all()
    # ET labels come from the elliptical being the best template
    assert (bunch.frame.loc[bunch.target["type"] == "ET", "best_template"] == 0).all()
    X, y = load_demo(n_samples=50, random_state=3, return_X_y=True)
    X2, _ = load_demo(n_samples=50, random_state=3, return_X_y=True)
    assert X.equals(X2) and len(y) == 50


def test_demo_command_writes_metrics_and_plots(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        main, ["demo", "-o", str(out), "--n-galaxies", "300", "--epochs", "2"]
    )
    assert result.exit_code == 0, result.output
    for word in [
        "accuracy",
        "true_early_type_rate",
        "roc_auc",
        "sigma_nmad",
        "outlier_fraction",
        "residual_slope",
    ]:
        assert word in result.output
    for name in ["zphot_vs_zspec.png", "roc.png", "metrics.csv"]:
        assert (out / name).stat().st_size > 1000 or name == "metrics.csv"
    metrics = pd.read_csv(out / "metrics.csv", index_col=0)["JointMorphZ"]
    assert 0 <= metrics["accuracy"] <= 1 and metrics["mse"] >= 0


def test_help_is_readable():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "demo" in result.output
    result = CliRunner().invoke(main, ["demo", "--help"])
    assert "--n-galaxies" in result.output


def test_quickstart_example_runs(capsys):
    spec = importlib.util.spec_from_file_location("quickstart", ROOT / "examples" / "quickstart.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.main(n_galaxies=300, epochs=2)
    assert model.n_epochs_ == 2
    printed = capsys.readouterr().out
    assert "JointMorphZ" in printed and "two random forests" in printed


def test_compare_command_prints_both_estimators(tmp_path):
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        main, ["compare", "-o", str(out), "--n-galaxies", "300", "--epochs", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "JointMorphZ" in result.output and "SED templates" in result.output
    assert "n_outliers" in result.output and "residual_slope" in result.output
    table = pd.read_csv(out / "compare_metrics.csv", index_col=0)
    assert list(table.columns) == ["JointMorphZ", "SED templates"]
    for name in ["compare_zphot_vs_zspec.png", "compare_residuals.png"]:
        assert (out / name).stat().st_size > 5000
