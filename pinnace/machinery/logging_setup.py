"""One logging setup for every component."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str = "info") -> None:
    """Log to stderr as 'time level logger: message'."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname).1s %(name)s: %(message)s",
        stream=sys.stderr,
    )
