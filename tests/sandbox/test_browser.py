"""A real browser on the sandbox page: Debian's headless Chromium driven by Playwright.

Never downloads a browser: `make test` / .ci/run install Debian's `chromium` when it is missing.
Screenshots land in artifacts/ (docs/sandbox.png, shown by the README, is one of them).
"""

from __future__ import annotations

import shutil

import pytest

from tests.sandbox import files
from tests.sandbox.stack import ARTIFACTS, unique_word

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian chromium is not installed (make test installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, sandbox):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(sandbox.urls["sandbox"])
    yield page
    context.close()
    assert errors == [], "the page raised JavaScript errors"


def test_the_page_renders_its_three_panes(page):
    for element_id in ("customer-transcript", "agent-transcript", "ivr-result"):
        assert page.locator(f"#{element_id}").is_visible()
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Connect calls')")


def test_a_conversation_in_the_browser(page, sandbox):
    marker = unique_word(6)
    agent, customer = page.locator("#agent-transcript"), page.locator("#customer-transcript")
    page.fill("#customer-input", f"Hi {marker}! My card is 4111 1111 1111 1111")
    page.click("#customer-send")
    agent.get_by_text(f"Hi {marker}! My card is").wait_for(timeout=20000)
    assert "4111" not in agent.inner_text()

    page.set_input_files(
        "#customer-file", files=[{"name": "photo.png", "mimeType": "image/png", "buffer": files.png(160, 100)}]
    )
    agent.locator(".status-APPROVED").first.wait_for(timeout=20000)

    reply = f"Thanks {marker}, I never see your card number. Here is your invoice."
    page.fill("#agent-input", reply)
    page.click("#agent-send")
    customer.get_by_text(reply).wait_for(timeout=20000)

    page.set_input_files(
        "#agent-file",
        files=[{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": files.windows_executable()}],
    )
    agent.locator(".status-REJECTED").last.wait_for(timeout=20000)
    page.set_input_files(
        "#agent-file", files=[{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": files.pdf()}]
    )
    customer.get_by_text("application/pdf").wait_for(timeout=20000)
    assert customer.locator("a").count() == 1  # the clean file only
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sandbox-chat.png"), full_page=True)


def test_ivr_in_the_browser(page, sandbox):
    page.fill("#ivr-input", "4111111111111111")
    page.click("#ivr-send")
    page.wait_for_function(
        "document.getElementById('ivr-result').textContent.includes('\"Status\": \"OK\"')", timeout=20000
    )
    assert '"Last4": "1111"' in page.inner_text("#ivr-result")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sandbox.png"), full_page=True)


# ------------------------------------------------------------------------------------------ page fixes (issue 12)


def _customer_writes(page, text: str) -> None:
    """The customer writes first, so the agent has an active chat whatever earlier tests did."""
    page.fill("#customer-input", text)
    page.click("#customer-send")
    page.locator("#agent-transcript").get_by_text(text).last.wait_for(timeout=20000)


def test_errors_stay_until_dismissed_and_the_typed_text_is_kept(page, sandbox):
    _customer_writes(page, f"hello {unique_word(6)}")
    too_long = "x" * 1100  # Connect refuses text over 1,024 characters
    page.fill("#agent-input", too_long)
    page.click("#agent-send")
    banner = page.locator("#error")
    banner.wait_for(state="visible", timeout=10000)
    assert "1024" in page.inner_text("#error-text")
    page.wait_for_timeout(2500)  # several status refreshes later
    assert banner.is_visible(), "the error must stay until dismissed"
    assert page.input_value("#agent-input") == too_long, "the typed text is kept"
    page.click("#error-dismiss")
    banner.wait_for(state="hidden", timeout=5000)

    page.click("#agent-end")  # a send after the chat ended: Connect refuses it, and the page says so
    page.wait_for_function("document.getElementById('agent-contact').textContent === 'no active chat'", timeout=20000)
    page.fill("#agent-input", "are you still there?")
    page.click("#agent-send")
    banner.wait_for(state="visible", timeout=10000)
    assert "no active chat" in page.inner_text("#error-text")
    assert page.input_value("#agent-input") == "are you still there?"
    page.click("#error-dismiss")


def test_agent_markdown_reaches_the_customer_flattened(page, sandbox):
    marker = unique_word(6)
    _customer_writes(page, f"where is my order {marker}?")
    page.check("#agent-markdown")
    page.fill("#agent-input", f"**Order {marker}** ships _today_: see [tracking](https://example.com/t/{marker})")
    page.click("#agent-send")
    customer = page.locator("#customer-transcript")
    customer.get_by_text(f"Order {marker} ships today: see tracking (https://example.com/t/{marker})").wait_for(
        timeout=20000
    )
    assert f"**Order {marker}**" in page.inner_text("#agent-transcript"), "the agent sees what they sent"
    assert "**" not in customer.inner_text()
    page.uncheck("#agent-markdown")


def test_root_redirects_to_the_page_and_there_is_a_favicon(browser, sandbox):
    import requests

    answer = requests.get(sandbox.base + "/", allow_redirects=False, timeout=10)
    assert answer.status_code in (301, 302, 307, 308) and answer.headers["Location"] == "/sandbox/"
    favicon = requests.get(sandbox.base + "/favicon.ico", timeout=10)
    assert favicon.status_code == 200 and favicon.headers["Content-Type"].startswith("image/")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    failed: list[str] = []
    page.on(
        "response",
        lambda response: failed.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )
    page.goto(sandbox.base + "/")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Connect calls')")
    assert page.url.endswith("/sandbox/")
    assert page.locator("link[rel=icon]").count() == 1
    context.close()
    assert failed == [], "every request of a page load succeeds (no 403 for /favicon.ico)"


def test_no_horizontal_scroll_at_360_px(browser, sandbox):
    context = browser.new_context(viewport={"width": 360, "height": 780})
    page = context.new_page()
    page.goto(sandbox.urls["sandbox"])
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Connect calls')")
    _customer_writes(page, "a long line without spaces " + "9" * 3 + "x" * 120)
    page.fill("#agent-input", "y" * 200)
    widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sandbox-360.png"), full_page=True)
    context.close()
    assert max(widths[:2]) <= widths[2] == 360, f"page scrolls sideways: {widths}"


def test_the_customer_sees_their_files_as_messenger_shows_them(page, sandbox):
    _customer_writes(page, f"sending files {unique_word(6)}")
    customer, agent = page.locator("#customer-transcript"), page.locator("#agent-transcript")
    accepted, refused = "Relevé d'identité (1).pdf", "setup (2).exe"

    page.set_input_files(
        "#customer-file", files=[{"name": accepted, "mimeType": "application/pdf", "buffer": files.pdf()}]
    )
    customer.locator(".filecard", has_text=accepted).wait_for(timeout=20000)
    page.set_input_files(
        "#customer-file",
        files=[{"name": refused, "mimeType": "application/octet-stream", "buffer": files.windows_executable()}],
    )
    customer.locator(".filecard", has_text=refused).wait_for(timeout=20000)
    # What Messenger shows next: the Page's own message saying the file was not accepted.
    customer.get_by_text("we can't accept that type of file").last.wait_for(timeout=20000)
    agent.get_by_text("customer tried to send a type of file").last.wait_for(timeout=20000)

    assert customer.locator(".filecard", has_text=accepted).count() >= 1, "names exactly as the customer sent them"
    assert accepted not in agent.inner_text() and refused not in agent.inner_text(), (
        "the agent never sees the customer's file names (they can hold PII)"
    )


def test_the_ivr_hint_matches_what_the_decryptor_accepts(page, sandbox):
    """The hint states the flow's MaximumLength and the decryptor's rule (digits 0-9; else INVALID_VALUE)."""
    import json

    flow = json.loads((ARTIFACTS.parent / "infra" / "flows" / "secure-ivr.json").read_text())
    lengths = {
        a["Parameters"]["InputValidation"]["CustomValidation"]["MaximumLength"]
        for a in flow["Actions"]
        if a["Type"] == "GetParticipantInput"
    }
    note = page.inner_text("section.ivr .note")
    assert lengths == {page.inner_text("#ivr-max-length")}, "the hint states the flow's MaximumLength"
    assert "0–9" in note and "INVALID_VALUE" in note

    page.fill("#ivr-input", "12ab")  # not keypad input at all: refused on the page, text kept
    page.click("#ivr-send")
    page.locator("#error").wait_for(state="visible", timeout=5000)
    assert "digits 0–9" in page.inner_text("#error-text")
    assert page.input_value("#ivr-input") == "12ab"
    page.click("#error-dismiss")

    page.fill("#ivr-input", "12*#, 4111111111111111")  # keypad keys are no value: the flow asks again
    page.click("#ivr-send")
    page.wait_for_function(
        "document.getElementById('ivr-result').textContent.includes('\"Status\": \"OK\"')", timeout=30000
    )
    result = page.inner_text("#ivr-result")
    assert "INVALID_VALUE" in result or "card-input-2" in result, "the first entry was refused, the second decrypted"
