"""Options that several commands share, so that each reads and says the same."""

from __future__ import annotations

import argparse


def add_config_options(
    parser: argparse.ArgumentParser,
    config_help: str = "a TOML config, e.g. configs/offline-en.toml",
    example: str = "audio.model=DIR",
) -> None:
    """``--config FILE`` and ``-o KEY=VALUE`` (repeatable), as ``streamemo run`` has them."""
    parser.add_argument("--config", metavar="FILE", help=config_help)
    parser.add_argument(
        "-o",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override a config key, e.g. -o {example} (repeatable)",
    )
