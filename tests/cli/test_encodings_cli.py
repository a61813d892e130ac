"""A file's encoding does not change what newsctl makes of it: UTF-16 with a BOM reads as its UTF-8 copy."""

from tests.conftest import SEEDS, invoke


def test_a_utf16_page_gives_the_rows_and_hits_of_its_utf8_copy(runner, tmp_path):
    page = (SEEDS / "000_6886c8d2ffe8f8a4.txt").read_text(encoding="utf-8")
    (tmp_path / "u8").mkdir()
    (tmp_path / "u16").mkdir()
    (tmp_path / "u8" / "p.txt").write_text(page, encoding="utf-8")
    (tmp_path / "u16" / "p.txt").write_bytes(page.replace("\n", "\r\n").encode("utf-16"))
    for args in (["datelines"], ["search", "Tokajev"], ["search", "Tokajev", "--no-cache"], ["search", "-e", "Tok\\w+"]):
        got = {}
        for d in ("u8", "u16"):
            result = invoke(runner, [*args, tmp_path / d, "-f", "tsv", "--store", tmp_path / "s.sqlite"])
            assert result.exit_code == 0 and not result.stderr, (args, d, result.stderr)
            got[d] = result.stdout.replace(f"/{d}/", "/")
        assert got["u8"] == got["u16"] and got["u8"].count("\n") > 3, args
