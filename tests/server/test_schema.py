"""The API against its own OpenAPI description, fuzzed: whatever a client sends, no 5xx and no
answer that contradicts the schema (schemathesis generates the requests from /openapi.json)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from search.server.app import create_app
from search.server.settings import ServerSettings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzzed_app(built_index):
    from fastapi.testclient import TestClient

    app = create_app(ServerSettings(index_dir=built_index))
    with TestClient(app):  # runs the lifespan: the index is open before the first generated request
        yield app


def test_no_server_error_on_any_request(fuzzed_app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/search", "/api/records/{record_id}", "/api/similar/{record_id}",
                                            "/api/export", "/api/stats", "/healthz"}
    for operation in operations:
        check_operation(operation)


def check_operation(operation) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case):
        response = case.call()
        assert response.status_code < 500, f"{case.method} {case.formatted_path} {case.query}: {response.text[:300]}"
        if response.status_code >= 400:
            assert response.json()["message"]  # every refusal says why
        # a schema-valid value may still be refused with a documented 400 (an unknown glossary term,
        # control characters), and a malformed one may be accepted (lenient number forms): both are fine
        case.validate_response(response, excluded_checks=[negative_data_rejection, positive_data_acceptance])

    fuzz()


def test_the_answers_of_every_kind_match_the_schema(fuzzed_app):
    """The cases a random walk may miss: every export format, a search, a record, similar, stats."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    ops = {result.ok().path: result.ok() for result in schema.get_all_operations()}
    search = ops["/api/search"].Case(query={"q": "CAR-T细胞治疗的安全性", "k": 3, "explain": "true"})
    first = search.call().json()["results"][0]["id"]
    cases = [search, ops["/api/stats"].Case(), ops["/healthz"].Case(),
             ops["/api/records/{record_id}"].Case(path_parameters={"record_id": first}),
             ops["/api/similar/{record_id}"].Case(path_parameters={"record_id": first}, query={"k": 3})]
    cases += [ops["/api/export"].Case(query={"format": fmt, "q": "CAR-T", "k": 3})
              for fmt in ("ris", "bibtex", "csl-json", "nbib", "csv", "jsonl")]
    for case in cases:
        response = case.call()
        assert response.status_code == 200, (case.formatted_path, case.query, response.text[:200])
        case.validate_response(response, excluded_checks=[negative_data_rejection, positive_data_acceptance])
