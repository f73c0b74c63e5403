"""What the catalog commands do with their shared options before their own work.

:func:`reports_errors` is the one place where the library's refusals become
click errors: one line, a non-zero exit, no traceback. :func:`check_output`,
:func:`check_catalog` and :func:`check_folds` refuse bad input before any
work, and :func:`staged_folder` writes a folder output whole or not at all.
:func:`load_training` reads a training catalog and says on the terminal what
was kept and left out; :func:`bands_to_score` says how many observed bands
``cv`` and ``report`` need; :func:`model_from_options` builds the network with
:func:`skphotoz.nn.factory.make_model`; :func:`progress_bars` says whether a
progress bar would reach a person; :func:`import_keras_quietly` loads Keras
without TensorFlow's start-up noise. Everything heavy is imported inside the
functions, so ``skphotoz --help`` stays quick.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import sys
import uuid
from pathlib import Path

import click

from skphotoz.catalogs.photometry import MAGNITUDE_SENTINELS
from skphotoz.cli.options import parse_base_units, parse_threshold, split_list


def import_keras_quietly():
    """Import Keras (and TensorFlow) without its C++ start-up lines on the terminal.

    TensorFlow 2.21 writes "oneDNN custom operations are on", "Could not find cuda
    drivers" and absl's "All log messages before absl::InitializeLog()" straight to
    file descriptor 2 while its shared libraries load, before any log level applies:
    TF_CPP_MIN_LOG_LEVEL (even 3, even set before Python starts) hides none of them,
    so descriptor 2 points at /dev/null during the import. Python errors still show:
    they are raised after it is restored. Level 3 also hides the "failed call to
    cuInit" ERROR on machines without a GPU, which level 2 (skphotoz's library
    default) lets through; the CLI reports its own failures. Setting
    TF_CPP_MIN_LOG_LEVEL=0 or 1 shows everything, for debugging a GPU set-up.
    """
    if "keras" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") in ("0", "1"):
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (e.g. pythonw): nothing would be printed anyway
        import keras  # noqa: F401

        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def one_line(exc):
    """An exception's message on one line (its type when it has none).

    Examples
    --------
    >>> from skphotoz.cli.common import one_line
    >>> one_line(ValueError("two\\n  lines"))
    'two lines'
    """
    return " ".join(str(exc).split()) or type(exc).__name__


def reports_errors(command):
    """Decorator: the library's refusals end a command as one ``Error:`` line.

    ValueError (bad input: a catalog without the bands, a damaged model file)
    and OSError (a file that cannot be read or written) become a
    :class:`click.ClickException`: exit status 1 and the message on one line,
    no traceback. Other exceptions are bugs and keep their traceback. Put it
    under ``@click.command()`` and the options.

    Examples
    --------
    >>> import click
    >>> from click.testing import CliRunner
    >>> from skphotoz.cli.common import reports_errors
    >>> @click.command()
    ... @reports_errors
    ... def broken():
    ...     raise ValueError("the catalog\\nlacks band r")
    >>> result = CliRunner().invoke(broken)
    >>> result.exit_code, result.output
    (1, 'Error: the catalog lacks band r\\n')
    """

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ValueError, OSError) as exc:
            raise click.ClickException(one_line(exc)) from exc

    return run


# Written by staged_folder into each folder it fills: the files that are the
# command's, so that --overwrite replaces such a folder and never one with
# files of the user's in it.
_MANIFEST = ".skphotoz_files.json"


def _files_written(folder):
    """The file names the manifest of ``folder`` lists, or None without a readable one."""
    try:
        return set(json.loads((folder / _MANIFEST).read_text())["files"]) | {_MANIFEST}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_output(path, overwrite, *, folder=False):
    """Refuse an output path before any work is done.

    Its folder must exist, and an existing output is replaced only with
    ``--overwrite``. A ``folder`` output (``report``) may be a new or empty
    folder or, with ``--overwrite``, one that :func:`staged_folder` wrote and
    that holds nothing else: a folder with any other file is never replaced,
    so that nothing the command did not write is lost.

    Raises
    ------
    click.ClickException
        Saying what to do.

    Examples
    --------
    >>> import os, tempfile
    >>> from skphotoz.cli.common import check_output
    >>> folder = tempfile.mkdtemp()
    >>> check_output(os.path.join(folder, "model.skz"), overwrite=False)
    >>> check_output(os.path.join(folder, "nowhere", "model.skz"), overwrite=False)
    Traceback (most recent call last):
    ...
    click.exceptions.ClickException: The folder of ...model.skz does not exist; create it first.
    """
    path = Path(path)
    if not path.absolute().parent.is_dir():
        raise click.ClickException(f"The folder of {path} does not exist; create it first.")
    if folder:
        if path.exists() and not path.is_dir():
            raise click.ClickException(f"{path} is a file; the report needs a folder.")
        present = {p.name for p in path.iterdir()} if path.is_dir() else set()
        if present:
            written = _files_written(path)
            if written is None:
                raise click.ClickException(
                    f"{path} holds files that skphotoz did not write; choose a new or empty folder."
                )
            if present - written:
                others = ", ".join(sorted(present - written)[:3])
                raise click.ClickException(
                    f"{path} holds files that skphotoz did not write ({others}); move them "
                    "or choose a new or empty folder."
                )
            if not overwrite:
                raise click.ClickException(
                    f"{path} holds an earlier run's files; pass --overwrite to replace them."
                )
        return
    if path.is_dir():
        raise click.ClickException(f"{path} is a folder; give a file name.")
    if path.exists() and not overwrite:
        raise click.ClickException(f"{path} exists; pass --overwrite to replace it.")


@contextlib.contextmanager
def staged_folder(output):
    """A new folder beside ``output`` to write into, moved into its place on success.

    A report that fails half-way leaves ``output`` as it was, and one that
    succeeds replaces it whole: figures of an earlier run never sit beside
    new ones. The folder lists its files in a hidden manifest, which lets
    :func:`check_output` (``folder=True``, to be called first) tell it from
    a folder of the user's.

    Examples
    --------
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from skphotoz.cli.common import staged_folder
    >>> output = Path(tempfile.mkdtemp()) / "report"
    >>> with staged_folder(output) as staging:
    ...     _ = (staging / "report.html").write_text("<html></html>")
    >>> sorted(os.listdir(output))
    ['.skphotoz_files.json', 'report.html']
    """
    output = Path(output).absolute()  # "." has no name to put beside
    # A named folder (not tempfile's, which would leave the report readable by
    # its owner only) on the same file system, so that the moves are renames.
    staging = output.with_name(f".{output.name}.{uuid.uuid4().hex}.partial")
    staging.mkdir()
    try:
        yield staging
        files = sorted(p.name for p in staging.iterdir())
        (staging / _MANIFEST).write_text(json.dumps({"files": files}, indent=1))
        old = None
        if output.exists():
            old = output.with_name(f".{output.name}.{uuid.uuid4().hex}.old")
            output.rename(old)
        try:
            staging.rename(output)
        except BaseException:
            if old is not None:
                old.rename(output)  # put the earlier report back
            raise
        if old is not None:
            shutil.rmtree(old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already unless something failed


def check_catalog(path):
    """Refuse a catalog that cannot be opened, before any work is done.

    Reads its first row (FITS is memory-mapped and parquet and CSV are read
    in chunks, so this costs little; VOTable and ECSV are read whole).

    Raises
    ------
    click.ClickException
        ``Cannot read CATALOG: <why>``.

    Examples
    --------
    >>> import os, tempfile
    >>> from skphotoz.cli.common import check_catalog
    >>> path = os.path.join(tempfile.mkdtemp(), "cat.fits")
    >>> with open(path, "w") as f:
    ...     _ = f.write("not a table")
    >>> check_catalog(path)
    Traceback (most recent call last):
    ...
    click.exceptions.ClickException: Cannot read ...cat.fits: ...
    """
    from skphotoz.catalogs import iter_catalog

    try:
        next(iter_catalog(path, chunk_size=1), None)
    except (ValueError, OSError) as exc:
        raise click.ClickException(f"Cannot read {path}: {one_line(exc)}") from exc
    except TypeError as exc:
        # astropy reports a FITS file cut short as NumPy's "buffer is too small for
        # requested array"; on a bare read of the first row it can only mean that.
        raise click.ClickException(
            f"Cannot read {path}: it looks cut short ({one_line(exc)})."
        ) from exc


def check_folds(folds, types):
    """Refuse ``--folds`` above the number of galaxies of the rarer type.

    Every stratified fold holds galaxies of both types, so there can be no
    more folds than galaxies of either type.

    Examples
    --------
    >>> from skphotoz.cli.common import check_folds
    >>> check_folds(5, ["ET"] * 10 + ["LT"] * 20)
    >>> check_folds(400, ["ET"] * 10 + ["LT"] * 20)
    Traceback (most recent call last):
    ...
    click.exceptions.ClickException: --folds 400 needs at least 400 galaxies of each type; ...
    """
    import pandas as pd

    counts = pd.Series(types).value_counts()
    if folds > counts.min():
        have = " and ".join(f"{n} {label}" for label, n in counts.sort_index().items())
        raise click.ClickException(
            f"--folds {folds} needs at least {folds} galaxies of each type; the sample has "
            f"{have}. Use --folds {counts.min()} or fewer, or --loo."
        )


def progress_bars():
    """Whether progress bars would reach a person: stderr, where tqdm writes, is a terminal.

    Redirected to a file or a CI log, each update of a bar would be one more
    line there.

    Examples
    --------
    >>> from skphotoz.cli.common import progress_bars
    >>> isinstance(progress_bars(), bool)
    True
    """
    return sys.stderr is not None and sys.stderr.isatty()


def load_training(
    catalog,
    bands,
    type_col,
    z_col,
    et_values,
    lt_values,
    unit,
    sentinels,
    impute,
    *,
    min_observed_bands=1,
):
    """Read a training catalog from the :func:`~skphotoz.cli.options.catalog_options` values.

    Placeholders become NaN and rows with gaps are kept (the network, or the
    ``--impute`` imputer, takes them); rows with fewer than
    ``min_observed_bands`` observed bands are left out. Prints the rows used
    per type, how many have a gap, and the rows left out with the reason. A
    catalog that cannot be read (:func:`check_catalog`) or has one type only
    is a :class:`click.ClickException`; one that lacks what the options name
    (a band, a type mapping) raises a ValueError for :func:`reports_errors`.

    Returns
    -------
    Bunch
        As :func:`skphotoz.catalogs.read_training_catalog`.
    """
    from skphotoz.catalogs import read_training_catalog

    check_catalog(catalog)
    data = read_training_catalog(
        catalog,
        split_list(bands),
        type_col,
        z_col,
        et_values=et_values,
        lt_values=lt_values,
        unit=unit,
        sentinels=sentinels or MAGNITUDE_SENTINELS,
        min_observed_bands=min_observed_bands,
    )
    counts = data.y["type"].value_counts()
    click.echo(
        f"{catalog}: {len(data.frame)} rows; bands {', '.join(data.bands)}.\n"
        f"Using {len(data.y)} galaxies: {counts.get('ET', 0)} ET, {counts.get('LT', 0)} LT."
    )
    gappy = int(data.X.isna().any(axis=1).sum())
    if gappy:
        how = "filled by --impute" if impute else "the network takes missing bands"
        click.echo(f"  {gappy} of them with missing band(s): kept, {how}.")
    for reason, n in data.dropped.items():
        click.echo(f"  left out {n} row(s): {reason}")
    if len(counts) < 2:
        raise click.ClickException("Training needs both early (ET) and late (LT) types.")
    return data


def bands_to_score(impute):
    """Observed bands a galaxy needs for ``cv`` and ``report`` to read it.

    Both predict every galaxy they read out of sample and score it, and the
    network gives no number to a galaxy with fewer observed bands than its
    ``min_observed_bands``: such a galaxy has nothing to score. Behind
    ``--impute`` every gap is filled, so one observed band is enough.
    """
    from skphotoz.nn.factory import make_model

    return 1 if impute else make_model().get_params()["min_observed_bands"]


def model_from_options(
    epochs,
    protocol,
    base_units,
    random_state,
    impute,
    *,
    verbose=1,
    threshold="0.5",
    uncertainty=None,
    redshift_pdf=None,
):
    """The estimator the network options (and ``--threshold``, ``--uncertainty``,
    ``--redshift-pdf``) describe.

    Imports Keras quietly first, then calls :func:`skphotoz.nn.factory.make_model`;
    option text it cannot use is a :class:`click.UsageError` naming the option.
    """
    from skphotoz.nn.factory import make_model

    units = parse_base_units(base_units)
    threshold = parse_threshold(threshold)
    import_keras_quietly()
    try:
        return make_model(
            epochs=epochs,
            protocol=protocol,
            base_units=units,
            threshold=threshold,
            n_replicas=uncertainty,
            # missing_bands stays the estimator's "auto": training rows with gaps
            # switch on the native missing-band input, and `predict` flags them.
            impute=impute,
            redshift_pdf=redshift_pdf,
            random_state=random_state,
            verbose=verbose,
        )
    except ValueError as exc:
        # The option text is parsed above, so make_model's one refusal left is
        # replicas with a protocol or threshold they cannot train with: say so in
        # the options the user typed.
        raise click.UsageError(
            "--uncertainty trains replicas with --protocol fixed and a fixed --threshold "
            "(not 'youden')."
        ) from exc
