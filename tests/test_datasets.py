"""Loaders of the real survey samples (skipped when ../shared/data is absent)."""

import numpy as np
import pytest

from skphotoz.datasets import load_cnoc2, load_sdss_2mass, load_vipers


@pytest.mark.parametrize("loader", [load_vipers, load_sdss_2mass, load_cnoc2])
def test_missing_files_give_a_clear_error(tmp_path, loader):
    with pytest.raises(FileNotFoundError, match="data_home"):
        loader(data_home=tmp_path)


def test_vipers(data_home):
    bunch = load_vipers(data_home)
    assert list(bunch.data.columns) == ["g", "r", "i2", "z"]
    assert bunch.data.shape == (2220, 4) and bunch.data.notna().all().all()
    assert bunch.bands[0] == "cfht_megacam_gs_9401"
    # ET is BPZ's template 1 (the CWW elliptical), about 16-18% of the sample
    early = bunch.target["type"] == "ET"
    assert (bunch.frame.loc[early, "bpz_template"] == 1).all()
    assert 0.1 < early.mean() < 0.25
    assert bunch.data.min().min() > 15 and bunch.data.max().max() < 26  # no -99 left
    assert bunch.target["redshift"].between(0.05, 1.5).all()
    full = load_vipers(data_home, with_u=True, complete=False)
    assert full.data.shape == (2712, 5) and full.data["u"].notna().sum() == 1216
    assert "Crenshaw" in load_vipers.__doc__ and "with a missing band" in bunch.DESCR
    X, y = load_vipers(data_home, return_X_y=True)
    assert X.equals(bunch.data) and list(y.columns) == ["type", "redshift"]


def test_sdss_2mass(data_home):
    bunch = load_sdss_2mass(data_home)
    assert list(bunch.data.columns) == list("ugriz") and len(bunch.data) == 30291
    assert list(bunch.target.columns) == ["redshift"]  # the file has no types
    # nanomaggies: SDSS spectroscopic galaxies are r ~ 14-20
    assert 17 < bunch.data["r"].median() < 19.5
    nir = load_sdss_2mass(data_home, with_2mass=True, label="template", n_samples=150)
    assert list(nir.data.columns) == ["u", "g", "r", "i", "z", "J", "H", "K"]
    assert nir.bands[-1] == "twomass_Ks" and set(nir.target["type"]) <= {"ET", "LT"}
    assert np.isfinite(nir.frame["K_err"]).all()
    with pytest.raises(ValueError, match="label"):
        load_sdss_2mass(data_home, label="spectra")


def test_sdss_2mass_gappy(data_home):
    # complete=False keeps every ugriz galaxy and leaves JHK NaN where 2MASS
    # has nothing: never a magnitude from a zero flux.
    complete = load_sdss_2mass(data_home, with_2mass=True)
    gappy = load_sdss_2mass(data_home, with_2mass=True, complete=False)
    assert len(gappy.data) == 30291 and len(complete.data) < 5000
    ugriz, jhk = gappy.data[list("ugriz")], gappy.data[list("JHK")]
    assert ugriz.notna().all().all() and np.isfinite(ugriz.to_numpy()).all()
    assert 0.7 < jhk.isna().any(axis=1).mean() < 0.95
    errors = gappy.frame[["J_err", "H_err", "K_err"]]
    assert np.array_equal(jhk.isna().to_numpy(), errors.isna().to_numpy())
    assert jhk.notna().all(axis=1).sum() >= len(complete.data)
    assert "kept with NaN in JHK" in gappy.DESCR
    # Without 2MASS there are no JHK to be missing: complete=False changes nothing.
    ugriz_only = load_sdss_2mass(data_home, complete=False, n_samples=50)
    assert list(ugriz_only.data.columns) == list("ugriz")
    assert "kept with NaN" not in ugriz_only.DESCR


def test_cnoc2_with_sdss(data_home):
    bunch = load_cnoc2(data_home)
    assert bunch.data.shape == (1164, 5) and "10 AGN left out" in bunch.DESCR
    assert bunch.data.max().max() < 30  # neither 0 nor 99.99 placeholders
    sdss = load_cnoc2(data_home, with_sdss=True, complete=False)
    assert sdss.data.shape[1] == 10
    matched = sdss.data["sdss_r"].notna().sum()
    assert 700 < matched <= 851  # matches within 3 arcsec
    assert (sdss.target["type"].isin(["ET", "LT"])).all()
