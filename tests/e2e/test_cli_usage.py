"""The command line people expect: --help lists every command, a mistyped
command gets "did you mean", usage errors exit 2 with one "giltrace:" line,
help fits 80 columns, and every value is range-checked."""
import os
import subprocess

import pytest

from conftest import BUILD_DIR

GILTRACE = str(BUILD_DIR / "giltrace")
COMMANDS = ["trace", "top", "record", "report", "export", "plot", "serve", "blame"]


def run(*args, env=None, **kw):
    return subprocess.run([GILTRACE, *args], capture_output=True, text=True, timeout=60,
                          env=env, **kw)


def test_help_lists_every_command_with_one_line():
    p = run("--help")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    start = lines.index("Commands (giltrace COMMAND --help for each):")
    listed = [line.split()[0] for line in lines[start + 1:start + 1 + len(COMMANDS)]]
    assert listed == COMMANDS
    for line in lines[start + 1:start + 1 + len(COMMANDS)]:
        assert len(line.split(None, 1)[1]) > 10, line


@pytest.mark.parametrize("cmd", [""] + COMMANDS)
def test_help_fits_80_columns(cmd):
    args = [cmd, "--help"] if cmd else ["--help"]
    p = run(*args)
    assert p.returncode == 0
    assert all(len(line) <= 80 for line in p.stdout.splitlines())
    # argp wraps at 79 columns: an example line it had to wrap is longer
    # than that without the margin.
    wide = run(*args, env={**os.environ, "ARGP_HELP_FMT": "rmargin=1000"}).stdout
    examples = wide.split("\nExamples:\n", 1)[1].split("\n\n", 1)[0]
    assert all(len(line) <= 79 for line in examples.splitlines()), examples


@pytest.mark.parametrize("typo,meant", [("reprot", "report"), ("tpo", "top"),
                                        ("recrod", "record"), ("blam", "blame")])
def test_mistyped_command(typo, meant):
    p = run(typo, "x.gil")
    assert p.returncode == 2
    assert p.stderr == f"giltrace: unknown command '{typo}'; did you mean '{meant}'?\n"


def test_program_on_path_is_not_a_typo(tmp_path):
    """`giltrace CMD` runs CMD: a word close to a command that is a program
    on $PATH is run, not corrected."""
    prog = tmp_path / "repor"
    prog.write_text("#!/bin/sh\nexit 0\n")
    prog.chmod(0o755)
    p = run("repor", env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert "did you mean" not in p.stderr


def test_far_word_is_run_as_a_program():
    p = run("/nonexistent/reprot")
    assert "did you mean" not in p.stderr


def test_unknown_option_named_giltrace():
    p = subprocess.run([os.path.relpath(GILTRACE), "--bogus"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2
    assert p.stderr.splitlines()[0] == "giltrace: unrecognized option '--bogus'"


def test_unknown_option_of_a_command():
    p = run("report", "--bogus")
    assert p.returncode == 2
    assert p.stderr.splitlines()[0] == "giltrace report: unrecognized option '--bogus'"


def test_bad_mode():
    p = run("--mode=bogus", "--", "true")
    assert p.returncode == 2
    assert p.stderr.splitlines()[0] == \
        "giltrace: invalid mode 'bogus': expected cond, futex, full or hooks"
