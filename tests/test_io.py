"""Catalog I/O: formats, band selection, flux conversion, sentinels, saved models, predict."""

import joblib
import numpy as np
import pandas as pd
import pytest
from astropy.table import Table
from sklearn.base import BaseEstimator
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

import skphotoz.catalogs.formats as skio
from skphotoz import JointMorphZ
from skphotoz.catalogs.formats import catalog_format, iter_catalog, read_catalog, write_catalog
from skphotoz.catalogs.model_file import load_model, save_model
from skphotoz.catalogs.photometry import catalog_magnitudes, select_bands
from skphotoz.catalogs.predict import accepts_missing_bands, predict_catalog, predict_chunk
from skphotoz.catalogs.training import early_late_labels, read_training_catalog
from skphotoz.preprocessing import SentinelToNaN

from .conftest import TINY, make_joint_sample

BANDS = [f"mag_{b}" for b in "ugriz"]
GAP_TOKENS = ("missing:", "imputed:", "too_few_bands")


def gap_flags(flags):
    """The missing-band tokens of each flag (here and in test_cli). The network's
    own judgements (z_out_of_range, out_of_coverage: a network trained for a few
    epochs predicts z < 0) are tested with the estimator, not here."""
    return (
        pd.Series(flags)
        .fillna("")
        .astype(str)
        .str.strip()
        .map(lambda flag: ";".join(t for t in flag.split(";") if t.startswith(GAP_TOKENS)))
    )


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


@pytest.mark.parametrize("suffix", [".ecsv", ".fits", ".vot", ".parquet", ".csv"])
def test_nan_round_trips_as_nan_in_every_format(tmp_path, suffix):
    """A NaN z_phot, or a NaN PDF row (float32), reads back NaN, never as 0.0.

    ECSV writes NaN as an empty (masked) field, whose value under astropy's
    mask is 0.0: the reader must take the mask, not the value under it.
    """
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "type": ["LT", "", "ET"],
            "z_phot": [0.31, np.nan, 0.0],  # a real 0.0 stays 0.0
            "z_q50": np.array([np.nan, 0.25, np.nan], dtype=np.float32),
        }
    )
    path = tmp_path / f"pred{suffix}"
    write_catalog(frame, path)
    for back in (read_catalog(path), pd.concat(iter_catalog(path, chunk_size=1))):
        assert np.isnan(back["z_phot"].to_numpy()).tolist() == [False, True, False]
        assert back["z_phot"].iloc[[0, 2]].tolist() == [0.31, 0.0]
        assert np.isnan(back["z_q50"].to_numpy()).tolist() == [True, False, True]
        assert back["z_q50"].iloc[1] == 0.25
        assert back["id"].tolist() == [1, 2, 3]  # unmasked integers stay integers
        assert back["id"].dtype.kind == "i"
        assert back["type"].fillna("").tolist() == ["LT", "", "ET"]


def test_masked_ecsv_integers_and_strings_are_never_a_made_up_value(tmp_path):
    """Masked integers -> a float column with NaN; masked text -> None; in every chunk alike."""
    from astropy.table import MaskedColumn

    table = Table()
    table["n_obs"] = MaskedColumn([5, 7, 9], mask=[False, True, False], dtype=np.int32)
    table["name"] = MaskedColumn(["a", "b", "c"], mask=[True, False, False])
    table["flag"] = MaskedColumn([True, False, True], mask=[False, False, True])
    table["vec"] = MaskedColumn(
        np.arange(6.0).reshape(3, 2), mask=[[False, True], [False, False], [True, False]]
    )
    table["whole"] = [1, 2, 3]
    path = tmp_path / "masked.ecsv"
    table.write(path)
    back = read_catalog(path)
    assert back["n_obs"].dtype == np.float64
    assert np.isnan(back["n_obs"].to_numpy()).tolist() == [False, True, False]
    assert back["n_obs"].iloc[[0, 2]].tolist() == [5.0, 9.0]
    assert back["name"].isna().tolist() == [True, False, False]  # None, or NaN in pandas 3
    assert back["name"].iloc[1:].tolist() == ["b", "c"]
    assert back["flag"].tolist() == [True, False, None]
    assert np.isnan(back[["vec_0", "vec_1"]].to_numpy()).tolist() == [
        [False, True],
        [False, False],
        [True, False],
    ]
    assert back["whole"].dtype.kind == "i"
    # The column's type is the whole table's: a chunk without a masked entry
    # is a float column too, so chunks concatenate and stream alike.
    chunks = list(iter_catalog(path, chunk_size=1))
    assert [c["n_obs"].dtype for c in chunks] == [np.float64] * 3
    assert len({c["name"].dtype for c in chunks}) == 1  # pandas' text type, all None or not
    assert skio.is_text_column(chunks[0]["name"])


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
    frame.loc[3, "mag_z"] = 99.99  # beyond the limit: a placeholder too
    frame.loc[4, BANDS] = [0.0, 99.0, -99.0, np.nan, 999.0]  # nothing observed
    frame.loc[5, BANDS[1:]] = np.nan  # one band observed
    path = tmp_path / "train.fits"
    write_catalog(frame, path)
    # The default keeps every row with an observed band, gaps as NaN.
    data = read_training_catalog(path, ["mag_*"], "TYPE", "ZSPEC", et_values="2", lt_values="5")
    assert len(data.y) == 27 and data.rows.tolist() == [2, 3, *range(5, 30)]
    assert data.dropped == {
        "type value in neither ET nor LT list (column TYPE)": 1,
        "missing or negative redshift (column ZSPEC)": 1,
        "no observed band": 1,
    }
    assert data.X.isna().sum().tolist() == [0, 2, 1, 1, 2]
    assert set(data.y["type"]) == {"ET", "LT"}
    pairs = read_training_catalog(
        path, ["mag_*"], "TYPE", "ZSPEC", et_values="2", lt_values="5", min_observed_bands=2
    )
    assert len(pairs.y) == 26 and pairs.dropped["fewer than 2 observed bands"] == 2
    complete = read_training_catalog(
        path, ["mag_*"], "TYPE", "ZSPEC", et_values="2", lt_values="5", min_observed_bands="all"
    )
    assert len(complete.y) == 24 and complete.X.notna().all().all()
    assert complete.dropped["missing band(s)"] == 4
    with pytest.raises(ValueError, match="min_observed_bands must be a positive integer"):
        read_training_catalog(path, ["mag_*"], "TYPE", "ZSPEC", et_values="2", min_observed_bands=0)


@pytest.fixture(scope="module")
def tiny_model():
    # missing_bands="error": a model that takes no missing band, so those rows are not predicted
    frame = _catalog(60)
    model = JointMorphZ(**TINY, missing_bands="error").fit(frame[BANDS], frame[["TYPE", "ZSPEC"]])
    return {"estimator": model, "bands": BANDS, "unit": "mag", "sentinels": [-99, 99, 0]}


@pytest.mark.parametrize("suffix", [".fits", ".parquet", ".csv"])
def test_predict_catalog_keeps_rows_ids_and_flags_missing(tmp_path, tiny_model, suffix):
    frame = _catalog(23, seed=1)
    frame.loc[4, "mag_u"] = -99.0
    frame.loc[9, "mag_z"] = 0.0
    source, out = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    write_catalog(frame, source)
    counts = predict_catalog(tiny_model, source, out, chunk_size=5, progress=False)
    assert counts["n_rows"] == 23 and counts["n_predicted"] == 21 and counts["n_flagged"] >= 2
    result = read_catalog(out)
    assert result["objid"].tolist() == frame["objid"].tolist()
    assert result["name"].tolist() == frame["name"].tolist()
    for column in ("p_lt", "type", "z_phot", "predict_flag"):
        assert column in result.columns
    flags = gap_flags(result["predict_flag"])
    assert flags[4] == "missing:mag_u" and flags[9] == "missing:mag_z"
    assert (flags.drop([4, 9]) == "").all()
    assert np.isnan(result.loc[[4, 9], "z_phot"]).all()
    # the chunked predictions equal one in-memory call on the good rows
    good = frame.drop(index=[4, 9])
    expected = tiny_model["estimator"].predict_proba(good[BANDS])[:, 1]
    np.testing.assert_allclose(result.drop(index=[4, 9])["p_lt"], expected, rtol=1e-5)
    assert set(result.drop(index=[4, 9])["type"].str.strip()) <= {"ET", "LT"}


def test_model_that_takes_missing_bands_predicts_and_flags_them(tmp_path):
    frame = _catalog(60)
    net = JointMorphZ(**TINY).fit(frame[BANDS], frame[["TYPE", "ZSPEC"]])
    model = {"estimator": net, "bands": BANDS, "unit": "mag", "sentinels": None}
    target = _catalog(12, seed=1)
    target.loc[4, "mag_u"], target.loc[9, "mag_z"] = -99.0, 0.0
    write_catalog(target, tmp_path / "in.parquet")
    counts = predict_catalog(model, tmp_path / "in.parquet", tmp_path / "out.csv", progress=False)
    assert counts["n_rows"] == 12 and counts["n_predicted"] == 12 and counts["n_flagged"] >= 2
    result = read_catalog(tmp_path / "out.csv")
    flags = gap_flags(result["predict_flag"])
    assert flags[4] == "missing:mag_u" and flags[9] == "missing:mag_z"
    assert (flags.drop([4, 9]) == "").all()
    expected = net.predict_joint(catalog_magnitudes(target, BANDS))
    np.testing.assert_allclose(result["z_phot"], expected["z_phot"], rtol=1e-5)


def test_row_without_an_observed_band_gets_no_number_from_any_model():
    frame = _catalog(60)
    frame.loc[[5, 6], "mag_u"] = np.nan
    target = _catalog(6, seed=2)
    target.loc[2, BANDS] = [-99.0, 99.0, 0.0, 99.99, np.nan]  # nothing observed
    target.loc[4, BANDS[1:]] = -99.0  # only mag_u
    everything = ";".join(["missing:" + ",".join(BANDS), "too_few_bands"])
    one_band = "missing:" + ",".join(BANDS[1:])
    native = JointMorphZ(**TINY).fit(frame[BANDS], frame[["TYPE", "ZSPEC"]])
    imputing = make_pipeline(SimpleImputer(add_indicator=True), JointMorphZ(**TINY))
    imputing.fit(frame[BANDS], frame[["TYPE", "ZSPEC"]])
    for estimator in (native, imputing):
        model = {"estimator": estimator, "bands": BANDS, "unit": "mag", "sentinels": None}
        result = predict_chunk(model, target)
        assert result.loc[2, "predict_flag"] == everything
        assert np.isnan(result.loc[2, ["p_lt", "z_phot"]].astype(float)).all()
        assert result.loc[2, "type"] == ""
        assert result.drop(index=[2, 4])["z_phot"].notna().all()
    # one band: the network gives no number, an imputer fills the other four
    assert result.loc[4, "predict_flag"].startswith("imputed:" + one_band.split(":")[1])
    assert np.isfinite(result.loc[4, "z_phot"])
    native_row = predict_chunk({**model, "estimator": native}, target).loc[4]
    assert native_row["predict_flag"].startswith(one_band + ";too_few_bands")
    assert np.isnan(native_row["z_phot"])


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
    assert gap_flags(result["predict_flag"])[3] == "imputed:mag_g"
    assert result["z_phot"].notna().all()
    # a pickle is format 1: refused unless trusted, and then it must hold a model
    joblib.dump([1, 2], tmp_path / "junk.skz")
    with pytest.raises(ValueError, match="format 1"):
        load_model(tmp_path / "junk.skz")
    with pytest.raises(ValueError, match="not a skphotoz model file"):
        load_model(tmp_path / "junk.skz", allow_pickle=True)


class JointRule(BaseEstimator):
    """A model that declares predict_joint and has no predict or predict_proba at all."""

    def fit(self, X, y=None):
        self.classes_ = np.array(["ET", "LT"])
        self.feature_names_in_ = np.asarray(getattr(X, "columns", []), dtype=object)
        return self

    def predict_joint(self, X):
        index = X.index if isinstance(X, pd.DataFrame) else None
        X = np.asarray(X, float)
        p = 1 / (1 + np.exp(X[:, 0] - X[:, -1]))
        return pd.DataFrame(
            {
                "p_late": p,
                "type": np.where(p >= 0.5, "LT", "ET"),
                "z_phot": X[:, 1] / 40,
                "p_late_err": 0.1,
                "z_phot_err": 0.02,
                "flags": np.where(X[:, 1] > 23, "faint", ""),
            },
            index=index,
        )


def test_uncertainty_columns_written_when_model_has_them(tmp_path):
    frame = _catalog(6)
    model = {"estimator": JointRule().fit(frame[BANDS]), "bands": BANDS, "unit": "mag"}
    model["sentinels"] = [-99]
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


def test_predict_joint_is_used_and_its_flags_appended(tmp_path):
    frame = _catalog(10)
    frame.loc[2, "mag_g"], frame.loc[5, "mag_g"] = 23.5, 23.5
    frame.loc[5, "mag_u"] = -99.0
    model = {"estimator": JointRule().fit(frame[BANDS]), "bands": BANDS, "unit": "mag"}
    model["sentinels"] = None
    write_catalog(frame, tmp_path / "in.parquet")
    counts = predict_catalog(model, tmp_path / "in.parquet", tmp_path / "out.fits", progress=False)
    assert counts == {"n_rows": 10, "n_predicted": 9, "n_flagged": 2}
    result = read_catalog(tmp_path / "out.fits")
    assert list(result.columns[-6:]) == [
        "p_lt",
        "type",
        "z_phot",
        "p_lt_err",
        "z_phot_err",
        "predict_flag",
    ]
    flags = result["predict_flag"].str.strip()
    assert flags[2] == "faint" and flags[5] == "missing:mag_u" and (flags.drop([2, 5]) == "").all()
    good = frame.drop(index=5)
    expected = 1 / (1 + np.exp(good["mag_u"] - good["mag_z"]))
    np.testing.assert_allclose(result.drop(index=5)["p_lt"], expected)
    np.testing.assert_allclose(result.drop(index=5)["z_phot"], good["mag_g"] / 40)
    np.testing.assert_allclose(result.drop(index=5)["z_phot_err"], 0.02)
    assert np.isnan(result.loc[5, ["p_lt", "z_phot", "z_phot_err"]].astype(float)).all()

    # In a Pipeline whose first step takes NaN, the final step's predict_joint sees the
    # transformed bands, the row with a missing band is predicted, and both flags are kept.
    pipe = make_pipeline(SimpleImputer().fit(frame[BANDS]), model["estimator"])
    model = {**model, "estimator": pipe}
    predict_catalog(model, tmp_path / "in.parquet", tmp_path / "out.csv", progress=False)
    result = read_catalog(tmp_path / "out.csv")
    assert result.loc[5, "predict_flag"] == "imputed:mag_u;faint"
    assert result["z_phot"].notna().all()


def test_accepts_missing_bands_reads_the_allow_nan_tag():
    strict = JointMorphZ(missing_bands="error")
    assert accepts_missing_bands(JointMorphZ()) and not accepts_missing_bands(strict)
    # sklearn does not pass allow_nan through a Pipeline: its first step decides
    assert accepts_missing_bands(make_pipeline(SimpleImputer(), strict))
    assert accepts_missing_bands(make_pipeline(SentinelToNaN(), SimpleImputer(), strict))
    assert not accepts_missing_bands(make_pipeline(strict))
