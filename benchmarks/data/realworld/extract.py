"""Rebuild the extracted parts of the real-world corpus from clones of python-stdnum and Presidio.

    python benchmarks/data/realworld/extract.py --stdnum PATH/python-stdnum --presidio PATH/presidio

Reads data only (example values in doctests, parametrised test cases); copies no code. Writes
stdnum_values.jsonl and presidio_cases.jsonl beside this file, each line with its source file, the commit
it was read at and the upstream licence. Run by hand when refreshing the corpus, never by `make bench`.
"""

from __future__ import annotations

import argparse
import ast
import doctest
import json
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent

# python-stdnum module -> (our entity type, or a PII-free kind starting with "free:").
STDNUM_MODULES = {
    "iban": "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "be/iban": "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "us/ssn": "SSN",
    "us/itin": "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "us/rtn": "BANK_ROUTING",
    "ca/sin": "CA_SOCIAL_INSURANCE_NUMBER",
    "gb/nhs": "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "imei": "free:imei",
    "isbn": "free:isbn",
    "ean": "free:ean",
    "iso6346": "free:container",
    "isin": "free:isin",
    "ismn": "free:ismn",
}
# Presidio recognizer test file -> our entity type (Presidio's entity name in brackets in the README).
PRESIDIO_TESTS = {
    "test_credit_card_recognizer.py": "CREDIT_DEBIT_NUMBER",
    "test_us_ssn_recognizer.py": "SSN",
    "test_iban_recognizer.py": "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "test_aba_routing_recognizer.py": "BANK_ROUTING",
    "test_us_itin_recognizer.py": "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "test_us_passport_recognizer.py": "PASSPORT_NUMBER",
    "test_uk_nino_recognizer.py": "UK_NATIONAL_INSURANCE_NUMBER",
    "test_ca_sin_recognizer.py": "CA_SOCIAL_INSURANCE_NUMBER",
    "test_us_bank_recognizer.py": "BANK_ACCOUNT_NUMBER",
    "test_us_driver_license_recognizer.py": "DRIVER_ID",
    "test_uk_nhs_recognizer.py": "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "test_uk_passport_recognizer.py": "PASSPORT_NUMBER",
}


def _commit(repo: Path) -> str:
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _show(repo: Path, path: str) -> str | None:
    done = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{path}"], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


_CALL = re.compile(r"^(?:\w+\.)*(validate|is_valid)\('([^']+)'\)\s*(?:#.*)?$")


def _doctest_values(text: str) -> list[tuple[str, bool]]:
    """(value, valid) from `validate('x')`, `is_valid('x')` and `numbers = '''...'''` list checks."""
    values: list[tuple[str, bool]] = []
    examples = doctest.DocTestParser().get_examples(text)
    block: list[str] | None = None
    for example in examples:
        source, want = example.source.strip(), example.want.strip()
        call = _CALL.match(source)
        if call:
            if call.group(1) == "validate":
                values.append((call.group(2), not want.startswith("Traceback")))
            elif want in ("True", "False"):
                values.append((call.group(2), want == "True"))
            block = None
            continue
        if source.startswith("numbers = '''"):
            block = [line.strip() for line in source.split("'''")[1].splitlines() if line.strip()]
            continue
        if block is not None and re.sub(r"\s", "", source).startswith("[xforxinnumbers") and want == "[]":
            valid = " not " in source
            values.extend((line, valid) for line in block)
        block = None
    return values


def extract_stdnum(repo: Path) -> list[dict]:
    commit = _commit(repo)
    rows: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for module, kind in STDNUM_MODULES.items():
        for path in (f"stdnum/{module}.py", f"stdnum/{module}/__init__.py", f"tests/test_{module.replace('/', '_')}.doctest"):
            text = _show(repo, path)
            if text is None:
                continue
            if path.endswith(".py"):
                text = ast.get_docstring(ast.parse(text)) or ""
            for value, valid in _doctest_values(text):
                if (kind, value) in seen:
                    continue
                seen.add((kind, value))
                rows.append({"type": kind, "value": value, "valid": valid, "source": f"python-stdnum {path}",
                             "url": f"https://github.com/arthurdejong/python-stdnum/blob/{commit}/{path}",
                             "licence": "LGPL-2.1-or-later"})
    return rows


def extract_presidio(repo: Path) -> list[dict]:
    commit = _commit(repo)
    rows: list[dict] = []
    for name, kind in PRESIDIO_TESTS.items():
        path = f"presidio-analyzer/tests/{name}"
        text = _show(repo, path)
        if text is None:
            continue
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if not (isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith("parametrize")):
                    continue
                names = [n.strip() for n in ast.literal_eval(decorator.args[0]).split(",")]
                values = decorator.args[1]
                if not isinstance(values, (ast.List, ast.Tuple)):  # built by the test: no literal data to take
                    continue
                for element in values.elts:
                    try:
                        case = ast.literal_eval(element)
                    except ValueError:  # computed in the test (e.g. a checksum helper): not a data value
                        continue
                    fields = dict(zip(names, case))
                    text_field = next((fields[n] for n in names if n in ("text", "iban")), None)
                    length = next((fields[n] for n in names if "len" in n), None)
                    positions = next((fields[n] for n in names if ("pos" in n or n.endswith("res")) and "score" not in n), ())
                    scores = next((fields[n] for n in names if "score" in n), None)
                    if not isinstance(text_field, str) or not isinstance(length, int):
                        continue
                    rows.append({"type": kind, "text": text_field, "expected": [list(p) for p in positions][:length],
                                 "expected_len": length, "scores": _scores(scores, length), "test": node.name,
                                 "source": f"presidio {path}",
                                 "url": f"https://github.com/microsoft/presidio/blob/{commit}/{path}", "licence": "MIT"})
    return rows


def _scores(scores, length: int) -> list[float | None]:
    """Each expected result's upper score bound as the test states it (None: not stated, or "max")."""
    if scores is None or length == 0:
        return []
    if isinstance(scores, (int, float)):
        return [float(scores)] * length
    bounds: list[float | None] = []
    for score in list(scores)[:length]:
        high = score[-1] if isinstance(score, (tuple, list)) else score
        bounds.append(float(high) if isinstance(high, (int, float)) else None)
    return bounds


def _write(rows: list[dict], name: str) -> None:
    with (HERE / name).open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{name}: {len(rows)} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stdnum", type=Path)
    parser.add_argument("--presidio", type=Path)
    args = parser.parse_args()
    if args.stdnum:
        _write(extract_stdnum(args.stdnum), "stdnum_values.jsonl")
    if args.presidio:
        _write(extract_presidio(args.presidio), "presidio_cases.jsonl")


if __name__ == "__main__":
    main()
