"""A real browser on the sandbox page: Debian's headless Chromium driven by Playwright.

Never downloads a browser: `make test` / .ci/run install Debian's `chromium` when it is missing.
Screenshots land in artifacts/ (the README's docs/sandbox.png is one of them).
"""

from __future__ import annotations

import shutil
import uuid

import pytest

from tests.sandbox import files
from tests.sandbox.stack import ARTIFACTS

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
    marker = uuid.uuid4().hex[:6]
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
