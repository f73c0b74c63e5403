"""``skphotoz inspect``: the columns of a catalog, to choose the other commands' options."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from skphotoz.catalogs.photometry import placeholder_mask
from skphotoz.cli.common import check_catalog, reports_errors

# Placeholders are codes: a handful of values repeated down a column. A column
# with more distinct values than this beyond the limit (IDs, RA in degrees,
# fluxes) holds data, and counting them as 'missing' would only mislead.
_MAX_PLACEHOLDER_CODES = 5


def _placeholder_counts(values):
    """{placeholder value: count} of a numeric column, or {} when it holds data, not codes."""
    finite = values[np.isfinite(values)]
    codes, counts = np.unique(finite[placeholder_mask(finite)], return_counts=True)
    if len(codes) > _MAX_PLACEHOLDER_CODES:
        return {}
    return dict(zip(codes.tolist(), counts.tolist(), strict=True))


@click.command()
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rows",
    type=click.IntRange(1, None),
    default=100_000,
    show_default=True,
    help="Summarise at most this many rows (from the top).",
)
@reports_errors
def inspect(catalog, rows):
    """List the columns of CATALOG: what to pass to --bands, --type-col and --z-col.

    \b
    Example:
      skphotoz inspect cnoc2.fits

    For each column: type, range, the values that would read as 'not
    observed' in a band column (the placeholders of --sentinel in `skphotoz
    fit --help`) with their counts and, for
    columns with few distinct values (type codes), those values with counts.
    Vector columns are shown split, as the other commands see them.
    """
    import pandas as pd

    from skphotoz.catalogs import count_rows, iter_catalog

    check_catalog(catalog)
    frame = next(iter_catalog(catalog, chunk_size=rows), None)
    if frame is None:
        raise click.ClickException(f"{catalog} holds no rows.")
    total = count_rows(catalog)
    click.echo(
        f"{catalog}: {total if total is not None else 'unknown number of'} rows, "
        f"{len(frame.columns)} columns (summary of the first {len(frame)} rows)."
    )
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column):
            values = column.to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            text = f"{finite.min():.4g} .. {finite.max():.4g}" if len(finite) else "no values"
            codes = _placeholder_counts(values)
            if codes:
                text += f"; {sum(codes.values())} look like 'missing': " + ", ".join(
                    f"{code:g} ({n})" for code, n in codes.items()
                )
        else:
            text = "text"
        counts = column.value_counts()
        if len(counts) <= 10:
            text += "; values " + ", ".join(f"{k} ({v})" for k, v in counts.items())
        click.echo(f"  {name:24s} {str(column.dtype):8s} {text}")
