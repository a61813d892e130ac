import importlib.util

import pytest

from tests.conftest import ROOT, invoke

_spec = importlib.util.spec_from_file_location("screenshot", ROOT / "scripts" / "screenshot.py")
screenshot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(screenshot)


def test_html_page_is_self_contained(runner, in_root, tmp_path):
    page = tmp_path / "ents.html"
    result = invoke(runner, ["entities", "seeds/000_6886c8d2ffe8f8a4.txt", "--html", page, "-f", "tsv", "--no-cache"])
    assert result.exit_code == 0, result.stderr
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") or "<html" in html[:200]
    assert "000_6886c8d2ffe8f8a4:0" in html and "ALMATY (ANP/RTR) -" in html
    assert "<mark" in html and "PER" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "<script src" not in html


@pytest.mark.skipif(screenshot.find_chromium() is None, reason="no headless Chromium installed")
def test_html_renders_in_a_real_browser(runner, in_root, tmp_path):
    page, png = tmp_path / "ents.html", tmp_path / "ents.png"
    invoke(runner, ["entities", "seeds", "--html", page, "-f", "tsv"])
    screenshot.screenshot(page, png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
