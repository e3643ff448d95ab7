

@pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root")
def test_double_dash_runs_the_word():
    """After --, a word is the program to run, however close to a command."""
    p = run("--", "reprot")
    assert p.returncode == 1
    assert p.stderr == "giltrace: cannot run reprot: No such file or directory\n"
