

def test_blame_text_to_file(toyvm_bin, tmp_path):
    """blame's text takes -o too (the toy VM has no Python frames: the
    report says so, in the file)."""
    out = tmp_path / "blame.txt"
    p = run("blame", "-o", str(out), *counter(toyvm_bin))
    assert p.returncode == 0, p.stderr
    assert p.stdout == vm_line()
    assert "threads waited" in out.read_text()


def test_folded_and_o_together():
    p = run("blame", "--folded", "x.folded", "-o", "x.txt", "-p", "1")
    assert p.returncode == 2
    assert p.stderr.splitlines()[0] == \
        "giltrace blame: --folded FILE is the output: -o goes with the text"
