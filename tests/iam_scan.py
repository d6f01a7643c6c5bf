"""Which AWS API calls each Lambda of the app can make, read from the source (no import, no AWS).

1. Entry points: the decorated functions of app.py (`@app.route` -> `api_handler`; `on_sns_message`,
   `lambda_function`, ... -> `name=` or the function's name).
2. Modules each entry point reaches: the names its body (and app.py helpers it calls) use, resolved
   through app.py's imports, then every chalicelib import from there on, transitively.
3. Calls: in those modules, `x.<method>(...)` where `<method>` is an operation of a service some
   reached module builds with `aws.client("<service>")` (the only way the app builds clients);
   `get_paginator("<method>")` counts too. Snake-case names map to operations through botocore's model.
4. IAM actions: `<signing name>:<Operation>`, with the few documented exceptions below.

The result over-approximates per module (a module's every call is charged to each entry point that
reaches it), which errs on the side of a permission rather than an outage.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# Services whose calls need no IAM permission (Connect Participant authorises by bearer token).
NO_IAM = frozenset({"connectparticipant"})
# Operations authorised under another action (Service Authorization Reference).
ACTION_OVERRIDES = {
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("lambda", "Invoke"): "lambda:InvokeFunction",
}
# boto3 conveniences that are not operations of the model.
CONVENIENCE_METHODS = {
    ("s3", "download_file"): ("GetObject",),
    ("s3", "download_fileobj"): ("GetObject",),
}
_ENTRY_DECORATORS = {"route", "on_sns_message", "lambda_function", "on_sqs_message", "on_s3_event", "schedule",
                     "on_cw_event", "on_ws_message", "on_ws_connect", "on_ws_disconnect", "on_dynamodb_record"}


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    module: str

    @property
    def needs_iam(self) -> bool:
        return self.service not in NO_IAM

    @property
    def action(self) -> str:
        override = ACTION_OVERRIDES.get((self.service, self.operation))
        return override or f"{_signing_name(self.service)}:{self.operation}"


@dataclass
class EntryPoint:
    name: str
    functions: list[str] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)


# ------------------------------------------------------------------------------------------ botocore


@lru_cache(maxsize=None)
def _service_model(service: str):
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@lru_cache(maxsize=None)
def operations(service: str) -> dict[str, str]:
    """{snake_case method: OperationName} for a service."""
    from botocore import xform_name

    return {xform_name(op): op for op in _service_model(service).operation_names}


def _signing_name(service: str) -> str:
    metadata = _service_model(service).metadata
    return metadata.get("signingName") or metadata["endpointPrefix"]


# ------------------------------------------------------------------------------------------ source


class Project:
    def __init__(self, root: Path, package: str = "chalicelib"):
        self.root = root
        self.package = package
        self._trees: dict[str, ast.Module] = {}

    def module_path(self, module: str) -> Path | None:
        base = self.root.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def tree(self, module: str) -> ast.Module:
        if module not in self._trees:
            self._trees[module] = ast.parse(self.module_path(module).read_text())
        return self._trees[module]

    def is_ours(self, module: str) -> bool:
        return (module == self.package or module.startswith(self.package + ".")) and self.module_path(module) is not None

    # ------------------------------------------------------------------ imports

    def imported_modules(self, node: ast.AST, current: str) -> dict[str, str]:
        """{local name: module} for our modules imported anywhere under `node`."""
        names: dict[str, str] = {}
        for item in ast.walk(node):
            if isinstance(item, ast.Import):
                for alias in item.names:
                    if self.is_ours(alias.name):
                        names[alias.asname or alias.name.split(".")[0]] = alias.name
            elif isinstance(item, ast.ImportFrom):
                base = self._absolute(item, current)
                if base is None:
                    continue
                for alias in item.names:
                    submodule = f"{base}.{alias.name}"
                    target = submodule if self.is_ours(submodule) else base
                    if self.is_ours(target):
                        names[alias.asname or alias.name] = target
        return names

    def _absolute(self, node: ast.ImportFrom, current: str) -> str | None:
        if node.level == 0:
            return node.module
        package = current if self.module_path(current).name == "__init__.py" else current.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        return f"{package}.{node.module}" if node.module else package

    def reachable(self, start: set[str]) -> set[str]:
        seen: set[str] = set()
        todo = [m for m in start if self.is_ours(m)]
        while todo:
            module = todo.pop()
            if module in seen:
                continue
            seen.add(module)
            todo += [p for p in _parents(module) if self.is_ours(p)]
            todo += list(self.imported_modules(self.tree(module), module).values())
        return seen

    # ------------------------------------------------------------------ entry points

    def entry_points(self, app_file: str = "app.py") -> dict[str, EntryPoint]:
        tree = ast.parse((self.root / app_file).read_text())
        top_imports = self.imported_modules(
            ast.Module(body=[n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], type_ignores=[]),
            "app")
        definitions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        entries: dict[str, EntryPoint] = {}
        for node in definitions.values():
            name = _entry_name(node)
            if name is None:
                continue
            entry = entries.setdefault(name, EntryPoint(name))
            entry.functions.append(node.name)
            for local in _local_closure(node, definitions):
                used = _names_used(local)
                imports = {**top_imports, **self.imported_modules(local, "app")}
                entry.modules |= {module for alias, module in imports.items() if alias in used}
        for entry in entries.values():
            entry.modules = self.reachable(entry.modules)
        return entries

    # ------------------------------------------------------------------ calls

    def services_built(self, module: str) -> set[str]:
        found = set()
        for node in ast.walk(self.tree(module)):
            if isinstance(node, ast.Call) and _callee_name(node) == "client" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
        return found

    def calls(self, entry: EntryPoint) -> set[Call]:
        everywhere = set().union(*(self.services_built(m) for m in entry.modules)) if entry.modules else set()
        found: set[Call] = set()
        for module in entry.modules:
            local = self.services_built(module)
            for method in _methods_called(self.tree(module)):
                services = [s for s in local if _operations_for(s, method)] or \
                           [s for s in everywhere if _operations_for(s, method)]
                for service in services:
                    for operation in _operations_for(service, method):
                        found.add(Call(service, operation, module))
        return found


def _operations_for(service: str, method: str) -> tuple[str, ...]:
    if (service, method) in CONVENIENCE_METHODS:
        return CONVENIENCE_METHODS[(service, method)]
    operation = operations(service).get(method)
    return (operation,) if operation else ()


def _methods_called(tree: ast.AST) -> set[str]:
    methods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                methods.add(str(node.args[0].value))
            else:
                methods.add(node.func.attr)
    return methods


def _callee_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _entry_name(node: ast.AST) -> str | None:
    for decorator in getattr(node, "decorator_list", []):
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        if not (isinstance(target, ast.Attribute) and target.attr in _ENTRY_DECORATORS):
            continue
        if target.attr == "route":
            return "api_handler"
        for keyword in call.keywords if call else []:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                return keyword.value.value
        return node.name
    return None


def _names_used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _local_closure(node: ast.AST, definitions: dict[str, ast.AST]) -> list[ast.AST]:
    """The entry function plus the app.py helpers it (transitively) uses."""
    seen, todo = [], [node]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        todo += [definitions[n] for n in _names_used(current) if n in definitions and _entry_name(definitions[n]) is None]
    return seen


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]
