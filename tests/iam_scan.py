"""Which AWS API calls each Lambda of the app can make, read from the source (no import, no AWS).

1. Entry points: the decorated functions of app.py (`@app.route` -> `api_handler`; `on_sns_message`,
   `lambda_function`, ... -> `name=` or the function's name), with the app.py helpers they use.
2. Reached code, to a fixed point: a reached body imports modules (their module-level code runs) and
   names defs (called, passed as callbacks, read from a table); a named def of a reached module is
   reached; naming a class reaches its dunder methods; a module-level variable is reached when read.
   Same-named defs are all reached: an over-approximation, never a miss.
3. Calls, in reached code: `x.<method>` where `<method>` is an operation of a service built in reached
   code with `aws.client("<service>")` (the only way the app builds clients) or a stand-in named like
   one (`LazyClient("<service>")`), preferring the services built in the same module; inside functions,
   strings naming an operation count too (`get_paginator("list_x")`, `self._call("GetItem")`).
   Snake-case names map to operations through botocore's model.
4. IAM actions: `<signing name>:<Operation>`, with the documented exceptions below.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
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
# DynamoDB transactions have no IAM action of their own: each item needs its own operation's action
# ("Using IAM with DynamoDB transactions", DynamoDB Developer Guide). The item kinds are read from the
# dict keys of the module making the call; none found means all of them.
TRANSACTIONS = {("dynamodb", "TransactWriteItems"), ("dynamodb", "TransactGetItems")}
TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
# boto3 conveniences that are not operations of the model.
CONVENIENCE_METHODS = {
    ("s3", "download_file"): ("GetObject",),
    ("s3", "download_fileobj"): ("GetObject",),
}
# What app.py's top level defines: the candidates for entry points and the helpers they use.
Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
_ENTRY_DECORATORS = {
    "route",
    "on_sns_message",
    "lambda_function",
    "on_sqs_message",
    "on_s3_event",
    "schedule",
    "on_cw_event",
    "on_ws_message",
    "on_ws_connect",
    "on_ws_disconnect",
    "on_dynamodb_record",
}


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    module: str
    transaction_items: tuple[str, ...] = ()  # for DynamoDB transactions: Put, Update, Delete, ...

    @property
    def needs_iam(self) -> bool:
        return self.service not in NO_IAM

    @property
    def actions(self) -> tuple[str, ...]:
        """The IAM actions this call is authorised by (all of them are needed)."""
        if (self.service, self.operation) in TRANSACTIONS:
            kinds = self.transaction_items or tuple(TRANSACTION_ITEM_ACTIONS)
            return tuple(sorted(f"dynamodb:{TRANSACTION_ITEM_ACTIONS[k]}" for k in kinds))
        override = ACTION_OVERRIDES.get((self.service, self.operation))
        return (override or f"{_signing_name(self.service)}:{self.operation}",)


@dataclass
class EntryPoint:
    name: str
    functions: list[str] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)  # imported by app.py for it, then all it reaches
    bodies: list[tuple[str, ast.AST]] = field(default_factory=list)  # (module, function or module-level code)


# ------------------------------------------------------------------------------------------ botocore


@cache
def _service_model(service: str):
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@cache
def operations(service: str) -> dict[str, str]:
    """{snake_case method: OperationName} for a service."""
    from botocore import xform_name

    return {xform_name(op): op for op in _service_model(service).operation_names}


def _runtime_walk(node: ast.AST):
    """`ast.walk`, without the bodies of `if TYPE_CHECKING:` (imports there never run)."""
    todo = [node]
    while todo:
        item = todo.pop()
        yield item
        for child in ast.iter_child_nodes(item):
            if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
                todo.extend(child.orelse)
                continue
            todo.append(child)


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

    def source_path(self, module: str) -> Path:
        """The file of one of our modules (callers know it exists)."""
        path = self.module_path(module)
        assert path is not None, module
        return path

    def tree(self, module: str) -> ast.Module:
        if module not in self._trees:
            self._trees[module] = ast.parse(self.source_path(module).read_text())
        return self._trees[module]

    def is_ours(self, module: str) -> bool:
        return (module == self.package or module.startswith(self.package + ".")) and self.module_path(
            module
        ) is not None

    # ------------------------------------------------------------------ imports

    def imported_modules(self, node: ast.AST, current: str) -> dict[str, str]:
        """{local name: module} for our modules imported anywhere under `node`."""
        names: dict[str, str] = {}
        for item in _runtime_walk(node):
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
        package = current if self.source_path(current).name == "__init__.py" else current.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        return f"{package}.{node.module}" if node.module else package

    # ------------------------------------------------------------------ entry points

    def entry_points(self, app_file: str = "app.py") -> dict[str, EntryPoint]:
        tree = ast.parse((self.root / app_file).read_text())
        top_imports = self.imported_modules(
            ast.Module(body=[n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], type_ignores=[]),
            "app",
        )
        definitions = {
            n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        }
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
            entry.bodies = self._reach(entry, definitions)
        return entries

    # ------------------------------------------------------------------ calls

    def services_built(self, module: str, node: ast.AST | None = None) -> set[str]:
        """Services named in `aws.client("svc")` or a stand-in for it (`LazyClient("svc")`, ...)."""
        found = set()
        for item in ast.walk(node or self.tree(module)):
            if not isinstance(item, ast.Call):
                continue
            callee = _callee_name(item)
            if callee and callee.lower().endswith("client") and item.args:
                arg = item.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value in _known_services():
                    found.add(arg.value)
        return found

    def _reach(self, entry: EntryPoint, app_defs: Mapping[str, Definition]) -> list[tuple[str, ast.AST]]:
        """The code an entry point can run: its app.py functions, then, to a fixed point, every module
        a reached body imports (module-level code runs on import) and every def of a reached module
        that a reached body names (call, attribute or reference, so callbacks and dispatch tables
        count; naming a class reaches its dunder methods). Same-named defs are all reached: an
        over-approximation, never a miss."""
        names_seen: set[str] = set()
        todo: list[tuple[str, ast.AST]] = [
            ("app", n) for f in entry.functions for n in _local_closure(app_defs[f], app_defs)
        ]
        modules = set(entry.modules)
        entry.modules = set()
        visited: set[int] = set()
        reached: list[tuple[str, ast.AST]] = []

        def add_module(module: str) -> None:
            for name in [*_parents(module), module]:
                if not self.is_ours(name) or name in entry.modules:
                    continue
                entry.modules.add(name)
                todo.append((name, _module_level(self.tree(name))))
                for def_name in names_seen:
                    todo.extend(self._defs(name).get(def_name, []))

        for module in modules:
            add_module(module)
        while todo:
            module, node = todo.pop()
            if id(node) in visited:
                continue
            visited.add(id(node))
            reached.append((module, node))
            for imported in self.imported_modules(node, module).values():
                add_module(imported)
            for name in _names_and_attributes(node) - names_seen:
                names_seen.add(name)
                for known in entry.modules:
                    todo.extend(self._defs(known).get(name, []))
        return reached

    @cache
    def _defs(self, module: str) -> dict[str, list[tuple[str, ast.AST]]]:
        """{name: [(module, def)]}; a class name maps to its dunder methods, a module-level variable to
        its assignment (a table of functions is reached only when something reads the table)."""
        found: dict[str, list[tuple[str, ast.AST]]] = {}
        for statement in self.tree(module).body:
            for name in _assigned_names(statement):
                found.setdefault(name, []).append((module, statement))
        for node in ast.walk(self.tree(module)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.setdefault(node.name, []).append((module, node))
            elif isinstance(node, ast.ClassDef):
                found.setdefault(node.name, []).extend(
                    (module, f)
                    for f in node.body
                    if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name.startswith("__")
                )
        return found

    def calls(self, entry: EntryPoint) -> set[Call]:
        reached = entry.bodies
        everywhere: set[str] = set()
        for module, node in reached:
            everywhere |= self.services_built(module, node)
        found: set[Call] = set()
        for module, node in reached:
            if module == "app" or isinstance(node, (ast.Module, ast.Assign, ast.AnnAssign)):
                candidates = _attributes_named(node)  # module-level strings are lookup tables, not calls
            else:
                candidates = _methods_named(node)
            local = self.services_built(module) & everywhere
            for method in candidates:
                services = [s for s in local if _operations_for(s, method)] or [
                    s for s in everywhere if _operations_for(s, method)
                ]
                for service in services:
                    for operation in _operations_for(service, method):
                        items = _transaction_items(reached, module) if (service, operation) in TRANSACTIONS else ()
                        found.add(Call(service, operation, module, items))
        return found


def _operations_for(service: str, method: str) -> tuple[str, ...]:
    if (service, method) in CONVENIENCE_METHODS:
        return CONVENIENCE_METHODS[(service, method)]
    names = operations(service)
    operation = names.get(method) or (method if method in names.values() else None)
    return (operation,) if operation else ()


def _transaction_items(reached: list[tuple[str, ast.AST]], module: str) -> tuple[str, ...]:
    keys = {
        k.value
        for m, node in reached
        if m == module
        for d in ast.walk(node)
        if isinstance(d, ast.Dict)
        for k in d.keys
        if isinstance(k, ast.Constant) and k.value in TRANSACTION_ITEM_ACTIONS
    }
    return tuple(sorted(keys))


def _attributes_named(tree: ast.AST) -> set[str]:
    """Attribute names, called or passed on (`self._call(self._s3.get_object, ...)`)."""
    return {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


def _called_or_passed(tree: ast.AST) -> set[str]:
    """Attribute names that are called or passed on as an argument; a value read (`parts.query`) is not a call."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            passed = [*node.args, *(k.value for k in node.keywords)]
            names |= {n.attr for n in (node.func, *passed) if isinstance(n, ast.Attribute)}
    return names


def _methods_named(tree: ast.AST) -> set[str]:
    """Method names called on anything, plus strings naming an operation for `getattr`-style dispatch
    (`get_paginator("list_x")`, `self._call("GetItem", ...)`)."""
    methods = _called_or_passed(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and (_SNAKE_METHOD.match(node.value) or _OPERATION_NAME.match(node.value))
        ):
            methods.add(node.value)
    return methods


def _module_level(tree: ast.Module) -> ast.Module:
    """What a module runs on import, minus the bodies of its defs and its variables' values."""
    kept = [
        s
        for s in tree.body
        if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not _assigned_names(s)
    ]
    kept += [  # decorators run on import: kept as the expression statements they amount to
        ast.Expr(value=d)
        for c in tree.body
        if isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        for d in c.decorator_list
    ]
    return ast.Module(body=kept, type_ignores=[])


def _assigned_names(statement: ast.stmt) -> list[str]:
    """`X = ...` / `X: T = ...` at module level: the variable names, else []."""
    targets = (
        statement.targets
        if isinstance(statement, ast.Assign)
        else [statement.target]
        if isinstance(statement, ast.AnnAssign)
        else []
    )
    return (
        [t.id for t in targets if isinstance(t, ast.Name)]
        if targets and all(isinstance(t, ast.Name) for t in targets)
        else []
    )


def _names_and_attributes(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
    }


_OPERATION_NAME = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+$")
_SNAKE_METHOD = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


@cache
def _known_services() -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_available_services())


def _callee_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _entry_name(node: Definition) -> str | None:
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        if not (isinstance(target, ast.Attribute) and target.attr in _ENTRY_DECORATORS):
            continue
        if target.attr == "route":
            return "api_handler"
        for keyword in call.keywords if call else []:
            if (
                keyword.arg == "name"
                and isinstance(keyword.value, ast.Constant)
                and isinstance(keyword.value.value, str)
            ):
                return keyword.value.value
        return node.name
    return None


def _names_used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _local_closure(node: Definition, definitions: Mapping[str, Definition]) -> list[Definition]:
    """The entry function plus the app.py helpers it (transitively) uses."""
    seen: list[Definition] = []
    todo = [node]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        todo += [
            definitions[n] for n in _names_used(current) if n in definitions and _entry_name(definitions[n]) is None
        ]
    return seen


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]
