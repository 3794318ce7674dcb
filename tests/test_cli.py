"""The command-line group: listing, version, lazy loading, placeholders, one-line errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import click
import pytest

from serdevice.device import cli as cli_module

EXPECTED = "listen predict devices features data train evaluate export model calibrate doctor bench"


def test_help_lists_every_subcommand_without_importing_torch():
    code = textwrap.dedent(
        """
        import sys
        from serdevice.device.cli import main
        try:
            main(["--help"])
        except SystemExit:
            pass
        heavy = [m for m in ("torch", "sklearn", "litert_torch", "tensorflow", "opensmile",
                             "serdevice.train", "serdevice.export") if m in sys.modules]
        print("HEAVY:" + ",".join(heavy))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    for name in EXPECTED.split():
        assert f"  {name} " in out.stdout, name
    assert "HEAVY:\n" in out.stdout


def test_version(cli):
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("serdevice, version ")


def test_unknown_subcommand_is_a_usage_error(cli):
    result = cli("no-such-command")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "no-such-command" in result.stderr


def test_missing_extra_names_the_pip_install(monkeypatch, tmp_path, capsys):
    (tmp_path / "needs_missing_extra.py").write_text("import zz_absent_backend\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli_module._EXTRA_OF_MODULE, "zz_absent_backend", "export")
    monkeypatch.setitem(
        cli_module.COMMANDS,
        "needs-extra",
        cli_module.CommandSpec(target="needs_missing_extra:cmd", help="x", extra="export"),
    )
    with pytest.raises(SystemExit) as exc:
        cli_module.main(["needs-extra"])
    assert exc.value.code == 2
    assert "pip install 'serdevice[export]'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (cli_module.InputError("bad file: x.wav is empty"), 2),
        (cli_module.RuntimeFailure("capture device vanished"), 1),
        (ValueError("unexpected"), 1),
    ],
)
def test_errors_become_one_line_with_exit_code(monkeypatch, capsys, error, code):
    @click.command()
    def boom() -> None:
        raise error

    monkeypatch.setattr(cli_module, "load_command", lambda name: boom if name == "boom" else None)
    monkeypatch.setitem(
        cli_module.COMMANDS,
        "boom",
        cli_module.CommandSpec(target="x:y", help="x", extra="device"),
    )
    monkeypatch.delenv("SERDEVICE_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exc:
        cli_module.main(["boom"])
    assert exc.value.code == code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert str(error) in err


@pytest.mark.parametrize(
    "args",
    [("listen", "--nope"), ("listen", "--vad-aggressiveness", "9"), ("bogus",), ("train",)],
)
def test_usage_errors_are_one_line_with_exit_2(cli, args):
    result = cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("serdevice: error: ") and "--help" in lines[0]


def test_a_bare_group_shows_its_help(cli):
    result = cli("data")
    assert result.returncode == 2 and "Commands:" in result.stderr and "synth" in result.stderr
