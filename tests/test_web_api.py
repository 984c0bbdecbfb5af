"""The web page's server without a browser: its token, its read-only routes, its media paths."""

import json
import time
import urllib.error
import urllib.request

import pytest

from store.db import EventStore
from tests.conftest import free_port, make_event
from web.server import BackgroundServer, check_bind, make_server


def get(url: str, method: str = "GET", headers: dict | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)
    except urllib.error.URLError:  # not listening yet
        return 0, b"", {}


@pytest.fixture
def served(tmp_path, endpoint):
    store = EventStore(tmp_path / "store")
    store.add([(make_event("AB123CD", t=time.time()), b"\xff\xd8crop", b"")])
    store.close()
    (tmp_path / "secret.txt").write_text("not for the page")
    port = free_port()
    server = BackgroundServer(make_server(str(tmp_path / "store"), f"127.0.0.1:{port}", endpoint, token="s3cret"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline and get(base + "/api/cameras")[0] not in (200, 401):
        time.sleep(0.1)
    yield base
    server.close()


def test_a_page_beyond_loopback_needs_a_token():
    with pytest.raises(ValueError, match="needs a token"):
        check_bind("0.0.0.0:8080", "")
    assert check_bind("0.0.0.0:8080", "t") == ("0.0.0.0", 8080)
    assert check_bind("[::1]:8080", "") == ("::1", 8080)
    with pytest.raises(ValueError, match="HOST:PORT"):
        check_bind("8080", "")


def test_every_request_needs_the_token_and_the_page_changes_nothing(served):
    assert get(served + "/")[0] == 401
    assert get(served + "/api/latest")[0] == 401
    status, body, headers = get(served + "/?token=s3cret")
    assert status == 200 and b"Live plates" in body and "lpr_token=s3cret" in headers.get("set-cookie", "")
    assert get(served + "/api/latest", headers={"Cookie": "lpr_token=s3cret"})[0] == 200
    status, body, _ = get(served + "/api/latest", headers={"Authorization": "Bearer s3cret"})
    event = json.loads(body)["events"][0]
    assert status == 200 and event["text"] == "AB123CD"
    auth = {"Authorization": "Bearer s3cret"}
    status, crop, _ = get(served + event["crop"], headers=auth)
    assert status == 200 and crop == b"\xff\xd8crop"
    for method in ("POST", "PUT", "DELETE"):
        assert get(served + "/api/latest", method=method, headers=auth)[0] == 405
    for path in (
        "/media/../secret.txt",
        "/media/crops/../../secret.txt",
        "/media/events.db",
        "/media/%2e%2e/secret.txt",
    ):
        assert get(served + path, headers=auth)[0] == 404, path
    status, body, headers = get(served + "/api/search.csv?q=A8123CD", headers=auth)
    assert status == 200 and body.decode().splitlines()[1].split(",")[3] == "AB123CD"
    assert "attachment" in headers["content-disposition"]
    assert get(served + "/api/search?q=AB&since=tomorrow", headers=auth)[0] == 400
