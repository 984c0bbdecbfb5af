"""The web page in a real browser (Debian's headless chromium, driven by Selenium through chromedriver):
live plates appear without a reload, search finds a misread plate, a camera whose RTSP server dies
shows as reconnecting."""

import shutil
import threading
import time
import urllib.request

import pytest

from store.db import EventStore
from stream.config import CameraSection, Config, PublishSection, StoreSection
from stream.runner import run_camera
from stream.sinks import Sinks
from tests.conftest import ColourPlateDetector, ColourPlateReader, free_port, make_event
from web.server import BackgroundServer, make_server

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not (shutil.which("chromedriver") and shutil.which("chromium")),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)
T0 = time.time() - 3600


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def site(tmp_path, endpoint):
    """A store, a bus publisher feeding it (Sinks, as `lpr run` does) and the page served over both."""
    store = tmp_path / "store"
    sinks = Sinks(Config(publish=PublishSection(endpoint=endpoint), store=StoreSection(folder=str(store))))
    port = free_port()
    server = BackgroundServer(make_server(str(store), f"127.0.0.1:{port}", endpoint))
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/cameras", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}", sinks, store
    server.close()
    sinks.close()


def wait(driver, condition, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d))


def plates_shown(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#cards .plate")]


def test_the_live_page_shows_new_plates_as_they_are_published_without_reloading(browser, site):
    url, sinks, _ = site
    sinks.send("plate", "gate", make_event("OLD111", t=T0, track=1), b"")
    time.sleep(0.5)  # stored before the page opens: it is history
    browser.get(url + "/")
    wait(browser, lambda d: "OLD111" in plates_shown(d))
    browser.execute_script("window.notReloaded = true")
    time.sleep(1.0)  # the page's event stream and the server's bus subscription are up
    for i, text in enumerate(("NEW222", "NEW333")):
        sinks.send("plate", "gate", make_event(text, t=T0 + 10 + i, track=2 + i, readable=True), b"\xff\xd8")
    wait(browser, lambda d: plates_shown(d)[:2] == ["NEW333", "NEW222"])
    assert browser.execute_script("return window.notReloaded") is True  # arrived by the stream, not a reload
    assert plates_shown(browser)[-1] == "OLD111"


def test_search_finds_a_plate_read_with_one_wrong_character_and_not_another_plate(browser, site):
    from selenium.webdriver.common.by import By

    url, sinks, store = site
    for i, text in enumerate(("AB123CD", "XY987PQ", "AB128CX")):
        camera = "gate" if i else "lane2"
        sinks.send("plate", camera, make_event(text, camera, t=T0 + i, track=i), b"")
    deadline = time.time() + 10
    while time.time() < deadline:  # the store's writer commits in batches
        with_store = EventStore(store, readonly=True) if (store / "events.db").exists() else None
        if with_store and len(with_store.latest(10)) == 3:
            with_store.close()
            break
        time.sleep(0.1)
    browser.get(url + "/search")
    box = browser.find_element(By.NAME, "q")
    box.send_keys("A8123CD")  # the B read as 8
    box.submit()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#hits tr[data-key]"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#hits tr[data-key]")
    texts = [r.find_element(By.CSS_SELECTOR, ".plate").text for r in rows]
    assert texts == ["AB123CD"]  # XY987PQ and AB128CX (two real differences) are not it
    assert "lane2" in rows[0].text


def test_a_camera_shows_reconnecting_when_its_rtsp_server_dies(browser, site, tmp_path):
    from selenium.webdriver.common.by import By

    from tests.test_rtsp import Server, clip, gst_rtsp_available

    if not gst_rtsp_available():
        pytest.skip("GStreamer RTSP server (gir1.2-gst-rtsp-server-1.0) not installed")
    url, sinks, _ = site
    port = free_port()
    video = clip(tmp_path / "red.mp4", (0, 0, 220), plate_frames=100, total=750)  # 30 s of stream
    camera = CameraSection(
        id="entrance", source=f"rtsp://127.0.0.1:{port}/test", open_timeout_s=2, read_timeout_s=2, backoff_max_s=1.0
    )
    rtsp = Server(port, video)
    stop = threading.Event()
    browser.get(url + "/cameras")
    time.sleep(1.0)  # the page listens before the camera connects
    worker = threading.Thread(
        target=run_camera,
        args=(Config(cameras=(camera,)), camera, sinks.send, stop),
        kwargs={"models": (ColourPlateDetector(), ColourPlateReader())},
    )
    worker.start()

    def state(d) -> str:  # read in one script: the page redraws the table on every health message
        return d.execute_script(
            "const b = document.querySelector('tr[data-camera=\"entrance\"] .badge'); return b ? b.dataset.state : ''"
        )

    try:
        wait(browser, lambda d: state(d) in ("connected", "streaming"))
        assert not browser.find_element(By.ID, "down").is_displayed()
        rtsp.kill()
        wait(browser, lambda d: state(d) in ("reconnecting", "stalled"))
        banner = browser.find_element(By.ID, "down")
        assert banner.is_displayed() and "entrance" in banner.text
    finally:
        stop.set()
        rtsp.kill()
        worker.join(timeout=30)
