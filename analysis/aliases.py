"""User corrections to entity names and labels: the aliases file.

A TSV file, one correction a line: ``variant<TAB>canonical`` or
``variant<TAB>canonical<TAB>LABEL``; ``#`` starts a comment, blank lines are
ignored. Every mention whose name (as found, or as canonicalised) is the
variant, ignoring case and diacritics, is counted under ``canonical``; with a
label, the entity always has that label. The file is read from
``$XDG_CONFIG_HOME/newsctl/aliases.tsv`` (default ``~/.config``) and from
``--aliases FILE``; the second wins where both name a variant.

Aliases are applied when results are assembled, after the annotation store,
so editing the file never runs the model again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .knowledge import fold

LABELS = ("PER", "ORG", "LOC", "MISC")


@dataclass
class Aliases:
    names: dict[str, str] = field(default_factory=dict)  # folded variant -> canonical
    labels: dict[str, str] = field(default_factory=dict)  # canonical -> label

    def __bool__(self) -> bool:
        return bool(self.names or self.labels)

    def canonical(self, *names: str) -> str | None:
        for n in names:
            hit = self.names.get(fold(n))
            if hit is not None:
                return hit
        return None


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "newsctl" / "aliases.tsv"


def read_aliases(path: Path, into: Aliases | None = None) -> Aliases:
    """Parse one aliases file; a bad line raises :class:`InputError` naming the file and line."""
    from .reader import read_regular

    out = into if into is not None else Aliases()
    try:
        # read_regular: a FIFO or device is refused, never opened (it would block);
        # utf-8-sig: the BOM Windows editors write is not part of the first variant.
        text = read_regular(str(path)).decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"aliases file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read aliases file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    # Lines end at \n, \r\n or \r only: str.splitlines() also splits at U+2028, U+0085, form
    # feeds..., which made a name holding one a bad line, with a line number no editor shows.
    for n, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.rstrip("\r").split("\t")]
        while len(parts) > 2 and not parts[-1]:
            parts.pop()  # empty columns at the end (a spreadsheet's export): no label
        where = f"{path}, line {n}"
        if len(parts) not in (2, 3):
            raise InputError(f"{where}: expected 'variant<TAB>canonical[<TAB>label]', got {len(parts)} field(s)")
        variant, canonical = parts[0], parts[1]
        if not variant or not canonical:
            raise InputError(f"{where}: empty variant or canonical name")
        out.names[fold(variant)] = canonical
        out.names.setdefault(fold(canonical), canonical)
        if len(parts) == 3:
            label = parts[2].upper()
            if label not in LABELS:
                raise InputError(f"{where}: unknown label {parts[2]!r} (choose from {', '.join(LABELS)})")
            out.labels[canonical] = label
    return out


def load_aliases(path: Path | None = None) -> Aliases:
    """The user's aliases file (if there is one), then ``path`` (which must exist)."""
    aliases = Aliases()
    default = default_path()
    if default.is_file():
        read_aliases(default, aliases)
    if path is not None:
        read_aliases(Path(path), aliases)
    return aliases
