"""The options several ``skphotoz`` commands share, declared once, and their parsing.

:func:`catalog_options` (how to read a training catalog: fit, cv, report),
:func:`network_options` (how to build the network: fit, cv, report),
:func:`out_of_sample_options` (how to predict every galaxy out of sample and
bootstrap the metrics' errors: cv, report) and :func:`demo_options` (demo,
compare) are decorators, and so are the single options
:func:`n_galaxies_option` (demo, compare, report), :func:`overwrite_option`
(fit, predict, cv, report) and :func:`allow_pickle_option` (predict);
:func:`split_list`, :func:`parse_base_units` and :func:`parse_threshold` turn
option text into values and say in option names what is wrong.
"""

from __future__ import annotations

from pathlib import Path

import click

from skphotoz.catalogs.photometry import SENTINEL_LIMIT, UNITS, describe_placeholders

# The size of the built-in demo sample (skphotoz.datasets.load_demo): no command
# can draw more galaxies from it.
_DEMO_SAMPLE_SIZE = 9987

# One declaration for every command that takes a seed; click builds a new
# Option each time a decorator made by click.option is applied.
_random_state_option = click.option("--random-state", type=int, default=0, show_default=True)


def _apply(options, command):
    # click lists the option applied last (the outermost decorator) first, so
    # applying them in reverse keeps the order written here in --help.
    for option in reversed(options):
        command = option(command)
    return command


def split_list(values):
    """Options given as "a,b" and/or repeated: one flat list.

    Examples
    --------
    >>> from skphotoz.cli.options import split_list
    >>> split_list(("u,g", "r", " i , z "))
    ['u', 'g', 'r', 'i', 'z']
    """
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def parse_base_units(text):
    """``--base-units`` "64,32" as a tuple of ints.

    Examples
    --------
    >>> from skphotoz.cli.options import parse_base_units
    >>> parse_base_units("64,32")
    (64, 32)
    """
    try:
        return tuple(int(u) for u in split_list(text))
    except ValueError as exc:
        raise click.UsageError(
            f"--base-units must be integers, e.g. 512 or 64,32 ({exc})."
        ) from exc


def parse_threshold(text):
    """``--threshold`` as a float, or the string "youden".

    Examples
    --------
    >>> from skphotoz.cli.options import parse_threshold
    >>> parse_threshold("0.3"), parse_threshold("youden")
    (0.3, 'youden')
    """
    if text == "youden":
        return text
    try:
        return float(text)
    except ValueError as exc:
        raise click.UsageError("--threshold is a number in [0, 1] or 'youden'.") from exc


def catalog_options(required):
    """Decorator: the options that say how to read a training catalog.

    ``--bands``, ``--type-col``, ``--z-col``, ``--et-values``,
    ``--lt-values``, ``--unit``, ``--sentinel`` (parameter ``sentinels``) and
    ``--impute``; the first three are required when ``required``.
    """

    def decorate(command):
        options = [
            click.option(
                "--bands",
                multiple=True,
                required=required,
                help="Band columns, in order: comma-separated or repeated. Exact names "
                "(u,g,r), globs ('MAG_*') or a vector column (UBVRI means UBVRI_0..UBVRI_4).",
            ),
            click.option(
                "--type-col",
                required=required,
                help="Column with the galaxy type (ET/LT, 0/1, or any codes with --et-values).",
            ),
            click.option(
                "--z-col", required=required, help="Column with the spectroscopic redshift."
            ),
            click.option(
                "--et-values",
                default=None,
                help="Type values meaning early type, comma-separated (e.g. 2 for CNOC2's SC). "
                "Not needed when the column holds ET/LT or 0/1.",
            ),
            click.option(
                "--lt-values",
                default=None,
                help="Type values meaning late type (e.g. 4,5). Default: every value not in "
                "--et-values. Rows with other values are left out and counted.",
            ),
            click.option(
                "--unit",
                type=click.Choice(UNITS),
                default="mag",
                show_default=True,
                help="What the band columns hold: magnitudes, or fluxes converted to AB "
                "magnitudes (maggies, nanomaggies, Jy, mJy, uJy, nJy).",
            ),
            click.option(
                "--sentinel",
                "sentinels",
                type=float,
                multiple=True,
                help="Magnitude meaning 'not observed' (repeat for several; replaces the "
                f"default). Default: {describe_placeholders(limit=None)}. |value| >= "
                f"{SENTINEL_LIMIT:g} (e.g. 99.99) always counts too. Such a band is missing, "
                "never a magnitude.",
            ),
            click.option(
                "--impute",
                is_flag=True,
                help="Fill missing bands with the band's median (the model is told which "
                "were missing) instead of the network's own missing-band input. Either way "
                "galaxies with missing bands are trained on, and `predict` predicts and "
                "flags them.",
            ),
        ]
        return _apply(options, command)

    return decorate


def network_options(command):
    """Decorator: ``--epochs``, ``--protocol``, ``--base-units`` and ``--random-state``."""
    options = [
        click.option(
            "--epochs",
            type=click.IntRange(1, None),
            default=300,
            show_default=True,
            help="Training epochs (the paper's 300; try 20 for a quick look).",
        ),
        click.option(
            "--protocol",
            type=click.Choice(["fixed", "paper", "total_loss"]),
            default="fixed",
            show_default=True,
            help="fixed: all data, exactly --epochs epochs; paper / total_loss: early "
            "stopping on a held-out third (see JointMorphZ).",
        ),
        click.option(
            "--base-units",
            default="512",
            show_default=True,
            help="Widths of the shared layers, comma-separated (smaller is faster).",
        ),
        _random_state_option,
    ]
    return _apply(options, command)


def out_of_sample_options(command):
    """Decorator: ``--loo``, ``--folds`` and ``--n-bootstrap``.

    How a command predicts every galaxy out of sample (k stratified folds, or
    leave-one-out) and how many bootstrap resamples of those predictions give
    the metrics' uncertainties.
    """
    options = [
        click.option(
            "--loo",
            is_flag=True,
            help="Leave-one-out predictions instead of --folds, as in the paper (slow: one "
            "fit per galaxy).",
        ),
        click.option(
            "--folds",
            type=click.IntRange(2, None),
            default=5,
            show_default=True,
            help="Out-of-fold predictions from k folds stratified by type (the default way "
            "to predict every galaxy out of sample).",
        ),
        click.option(
            "--n-bootstrap",
            type=click.IntRange(10, None),
            default=1000,
            show_default=True,
            help="Bootstrap resamples of the out-of-sample predictions for the metrics' "
            "uncertainties.",
        ),
    ]
    return _apply(options, command)


def n_galaxies_option(default):
    """Decorator: ``--n-galaxies``, how many galaxies to draw from the built-in demo sample."""
    return click.option(
        "--n-galaxies",
        type=click.IntRange(100, _DEMO_SAMPLE_SIZE),
        default=default,
        show_default=True,
        help=f"Galaxies drawn from the {_DEMO_SAMPLE_SIZE:,}-galaxy demo sample.",
    )


def demo_options(command):
    """Decorator: ``-o``, ``--n-galaxies``, ``--test-size``, ``--epochs``, ``--random-state``."""
    options = [
        click.option(
            "-o",
            "--output",
            "output",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("skphotoz_demo_output"),
            show_default=True,
            help="Folder for the plots and the metrics table.",
        ),
        n_galaxies_option(3000),
        click.option(
            "--test-size",
            type=click.FloatRange(0.05, 0.9),
            default=0.25,
            show_default=True,
            help="Fraction held out for the reported metrics.",
        ),
        click.option(
            "--epochs",
            type=click.IntRange(1, None),
            default=None,
            help="Training epochs (default: the estimator's default).",
        ),
        _random_state_option,
    ]
    return _apply(options, command)


def overwrite_option(command):
    """Decorator: ``--overwrite``, the same in every command that writes an output."""
    return click.option(
        "--overwrite",
        is_flag=True,
        help="Replace OUTPUT if it exists. Without it an existing OUTPUT is an error, "
        "raised before any work.",
    )(command)


def redshift_pdf_option(help_text):
    """Decorator: ``--redshift-pdf mixture|bins``, a redshift-PDF head for the network.

    The families are :data:`skphotoz.nn.density.PDF_FAMILIES`'s, written out
    so that ``--help`` does not import the network's package.
    """
    return click.option(
        "--redshift-pdf", type=click.Choice(["mixture", "bins"]), default=None, help=help_text
    )


def allow_pickle_option(command):
    """Decorator: ``--allow-pickle``, to read a model file of format 1 (a pickle)."""
    return click.option(
        "--allow-pickle",
        is_flag=True,
        help="Also read a model file from skphotoz before format 2, which is a pickle. "
        "WARNING: loading a pickle runs any code it holds; use this only for a file you "
        "made yourself, never for one you were sent.",
    )(command)
