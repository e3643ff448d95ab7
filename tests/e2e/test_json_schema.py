"""The JSON summary against its schema (docs/summary.schema.json, described
in docs/json.md): real output of `giltrace --json` on the toy VM (a
contended countdown, and the convoy for a diagnosis), of `record --json=OUT`
and of `report --json`, validated with python3-jsonschema."""
import json
import os
import re
import subprocess

import pytest

from conftest import BUILD_DIR, REPO_ROOT, TOYVM, TOYVM_EXAMPLES, free_tcp_port

jsonschema = pytest.importorskip("jsonschema", reason="apt-get install python3-jsonschema")

GILTRACE = str(BUILD_DIR / "giltrace")
SCHEMA = json.loads((REPO_ROOT / "docs" / "summary.schema.json").read_text())
DOC = (REPO_ROOT / "docs" / "json.md").read_text()
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root")


def validate(summary):
    jsonschema.Draft202012Validator(SCHEMA).validate(summary)


def run(*args):
    p = subprocess.run([GILTRACE, *map(str, args)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    return p


def test_schema_is_valid():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def keys(schema):
    """Every property name the schema defines, at any depth."""
    found = set()
    if isinstance(schema, dict):
        found |= set(schema.get("properties", {}))
        for v in schema.values():
            found |= keys(v)
    elif isinstance(schema, list):
        for v in schema:
            found |= keys(v)
    return found


def test_every_key_documented():
    undocumented = {k for k in keys(SCHEMA) if f"`{k}`" not in DOC}
    assert not undocumented, f"not in docs/json.md: {sorted(undocumented)}"


def test_every_key_has_a_unit_or_is_a_count():
    """Times end _ns, shares _pct, rates _per_s: no bare "share" or "ts"."""
    for k in keys(SCHEMA):
        assert not re.search(r"(^|_)(ts|share|fraction|time|ms|us)$", k), k


@pytest.fixture(scope="module")
def countdown(tmp_path_factory):
    """Two toy VM threads contending under the new GIL: trace --json to a
    file, and a capture of the same kind of run."""
    if os.geteuid() != 0:
        pytest.skip("tracing needs root")
    d = tmp_path_factory.mktemp("schema")
    vm = ["--", TOYVM, "--switch-interval=500", TOYVM_EXAMPLES / "countdown.tvm", 2, 3_000_000]
    run("--json", "-o", d / "trace.json", *vm)
    run("record", "-o", d / "app.gil", f"--json={d / 'record.json'}", *vm)
    return d


@needs_root
@pytest.mark.parametrize("name", ["trace.json", "record.json"])
def test_live_summary_matches_schema(countdown, name):
    summary = json.loads((countdown / name).read_text())
    validate(summary)
    assert summary["schema"] == 1
    assert summary["totals"]["busy"] > 0, "the workload must contend"
    assert sum(t["gil_pct"] for t in summary["threads"]) == pytest.approx(100, abs=0.01)


@needs_root
@pytest.mark.parametrize("window", [[], ["--from", "0.01", "--to", "0.05"]])
def test_report_matches_schema(countdown, window):
    summary = json.loads(run("report", "--json", *window, countdown / "app.gil").stdout)
    validate(summary)
    assert summary["totals"]["acquisitions"] > 0


@needs_root
def test_convoy_diagnosis_matches_schema(tmp_path):
    port = free_tcp_port()
    client = subprocess.Popen([str(TOYVM), str(TOYVM_EXAMPLES / "echo_client.tvm"), str(port),
                               "400000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run("--json", "-o", tmp_path / "convoy.json", "--", TOYVM,
            TOYVM_EXAMPLES / "convoy.tvm", port, 3)
    finally:
        client.kill()
        client.wait()
    summary = json.loads((tmp_path / "convoy.json").read_text())
    validate(summary)
    if not summary["diagnoses"]:
        pytest.skip("no diagnosis this run (a loaded machine hides the convoy)")


def test_schema_rejects_a_summary_without_its_keys():
    with pytest.raises(jsonschema.ValidationError):
        validate({"schema": 1})


@needs_root
def test_schema_rejects_an_old_key(countdown):
    summary = json.loads((countdown / "trace.json").read_text())
    summary["threads"][0]["gil_share"] = 0.5
    with pytest.raises(jsonschema.ValidationError):
        validate(summary)
