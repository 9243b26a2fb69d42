"""The README cannot rot: settings, commands and examples are checked against the code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import typer

from tabadol.cli.main import app
from tabadol.config import SETTINGS, Settings
from tabadol.node.node import open_node
from tabadol.usecases.membership import api_tokens, organizations, principals

from ..conftest import LiveServer

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    root = typer.main.get_command(app)
    names = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):  # a group (typer vendors its own click classes)
            names += [f"{name} {sub}" for sub in command.commands]
        else:
            names.append(name)
    return names


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting) -> None:  # type: ignore[no-untyped-def]
    """Each setting has a row in the README's configuration table, and its default matches."""
    assert f"| `{setting.name}` |" in README
    assert getattr(Settings(), setting.name) == setting.default


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_documented(command: str) -> None:
    """Each CLI command appears in the README's CLI reference."""
    assert re.search(rf"`tabadol {re.escape(command)}\b", README), command


def test_readme_client_example_runs(
    data_dir: Path, live_server_factory: Callable[[Path], LiveServer]
) -> None:
    """The taxii2-client example in the README runs as written against a live node."""
    with open_node(data_dir) as node:
        organizations.add_org(node, "Docs Org")
        _, secret = api_tokens.create_token(node, principals.OPERATOR, "Docs Org", "reader")
    server = live_server_factory(data_dir)
    block = README.split("<!-- example: taxii2-client -->")[1]
    code = block.split("```python")[1].split("```")[0]
    env = {**os.environ, "TABADOL_URL": server.url, "TABADOL_TOKEN": secret}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "identity Docs Org" in done.stdout
