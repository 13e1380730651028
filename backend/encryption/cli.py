"""`flask rotate-data-key`: re-seal every value under DOORSTEP_DATA_KEY (ADR 0020)."""

from __future__ import annotations

import click
from flask import Flask


def register_commands(app: Flask) -> None:
    @app.cli.command("rotate-data-key")
    @click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1))
    def rotate_data_key(batch_size):
        """Re-seal values sealed with a retired key under the current one, in batches.

        Run it after a restart with the new key in DOORSTEP_DATA_KEY and the old one in
        DOORSTEP_DATA_KEYS_RETIRED; the app keeps serving meanwhile. When it is done, drop
        the old key from DOORSTEP_DATA_KEYS_RETIRED."""
        from backend.encryption.rotation import rotate

        counts = rotate(batch_size, on_batch=lambda name, done: click.echo(
            f"  {name}: {done} re-sealed"))
        click.echo(f"re-sealed {sum(counts.values())} values; no value is sealed with a "
                   "retired key any more")
