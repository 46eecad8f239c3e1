"""The migrations' numbering, which start-up relies on to know the head without Alembic:
`NNNN_<name>.py` is revision "NNNN", down to the file before it in number order."""

from __future__ import annotations

import ast

from neutrino.db.migrate import VERSIONS, head_revision


def _assigned(path, name: str) -> object:  # type: ignore[no-untyped-def]
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path.name} assigns no {name}")


def test_each_migration_is_its_numbers_revision_and_follows_the_one_before() -> None:
    files = sorted(p for p in VERSIONS.glob("*.py") if not p.name.startswith("__"))
    numbers = [p.name[:4] for p in files]
    assert all(n.isdigit() for n in numbers), numbers
    previous = None
    for path, number in zip(files, numbers, strict=True):
        assert _assigned(path, "revision") == number, path.name
        assert _assigned(path, "down_revision") == previous, path.name
        previous = number
    assert head_revision() == numbers[-1]
