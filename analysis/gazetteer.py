"""Dutch names of countries and large regions (``analysis/data/places_nl.txt``).

The list is generated from the pycountry package by
``scripts/make_gazetteer.py``. :mod:`analysis.knowledge` reads it with the
world place list: a name it knows is a place (``LOC``) whatever label the
model gave its mentions ("Groenland", "Oekraïne", "Minnesota").
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "places_nl.txt"


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Casefolded place names; empty when the data file is missing."""
    try:
        lines = DATA.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def is_place(name: str) -> bool:
    return name.casefold() in place_names()
