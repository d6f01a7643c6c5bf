from chalicelib.version import VERSION


def test_health(chalice_client):
    response = chalice_client.http.get("/health")
    assert response.status_code == 200
    assert response.json_body == {"status": "ok", "version": VERSION}


def test_version_matches_the_changelog():
    """The version reported is the newest in CHANGELOG.md: released, or the next one while unreleased."""
    import re
    from pathlib import Path

    changelog = (Path(__file__).resolve().parent.parent / "CHANGELOG.md").read_text()
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.MULTILINE)
    assert released, "CHANGELOG.md has no released version"
    if "## [Unreleased]" in changelog:
        assert VERSION.endswith(".dev0") and VERSION.removesuffix(".dev0") > released[0]
    else:
        assert released[0] == VERSION


def test_first_invocation_logs_the_version(chalice_client, captured_logs, monkeypatch):
    import app

    monkeypatch.setattr(app, "_started", False)  # a cold container
    chalice_client.lambda_.invoke("ivr_decryptor", {})
    chalice_client.lambda_.invoke("ivr_decryptor", {})
    started = [e for e in captured_logs.events() if e.get("event") == "function_started"]
    assert [e["version"] for e in started] == [VERSION]  # once per container, not per invocation
