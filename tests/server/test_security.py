"""Safe by default: loopback without a token, a token everywhere else, checked on every request;
security headers on every answer; no CORS unless asked; nothing a client sends reaches a file."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from search.server.app import create_app
from search.server.security import SESSION_COOKIE, local_target, url_problem
from search.server.settings import ServerSettings, UnsafeSettings, is_loopback
from tests.search.cli_run import error_line, run

TOKEN = "s3cret-token-for-the-lab-0123456789"


@pytest.fixture(scope="module")
def guarded(built_index):
    app = create_app(ServerSettings(index_dir=built_index, host="0.0.0.0", token=TOKEN))
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as c:
        yield c


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True),
                                                ("[::1]", True), ("localhost", True), ("0.0.0.0", False),
                                                ("::", False), ("192.168.1.5", False), ("lab.example.org", False)])
def test_loopback_rule(host, loopback):
    assert is_loopback(host) is loopback


def test_a_wider_address_without_a_token_is_refused(tmp_path):
    with pytest.raises(UnsafeSettings, match="--token"):
        create_app(ServerSettings(index_dir=tmp_path, host="0.0.0.0"))
    with pytest.raises(UnsafeSettings, match="at least 16"):
        create_app(ServerSettings(index_dir=tmp_path, host="0.0.0.0", token="short"))


def test_the_command_refuses_to_start_and_says_why(tmp_path, monkeypatch):
    monkeypatch.delenv("ONCOSEARCH_TOKEN", raising=False)
    line = error_line(run("serve", "--index", tmp_path, "--host", "0.0.0.0", code=2))
    assert "--host 0.0.0.0 is reachable from other machines" in line and "--token" in line


def test_every_request_needs_the_token(guarded):
    for url in ("/api/search?q=CAR-T", "/api/stats", "/healthz", "/api/records/x", "/openapi.json"):
        r = guarded.get(url)
        assert r.status_code == 401, url
        assert r.headers["www-authenticate"].startswith("Bearer") and "token" in r.json()["message"]
        for wrong in ("Bearer nope", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", TOKEN, f"Basic {TOKEN}"):
            assert guarded.get(url, headers={"Authorization": wrong}).status_code == 401, (url, wrong)
        assert guarded.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code in (200, 404), url


def test_the_page_signs_in_with_a_form_and_a_cookie(guarded):
    guarded.cookies.clear()
    assert guarded.get("/").status_code == 303 and guarded.get("/").headers["location"] == "/login"
    assert guarded.get("/login").status_code == 200
    bad = guarded.post("/login", data={"token": "wrong"})
    assert bad.status_code == 401 and SESSION_COOKIE not in bad.cookies
    good = guarded.post("/login", data={"token": TOKEN})
    assert good.status_code == 303 and good.headers["location"] == "/"
    cookie = good.headers["set-cookie"]
    assert TOKEN not in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    session = good.cookies[SESSION_COOKIE]
    with_cookie = {"Cookie": f"{SESSION_COOKIE}={session}"}
    assert guarded.get("/api/search?q=CAR-T", headers=with_cookie).status_code == 200
    assert guarded.get("/api/search?q=CAR-T", headers={"Cookie": f"{SESSION_COOKIE}={session[:-1]}0"}).status_code == 401
    assert guarded.get("/api/search?q=CAR-T", headers={"Cookie": "garbage;;=="}).status_code == 401


def test_security_headers_on_every_answer(client):
    for url in ("/", "/api/search?q=CAR-T", "/api/search?q=x&k=500", "/api/records/none", "/nowhere",
                "/api/search?q=%ff", "/openapi.json", "/healthz"):
        h = client.get(url).headers
        assert h["x-content-type-options"] == "nosniff", url
        csp = h["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "http" not in csp, url
        assert "access-control-allow-origin" not in h, url


def test_cors_only_for_the_origin_given(built_index):
    app = create_app(ServerSettings(index_dir=built_index, cors_origin="https://lab.example.org"))
    with TestClient(app) as c:
        ok = c.get("/api/stats", headers={"Origin": "https://lab.example.org"})
        assert ok.headers["access-control-allow-origin"] == "https://lab.example.org"
        other = c.get("/api/stats", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("path", ["/static/../cli.py", "/static/..%2F..%2Fsearch%2Fcli.py", "/static/%2e%2e/api.py",
                                  "/api/records/..%2F..%2F..%2Fetc%2Fpasswd", "/api/records/%2Fetc%2Fpasswd",
                                  "/static/.hidden", "/static/app.js%00.png"])
def test_no_path_reaches_the_filesystem(client, path):
    r = client.get(path)
    assert r.status_code in (400, 404), (path, r.status_code)
    assert "root:" not in r.text and "import typer" not in r.text


@pytest.mark.parametrize(("raw", "problem"), [(b"q=%41%42", None), (b"q=%E4%B8%AD", None), (b"q=a+b", None),
                                              (b"q=%4", "percent-encoding"), (b"q=%E4%B8", "not UTF-8"),
                                              (b"q=%C0%AF", "not UTF-8"), (b"q=%07", "control")])
def test_url_problems(raw, problem):
    found = url_problem(b"/api/search", raw)
    assert (found is None) if problem is None else (problem in found)


def test_one_access_line_per_request_with_latency(client, caplog):
    with caplog.at_level(logging.INFO, logger="oncosearch.access"):
        client.get("/api/search?q=CAR-T&k=3")
        client.get("/api/search?q=x&k=999")
    lines = [r.getMessage() for r in caplog.records if r.name == "oncosearch.access"]
    assert len(lines) == 2
    assert '"GET /api/search?q=CAR-T&k=3" 200' in lines[0] and lines[0].split()[-2].endswith("ms")
    assert " 400 " in lines[1]


def test_a_bug_is_one_json_500_and_the_traceback_stays_in_the_log(client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("search.server.api._search", broken)
    with caplog.at_level(logging.ERROR, logger="oncosearch.server"):
        r = client.get("/api/search?q=CAR-T")
    assert r.status_code == 500 and r.json()["error"] == "internal_error"
    assert "secret internal detail" not in r.text and "Traceback" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    assert any("secret internal detail" in (rec.exc_text or "") + rec.getMessage() for rec in caplog.records)


@pytest.mark.parametrize(("given", "target"), [
    ("/?q=CAR-T&lang=zh", "/?q=CAR-T&lang=zh"), ("/#record/pmid:1", "/#record/pmid:1"), (None, "/"), ("", "/"),
    ("//evil.example.com/x", "/"), ("https://evil.example.com", "/"), ("/\\evil.example.com", "/"),
    ("evil.example.com", "/"), ("/ok\\..", "/"), ("/a\x00b", "/"),
])
def test_sign_in_returns_only_to_a_path_of_this_server(given, target):
    assert local_target(given) == target


def test_a_bookmarked_search_survives_the_sign_in(guarded):
    guarded.cookies.clear()  # signed out (another test signs in with this client)
    first = guarded.get("/?q=CAR-T&lang=zh")
    assert first.status_code == 303 and first.headers["location"] == "/login?next=%2F%3Fq%3DCAR-T%26lang%3Dzh"
    back = guarded.post("/login?next=%2F%3Fq%3DCAR-T%26lang%3Dzh", data={"token": TOKEN})
    assert back.status_code == 303 and back.headers["location"] == "/?q=CAR-T&lang=zh"
    away = guarded.post("/login?next=%2F%2Fevil.example.com", data={"token": TOKEN})
    assert away.headers["location"] == "/"
