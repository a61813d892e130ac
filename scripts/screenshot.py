"""Render `newsctl entities --html` for the seeds and screenshot it in headless Chromium.

Usage: python scripts/screenshot.py [OUT_DIR]   (default build/screenshot)
Writes entities.html and entities.png; exits 3 when no Chromium is installed
(Debian: apt-get install chromium).
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1280,1600",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html: Path, png: Path) -> None:
    browser = find_chromium()
    if browser is None:
        raise FileNotFoundError("no chromium on PATH")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}", html.resolve().as_uri()],
            check=True, capture_output=True, timeout=120,
        )


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "screenshot"
    out.mkdir(parents=True, exist_ok=True)
    html, png = out / "entities.html", out / "entities.png"
    exe = Path(sys.executable).parent / "newsctl"
    subprocess.run([str(exe), "entities", "seeds", "--html", str(html), "-f", "tsv"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    if find_chromium() is None:
        print("no Chromium found (apt-get install chromium); wrote", html)
        return 3
    screenshot(html, png)
    print("wrote", html, "and", png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
