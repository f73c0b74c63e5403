"""The photometry policy: band columns, flux units, and one set of placeholder values."""

import numpy as np
import pandas as pd
import pytest

import skphotoz.catalogs.formats as formats
import skphotoz.validation as validation
from skphotoz.baselines.sed import label_by_template
from skphotoz.catalogs.photometry import (
    ESTIMATOR_SENTINELS,
    MAGNITUDE_SENTINELS,
    SENTINEL_LIMIT,
    catalog_magnitudes,
    describe_placeholders,
    find_error_columns,
    missing_band_flags,
    placeholder_mask,
    select_bands,
    to_ab_magnitudes,
)
from skphotoz.preprocessing import SentinelToNaN


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


def test_placeholder_mask_is_the_one_policy():
    values = np.array(
        [[20.0, -99.0, 99.0, 0.0], [99.99, -999.0, np.inf, np.nan], [89.9, 25.0, 1, 2]]
    )
    mask = placeholder_mask(values)
    assert mask.tolist() == [
        [False, True, True, True],
        [True, True, True, True],
        [False, False, False, False],
    ]
    assert set(MAGNITUDE_SENTINELS) == {-99.0, 99.0, 0.0} and SENTINEL_LIMIT == 90.0
    # the catalog conversion, the CLI's name for it and SentinelToNaN all use it
    mags, _ = to_ab_magnitudes(values)
    np.testing.assert_array_equal(np.isnan(mags), mask)
    assert formats.MAGNITUDE_SENTINELS is MAGNITUDE_SENTINELS
    assert SentinelToNaN().sentinels == MAGNITUDE_SENTINELS
    # the knobs: other sentinels, no limit
    assert placeholder_mask([0.0, 30.0, 99.99], sentinels=(30.0,)).tolist() == [False, True, True]
    assert placeholder_mask([99.99, -99.0], sentinels=(), limit=None).tolist() == [False, False]
    assert placeholder_mask([0.0], sentinels=None).tolist() == [True]


def test_estimators_refuse_every_finite_placeholder_but_zero():
    values = np.array([[21.0, -99.0, 99.0, 99.99, -999.0, 1e30, 90.0, 0.0, 89.9, -5.0]])
    flagged = np.isfinite(values) & placeholder_mask(values, ESTIMATOR_SENTINELS)
    assert flagged.tolist() == [[False, True, True, True, True, True, True, False, False, False]]
    # check_magnitudes refuses exactly those, one band each, and names the policy
    names = [f"b{j}" for j in range(values.shape[1])]
    with pytest.raises(ValueError, match="sentinel") as err:
        validation.check_magnitudes(values, names, allow_missing=True)
    message = str(err.value)
    for j in range(values.shape[1]):
        assert (f"b{j}: 1 row(s) with sentinel" in message) == flagged[0, j], names[j]
    assert describe_placeholders(ESTIMATOR_SENTINELS) in message
    # 0 is a catalog placeholder only: an estimator's input may be a 0/1 missing
    # indicator, a colour or a standardised magnitude
    assert set(MAGNITUDE_SENTINELS) - set(ESTIMATOR_SENTINELS) == {0.0}
    indicators = np.array([[21.0, 0.0], [22.0, 1.0]])
    assert validation.check_magnitudes(indicators) is not None
    assert not hasattr(validation, "SENTINELS")  # no second list of sentinels


def test_describe_placeholders():
    assert describe_placeholders() == "-99, 99, 0 or |value| >= 90"
    assert describe_placeholders((-999.0,)) == "-999 or |value| >= 90"
    assert describe_placeholders((), limit=None) == "nothing"


def test_every_user_of_the_policy_reads_99_99_and_0_as_missing():
    row = np.array([[20.0, 99.99, 0.0, -999.0, 21.0]])
    np.testing.assert_array_equal(
        np.isnan(SentinelToNaN().fit_transform(row)), placeholder_mask(row)
    )
    assert not np.isnan(SentinelToNaN(limit=None).fit_transform(row)[0, 1])
    # the SED template labelling leaves them out of the chi-square instead of fitting them
    bands = ["sdss_u0", "sdss_g0", "sdss_r0", "sdss_i0", "sdss_z0"]
    clean = np.array([[22.1, 20.9, 20.2, 19.8, 19.5]])
    gappy = clean.copy()
    gappy[0, [1, 3]] = [99.99, 0.0]
    dropped = clean.copy()
    dropped[0, [1, 3]] = np.nan
    assert (
        label_by_template(gappy, [0.3], bands)[1].tolist()
        == label_by_template(dropped, [0.3], bands)[1].tolist()
    )


def test_catalog_magnitudes_and_flags():
    frame = pd.DataFrame(
        {"id": [1, 2, 3], "u": [21.0, -99.0, 99.99], "g": [20.0, 20.5, 0.0]}, index=[7, 8, 9]
    )
    mags = catalog_magnitudes(frame, ["u", "g"])
    assert list(mags.index) == [7, 8, 9] and list(mags.columns) == ["u", "g"]
    assert mags.isna().to_numpy().tolist() == [[False, False], [True, False], [True, True]]
    assert missing_band_flags(mags).tolist() == ["", "missing:u", "missing:u,g"]
    assert missing_band_flags(mags, "imputed")[2] == "imputed:u,g"
    with pytest.raises(ValueError, match=r"Column\(s\) \['r'\] not found"):
        catalog_magnitudes(frame, ["u", "r"])
    with pytest.raises(ValueError, match="not numeric"):
        catalog_magnitudes(frame.assign(g="x"), ["u", "g"])
