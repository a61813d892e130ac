"""Where `datelines` spends its time a story, stage by stage, in one process (CPU seconds).

Reads the files of a corpus folder (say one built by bench_scale_datelines.py
with --keep), holds them in memory, then times each stage of a worker's job
on all of them: reading, decoding, lower-casing, splitting the page (with and
without the headlines), the duplicate keys, the casings of the places, and a
whole batch as the scan runs it (--summary, and rows formatted as tsv).

    python scripts/bench_datelines_stages.py /tmp/bench/stories-100000 [--files 4000]

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.datelines import count_forms, forms_patterns  # noqa: E402
from analysis.reader import decode, read_regular, walk  # noqa: E402
from analysis.scan import _SPACES, ROWS, SPLIT, ScanItem, scan_batch  # noqa: E402
from analysis.stories import page_fields  # noqa: E402
from analysis.textnorm import key_digest, lower_keyed, story_digest  # noqa: E402
from cli.commands.datelines import tsv_row_parts  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--files", type=int, default=4000, help="how many files to time (default 4000)")
    args = ap.parse_args(argv)
    files = [e.path for e in walk([str(args.folder)]) if not e.problem][: args.files]
    fields = [list(page_fields(decode(read_regular(f))[0], False)) for f in files]
    n = sum(map(len, fields))
    print(f"# {len(files)} files, {n} stories; CPU microseconds a story")

    def timed(label, fn):
        t = time.process_time()
        out = fn()
        print(f"{label:32} {(time.process_time() - t) / n * 1e6:6.2f}")
        return out

    raws = timed("read", lambda: [read_regular(f, walked=True) for f in files])
    texts = timed("decode", lambda: [decode(r)[0] for r in raws])
    keyed = timed("lower-case (the key bytes)", lambda: [lower_keyed(t) for t in texts])
    timed("split the page", lambda: [list(page_fields(t, False)) for t in texts])
    split = timed("split the page, with headlines", lambda: [list(page_fields(t, True)) for t in texts])

    def digests():  # as scan_batch makes them
        for t, (low, keyed_), stories in zip(texts, keyed, split):
            for story in stories:
                s, e = story[4], story[3]
                if keyed_:
                    piece = low[s:e]
                    if piece[0] == 32 or piece[-1] == 32 or _SPACES(piece):
                        piece = b" ".join(piece.split())
                    key_digest(piece)
                else:
                    story_digest(t[s:e])

    timed("duplicate keys", digests)
    names = frozenset(p.casefold() for stories in split for s in stories if s[6] for p in s[6][0][1] if p)
    patterns = forms_patterns(names)
    forms: Counter = Counter()
    timed(f"casings of {len(names)} places", lambda: [count_forms(patterns, t, forms, None, low)
                                                      for t, (low, _) in zip(texts, keyed)])
    batches = [tuple((f, None) for f in files[i: i + 256]) for i in range(0, len(files), 256)]
    timed("whole batches, --summary", lambda: [scan_batch(None, ScanItem(SPLIT, names, b)) for b in batches])
    with tempfile.TemporaryDirectory() as folder:
        timed("whole batches, rows as tsv", lambda: [scan_batch(None, ScanItem(ROWS, names, b, (), tsv_row_parts,
                                                                               folder)) for b in batches])
        from analysis.scan import close_spill

        close_spill(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
