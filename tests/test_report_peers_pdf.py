"""The report's peers on the same folds (paired differences) and its redshift-PDF section."""

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from skphotoz import model_selection
from skphotoz.baselines import GradientBoostingPair, IndependentPair, SequentialPair
from skphotoz.catalogs import write_catalog
from skphotoz.cli import main
from skphotoz.model_selection import evaluate_predictions
from skphotoz.nn.factory import make_model
from skphotoz.reporting import run
from skphotoz.reporting.html import PEER_FIGURES, paired_comparison, write_report

from .conftest import make_joint_sample, report_sample


def _noisier(predictions, seed, scale=0.05):
    rng = np.random.default_rng(seed)
    return predictions.assign(
        p_late=np.clip(predictions["p_late"] + rng.normal(0, 0.1, len(predictions)), 0, 1),
        z_phot=predictions["z_phot"] + rng.normal(0, scale, len(predictions)),
    )


def _gaussian_pdfs(z_center, sigma, z_grid):
    return stats.norm.pdf(z_grid[None, :], np.asarray(z_center)[:, None], sigma)


# ---------------------------------------------------------------- peers
def test_resolve_peers():
    assert run.resolve_peers("hgb pair, RF PAIR,separate networks") == run.DEFAULT_PEERS
    assert run.resolve_peers(["SequentialPair", "sequentialpair"]) == ("SequentialPair",)
    assert run.resolve_peers("none") == run.resolve_peers(None) == run.resolve_peers([]) == ()
    with pytest.raises(ValueError, match=r"Unknown peer\(s\) \['XGB'\]"):
        run.resolve_peers("HGB pair,XGB")


def test_peer_estimators_follow_the_network():
    network = make_model(
        epochs=7, base_units=(16,), impute=True, redshift_pdf="mixture", random_state=3
    )
    peers = run.peer_estimators(list(run.PEERS), network, gappy=True, random_state=3)
    assert list(peers) == list(run.PEERS)
    assert isinstance(peers["HGB pair"], GradientBoostingPair)  # takes NaN itself
    assert peers["HGB pair"].random_state == 3
    assert isinstance(peers["RF pair"][-1], IndependentPair)
    assert peers["RF pair"][0].add_indicator
    # the report's network (imputer included), split in two and without the PDF head
    separate = peers["separate networks"]
    assert [name for name, _ in separate.steps] == [name for name, _ in network.steps]
    params = separate[-1].get_params()
    assert not params["shared_base"] and not params["feed_class_probability"]
    assert params["redshift_pdf"] is None and network[-1].redshift_pdf == "mixture"
    assert params["epochs"] == 7 and params["base_units"] == (16,)
    sequential = peers["SequentialPair"][-1]
    assert isinstance(sequential, SequentialPair)
    assert (sequential.epochs, sequential.base_units, sequential.base_dropout) == (7, (16,), "auto")
    # complete photometry: no imputer in front of the peers that refuse NaN
    complete = run.peer_estimators(["RF pair", "SequentialPair"], network[-1], gappy=False)
    assert isinstance(complete["RF pair"], IndependentPair)
    assert isinstance(complete["SequentialPair"], SequentialPair)


def test_paired_comparison_resamples_the_systems_together():
    _, y, predictions = report_sample(120)
    types, z_spec = y["type"].to_numpy(), y["redshift"].to_numpy()
    systems = {
        "net": predictions,
        "same": predictions.copy(),
        "noisier": _noisier(predictions, 1),
    }
    table = paired_comparison(types, z_spec, systems, n_bootstrap=30, random_state=4)
    assert list(table.columns) == ["value", "error", "difference", "difference_error"]
    assert table.loc["net", ["difference", "difference_error"]].isna().all().all()
    # the same predictions differ by exactly 0 in every resample
    assert (table.loc["same", "difference"] == 0).all()
    assert (table.loc["same", "difference_error"] == 0).all()
    # the reference's figures and errors are evaluate_predictions' own
    frame = pd.DataFrame({"type": types, "z_spec": z_spec, **predictions})
    metrics = evaluate_predictions(frame, n_bootstrap=30, random_state=4).metrics
    np.testing.assert_allclose(table.loc["net", "value"], metrics.loc[list(PEER_FIGURES), "value"])
    np.testing.assert_allclose(table.loc["net", "error"], metrics.loc[list(PEER_FIGURES), "error"])
    noisier = table.loc["noisier"]
    np.testing.assert_allclose(
        noisier["difference"], noisier["value"] - table.loc["net", "value"], atol=1e-12
    )
    # pairing: the noisier system's scatter is shared with the network's, so
    # the difference is known better than the two errors added in quadrature
    spread = np.hypot(noisier.loc["sigma_nmad", "error"], table.loc[("net", "sigma_nmad"), "error"])
    assert noisier.loc["sigma_nmad", "difference_error"] < spread


def _images(html):
    return re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)


def test_report_peers_table(tmp_path):
    X, y, predictions = report_sample(80)
    peers = {"HGB pair": _noisier(predictions, 1), "separate networks": _noisier(predictions, 2)}
    html = write_report(
        tmp_path,
        X,
        y,
        predictions,
        peer_predictions=peers,
        peer_notes=["HGB pair: a gradient-boosting pair.", "RF pair: left out, 2 galaxies."],
        n_bootstrap=20,
    ).read_text()
    section = html[html.index("<h2>Peers on the same folds (paired differences)") :]
    for text in [
        "<th>JointMorphZ</th>",
        "<th>HGB pair</th>",
        "<th>HGB pair − JointMorphZ</th>",
        "<th>separate networks − JointMorphZ</th>",
        "sigma_NMAD",
        "true ET rate (p_J)",
        "RF pair: left out, 2 galaxies.",
    ]:
        assert text in section, text
    assert re.search(r"<td>[+-]\d\.\d{4} ± \d\.\d{4}</td>", section)
    assert len(_images(html)) == 4  # a table, no figure
    table = pd.read_csv(tmp_path / "peers.csv", index_col=["system", "figure"])
    assert list(dict.fromkeys(table.index.get_level_values(0))) == [
        "JointMorphZ",
        "HGB pair",
        "separate networks",
    ]
    assert set(table.loc["HGB pair"].index) == set(PEER_FIGURES)
    assert table.loc["HGB pair", "difference_error"].notna().all()


def test_report_without_peers_has_no_peers_table(tmp_path):
    X, y, predictions = report_sample(60)
    html = write_report(tmp_path, X, y, predictions, n_bootstrap=20).read_text()
    assert "Peers on the same folds" not in html and not (tmp_path / "peers.csv").exists()


# ---------------------------------------------------------------- redshift PDFs
def test_report_pdf_section(tmp_path):
    X, y, predictions = report_sample(80)
    z_grid = np.linspace(0.0, 1.6, 161)
    pdf = _gaussian_pdfs(predictions["z_phot"], 0.05, z_grid)  # the true scatter: calibrated
    html = write_report(
        tmp_path, X, y, predictions, pdf_predictions=(z_grid, pdf), n_bootstrap=20
    ).read_text()
    section = html[html.index("<h2>Redshift PDFs (PIT, coverage)") :]
    for name in ("pdf_pit_histogram", "pdf_coverage"):
        assert (tmp_path / f"{name}.png").stat().st_size > 5000, name
        assert f'alt="{name}"' in section, name
    assert re.search(r"Kolmogorov-Smirnov \d\.\d{4}, Cramér-von Mises \d\.\d{4}", section)
    assert "crps" in section and "coverage_68" in section
    metrics = pd.read_csv(tmp_path / "pdf_metrics.csv", index_col=0)["JointMorphZ"]
    assert 0.5 < metrics["coverage_68"] < 0.85 and metrics["pit_ks"] < 0.2
    assert len(_images(html)) == 6


def test_coverage_plot_follows_the_diagonal_for_calibrated_pdfs():
    from skphotoz.reporting.plots import plot_interval_coverage

    rng = np.random.default_rng(0)
    z_spec = rng.uniform(0.3, 1.0, 2000)
    z_phot = z_spec + rng.normal(0, 0.05, 2000)
    z_grid = np.linspace(0.0, 1.4, 281)
    fig = plot_interval_coverage(z_spec, z_grid, _gaussian_pdfs(z_phot, 0.05, z_grid))
    levels, coverage = fig.axes[0].lines[1].get_data()
    assert levels[0] == pytest.approx(0.05) and levels[-1] == pytest.approx(0.95)
    np.testing.assert_allclose(coverage, levels, atol=0.04)


# ---------------------------------------------------------------- the whole run
def test_run_report_predicts_peers_and_pdfs_on_the_network_folds(tmp_path, monkeypatch):
    X, y, _ = report_sample(60, seed=2)
    folds, engines = [], []
    for name in ("cross_val_predict_joint", "cross_val_predict_pdf"):
        engine = getattr(model_selection, name)

        def spy(*args, engine=engine, name=name, **kwargs):
            folds.append([(list(a), list(b)) for a, b in kwargs["cv"]])
            engines.append((name, kwargs.get("return_joint", False)))
            return engine(*args, **kwargs)

        monkeypatch.setattr(model_selection, name, spy)
    path = run.run_report(
        tmp_path,
        X,
        y,
        epochs=1,
        base_units=(8,),
        n_folds=2,
        redshift_pdf="mixture",
        peers=("RF pair",),  # "separate networks" is a JointMorphZ: its path is the network's
        n_bootstrap=10,
    )
    html = path.read_text()
    # the network (points and PDFs from one training of the folds) and the
    # peer: one set of folds
    assert engines == [("cross_val_predict_pdf", True), ("cross_val_predict_joint", False)]
    assert all(f == folds[0] for f in folds)
    assert "redshift-PDF head mixture" in html
    assert "<th>RF pair − JointMorphZ</th>" in html and "random-forest" in html
    peers = pd.read_csv(tmp_path / "peers.csv")
    assert peers["system"].unique().tolist() == ["JointMorphZ", "RF pair"]
    for name in ("pdf_pit_histogram", "pdf_coverage"):
        assert (tmp_path / f"{name}.png").stat().st_size > 5000 and f'alt="{name}"' in html


# ---------------------------------------------------------------- the command line
@pytest.fixture
def catalog(tmp_path):
    X, _, types, redshift = make_joint_sample(n=100, seed=1)
    path = tmp_path / "cat.fits"
    write_catalog(pd.DataFrame(X, columns=list("ugriz")).assign(TYPE=types, Z=redshift), path)
    return path


def test_cli_report_peers_and_redshift_pdf_options(tmp_path, catalog, monkeypatch):
    calls = []

    def fake_run_report(output_dir, X, y, **kwargs):
        calls.append(kwargs)
        path = output_dir / "report.html"
        path.write_text("<html></html>")
        return path

    monkeypatch.setattr(run, "run_report", fake_run_report)
    base = ["report", str(catalog), "--bands", "u,g,r,i,z", "--type-col", "TYPE", "--z-col", "Z"]

    def invoke(*extra, out="rep"):
        args = [*base, *extra, "--overwrite", "-o", str(tmp_path / out)]
        return CliRunner().invoke(main, args)

    result = invoke()
    assert result.exit_code == 0, result.output
    assert calls[-1]["peers"] == run.DEFAULT_PEERS and calls[-1]["redshift_pdf"] is None
    result = invoke("--peers", "none", "--redshift-pdf", "mixture")
    assert result.exit_code == 0, result.output
    assert calls[-1]["peers"] == () and calls[-1]["redshift_pdf"] == "mixture"
    result = invoke("--peers", "hgb pair,SequentialPair", "--redshift-pdf", "bins")
    assert result.exit_code == 0, result.output
    assert calls[-1]["peers"] == ("HGB pair", "SequentialPair")
    assert calls[-1]["redshift_pdf"] == "bins"
    n_calls = len(calls)
    bad_peer = invoke("--peers", "HGB pair,XGB", out="bad")
    assert bad_peer.exit_code == 2 and "--peers: Unknown peer(s) ['XGB']" in bad_peer.output
    bad_pdf = invoke("--redshift-pdf", "gauss", out="bad")
    assert bad_pdf.exit_code == 2 and "--redshift-pdf" in bad_pdf.output
    assert len(calls) == n_calls and not (tmp_path / "bad").exists()
    help_text = CliRunner().invoke(main, ["report", "--help"]).output
    assert "--peers" in help_text and "--redshift-pdf" in help_text
