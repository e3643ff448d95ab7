"""The command line people expect: --help lists every command, a mistyped
command gets "did you mean", usage errors exit 2 with one "giltrace:" line,
help fits 80 columns, and every value is range-checked."""
import os
import subprocess

import pytest

from conftest import BUILD_DIR, TOYVM_EXAMPLES

GILTRACE = str(BUILD_DIR / "giltrace")
COMMANDS = ["trace", "top", "record", "report", "export", "plot", "serve", "blame"]


def run(*args, env=None, text=True, **kw):
    return subprocess.run([GILTRACE, *args], capture_output=True, text=text, timeout=60,
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


@pytest.mark.parametrize("args,line", [
    (["serve", "--listen", "127.0.0.1:99999", "--all"],
     "giltrace serve: invalid port '99999': expected an integer from 0 to 65535"),
    (["serve", "--listen", "127.0.0.1:-1", "--all"],
     "giltrace serve: invalid port '-1': expected an integer from 0 to 65535"),
    (["serve", "--listen", "127.0.0.1", "--all"],
     "giltrace serve: invalid listen address '127.0.0.1': expected HOST:PORT"),
    (["-d", "0", "-p", "1"],
     "giltrace: invalid duration '0': expected a number from 0.001 to 1e+07"),
    (["top", "-i", "0.01", "-p", "1"],
     "giltrace top: invalid interval '0.01': expected a number from 0.1 to 3600"),
    (["-p", "0"], "giltrace: invalid PID '0': expected an integer from 1 to 2147483647"),
    (["report", "--tid", "0", "x.gil"],
     "giltrace report: invalid TID '0': expected an integer from 1 to 2147483647"),
    (["report", "--tid", "99999999999", "x.gil"],
     "giltrace report: invalid TID '99999999999': expected an integer from 1 to 2147483647"),
    (["report", "--from", "-1", "x.gil"],
     "giltrace report: invalid --from '-1': expected a number from 0 to 1e+09"),
    (["report", "--from", "3", "--to", "2", "x.gil"],
     "giltrace report: --to 2 is not after --from 3"),
    (["plot", "--width", "5", "x.gil", "-o", "-"],
     "giltrace plot: invalid --width '5': expected an integer from 100 to 20000"),
])
def test_value_out_of_range(args, line):
    p = run(*args)
    assert p.returncode == 2, p.stderr
    assert p.stderr.splitlines()[0] == line


@pytest.fixture(scope="module")
def capture(toyvm_bin, tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("tracing needs root")
    path = tmp_path_factory.mktemp("usage") / "counter.gil"
    p = run("record", "-o", str(path), "--", str(toyvm_bin), "--switch-interval=1000",
            str(TOYVM_EXAMPLES / "counter.tvm"), "3", "300000")
    assert p.returncode == 0, p.stderr
    return path


@pytest.mark.parametrize("window,what", [
    (["--tid", "99999"], "--tid 99999"),
    (["--from", "1000"], "--from 1000"),
    (["--from", "1000", "--to", "2000", "--tid", "99999"], "--from 1000 --to 2000 --tid 99999"),
])
@pytest.mark.parametrize("json", [[], ["--json"]])
def test_report_window_matches_nothing(capture, window, what, json):
    p = run("report", *json, *window, str(capture))
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr == f"giltrace: no events match {what} in {capture}\n"


def test_report_window_from_stdin_matches_nothing(capture):
    with open(capture, "rb") as f:
        p = run("report", "--tid", "99999", "-", stdin=f)
    assert p.returncode == 1
    assert p.stderr == "giltrace: no events match --tid 99999 in standard input\n"


def test_report_window_that_matches(capture):
    p = run("report", "--from", "0", str(capture))
    assert p.returncode == 0, p.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root")
def test_double_dash_runs_the_word():
    """After --, a word is the program to run, however close to a command."""
    p = run("--", "reprot")
    assert p.returncode == 1
    assert p.stderr == "giltrace: cannot run reprot: No such file or directory\n"


def test_man_page_lists_the_commands_as_help_does():
    """README, man page and --help agree: the man page's COMMANDS section
    has each command with --help's own line."""
    from conftest import REPO_ROOT
    man = (REPO_ROOT / "man" / "giltrace.8").read_text()
    lines = run("--help").stdout.splitlines()
    start = lines.index("Commands (giltrace COMMAND --help for each):")
    for line in lines[start + 1:start + 1 + len(COMMANDS)]:
        name, summary = line.split(None, 1)
        assert f".B {name}\n{summary}\n" in man, name
    readme = (REPO_ROOT / "README.md").read_text()
    assert all(name in readme for name in COMMANDS)


def test_plot_window_matches_nothing(capture, tmp_path):
    out = tmp_path / "x.svg"
    p = run("plot", "--tid", "99999", str(capture), "-o", str(out))
    assert p.returncode == 1
    assert p.stderr == f"giltrace: no events match --tid 99999 in {capture}\n"
    assert not out.exists()
