"""The search page in a real browser: headless Chromium (Playwright) against `oncosearch serve` on
127.0.0.1 over the shared test index (the bilingual seed review and the English CAR-T abstracts).

A person's path through the page: a Chinese question, a year filter, a record, similar records, an
export of ticked results read back by rispy, the interface language switched and remembered, the
explain view, paging and Back, an API error in the live region, a phone-width layout, and the
sign-in form of a server with a token. Every test also asserts that the page logged no console
error (a CSP violation is one), no request failed, and no request left 127.0.0.1.

Screenshots go to $ONCOSEARCH_ARTIFACTS (default tests/artifacts/); with ONCOSEARCH_SCREENSHOT_DOCS=1
the results page is also written to docs/img/page.png for the README.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import CAR_T, ROOT
from tests.server.server_run import serving

CHROMIUM = Path("/usr/bin/chromium")
STATIC = ROOT / "search" / "server" / "static"
SEED_TITLE_ZH = "肿瘤免疫细胞治疗:前景与挑战"
SEED_TITLE_EN = "Immune cell therapy for tumor: prospects and challenges"
QUERY_ZH = "CAR-T细胞治疗的安全性"

pytestmark = [
    pytest.mark.slow,
    # .ci/run installs chromium and sets ONCOSEARCH_REQUIRE_BROWSER=1: there a missing browser fails, never skips
    pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("ONCOSEARCH_REQUIRE_BROWSER"),
                       reason="no /usr/bin/chromium (apt-get install chromium; CI has it)"),
]


def artifacts_dir() -> Path:
    path = Path(os.environ.get("ONCOSEARCH_ARTIFACTS") or ROOT / "tests" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- the browser, and what a page did ---------------------------------------------------------------

@dataclass
class Watch:
    """What a page logged and fetched: console errors, uncaught exceptions, failed requests, and
    every request that was not for `origin` (those are aborted before they leave)."""

    origin: str
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def attach(self, context) -> None:
        def route(r):
            if r.request.url.startswith(self.origin + "/"):
                r.continue_()
            else:
                self.outside.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        context.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        context.on("weberror", lambda e: self.errors.append(f"uncaught: {e.error}"))
        # a load the page's own navigation cancels (the favicon while sign-in redirects) is the
        # browser's doing, not a failed answer
        context.on("requestfailed", lambda r: None if r.failure == "net::ERR_ABORTED" and r.url.startswith(
            self.origin + "/") else self.failed.append(f"{r.url}: {r.failure}"))

    def assert_clean(self, expected_errors: re.Pattern | None = None) -> None:
        errors = [e for e in self.errors if not (expected_errors and expected_errors.search(e))]
        assert errors == [], errors
        assert self.failed == [], self.failed
        assert self.outside == [], self.outside


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll a JavaScript expression from here until it is true. Playwright's `wait_for_function`
    compiles its predicate with eval inside the page when the first check fails, which the page's
    CSP (no 'unsafe-eval') refuses: on a slow machine that check does fail."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(50)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@dataclass
class Tab:
    page: object
    watch: Watch


def open_tab(browser, origin: str, width: int = 1280, height: int = 800, locale: str = "en-US"):
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale, accept_downloads=True)
    watch = Watch(origin)
    watch.attach(context)
    page = context.new_page()
    page.set_default_timeout(60_000)  # the first searches of a fresh server load jieba and the models
    return context, Tab(page, watch)


@pytest.fixture
def tab(browser, server_url) -> Iterator[Tab]:
    context, t = open_tab(browser, server_url)
    yield t
    context.close()


# --- reading the page -------------------------------------------------------------------------------------

def settled(page) -> None:
    """Wait until the list has been drawn from the last answer (aria-busy is set before a request
    and removed after its answer is drawn)."""
    page.wait_for_selector("#results-section:not([aria-busy])", state="attached")


def act_and_settle(page, action, api: str = "/api/") -> None:
    """Do `action`, wait for its API answer, then for the page to draw it."""
    with page.expect_response(lambda r: urlsplit(r.url).path.startswith(api)):
        action()
    settled(page)


def hits(page) -> list[dict]:
    """The shown results as a person reads them."""
    return page.eval_on_selector_all("#results li.hit", """items => items.map(li => ({
        id: li.dataset.id,
        title: li.querySelector('.hit-title').textContent,
        alt: (li.querySelector('.alt-title') || {}).textContent || null,
        snippet: (li.querySelector('.snippet') || {}).textContent || '',
        marks: [...li.querySelectorAll('.snippet mark')].map(m => m.textContent),
        year: (li.querySelector('.year') || {}).textContent || null,
        links: [...li.querySelectorAll('a.ext')].map(a => ({href: a.href, rel: a.rel, text: a.textContent})),
        explain: [...li.querySelectorAll('.explain dt')].map((dt, i) => [dt.textContent,
                  li.querySelectorAll('.explain dd')[i].textContent]),
    }))""")


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def search(page, text: str) -> None:
    page.fill("#q", text)
    act_and_settle(page, lambda: page.press("#q", "Enter"), "/api/search")


# --- the tests ----------------------------------------------------------------------------------------------

def test_a_researchers_path_through_the_page(tab, server_url, tmp_path):
    page, watch = tab.page, tab.watch
    page.goto(server_url + "/")
    assert page.text_content("#search-button") == "Search"  # the browser speaks English
    assert page.evaluate("document.activeElement.id") == "q"

    # a Chinese question finds the bilingual seed review and English CAR-T papers, highlighted
    search(page, QUERY_ZH)
    assert query_of(page.url)["q"] == [QUERY_ZH]
    shown = hits(page)
    seed = next(h for h in shown if h["title"] == SEED_TITLE_ZH)
    assert seed["alt"] == SEED_TITLE_EN  # both titles
    english = [h for h in shown if h["alt"] is None and CAR_T.search(h["title"] + " " + h["snippet"])]
    assert len(english) >= 5, shown
    assert any(CAR_T.search(m) for h in shown for m in h["marks"]), "the query's terms are marked in the snippets"
    for h in shown:
        for link in h["links"]:
            assert re.fullmatch(r"https://(pubmed\.ncbi\.nlm\.nih\.gov/\d+/|doi\.org/10\.\S+)", link["href"]), link
            assert set(link["rel"].split()) >= {"noopener", "noreferrer"}
    pmids = [a for h in shown for a in h["links"] if a["text"].startswith("PMID ")]
    assert pmids and all(a["href"] == f"https://pubmed.ncbi.nlm.nih.gov/{a['text'][5:]}/" for a in pmids)
    page.screenshot(path=str(artifacts_dir() / "page.png"))
    if os.environ.get("ONCOSEARCH_SCREENSHOT_DOCS") == "1":
        (ROOT / "docs" / "img").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ROOT / "docs" / "img" / "page.png"))

    # a year filter: every result shown lies in the range, the seed review (2024) drops out
    page.click("#filters summary")
    page.fill("#f-year-from", "2020")
    page.fill("#f-year-to", "2022")
    act_and_settle(page, lambda: page.press("#f-year-to", "Enter"), "/api/search")
    assert query_of(page.url)["year_from"] == ["2020"] and query_of(page.url)["year_to"] == ["2022"]
    filtered = hits(page)
    assert filtered and all(h["year"] is not None and 2020 <= int(h["year"]) <= 2022 for h in filtered), filtered
    assert SEED_TITLE_ZH not in [h["title"] for h in filtered]
    assert page.text_content("#filter-count") == "(2 set)"

    # the record view shows the record's abstract; Escape closes it and focus returns to its link
    first = filtered[0]
    act_and_settle(page, lambda: page.click("#results li.hit:nth-child(1) a.open-record"), "/api/records/")
    page.wait_for_selector("#record-body .abstract")
    assert urlsplit(page.url).fragment.startswith("record/")
    record = httpx.get(f"{server_url}/api/records/{first['id']}").json()
    assert page.text_content("#record-title") == first["title"]
    assert record["abstract"]["en"] in page.text_content("#record-body .abstract")
    assert page.is_visible("#record") and page.evaluate("document.getElementById('record').open")
    page.keyboard.press("Escape")
    wait_until(page, "!document.getElementById('record').open")
    wait_until(page, "!location.hash")
    assert page.evaluate("document.activeElement.dataset.id") == first["id"]

    # similar records: a list under "Similar to <title>", without the record itself; Back returns
    act_and_settle(page, lambda: page.click("#results li.hit:nth-child(1) button.similar"), "/api/similar/")
    assert query_of(page.url)["similar"] == [first["id"]]
    assert page.text_content("#results-heading") == f"Similar to “{first['title']}”"
    similar = hits(page)
    assert similar and first["id"] not in [h["id"] for h in similar]
    act_and_settle(page, page.go_back, "/api/search")
    assert "similar" not in query_of(page.url)
    assert [h["id"] for h in hits(page)] == [h["id"] for h in filtered]

    # export the ticked results as RIS: the file holds exactly those records
    ticked = filtered[1:3]
    for h in ticked:
        page.check(f"#results li.hit[data-id='{h['id']}'] input.pick")
    assert page.text_content("#export-link") == "Export 2 selected"
    assert page.input_value("#export-format") == "ris"
    with page.expect_download() as info:
        page.click("#export-link")
    download = info.value
    assert download.suggested_filename.endswith(".ris")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    import rispy

    entries = rispy.loads(saved.read_text(encoding="utf-8"))
    assert [e["id"] for e in entries] == [h["id"] for h in ticked]
    for h, e in zip(ticked, entries, strict=True):
        assert h["title"] in (e.get("title"), e.get("translated_title")), e

    # the interface language: switched to Chinese, remembered across a reload, and back
    page.click("#ui-lang")
    assert page.text_content("#search-button") == "检索"
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.text_content("#export-link") == "导出已选的 2 条"
    page.reload()
    settled(page)
    assert page.text_content("#search-button") == "检索"
    assert page.input_value("#f-year-from") == "2020"  # the search came back from the address
    page.click("#ui-lang")
    assert page.text_content("#search-button") == "Search"
    assert page.text_content("#select-all + span") == "Select all on this page"

    watch.assert_clean()


def test_explain_paging_and_back(tab, server_url):
    page, watch = tab.page, tab.watch
    page.goto(server_url + "/")
    search(page, "CAR T cell therapy")
    page.click("#filters summary")
    act_and_settle(page, lambda: page.check("#f-explain"), "/api/search")
    assert query_of(page.url)["explain"] == ["true"]
    shown = hits(page)
    for h in shown:
        legs = dict(h["explain"])
        assert set(legs) >= {"Combined score", "Semantic USE", "Keywords BM25"}, legs
        assert re.fullmatch(r"rank \d+ · -?\d+\.\d{4}|not used", legs["Semantic USE"])
    assert any(re.fullmatch(r"rank \d+ · .+", v) for h in shown for k, v in h["explain"] if k == "Keywords BM25")

    # nothing ticked: the export link is the shown page, as the query with its page and filters
    href = page.get_attribute("#export-link", "href")
    assert page.text_content("#export-link") == f"Export this page ({len(shown)})"
    assert query_of(href)["q"] == ["CAR T cell therapy"] and "ids" not in query_of(href)
    import rispy

    exported = rispy.loads(httpx.get(server_url + href).text)
    assert [e["id"] for e in exported] == [h["id"] for h in shown]

    assert page.is_disabled("#prev-page")
    act_and_settle(page, lambda: page.click("#next-page"), "/api/search")
    assert query_of(page.url)["offset"] == ["10"]
    assert page.get_attribute("#results", "start") == "11"
    second = hits(page)
    assert second and not {h["id"] for h in second} & {h["id"] for h in shown}
    assert page.evaluate("document.activeElement.id") == "results-heading"
    act_and_settle(page, page.go_back, "/api/search")
    assert "offset" not in query_of(page.url)
    assert [h["id"] for h in hits(page)] == [h["id"] for h in shown]
    watch.assert_clean()


def test_similar_from_the_record_view_and_back(tab, server_url):
    page, watch = tab.page, tab.watch
    page.goto(server_url + "/")
    search(page, "infections in patients receiving CAR-T cells")
    first = hits(page)[0]

    def open_by_keyboard():
        page.focus("#results li.hit:nth-child(1) a.open-record")
        page.keyboard.press("Enter")

    act_and_settle(page, open_by_keyboard, "/api/records/")
    page.wait_for_selector("#record-body .abstract")
    act_and_settle(page, lambda: page.click("#record-similar"), "/api/similar/")
    wait_until(page, "!document.getElementById('record').open")
    assert page.text_content("#results-heading") == f"Similar to “{first['title']}”"
    assert page.evaluate("document.activeElement.id") == "results-heading"
    similar = hits(page)
    assert similar and first["id"] not in [h["id"] for h in similar]
    # a similar page exports its records by id
    href = page.get_attribute("#export-link", "href")
    assert query_of(href)["ids"] == [h["id"] for h in similar]
    # Back leads to the search, not to the closed record view
    act_and_settle(page, lambda: page.click("#back-to-list"), "/api/search")
    assert "similar" not in query_of(page.url) and not urlsplit(page.url).fragment
    assert not page.evaluate("document.getElementById('record').open")
    assert hits(page)[0]["id"] == first["id"]
    watch.assert_clean()


def test_an_api_error_is_read_out_in_the_live_region(tab, server_url):
    page, watch = tab.page, tab.watch
    act_and_settle(page, lambda: page.goto(server_url + "/?q=CAR-T&therapy=bogus-therapy"), "/api/search")
    status = page.locator("#status")
    assert status.get_attribute("aria-live") == "polite"
    assert "bogus-therapy" in status.text_content() and "therapy" in status.text_content()
    assert "error" in status.get_attribute("class")
    assert page.is_hidden("#results-section")
    assert page.input_value("#f-therapy") == "bogus-therapy"
    # Chromium logs the 400 answer itself as a console error; nothing else may be logged
    watch.assert_clean(expected_errors=re.compile(r"status of 400"))


def test_phone_width_has_no_horizontal_scroll(browser, server_url):
    context, t = open_tab(browser, server_url, width=375, height=740, locale="zh-CN")
    try:
        page = t.page
        act_and_settle(page, lambda: page.goto(f"{server_url}/?q={QUERY_ZH}"), "/api/search")
        assert page.text_content("#search-button") == "检索"  # a Chinese browser gets Chinese labels
        assert hits(page)
        page.click("#filters summary")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(artifacts_dir() / "page-phone.png"), full_page=True)
        act_and_settle(page, lambda: page.click("#results li.hit:nth-child(1) a.open-record"), "/api/records/")
        page.wait_for_selector("#record-body .abstract")
        assert page.evaluate("(d => d.scrollWidth <= d.clientWidth)(document.getElementById('record'))")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.click("#record-close")
        wait_until(page, "!document.getElementById('record').open")
        t.watch.assert_clean()
    finally:
        context.close()


def test_sign_in_with_a_token(browser, built_index, tmp_path):
    token = secrets.token_urlsafe(24)
    with serving(built_index, env={"ONCOSEARCH_TOKEN": token}, log_dir=tmp_path) as served:
        context, t = open_tab(browser, served.url)
        try:
            page = t.page
            page.goto(served.url + "/")
            assert urlsplit(page.url).path == "/login"
            assert page.is_hidden("#login-error")
            page.fill("#token", "not-the-token-at-all")
            page.click("button[type=submit]")
            page.wait_for_selector("#login-error", state="visible")  # the 401 answer says so
            page.fill("#token", token)
            page.click("button[type=submit]")
            page.wait_for_url(served.url + "/")
            search(page, "CAR T cell therapy")
            assert hits(page)
            # the session ends (cookie gone): the next API answer is a 401 and the page goes to sign in,
            # and back to the same search after it
            context.clear_cookies()
            page.fill("#q", "CAR T cell infections")
            page.press("#q", "Enter")
            page.wait_for_url(re.compile(r"/login\?next="))
            page.fill("#token", token)
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r"/\?.*q=CAR"))
            assert parse_qs(urlsplit(page.url).query)["q"] == ["CAR T cell infections"]
            page.wait_for_selector("#results li.hit")
            t.watch.assert_clean(expected_errors=re.compile(r"status of 401"))
        finally:
            context.close()


# --- the files themselves -----------------------------------------------------------------------------------

class _Scan(HTMLParser):
    """What the Content-Security-Policy would refuse in a page, and the options of its datalists."""

    def __init__(self):
        super().__init__()
        self.refused: list[str] = []
        self.options: dict[str, list[str]] = {}
        self._list: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in a:
            if name.startswith("on") or name == "style":
                self.refused.append(f"<{tag} {name}=…>")
        if tag == "style" or (tag == "script" and not a.get("src")):
            self.refused.append(f"inline <{tag}>")
        for name in ("src", "href"):
            if a.get(name, "").startswith(("http:", "https:", "//")) and tag in ("script", "link", "img"):
                self.refused.append(f"<{tag} {name}={a[name]}>")
        if tag == "datalist":
            self._list = a.get("id")
        elif tag == "option" and self._list:
            self.options.setdefault(self._list, []).append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "datalist":
            self._list = None


@pytest.mark.parametrize("name", ["index.html", "login.html"])
def test_pages_hold_nothing_the_csp_refuses(name):
    scan = _Scan()
    scan.feed((STATIC / name).read_text(encoding="utf-8"))
    assert scan.refused == []


def test_the_filter_suggestions_are_glossary_ids():
    from search.concepts import concept_ids

    scan = _Scan()
    scan.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    for list_id, category in (("therapy-ids", "therapy"), ("cancer-ids", "cancer")):
        values = scan.options[list_id]
        assert len(values) >= 10
        for value in values:
            assert concept_ids(category, value) == [value], (category, value)
