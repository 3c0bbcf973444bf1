"""The README's configuration reference lists every setting, with its real default."""

from pathlib import Path

from ragops_core.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_documented_with_its_default() -> None:
    for name, field in Settings.model_fields.items():
        variable = (
            field.validation_alias
            if isinstance(field.validation_alias, str)
            else f"RAGOPS_{name.upper()}"
        )
        row = next(
            (line for line in README.splitlines() if line.startswith(f"| `{variable}` |")), None
        )
        assert row is not None, f"{variable} is missing from the README's configuration table"
        documented = {None: "unset", "": "empty"}.get(field.default, f"`{field.default}`")
        assert f"| {documented} |" in row, (
            f"{variable}: README default differs from {field.default!r}"
        )
