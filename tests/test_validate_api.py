"""POST /validate and the GET /validate form: the same verdicts as ``openness validate``, clear 4xx for bad
input, HTML that escapes what the record says, and nothing stored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
from fastapi.testclient import TestClient

from server.app import create_app
from server.resources import resource_dir

ROOT = Path(__file__).resolve().parent.parent
OLMO = ROOT / "data" / "mot" / "models" / "OLMo-7B.yml"
YAML = {"content-type": "application/yaml"}
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@pytest.fixture(scope="module")
def cli_verdict() -> dict:
    """``openness validate data/mot/models/OLMo-7B.yml --format json``, run as a separate process."""
    done = subprocess.run([sys.executable, "-c", "from server.cli import main; main()", "validate", str(OLMO),
                           "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_mot_yaml_gives_the_cli_verdicts(pages_client, cli_verdict):
    r = pages_client.post("/validate?name=OLMo-7B", content=OLMO.read_bytes(), headers=YAML)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == cli_verdict
    assert r.json()["verdicts"]["mof-1.0"]["class"] == 1


def test_format_is_detected_without_content_type(pages_client, cli_verdict):
    r = pages_client.post("/validate?name=OLMo-7B", content=OLMO.read_bytes())
    assert r.status_code == 200
    assert r.json()["verdicts"] == cli_verdict["verdicts"]


def test_one_definition(pages_client):
    r = pages_client.post("/validate?definition=osaid-1.0", content=OLMO.read_bytes(), headers=YAML)
    assert r.status_code == 200
    assert list(r.json()["verdicts"]) == ["osaid-1.0"]


def test_unknown_definition_is_400(pages_client):
    r = pages_client.post("/validate?definition=no-such-def", content=OLMO.read_bytes(), headers=YAML)
    assert r.status_code == 400
    assert r.json()["error"] == "unknown-definition"
    assert "osaid-1.0" in r.json()["message"]


def test_unterminated_turtle_literal_is_400_naming_the_line(pages_client):
    body = ('@prefix og: <https://w3id.org/openness-graph/ontology#> .\n'
            '@prefix dct: <http://purl.org/dc/terms/> .\n'
            '<https://example.org/m> a og:ModelRelease ;\n'
            '  dct:title "never closed ;\n'
            '  og:modelType "language" .\n')
    r = pages_client.post("/validate", content=body, headers={"content-type": "text/turtle"})
    assert r.status_code == 400
    answer = r.json()
    assert answer["error"] == "malformed-record"
    assert answer["format"] == "turtle"
    assert isinstance(answer["line"], int) and 3 <= answer["line"] <= 5
    assert set(answer) >= {"error", "message", "format", "line", "column"}


def test_malformed_yaml_is_400_with_line_and_column(pages_client):
    r = pages_client.post("/validate", content="release:\n  name: [unclosed\n  other: 1\n", headers=YAML)
    assert r.status_code == 400
    assert r.json()["format"] == "yaml"
    assert r.json()["line"] is not None


def test_unsupported_media_type_is_415(pages_client):
    r = pages_client.post("/validate", content=b"\x89PNG\r\n", headers={"content-type": "image/png"})
    assert r.status_code == 415
    assert r.json()["error"] == "unsupported-media-type"


def test_body_over_the_limit_is_413(bundled_settings, bundled_store):
    settings, store = bundled_settings, bundled_store
    small = settings.model_copy(update={"max_body_bytes": 1000})
    with TestClient(create_app(small, store)) as client:
        r = client.post("/validate", content=OLMO.read_bytes(), headers=YAML)
    assert r.status_code == 413


def test_validation_stores_nothing(pages_client, bundled_store):
    store = bundled_store
    before = store.quad_count()
    graphs = store.named_graphs()
    for i in range(12):
        r = pages_client.post(f"/validate?name=probe-{i}", content=OLMO.read_bytes(), headers=YAML)
        assert r.status_code == 200
    pages_client.post("/validate", content="<broken", headers={"content-type": "text/turtle"})
    assert store.quad_count() == before
    assert store.named_graphs() == graphs


@pytest.mark.skipif(not (resource_dir("shapes") / "record.ttl").exists(), reason="no record shapes installed")
def test_ill_formed_but_parseable_record_is_200_not_well_formed(pages_client):
    body = ('@prefix og: <https://w3id.org/openness-graph/ontology#> .\n'
            '<https://example.org/m> a og:ModelRelease ; og:hasArtifact <https://example.org/m#a> .\n')
    r = pages_client.post("/validate", content=body, headers={"content-type": "text/turtle"})
    assert r.status_code == 200
    assert r.json()["well_formed"] is False
    assert r.json()["problems"]


@pytest.mark.slow
@pytest.mark.parametrize("media", ["application/ld+json"])  # Turtle is the same report before reserialising
def test_shacl_report_by_content_negotiation(pages_client, media):
    """Slow (minutes): pySHACL runs every definition's shapes over the record and the license KB."""
    record = ('@prefix og: <https://w3id.org/openness-graph/ontology#> .\n'
              '@prefix dct: <http://purl.org/dc/terms/> .\n'
              '<https://example.org/m> a og:ModelRelease ; dct:title "Tiny" .\n')
    r = pages_client.post("/validate", content=record, headers={"content-type": "text/turtle", "accept": media})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)
    report = rdflib.Graph().parse(data=r.text, format="turtle" if media == "text/turtle" else "json-ld")
    assert (None, rdflib.RDF.type, SH.ValidationReport) in report


def test_html_answer_explains_requirement_by_requirement(pages_client):
    llama = ROOT / "data" / "mot" / "models" / "Llama-2-7B.yml"
    r = pages_client.post("/validate", content=llama.read_bytes(), headers={**YAML, "accept": "text/html"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "parameters-osi-terms" in r.text
    assert "restricted" in r.text
    assert "What to fix" in r.text


def test_html_escapes_what_the_record_says(pages_client):
    evil = OLMO.read_text().replace("  name: OLMo-7B", '  name: "<script>alert(1)</script>"', 1)
    assert "<script>alert(1)</script>" in evil
    r = pages_client.post("/validate", content=evil, headers={**YAML, "accept": "text/html"})
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<script" not in r.text.lower()


def test_form_page_and_form_post(pages_client):
    form = pages_client.get("/validate", headers={"accept": "text/html"})
    assert form.status_code == 200
    assert 'action="/validate"' in form.text and 'method="post"' in form.text
    assert 'name="record"' in form.text and 'name="format"' in form.text
    r = pages_client.post("/validate", data={"record": OLMO.read_text(), "format": "yaml"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "OLMo-7B" in r.text and "well formed" in r.text


def test_form_post_of_a_broken_record_shows_the_error(pages_client):
    r = pages_client.post("/validate", data={"record": "release: [", "format": "yaml"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "could not be read" in r.text
