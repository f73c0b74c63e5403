"""Catalog I/O: formats, band selection, flux conversion, sentinels, saved models, predict."""

import joblib
import numpy as np
import pandas as pd
import pytest
from astropy.table import Table
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

import skphotoz.catalogs.formats as skio
from skphotoz import JointMorphZ
from skphotoz.catalogs.formats import (
    catalog_format,
    early_late_labels,
    find_error_columns,
    iter_catalog,
    read_catalog,
    read_training_catalog,
    select_bands,
    to_ab_magnitudes,
    write_catalog,
)
from skphotoz.catalogs.model_file import load_model, predict_catalog, save_model

from .conftest import TINY, make_joint_sample

BANDS = [f"mag_{b}" for b in "ugriz"]


def _catalog(n=40, seed=0):
    X, _, types, redshift = make_joint_sample(n=n, seed=seed)
    frame = pd.DataFrame(X, columns=BANDS)
    frame.insert(0, "objid", np.arange(1000, 1000 + n)[::-1])  # IDs not in sorted order
    frame.insert(1, "name", [f"gal{i}" for i in range(n)])
    frame["TYPE"] = types
    frame["ZSPEC"] = redshift
    return frame


@pytest.mark.parametrize("suffix", [".fits", ".parquet", ".csv", ".ecsv", ".vot"])
def test_round_trip_every_format(tmp_path, suffix):
    frame = _catalog(12)
    path = tmp_path / f"cat{suffix}"
    write_catalog(frame, path)
    back = read_catalog(path)
    assert list(back.columns) == list(frame.columns)
    assert back["objid"].tolist() == frame["objid"].tolist()
    assert back["name"].tolist() == frame["name"].tolist()
    np.testing.assert_allclose(back[BANDS].to_numpy(), frame[BANDS].to_numpy())
    with pytest.raises(FileExistsError):
        write_catalog(frame, path)


def test_unknown_format_is_named():
    assert catalog_format("a.FITS") == "fits" and catalog_format("b.pq") == "parquet"
    with pytest.raises(ValueError, match="Cannot tell the format"):
        catalog_format("catalog.txt")


def test_fits_vector_columns_are_split_and_chunks_keep_order(tmp_path):
    table = Table()
    table["id"] = np.arange(25)
    table["UBVRI"] = np.arange(125, dtype=float).reshape(25, 5)
    path = tmp_path / "vec.fits"
    table.write(path)
    chunks = list(iter_catalog(path, chunk_size=7))
    assert [len(c) for c in chunks] == [7, 7, 7, 4]
    frame = pd.concat(chunks, ignore_index=True)
    assert frame["id"].tolist() == list(range(25))
    assert select_bands(frame.columns, ["UBVRI"]) == [f"UBVRI_{j}" for j in range(5)]
    assert frame["UBVRI_3"].tolist()[:2] == [3.0, 8.0]
    assert skio.count_rows(path) == 25


def test_parquet_chunks(tmp_path):
    frame = _catalog(30)
    path = tmp_path / "cat.parquet"
    write_catalog(frame, path)
    chunks = list(iter_catalog(path, chunk_size=8))
    assert [len(c) for c in chunks] == [8, 8, 8, 6]
    assert skio.count_rows(path) == 30


def test_select_bands_by_name_glob_and_error():
    columns = ["id", "mag_u", "mag_g", "magerr_u", "r", "Z"]
    assert select_bands(columns, ["mag_*"]) == ["mag_u", "mag_g"]
    assert select_bands(columns, ["r", "mag_u"]) == ["r", "mag_u"]
    with pytest.raises(ValueError, match=r"\['K'\] match no column"):
        select_bands(columns, ["r", "K"])


def test_find_error_columns():
    columns = ["u", "du", "mag_r", "magerr_r", "g", "g_err", "i", "i_ivar", "z"]
    found = find_error_columns(columns, ["u", "mag_r", "g", "i", "z"])
    assert found == {
        "u": ("du", "sigma"),
        "mag_r": ("magerr_r", "sigma"),
        "g": ("g_err", "sigma"),
        "i": ("i_ivar", "ivar"),
    }


def test_flux_conversions_by_hand():
    # 1 nanomaggy = 22.5 AB; 1e-8 maggies = 20; 3631 Jy = 0; 1 uJy = 23.9; 1 nJy = 31.4
    mags, _ = to_ab_magnitudes([[1.0]], "nanomaggies")
    assert mags[0, 0] == pytest.approx(22.5)
    assert to_ab_magnitudes([[1e-8]], "maggies")[0][0, 0] == pytest.approx(20.0)
    assert to_ab_magnitudes([[3631.0]], "jy")[0][0, 0] == pytest.approx(0.0, abs=1e-3)
    assert to_ab_magnitudes([[1.0]], "ujy")[0][0, 0] == pytest.approx(23.9)
    assert to_ab_magnitudes([[1.0]], "njy")[0][0, 0] == pytest.approx(31.4)
    # errors: sigma_m = 1.0857 * sigma_f / f; ivar = 1 / sigma^2
    _, err = to_ab_magnitudes([[100.0]], "nanomaggies", errors=[[1.0]])
    assert err[0, 0] == pytest.approx(2.5 / np.log(10) * 0.01)
    _, err = to_ab_magnitudes([[100.0]], "nanomaggies", errors=[[0.25]], error_kind="ivar")
    assert err[0, 0] == pytest.approx(2.5 / np.log(10) * 2.0 / 100.0)
    # non-positive fluxes are missing, not -inf
    mags, _ = to_ab_magnitudes([[0.0, -3.0, np.nan]], "nanomaggies")
    assert np.isnan(mags).all()
    with pytest.raises(ValueError, match="Unknown unit"):
        to_ab_magnitudes([[1.0]], "erg")


def test_magnitude_sentinels():
    mags, err = to_ab_magnitudes(
        [[20.0, -99.0, 99.0, 0.0, np.inf]], errors=[[0.1, 0.0, 0.1, 0.1, 0.1]]
    )
    assert mags[0, 0] == 20.0 and np.isnan(mags[0, 1:]).all()
    assert err[0, 0] == 0.1 and np.isnan(err[0, 1:]).all()
    custom, _ = to_ab_magnitudes([[0.0, 30.0, 99.99]], sentinels=(30.0,))
    assert custom[0, 0] == 0.0 and np.isnan(custom[0, 1:]).all()


def test_type_mapping():
    labels = early_late_labels([2.0, 4.0, 5.0, 6.0, 2.0], et_values="2", lt_values="4,5")
    assert labels.tolist() == ["ET", "LT", "LT", None, "ET"]
    assert early_late_labels(["E", "S", "S"], et_values=["E"]).tolist() == ["ET", "LT", "LT"]
    assert early_late_labels([0, 1, 1]).tolist() == ["ET", "LT", "LT"]
    with pytest.raises(ValueError, match="--et-values"):
        early_late_labels([2, 4, 5])
    with pytest.raises(ValueError, match="both ET and LT"):
        early_late_labels([2, 4], et_values="2", lt_values="2,4")


def test_read_training_catalog_counts_what_it_leaves_out(tmp_path):
    frame = _catalog(30)
    frame["TYPE"] = np.where(frame["TYPE"] == "ET", 2, 5)
    frame.loc[0, "TYPE"] = 6
    frame.loc[1, "ZSPEC"] = -99.0
    frame.loc[2, "mag_g"] = -99.0
    frame.loc[3, "mag_z"] = 99.0
    path = tmp_path / "train.fits"
    write_catalog(frame, path)
    data = read_training_catalog(path, ["mag_*"], "TYPE", "ZSPEC", et_values="2", lt_values="5")
    assert len(data.y) == 26 and data.rows.tolist() == list(range(4, 30))
    assert sum(data.dropped.values()) == 4
    assert data.X.notna().all().all() and set(data.y["type"]) == {"ET", "LT"}
    kept = read_training_catalog(
        path, ["mag_*"], "TYPE", "ZSPEC", et_values="2", lt_values="5", keep_missing_bands=True
    )
    assert len(kept.y) == 28 and kept.X.isna().sum().sum() == 2


@pytest.fixture(scope="module")
def tiny_model():
    frame = _catalog(60)
    model = JointMorphZ(**TINY).fit(frame[BANDS], frame[["TYPE", "ZSPEC"]])
    return {"estimator": model, "bands": BANDS, "unit": "mag", "sentinels": [-99, 99, 0]}


@pytest.mark.parametrize("suffix", [".fits", ".parquet", ".csv"])
def test_predict_catalog_keeps_rows_ids_and_flags_missing(tmp_path, tiny_model, suffix):
    frame = _catalog(23, seed=1)
    frame.loc[4, "mag_u"] = -99.0
    frame.loc[9, "mag_z"] = 0.0
    source, out = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    write_catalog(frame, source)
    counts = predict_catalog(tiny_model, source, out, chunk_size=5, progress=False)
    assert counts == {"n_rows": 23, "n_predicted": 21, "n_flagged": 2}
    result = read_catalog(out)
    assert result["objid"].tolist() == frame["objid"].tolist()
    assert result["name"].tolist() == frame["name"].tolist()
    for column in ("p_lt", "type", "z_phot", "predict_flag"):
        assert column in result.columns
    flags = result["predict_flag"].fillna("").astype(str).str.strip()
    assert flags[4] == "missing:mag_u" and flags[9] == "missing:mag_z"
    assert (flags.drop([4, 9]) == "").all()
    assert np.isnan(result.loc[[4, 9], "z_phot"]).all()
    # the chunked predictions equal one in-memory call on the good rows
    good = frame.drop(index=[4, 9])
    expected = tiny_model["estimator"].predict_proba(good[BANDS])[:, 1]
    np.testing.assert_allclose(result.drop(index=[4, 9])["p_lt"], expected, rtol=1e-5)
    assert set(result.drop(index=[4, 9])["type"].str.strip()) <= {"ET", "LT"}


def test_predict_refuses_missing_band_and_names_it(tmp_path, tiny_model):
    frame = _catalog(10).drop(columns="mag_i")
    source = tmp_path / "in.fits"
    write_catalog(frame, source)
    with pytest.raises(ValueError, match=r"lacks the band column\(s\) \['mag_i'\]"):
        predict_catalog(tiny_model, source, tmp_path / "out.fits", progress=False)
    assert not (tmp_path / "out.fits").exists()


def test_saved_model_round_trip_and_imputing_pipeline(tmp_path):
    frame = _catalog(60)
    frame.loc[[5, 6], "mag_u"] = np.nan
    pipe = make_pipeline(SimpleImputer(add_indicator=True), JointMorphZ(**TINY))
    pipe.fit(frame[BANDS], frame[["TYPE", "ZSPEC"]])
    path = tmp_path / "m.skz"
    save_model(path, pipe, BANDS, note="test")
    model = load_model(path)
    assert model["bands"] == BANDS and model["type_labels"] == ["ET", "LT"]
    assert model["note"] == "test" and "skphotoz_version" in model
    target = _catalog(8, seed=2)
    target.loc[3, "mag_g"] = -99.0
    write_catalog(target, tmp_path / "in.parquet")
    predict_catalog(model, tmp_path / "in.parquet", tmp_path / "out.parquet", progress=False)
    result = read_catalog(tmp_path / "out.parquet")
    assert result.loc[3, "predict_flag"] == "imputed:mag_g"
    assert result["z_phot"].notna().all()
    joblib.dump([1, 2], tmp_path / "junk.skz")
    with pytest.raises(ValueError, match="not a skphotoz model file"):
        load_model(tmp_path / "junk.skz")


class _UncertainModel:
    """Stands for a ReplicaEnsemble: a fixed rule with a predict_uncertainty method."""

    classes_ = np.array(["ET", "LT"])
    threshold = 0.5

    def predict_uncertainty(self, X):
        X = np.asarray(X, float)
        p = 1 / (1 + np.exp(X[:, 0] - X[:, -1]))
        return pd.DataFrame(
            {
                "p_late": p,
                "p_late_err": np.full(len(X), 0.1),
                "z_phot": X[:, 1] / 40,
                "z_phot_err": np.full(len(X), 0.02),
            }
        )


def test_uncertainty_columns_written_when_model_has_them(tmp_path):
    model = {"estimator": _UncertainModel(), "bands": BANDS, "unit": "mag", "sentinels": [-99]}
    frame = _catalog(6)
    write_catalog(frame, tmp_path / "in.fits")
    predict_catalog(model, tmp_path / "in.fits", tmp_path / "out.fits", progress=False)
    result = read_catalog(tmp_path / "out.fits")
    np.testing.assert_allclose(result["z_phot_err"], 0.02)
    np.testing.assert_allclose(result["p_lt_err"], 0.1)
    np.testing.assert_allclose(result["z_phot"], frame["mag_g"] / 40)


def test_fits_output_with_columns_numpy_cannot_pack(tmp_path, tiny_model):
    # booleans (FITS "L") and unsigned ints (TZERO) go through astropy's own writer
    frame = _catalog(12)
    frame["is_star"] = np.arange(12) % 3 == 0
    frame["flags"] = np.arange(12, dtype=np.uint32)
    write_catalog(frame, tmp_path / "in.parquet")
    predict_catalog(
        tiny_model, tmp_path / "in.parquet", tmp_path / "out.fits", chunk_size=5, progress=False
    )
    result = read_catalog(tmp_path / "out.fits")
    assert result["is_star"].tolist() == frame["is_star"].tolist()
    assert result["flags"].tolist() == list(range(12))
    assert result["objid"].tolist() == frame["objid"].tolist()
