"""Regenerate tests/golden/ from the current code (run `make golden`, then review the diff)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"

CASES = {
    "datelines.tsv": ["datelines", "seeds", "--format", "tsv"],
    "datelines.jsonl": ["datelines", "seeds", "--format", "jsonl"],
    "datelines_summary.csv": ["datelines", "seeds", "--summary", "--format", "csv"],
}


def main() -> int:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    exe = Path(sys.executable).parent / "newsctl"
    for name, args in CASES.items():
        out = subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={**os.environ, "NO_COLOR": "1"})
        (GOLDEN / name).write_text(out.stdout, encoding="utf-8")
        print(f"wrote tests/golden/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
