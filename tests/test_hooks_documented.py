"""Every hook in streamemo.hookspecs has a heading in docs/plugins/hooks.md and a test
named test_hook_<hook> in tests/test_hooks.py (as datasette checks its own hooks)."""

from __future__ import annotations

import ast
import re
import types
from pathlib import Path

import pluggy

from streamemo import hookspecs
from tests.conftest import REPO

HOOKS_PAGE = REPO / "docs" / "plugins" / "hooks.md"
HOOK_TESTS = REPO / "tests" / "test_hooks.py"


def hook_names(module: types.ModuleType) -> list[str]:
    """The hooks a hookspec module declares (the functions marked as specs)."""
    marker = f"{hookspecs.hookspec.project_name}_spec"
    return sorted(name for name, fn in vars(module).items() if hasattr(fn, marker))


def undocumented(hooks: list[str], page: str) -> list[str]:
    return [h for h in hooks if not re.search(rf"^#+ `{h}`", page, re.M)]


def untested(hooks: list[str], test_source: str) -> list[str]:
    tests = {
        node.name
        for node in ast.walk(ast.parse(test_source))
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_hook_")
    }
    return [h for h in hooks if f"test_hook_{h}" not in tests]


def test_the_hooks_are_found():
    found = hook_names(hookspecs)
    assert "register_sinks" in found and "streamemo_event" in found and len(found) == 10
    assert "hookimpl" not in found and "hookspec" not in found


def test_every_hook_is_documented():
    assert undocumented(hook_names(hookspecs), HOOKS_PAGE.read_text()) == []


def test_every_hook_has_a_test():
    assert untested(hook_names(hookspecs), HOOK_TESTS.read_text()) == []


def test_the_page_documents_no_hook_that_does_not_exist():
    headings = re.findall(r"^#+ `(\w+)`", HOOKS_PAGE.read_text(), re.M)
    assert sorted(headings) == hook_names(hookspecs)


def test_a_new_hook_without_docs_or_a_test_is_caught():
    spec = pluggy.HookspecMarker("streamemo")
    fake = types.ModuleType("fake_hookspecs")

    @spec
    def register_widgets(register):
        """A hook nobody documented."""

    fake.register_widgets = register_widgets
    fake.register_sinks = hookspecs.register_sinks
    hooks = hook_names(fake)
    assert hooks == ["register_sinks", "register_widgets"]
    assert undocumented(hooks, HOOKS_PAGE.read_text()) == ["register_widgets"]
    assert untested(hooks, HOOK_TESTS.read_text()) == ["register_widgets"]
    # a mention in passing is not a heading, nor a helper a test
    assert undocumented(["register_widgets"], "see `register_widgets`\n") == ["register_widgets"]
    assert untested(["register_widgets"], "def hook_register_widgets(): pass\n") == [
        "register_widgets"
    ]
    assert Path(HOOK_TESTS).exists()
