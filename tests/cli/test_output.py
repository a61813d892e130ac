import csv
import io

from tests.conftest import invoke


def test_excel_csv_has_a_bom_semicolons_and_decimal_commas(runner, in_root, seeds_store):
    result = invoke(runner, ["cooccur", "seeds", "--top", "3", "-f", "excel-csv", "--store", seeds_store])
    assert result.exit_code == 0, result.stderr
    data = result.stdout_bytes
    assert data.startswith("\ufeff".encode("utf-8")) and b"\r\n" in data
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0][:5] == ["entity_a", "label_a", "entity_b", "label_b", "count"]
    assert "," in rows[1][7] and "." not in rows[1][7]  # npmi: 0,1234
    plain = invoke(runner, ["cooccur", "seeds", "--top", "3", "-f", "csv", "--store", seeds_store]).stdout
    assert [r[:7] for r in rows] == [r[:7] for r in csv.reader(io.StringIO(plain))]


def test_excel_csv_keeps_dutch_text(runner, in_root):
    result = invoke(runner, ["datelines", "seeds", "-f", "excel-csv"])
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0][0] == "id" and any("Oekraïne" in c for r in rows for c in r)


def test_tsv_rows_are_written_as_field_by_field_escaping_writes_them():
    from cli.output import plain, tsv_escape, write_tsv

    rows = [
        ["a", 1, None, ["X", "Y"], (), "Genève"],
        ["tab\there", -2, True, 0.5, ("a\tb",), "nieuwe\nregel"],
        ["back\\slash", 0, False, ["\udcff"], [1, "x"], "cr\r"],
        ["\udcffbytes.txt", 3, "", [], ("ok",), "\ud800 lone"],
    ]
    out = io.StringIO()
    assert write_tsv(rows, ["a", "b", "c", "d", "e", "f"], out, header=False) == 4
    assert out.getvalue() == "".join("\t".join(tsv_escape(plain(v)) for v in row) + "\n" for row in rows)


def test_datelines_columns_are_the_record_fields():
    from analysis.corpus import DATELINE_FIELDS
    from cli.commands.datelines import COLUMNS

    assert tuple(c.name for c in COLUMNS) == DATELINE_FIELDS  # rows go out as tuples in this order


def _with_closed_stderr(args, tmp_path):
    """Run newsctl with stderr a pipe nobody reads any more (`2>&1 >out | head -0`); stdout to a file."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    r, w = os.pipe()
    os.close(r)
    out = tmp_path / "out.tsv"
    try:
        with open(out, "wb") as fh:
            proc = subprocess.run([sys.executable, "-c", "import sys; from cli.launch import main; sys.exit(main())",
                                   *map(str, args)], stdout=fh, stderr=w, cwd=ROOT, timeout=120,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        os.close(w)
    return proc.returncode, out.read_text(encoding="utf-8")


def test_a_warning_on_a_closed_stderr_loses_no_output(tmp_path, seeds):
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(seeds, corpus)
    (corpus / "binary.txt").write_bytes(b"a\x00b")  # one warning
    status, out = _with_closed_stderr(["datelines", corpus, "-f", "tsv"], tmp_path)
    assert status == 1  # partial: a file was skipped (rich pointed stdout at /dev/null and exited 1 here)
    assert len(out.splitlines()) == 41


def test_an_error_on_a_closed_stderr_keeps_its_status(tmp_path):
    assert _with_closed_stderr(["datelines", tmp_path / "missing"], tmp_path)[0] == 2  # was 1
    assert _with_closed_stderr(["datelines", "seeds", "--bogus"], tmp_path)[0] == 2  # a usage error: was 0
