"""No log call names a field that carries content: file names, S3 keys, URLs, text, tokens, customer ids.

The JSON formatter blanks free text, but an id-shaped value (`jane.doe.pdf`, an S3 key, a PSID) passes
it, so such values must not be logged at all. This reads every `log_event`/`log_error` call in the
production code, including fields gathered in a dict first (`fields = {...}; fields["x"] = ...; **fields`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "chalicelib").rglob("*.py")) + [ROOT / "app.py"]
FORBIDDEN = frozenset(
    {
        "key",
        "name",
        "url",
        "uri",
        "path",
        "bucket",
        "filename",
        "file_name",
        "text",
        "body",
        "message",
        "content",
        "token",
        "secret",
        "password",
        "value",
        "plaintext",
        "ciphertext",
        "digits",
        "email",
        "phone",
        "psid",
        "customer_id",
        "headers",
        "payload",
    }
)
FORBIDDEN_ENDINGS = ("_key", "_name", "_url", "_path", "_text", "_body", "_token", "_secret", "_value")


def logged_fields(tree: ast.AST) -> set[tuple[int, str]]:
    """(line, field name) of every logged field; a nested call is seen from each enclosing scope, once."""
    fields: set[tuple[int, str]] = set()
    for function in [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.Module))]:
        gathered = _gathered_keys(function)
        for call in ast.walk(function):
            if isinstance(call, ast.Call) and _called_name(call) in ("log_event", "log_error"):
                for keyword in call.keywords:
                    if keyword.arg is not None:
                        fields.add((call.lineno, keyword.arg))
                    elif isinstance(keyword.value, ast.Name):
                        fields.update((call.lineno, key) for key in gathered.get(keyword.value.id, ()))
    return fields


def _called_name(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)


def _gathered_keys(function: ast.AST) -> dict[str, list[str]]:
    """String keys put into a local dict: `name = {"k": ...}` and `name["k"] = ...`."""
    keys: dict[str, list[str]] = {}
    for node in ast.walk(function):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and isinstance(node.value, ast.Dict):
                    keys.setdefault(target.id, []).extend(
                        k.value for k in node.value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
                    )
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and isinstance(target.slice, ast.Constant)
                    and isinstance(target.slice.value, str)
                ):
                    keys.setdefault(target.value.id, []).append(target.slice.value)
    return keys


def forbidden(field: str) -> bool:
    return field in FORBIDDEN or field.endswith(FORBIDDEN_ENDINGS)


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_log_field_is_named_for_content(source):
    fields = logged_fields(ast.parse(source.read_text()))
    bad = sorted(f"{source.name}:{line} {field}" for line, field in fields if forbidden(field))
    assert not bad


def test_the_reader_sees_direct_and_gathered_fields():
    code = (
        "def f(x):\n"
        "    fields = {'contact_id': 1}\n"
        "    fields['file_name'] = x\n"
        "    log_event(log, 'e', url=x, **fields)\n"
    )
    found = sorted(field for _, field in logged_fields(ast.parse(code)))
    assert found == ["contact_id", "file_name", "url"]
    assert [field for field in found if forbidden(field)] == ["file_name", "url"]
