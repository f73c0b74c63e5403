"""Saved models: a fitted estimator with the bands, unit and sentinels it was trained on.

A fitted model is saved with the band columns, flux unit and sentinels it was
trained with (:func:`save_model`), so that
:func:`~skphotoz.catalogs.predict.predict_catalog` applies the same
conversion to a new catalog and refuses one without those bands.

The ``.skz`` file holds no pickled code. It is a zip archive (format
:data:`FORMAT_VERSION`) with two members:

``metadata.json``
    ``format``, ``skphotoz_version``, ``created`` (UTC), ``bands``, ``unit``,
    ``sentinels``, ``type_labels``, ``metadata`` (what the caller added, as
    JSON) and ``payload``: the model member's name, the library that wrote
    it and the SHA-256 of its bytes.
``model.skops``
    The estimator, written by `skops <https://skops.readthedocs.io>`_
    (:func:`skops.io.dumps`): a JSON description of the objects and their
    NumPy arrays. The Keras network is stored as its weight arrays and
    rebuilt from the estimator's parameters on loading.

:func:`load_model` checks, in this order, that the file is a zip archive with
``metadata.json``, that its format is the one this build reads, that the
model's checksum matches, and only then builds the model, allowing no type
beyond scikit-learn's, NumPy's and :data:`TRUSTED_TYPES`: a file that names
any other (a function to call, a class of another package) is refused before
anything in it is built.

Format 1, written by skphotoz before this format existed, was a joblib
pickle of a dict; unpickling runs whatever code the file holds, so
:func:`load_model` reads it only when asked to with ``allow_pickle=True``.
``FORMAT_VERSION`` goes up whenever the layout changes in a way an older
build cannot read; a build reads its own format only.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import uuid
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from skphotoz.catalogs.photometry import MAGNITUDE_SENTINELS

#: The ``.skz`` layout this build writes and reads (1 was a joblib pickle).
FORMAT_VERSION = 2

#: Types a model file may hold beyond those skops trusts by default (scikit-learn's
#: estimators, NumPy arrays, Python builtins). The list is what
#: ``skops.io.get_untrusted_types`` reports for the models ``skphotoz fit`` saves
#: (JointMorphZ, ReplicaEnsemble, an imputing Pipeline, YoudenThresholdCV), each
#: checked: the skphotoz classes hold parameters and arrays, and their
#: ``__setstate__`` only rebuilds the network from its weights (and the coverage
#: KD-tree from its points); ``numpy.dtype`` is SimpleImputer's fitted dtype, which
#: skops stores as an empty ``.npy`` array.
TRUSTED_TYPES = (
    "numpy.dtype",
    "skphotoz.nn.coverage.TrainingCoverage",
    "skphotoz.nn.ensemble.ReplicaEnsemble",
    "skphotoz.nn.estimator.JointMorphZ",
    "skphotoz.thresholding.YoudenThreshold",
    "skphotoz.thresholding.YoudenThresholdCV",
)

_METADATA = "metadata.json"
_PAYLOAD = "model.skops"
# Keys of metadata.json; save_model's extra metadata goes under "metadata".
_HEADER_KEYS = (
    "format",
    "skphotoz_version",
    "created",
    "bands",
    "unit",
    "sentinels",
    "type_labels",
    "metadata",
    "payload",
)
_REFIT = "refit it with `skphotoz fit`"


def _json_value(value):
    """json.dumps' fallback: NumPy scalars and arrays, paths; anything else is refused."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} {value!r} is not a JSON value")


def save_model(path, estimator, bands, *, unit="mag", sentinels=None, **metadata):
    """Save a fitted model with what ``predict`` needs to use it on a new catalog.

    Writes a ``.skz`` file (see the module's description): the estimator as
    skops JSON and arrays, no pickled code, and beside it ``metadata.json``
    with the band columns in training order, the flux unit and sentinels, the
    type labels, the skphotoz version, the time and any extra ``metadata``.
    The file is written next to ``path`` and renamed into place, so a failure
    never leaves half a model; an existing ``path`` is replaced.

    Parameters
    ----------
    path : str or path-like
        The ``.skz`` file to write.
    estimator : fitted estimator
        What :func:`~skphotoz.catalogs.predict.predict_catalog` will call:
        JointMorphZ, ReplicaEnsemble, YoudenThresholdCV, a Pipeline of
        scikit-learn steps ending in one, or any scikit-learn estimator.
    bands : list of str
        The catalog band columns the estimator was fitted on, in order.
    unit : str, default="mag"
        Unit of those columns (:data:`~skphotoz.catalogs.photometry.UNITS`).
    sentinels : sequence of float, optional
        Magnitude placeholders; default
        :data:`~skphotoz.catalogs.photometry.MAGNITUDE_SENTINELS`.
    **metadata
        Anything else to keep with the model (training catalog, command,
        ...): JSON values (text, numbers, lists, dicts; tuples come back as
        lists), under names other than those ``load_model`` returns.

    Raises
    ------
    ValueError
        When ``estimator`` holds a type :func:`load_model` would refuse (not
        scikit-learn's, NumPy's or in :data:`TRUSTED_TYPES`), or ``metadata``
        is not JSON or uses a reserved name.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.dummy import DummyClassifier
    >>> from skphotoz.catalogs.model_file import load_model, save_model
    >>> path = os.path.join(tempfile.mkdtemp(), "m.skz")
    >>> save_model(path, DummyClassifier().fit([[1]], [0]), ["r"], note="toy")
    >>> model = load_model(path)
    >>> model["bands"], model["note"], model["format"], type(model["estimator"]).__name__
    (['r'], 'toy', 2, 'DummyClassifier')
    """
    import skops
    import skops.io as sio

    from skphotoz import __version__

    reserved = sorted(set(metadata) & {*_HEADER_KEYS, "estimator"})
    if reserved:
        raise ValueError(f"Metadata name(s) {reserved} are reserved by the model file.")
    payload = sio.dumps(estimator)
    untrusted = sorted(set(sio.get_untrusted_types(data=payload)) - set(TRUSTED_TYPES))
    if untrusted:
        raise ValueError(
            f"A model file cannot hold this {type(estimator).__name__}: it contains "
            f"{untrusted}, which load_model refuses (it loads scikit-learn's and NumPy's "
            "types and skphotoz's estimators only)."
        )
    header = {
        "format": FORMAT_VERSION,
        "skphotoz_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "bands": [str(b) for b in bands],
        "unit": unit,
        "sentinels": list(MAGNITUDE_SENTINELS if sentinels is None else sentinels),
        "type_labels": [str(c) for c in getattr(estimator, "classes_", [])],
        "metadata": metadata,
        "payload": {
            "name": _PAYLOAD,
            "writer": f"skops {skops.__version__}",
            "sha256": hashlib.sha256(payload).hexdigest(),
        },
    }
    try:
        text = json.dumps(header, indent=2, default=_json_value)
    except TypeError as exc:
        raise ValueError(f"Model metadata must be JSON values: {exc}.") from exc
    path = Path(path)
    # A fresh name beside the target (not tempfile's, which would leave the model
    # readable by its owner only), renamed over it once complete.
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        with open(partial, "xb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_METADATA, text)
            archive.writestr(_PAYLOAD, payload)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _pickle_version(data):
    """The skphotoz version a format-1 pickle names, read from its bytes, never unpickled.

    Format 1 pickled a dict whose "skphotoz_version" key is followed by the
    version as a short string (opcode 0x8c, one length byte, the text), after
    an optional memo opcode (0x94). pickletools cannot walk to it: joblib
    writes array bytes between the opcodes.
    """
    match = re.search(rb"skphotoz_version\x94?\x8c(.)", data, flags=re.DOTALL)
    if match is None:
        return None
    text = data[match.end() : match.end() + match.group(1)[0]].decode("ascii", "replace")
    return text if re.fullmatch(r"\d[\w.+-]*", text) else None


def _load_pickle(path, data, allow_pickle):
    """A format-1 file: refused, or unpickled when the caller trusts it."""
    if not allow_pickle:
        version = _pickle_version(data)
        what = f"was made by skphotoz {version}, format 1" if version else "is format 1"
        raise ValueError(
            f"{path} {what} (a pickle); this build reads format "
            f"{FORMAT_VERSION}: {_REFIT}. A pickle runs any code it holds when loaded: only "
            "for a file you made yourself, load it with allow_pickle=True "
            "(`skphotoz predict --allow-pickle`)."
        )
    import joblib

    payload = joblib.load(path)
    if not isinstance(payload, dict) or "estimator" not in payload or "bands" not in payload:
        raise ValueError(f"{path} is not a skphotoz model file (made by `skphotoz fit`).")
    return {**payload, "format": 1}


def _read_archive(path, data):
    """``(header, payload bytes)`` of a format-2 file, its layout and version checked."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            text = archive.read(_METADATA)
        except KeyError:
            raise ValueError(
                f"{path} is not a skphotoz model file: it has no {_METADATA}."
            ) from None
        try:
            header = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{path} is damaged: its {_METADATA} is not JSON ({exc}).") from exc
        if not isinstance(header, dict) or "format" not in header:
            raise ValueError(f"{path} is not a skphotoz model file: {_METADATA} has no format.")
        version = header["format"]
        if version != FORMAT_VERSION:
            from skphotoz import __version__

            made_by = header.get("skphotoz_version", "an unknown version")
            advice = (
                f"upgrade skphotoz (this is {__version__}) to read it"
                if isinstance(version, int) and version > FORMAT_VERSION
                else _REFIT
            )
            raise ValueError(
                f"{path} was made by skphotoz {made_by}, format {version}; this build reads "
                f"format {FORMAT_VERSION}: {advice}."
            )
        missing = [key for key in _HEADER_KEYS if key not in header]
        if not isinstance(header.get("metadata", {}), dict):
            missing.append("metadata (a dict)")
        entry = header.get("payload")
        if isinstance(entry, dict):
            missing += [f"payload.{key}" for key in ("name", "sha256") if key not in entry]
        elif "payload" not in missing:
            missing.append("payload")
        if missing:
            raise ValueError(
                f"{path} is not a complete skphotoz model file: {_METADATA} lacks {missing}."
            )
        try:
            payload = archive.read(entry["name"])
        except KeyError:
            raise ValueError(
                f"{path} is not a complete skphotoz model file: it has no {entry['name']}."
            ) from None
    return header, payload


def load_model(path, *, allow_pickle=False):
    """Load a ``.skz`` file written by :func:`save_model`; returns its dict.

    Checks, in order: a zip archive with ``metadata.json``; format
    :data:`FORMAT_VERSION`; the model's SHA-256 checksum; then builds the
    model allowing only scikit-learn's, NumPy's and :data:`TRUSTED_TYPES`.
    Loading such a file runs no code from it.

    Parameters
    ----------
    path : str or path-like
        A ``.skz`` file.
    allow_pickle : bool, default=False
        Also read format 1 (a joblib pickle, written by skphotoz before
        format 2). Unpickling runs any code the file holds: only for files you
        made yourself. :func:`save_model` on the loaded dict's contents writes
        it again as format 2.

    Returns
    -------
    dict
        ``estimator``, ``bands``, ``unit``, ``sentinels``, ``type_labels``,
        ``skphotoz_version``, ``created``, ``format`` and the saved metadata.

    Raises
    ------
    ValueError
        Naming what is wrong: not a model file, another format, a checksum
        that does not match (the file is damaged), a missing entry or a type
        that is not allowed.
    OSError
        When the file cannot be read.

    Examples
    --------
    See :func:`save_model` for a round trip. Anything else is refused:

    >>> import os, tempfile
    >>> from skphotoz.catalogs.model_file import load_model
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.skz")
    >>> with open(path, "w") as f:
    ...     _ = f.write("not a model")
    >>> load_model(path)
    Traceback (most recent call last):
    ...
    ValueError: ...notes.skz is not a skphotoz model file: not a zip archive...
    """
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise ValueError(f"{path} is empty: not a skphotoz model file.")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if data[:1] == b"\x80":  # the PROTO opcode: a pickle, as format 1 was
            return _load_pickle(path, data, allow_pickle)
        raise ValueError(
            f"{path} is not a skphotoz model file: not a zip archive (or one cut short)."
        )
    damaged = f"{path} is damaged: its checksum does not match; {_REFIT} or copy it again."
    try:
        header, payload = _read_archive(path, data)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        # zipfile's own CRC or the compressed stream caught the damage first.
        raise ValueError(damaged) from exc
    if hashlib.sha256(payload).hexdigest() != header["payload"]["sha256"]:
        raise ValueError(damaged)
    try:
        estimator = sio.loads(payload, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        refused = sorted(set(sio.get_untrusted_types(data=payload)) - set(TRUSTED_TYPES))
        raise ValueError(
            f"{path} holds types that skphotoz does not load: {refused}. It was not written "
            "by skphotoz's save_model; nothing in it was run."
        ) from exc
    except (KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: its model cannot be read ({exc!r}); {_REFIT}.") from exc
    return {
        **header["metadata"],
        "estimator": estimator,
        **{key: header[key] for key in _HEADER_KEYS if key not in ("metadata", "payload")},
    }
