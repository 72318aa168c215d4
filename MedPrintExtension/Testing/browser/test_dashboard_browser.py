"""The registry dashboard in headless Chromium (system chromium + chromedriver, driven by selenium):
sign in with a site token and read the figures of seeded cases off the rendered page."""

from __future__ import annotations

import shutil
import sys
import uuid
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
from registry_records import make_record  # noqa: E402
from registry_services import RegistryServer  # noqa: E402

from medprint.registry.server.auth import add_site  # noqa: E402
from medprint.registry.server.db import make_engine  # noqa: E402
from medprint.registry.server.migrate import upgrade  # noqa: E402


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A server with one site holding 3 anatomic models (1, 2 and 5 parts) and 1 guide."""
    folder = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{folder / 'registry.sqlite3'}"
    upgrade(url)
    site_id = "site-" + uuid.uuid4().hex[:6]
    token = add_site(make_engine(url), site_id, cost_per_or_minute=50.0)
    server = RegistryServer(url, folder / "server.log")
    records = [make_record(site_id, parts=p) for p in (1, 2, 5)] + \
              [make_record(site_id, parts=1, object_type="anatomic_guide")]
    for record in records:
        response = requests.post(server.url + "/api/v1/cases", data=record.payload(), timeout=10, headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"})
        assert response.status_code == 201
    yield server, site_id, token
    server.stop()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "install the Debian packages chromium and chromium-driver (.ci/packages/registry.txt)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,2000", "--no-proxy-server"):
        options.add_argument(arg)
    browser = webdriver.Chrome(options=options, service=Service(driver))
    yield browser
    browser.quit()


def test_dashboard_shows_the_seeded_figures(seeded, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
    server, site_id, token = seeded
    wait = WebDriverWait(browser, 15)
    browser.get(server.url + "/dashboard")
    assert browser.current_url.endswith("/login")  # signed out: redirected
    wait.until(ec.presence_of_element_located((By.ID, "token"))).send_keys("mps_wrong")
    browser.find_element(By.ID, "sign-in").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "message"), "Unknown token."))
    wait.until(ec.presence_of_element_located((By.ID, "token"))).send_keys(token)
    browser.find_element(By.ID, "sign-in").click()
    wait.until(ec.presence_of_element_located((By.ID, "cases")))

    def text(element_id: str) -> str:
        return browser.find_element(By.ID, element_id).text

    assert text("who") == site_id
    assert (text("cases"), text("models"), text("guides")) == ("4", "3", "1")
    assert text("or-minutes") == "209"  # 3 models x 62 min + 1 guide x 23 min
    assert text("or-dollars") == "10,450"  # x $50 per OR minute (this site's setting)
    assert (text("clinician-minutes"), text("clinician-n"), text("clinician-dollars")) == ("120", "4", "6,000")
    bars = {r.get_attribute("data-label"): r for r in browser.find_elements(By.CSS_SELECTOR, "#chart-cpt rect")}
    assert {k: int(r.get_attribute("data-value")) for k, r in bars.items()} == {"0559T": 3, "0560T": 5, "0561T": 1}
    widths = {k: r.rect["width"] for k, r in bars.items()}  # as laid out by the browser, CSS pixels
    assert widths["0560T"] == pytest.approx(360, abs=1)
    assert widths["0559T"] / widths["0560T"] == pytest.approx(3 / 5, abs=0.01)
    assert widths["0561T"] / widths["0560T"] == pytest.approx(1 / 5, abs=0.01)
    indication = browser.find_elements(By.CSS_SELECTOR, "#chart-indication rect")
    assert [(r.get_attribute("data-label"), r.get_attribute("data-value")) for r in indication] == [("genitourinary", "4")]
    effort = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#effort tr")]
    assert "Segmentation non-clinician 90.0 4" in effort and "Printer run time 420.0 4" in effort
