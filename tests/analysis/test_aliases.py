import pytest

from analysis.aliases import default_path, load_aliases, read_aliases
from analysis.errors import InputError


def test_read_aliases(tmp_path):
    f = tmp_path / "a.tsv"
    # Empty columns at the end of a line (a spreadsheet's export of a row without a label) are no label.
    f.write_text("# corrections\n\nKiev\tKyiv\nHamas\tHamas\torg\t\t\n  \nVS\tVerenigde Staten\t \t\n",
                 encoding="utf-8")
    a = read_aliases(f)
    assert a.canonical("KIEV") == "Kyiv" and a.canonical("kyiv") == "Kyiv"
    assert a.canonical("vs") == "Verenigde Staten"
    assert a.labels == {"Hamas": "ORG"}


@pytest.mark.parametrize(
    "line, message",
    [("Kiev", "expected"), ("Kiev\tKyiv\tLOC\textra", "expected"), ("Kiev\tKyiv\tPLACE", "unknown label"),
     ("\tKyiv", "empty")],
)
def test_bad_line_names_file_and_line(tmp_path, line, message):
    f = tmp_path / "a.tsv"
    f.write_text(f"# ok\nVS\tVerenigde Staten\n{line}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_aliases(f)
    assert f"{f}, line 3" in str(err.value) and message in str(err.value)


def test_default_file_from_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert not load_aliases()
    default_path().parent.mkdir(parents=True)
    default_path().write_text("Kiev\tKyiv\n", encoding="utf-8")
    extra = tmp_path / "extra.tsv"
    extra.write_text("Kiev\tKijv\tLOC\n", encoding="utf-8")
    assert load_aliases().canonical("Kiev") == "Kyiv"
    assert load_aliases(extra).canonical("Kiev") == "Kijv"  # --aliases wins
    with pytest.raises(InputError, match="not found"):
        load_aliases(tmp_path / "missing.tsv")


def test_a_bom_is_not_part_of_the_first_variant(tmp_path):
    f = tmp_path / "a.tsv"
    f.write_bytes("\ufeffKiev\tKyiv\r\nHamas\tHamas\tORG\r\n".encode("utf-8"))  # Notepad's UTF-8
    assert read_aliases(f).canonical("kiev") == "Kyiv"


def test_a_fifo_is_refused_not_waited_on(tmp_path):
    import os
    import threading

    fifo = tmp_path / "aliases.tsv"
    os.mkfifo(fifo)
    got: list = []
    reader = threading.Thread(target=lambda: got.append(pytest.raises(InputError, read_aliases, fifo)), daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # let the blocked open go, so the test run ends
        with open(fifo, "w"):
            pass
        reader.join(5)
        pytest.fail("reading the aliases waited on a FIFO")
    assert got and "not a regular file" in str(got[0].value)


def test_lines_end_at_newlines_only_and_errors_count_them_as_editors_do(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text("Kiev\tKyiv\u2028stad\r\nMoscow\tMoskou\x0cx\rbad line\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"a.tsv, line 3: expected"):
        read_aliases(path)
    path.write_text("Kiev\tKyiv\u2028stad\r\nMoscow\tMoskou\x85x\n", encoding="utf-8")
    assert set(read_aliases(path).names.values()) == {"Kyiv\u2028stad", "Moskou\x85x"}
