"""Training defaults that the commands show in --help, kept free of torch so --help stays fast."""

from __future__ import annotations

DEFAULT_EPOCHS = 50  # the seed's
