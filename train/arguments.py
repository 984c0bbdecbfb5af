"""Command-line value parsers shared by the training commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection


def keyed_number(keys: Collection[str], number: type[int] | type[float], key_name: str) -> Callable[[str], tuple]:
    """A parser of `KEY=NUMBER` values (`--repeat us=4`, `--swap-boost vn=3`): KEY one of `keys`, NUMBER of the
    given type and above 0; anything else is refused with the keys listed."""

    def parse(value: str) -> tuple[str, int | float]:
        key, _, text = value.partition("=")
        try:
            parsed = number(text)
        except ValueError:
            parsed = 0
        if key not in keys or parsed <= 0:
            raise argparse.ArgumentTypeError(
                f"expected {key_name}=N with {key_name} one of {', '.join(keys)} and N > 0"
            )
        return key, parsed

    return parse
