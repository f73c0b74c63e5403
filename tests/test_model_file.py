"""The ``.skz`` model file: round trips, what it refuses, and that loading runs no code from it."""

import hashlib
import io
import json
import os
import pickle
import warnings
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

import skphotoz.nn.replica as replica
from skphotoz import JointMorphZ, ReplicaEnsemble
from skphotoz.catalogs.model_file import FORMAT_VERSION, TRUSTED_TYPES, load_model, save_model
from skphotoz.catalogs.predict import predict_block
from skphotoz.thresholding import YoudenThresholdCV

from .conftest import TINY, make_joint_sample

BANDS = list("ugriz")


def _sample():
    X, y, _, _ = make_joint_sample(n=60)
    X = pd.DataFrame(X, columns=BANDS)
    X.iloc[3, 1] = np.nan  # a gap: the network's missing-band input is on
    return X, y


def _builders():
    return {
        "JointMorphZ": lambda: JointMorphZ(**TINY),
        "ReplicaEnsemble": lambda: ReplicaEnsemble(**TINY, n_replicas=2),
        "imputing Pipeline": lambda: make_pipeline(
            SimpleImputer(add_indicator=True), JointMorphZ(**TINY)
        ),
        "YoudenThresholdCV": lambda: YoudenThresholdCV(JointMorphZ(**TINY), cv=2, random_state=0),
        "imputing Pipeline + YoudenThresholdCV": lambda: make_pipeline(
            SimpleImputer(add_indicator=True),
            YoudenThresholdCV(JointMorphZ(**TINY), cv=2, random_state=0),
        ),
    }


@pytest.fixture(scope="module")
def fitted():
    """Every kind of model `skphotoz fit` saves, fitted once (replicas without XLA)."""
    original = replica.train_replicas

    def eager(*args, **kwargs):  # XLA takes seconds per tiny call
        return original(*args, **{**kwargs, "jit_compile": False})

    X, y = _sample()
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        patch.setattr(replica, "train_replicas", eager)
        # Three-epoch networks may not beat chance: YoudenThreshold says so, rightly.
        warnings.filterwarnings("ignore", "The scores do not separate", UserWarning)
        models = {name: build().fit(X, y) for name, build in _builders().items()}
    return X, models


@pytest.fixture
def saved(tmp_path, fitted):
    path = tmp_path / "model.skz"
    save_model(path, fitted[1]["JointMorphZ"], BANDS, unit="mag", n_training=60)
    return path


def _rewrite(path, *, metadata=None, members=None, drop=()):
    """The .skz at ``path`` again with its metadata changed, members replaced or dropped."""
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    if metadata is not None:
        header = json.loads(contents["metadata.json"])
        contents["metadata.json"] = json.dumps(metadata(header)).encode()
    contents.update(members or {})
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            if name not in drop:
                archive.writestr(name, data)


@pytest.mark.parametrize("kind", list(_builders()))
def test_round_trip_gives_identical_predictions(tmp_path, fitted, kind):
    X, models = fitted
    model = models[kind]
    path = tmp_path / "m.skz"
    save_model(path, model, BANDS, sentinels=[-99, 99], note="test", n_training=np.int64(60))
    loaded = load_model(path)
    assert loaded["format"] == FORMAT_VERSION == 2
    assert loaded["bands"] == BANDS and loaded["unit"] == "mag"
    assert loaded["sentinels"] == [-99, 99] and loaded["type_labels"] == ["ET", "LT"]
    assert loaded["note"] == "test" and loaded["n_training"] == 60
    assert loaded["skphotoz_version"] and loaded["created"]
    again = loaded["estimator"]
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    # predict_joint's flags and coverage distances too (the KD-tree is rebuilt)
    before, after = predict_block(model, X), predict_block(again, X)
    assert list(after.columns) == list(before.columns)
    for column in before.columns:
        np.testing.assert_array_equal(after[column].to_numpy(), before[column].to_numpy())
    if hasattr(model, "predict_joint"):
        joint = again.predict_joint(X)
        np.testing.assert_array_equal(
            joint["coverage_distance"], model.predict_joint(X)["coverage_distance"]
        )


def test_trusted_types_are_exactly_what_the_models_hold(fitted):
    """Vetted, not guessed: each trusted type is needed by a model we save, and no more."""
    needed = set()
    for model in fitted[1].values():
        needed |= set(sio.get_untrusted_types(data=sio.dumps(model)))
    assert needed == set(TRUSTED_TYPES)
    assert all(name.startswith(("skphotoz.", "numpy.")) for name in TRUSTED_TYPES)


def test_layout_metadata_and_checksum(saved):
    with zipfile.ZipFile(saved) as archive:
        assert sorted(archive.namelist()) == ["metadata.json", "model.skops"]
        header = json.loads(archive.read("metadata.json"))
        payload = archive.read("model.skops")
    assert header["format"] == 2 and header["bands"] == BANDS
    assert header["metadata"] == {"n_training": 60}
    assert header["payload"]["name"] == "model.skops"
    assert header["payload"]["writer"].startswith("skops ")
    assert header["payload"]["sha256"] == hashlib.sha256(payload).hexdigest()


def test_format_1_pickle_needs_the_opt_in(tmp_path, fitted):
    X, models = fitted
    old = tmp_path / "old.skz"
    # what save_model wrote before format 2
    joblib.dump(
        {
            "estimator": models["JointMorphZ"],
            "bands": BANDS,
            "unit": "mag",
            "sentinels": [-99],
            "skphotoz_version": "0.1.0",
        },
        old,
    )
    with pytest.raises(ValueError) as refused:
        load_model(old)
    assert str(refused.value).startswith(
        f"{old} was made by skphotoz 0.1.0, format 1 (a pickle); this build reads format 2: "
        "refit it with `skphotoz fit`."
    )
    assert "allow_pickle=True" in str(refused.value)
    loaded = load_model(old, allow_pickle=True)
    assert loaded["format"] == 1 and loaded["bands"] == BANDS
    np.testing.assert_array_equal(loaded["estimator"].predict(X), models["JointMorphZ"].predict(X))


class _RunsCode:
    """Unpickling this calls os.system: what a malicious model file would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_crafted_pickle_is_not_run(tmp_path):
    marker = tmp_path / "code_ran"
    evil = tmp_path / "evil.skz"
    evil.write_bytes(pickle.dumps({"estimator": _RunsCode(marker), "bands": ["r"]}))
    with pytest.raises(ValueError, match="format 1 \\(a pickle\\)"):
        load_model(evil)
    assert not marker.exists()
    pickle.loads(evil.read_bytes())  # the file is live: unpickled, it runs its command
    assert marker.exists()


def test_a_crafted_model_naming_a_function_is_not_run(tmp_path, saved):
    """A well-formed file (metadata, checksum) whose model would call os.system."""
    marker = tmp_path / "code_ran"
    schema = {
        "__class__": "system",
        "__module__": "os",
        "__loader__": "ConstructorFromReduceNode",
        "content": {
            "__class__": "tuple",
            "__module__": "builtins",
            "__loader__": "TupleNode",
            "content": [
                {
                    "__class__": "str",
                    "__module__": "builtins",
                    "__loader__": "JsonNode",
                    "content": json.dumps(f"touch {marker}"),
                    "is_json": True,
                }
            ],
        },
        "protocol": 2,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", json.dumps(schema))
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest()
    _rewrite(
        saved,
        members={"model.skops": payload},
        metadata=lambda h: {**h, "payload": {**h["payload"], "sha256": digest}},
    )
    with pytest.raises(ValueError, match="holds types that skphotoz does not load: \\['os.system'"):
        load_model(saved)
    assert not marker.exists()


def test_damage_is_caught_by_the_checksum(tmp_path, saved, fitted):
    data = bytearray(saved.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # zeroed bytes inside the model
    damaged = tmp_path / "damaged.skz"
    damaged.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="is damaged: its checksum does not match"):
        load_model(damaged)
    # a model swapped in whole (a valid zip member) is caught by the SHA-256 itself
    other = sio.dumps(DummyClassifier().fit([[1]], [0]))
    _rewrite(saved, members={"model.skops": other})
    with pytest.raises(ValueError, match="is damaged: its checksum does not match"):
        load_model(saved)


def test_missing_entries_are_named(tmp_path, saved):
    no_bands = tmp_path / "no_bands.skz"
    no_bands.write_bytes(saved.read_bytes())
    _rewrite(no_bands, metadata=lambda h: {k: v for k, v in h.items() if k != "bands"})
    with pytest.raises(ValueError, match="metadata.json lacks \\['bands'\\]"):
        load_model(no_bands)
    no_model = tmp_path / "no_model.skz"
    no_model.write_bytes(saved.read_bytes())
    _rewrite(no_model, drop=("model.skops",))
    with pytest.raises(ValueError, match="it has no model.skops"):
        load_model(no_model)
    _rewrite(saved, drop=("metadata.json",))
    with pytest.raises(ValueError, match="not a skphotoz model file: it has no metadata.json"):
        load_model(saved)


def test_other_format_versions_are_refused_before_anything_else(tmp_path, saved):
    newer = tmp_path / "newer.skz"
    newer.write_bytes(saved.read_bytes())
    # format is checked before the (here missing) checksum and payload
    _rewrite(newer, metadata=lambda h: {**h, "format": 99, "payload": {}})
    with pytest.raises(ValueError, match="format 99; this build reads format 2: upgrade skphotoz"):
        load_model(newer)
    _rewrite(saved, metadata=lambda h: {**h, "format": 1})
    with pytest.raises(ValueError, match="format 1; this build reads format 2: refit it"):
        load_model(saved)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"bands,unit\nr,mag\n", "not a zip archive")],
)
def test_files_that_are_not_models(tmp_path, content, message):
    path = tmp_path / "model.skz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        load_model(path)


class _Unknown(BaseEstimator):
    """A class no model file may hold: loading would have to trust this test module."""

    def fit(self, X, y):
        self.fitted_ = True
        return self


def test_save_refuses_what_load_would_refuse_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="cannot hold this _Unknown.*test_model_file._Unknown"):
        save_model(tmp_path / "m.skz", _Unknown().fit([[1]], [0]), ["r"])
    model = DummyClassifier().fit([[1]], [0])
    with pytest.raises(ValueError, match="reserved"):
        save_model(tmp_path / "m.skz", model, ["r"], format=3)
    with pytest.raises(ValueError, match="JSON"):
        save_model(tmp_path / "m.skz", model, ["r"], note=object())
    assert list(tmp_path.iterdir()) == []  # no model, no half-written file
