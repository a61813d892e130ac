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
