"""A custom import-linter contract (`.importlinter`): no package imports another one's private names.

import-linter's own contracts see modules, not names. This one reads each module of the graph
with `ast` and refuses `from other_package.x import _name` (and `import other_package._module`)
when `other_package` is another root package. A package's own private helpers stay usable inside it.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports(graph: ImportGraph, roots: set[str], allowed: set[str]) -> list[tuple[str, int, str]]:
    """(importer, line, imported name) for every import of another root package's private name."""
    found: list[tuple[str, int, str]] = []
    for module in sorted(graph.modules):
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        package = module.split(".")[0]
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"), filename=spec.origin)
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                parts = target.split(".")
                if parts[0] not in roots or parts[0] == package or target in allowed:
                    continue
                if any(_is_private(part) for part in parts[1:]):
                    found.append((module, node.lineno, target))
    return found


class NoPrivateImportsContract(Contract):
    """Options: `allow` lists `package.module._name` imports tolerated for now (with a reason in a comment)."""

    allow = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        roots = {module for module in graph.modules if "." not in module}
        allowed = set(self.allow) if isinstance(self.allow, list) else set()  # type: ignore[arg-type]
        found = private_imports(graph, roots, allowed)
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, line, target in check.metadata["found"]:
            output.print_error(f"{importer}:{line} imports the private {target}", bold=False)
            output.new_line()
