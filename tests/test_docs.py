"""The docs are tested: every command and every format field is documented."""

from __future__ import annotations

from jointplan.docgen import cli_reference, commands
from jointplan.files.fields import OBJECTS, WITHHOLDABLE
from tests.conftest import ROOT


def test_the_cli_reference_is_current():
    assert (ROOT / "docs" / "cli.md").read_text() == cli_reference(), (
        "docs/cli.md is out of date: run `make docs`")


def test_every_command_is_in_the_readme_and_the_reference():
    readme = (ROOT / "README.md").read_text()
    for name in commands():
        assert f"jointplan {name}" in readme, name
        assert f"## jointplan {name}" in cli_reference()


def test_every_format_field_is_documented():
    text = (ROOT / "docs" / "format.md").read_text()
    for kind, fields in OBJECTS.items():
        for key in fields:
            assert f"`{key}`" in text, f"{kind}.{key} is not in docs/format.md"
    for kind, fields in WITHHOLDABLE.items():
        for key in fields:
            assert f"`{key}`" in text, f"withhold {kind}.{key}"


def test_the_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick
