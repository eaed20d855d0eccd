"""The page routes and static files: HTML with a strict CSP, modules, no listings, no data."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

PAGES = ("/", "/annotate", "/calibration", "/rank", "/admin")


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_html_with_a_strict_csp_and_needs_no_session(server: str,
                                                                   path: str) -> None:
    status, headers, body = _get(server + path)
    assert status == 200 and headers["content-type"].startswith("text/html")
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert b'<script type="module" src="/static/js/' in body and b"<script>" not in body


def test_static_modules_are_javascript_and_folders_are_not_listed(server: str) -> None:
    status, headers, body = _get(server + "/static/js/api.js")
    assert status == 200 and "javascript" in headers["content-type"]
    assert "content-security-policy" in headers and b"X-CSRF-Token" in body
    assert _get(server + "/static/js/")[0] == 404
    assert _get(server + "/static/../routes/pages.py")[0] == 404
    assert _get(server + "/static/nope.js")[0] == 404


def test_page_scripts_never_write_html() -> None:
    from robopref.web.routes.pages import STATIC

    scripts = sorted((STATIC / "js").glob("*.js"))
    assert len(scripts) >= 8
    for script in scripts:
        text = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, f"{script.name} uses {sink}"
