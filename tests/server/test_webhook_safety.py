"""Issue 12.4 and 12.6: SSRF refusals (table + real loopback refusals), pinned delivery, per-host lanes."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from pixtools_desktop.cloud.webhooks import TargetRefused
from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.server.webhook_guard import WebhookPolicy, check_at_submit, make_guard
from tests.cloud.cloud_servers import start_receiver, stop_receiver
from tests.server.conftest import API_KEY
from tests.server.test_contract import KEY, post, wait_done

STRICT = WebhookPolicy(allow_private=False, own_port=8000)

REFUSED = [
    "http://127.0.0.1/hook",
    "http://localhost:9000/x",
    "http://127.8.9.10/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.5/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://017700000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://0x7f.0.0.1/",
]
MALFORMED = [
    "http://example.com:99999/",
    "http://example.com:0/",
    "http://exa mple.com/",
    "http://example.com/a b",
    "http://example.com/\r\nX-Injected: 1",
    "http://example.com/%0d%0a\n",
    "ftp://example.com/",
    "http:///nohost",
    "http://example.com:abc/",
    "http://\texample.com/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_and_obfuscated_targets_are_refused(url):
    with pytest.raises(ValidationError) as err:
        check_at_submit(url, STRICT)
    assert err.value.status_code == 422


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_urls_are_422(url):
    with pytest.raises(ValidationError):
        check_at_submit(url, WebhookPolicy(allow_private=True))


def test_public_literal_is_accepted_and_pinned():
    assert check_at_submit("https://93.184.216.34/hook?x=1", STRICT) == "https://93.184.216.34/hook?x=1"
    url, headers, ext = make_guard(STRICT)("https://93.184.216.34:8443/hook")
    assert url == "https://93.184.216.34:8443/hook" and headers == {"Host": "93.184.216.34:8443"}
    assert ext == {"sni_hostname": "93.184.216.34"}


def test_guard_pins_the_resolved_address_and_keeps_the_name_for_host():
    guard = make_guard(WebhookPolicy(allow_private=True, own_port=8000))
    url, headers, ext = guard("http://user:pw@localhost:9123/hook?token=t")
    assert url in ("http://user:pw@127.0.0.1:9123/hook?token=t", "http://user:pw@[::1]:9123/hook?token=t")
    assert headers == {"Host": "localhost:9123"} and ext == {}
    with pytest.raises(TargetRefused, match="this server itself"):
        guard("http://localhost:8000/api/process")
    with pytest.raises(TargetRefused, match="loopback"):
        make_guard(STRICT)("http://localhost:9123/hook")


def test_serve_refuses_a_loopback_webhook_for_real(serve_factory, receiver):
    server = serve_factory(api_key=API_KEY, env={"PIXTOOLS_SERVE_ALLOW_PRIVATE_WEBHOOKS": "0"})
    for url in (
        receiver.url,
        receiver.url.replace("127.0.0.1", "localhost"),
        receiver.url.replace("127.0.0.1", "2130706433"),
        f"{server.url}/api/process",
    ):
        r = post(server, webhook=url)
        assert r.status_code == 422 and "webhook_url" in r.json()["detail"], (url, r.text)
    time.sleep(0.5)
    assert receiver.count() == 0


def test_own_port_refused_even_when_private_targets_are_allowed(keyed_server):
    r = post(keyed_server, webhook=f"{keyed_server.url}/api/process")
    assert r.status_code == 422 and "this server itself" in r.json()["detail"]
    r = post(keyed_server, webhook=f"{keyed_server.url.replace('127.0.0.1', 'localhost')}/api/livez")
    assert r.status_code == 422


def test_delivery_by_name_goes_to_the_pinned_address_with_the_name_as_host(keyed_server, receiver):
    url = receiver.url.replace("127.0.0.1", "localhost")
    job_id = post(keyed_server, webhook=url).json()["job_id"]
    assert receiver.wait_for(1, timeout=20)
    assert receiver.requests[0].headers["Host"] == url.split("/")[2]
    assert json.loads(receiver.requests[0].body)["job_id"] == job_id
    view = wait_done(keyed_server, job_id)
    deadline = time.monotonic() + 10
    while view["webhook_delivery"]["state"] != "delivered":
        assert time.monotonic() < deadline, view
        time.sleep(0.05)
        view = httpx.get(f"{keyed_server.url}/api/jobs/{job_id}", headers=KEY, timeout=10).json()
    assert view["webhook_delivery"]["attempts"] == 1 and view["webhook_delivery"]["last_status"] == 200


def test_hanging_receiver_does_not_delay_a_healthy_one(serve_factory):
    server = serve_factory(api_key=API_KEY)
    slow, slow_srv, slow_thread = start_receiver()
    fast, fast_srv, fast_thread = start_receiver()
    try:
        slow.default = ("hang", 30)  # longer than the server's 10 s webhook timeout
        stuck = [post(server, webhook=slow.url).json()["job_id"] for _ in range(3)]
        assert slow.wait_for(0) and _wait_sending(server, stuck[0])
        t0 = time.monotonic()
        healthy = post(server, webhook=fast.url).json()["job_id"]
        assert fast.wait_for(1, timeout=10)
        elapsed = time.monotonic() - t0
        assert json.loads(fast.requests[0].body)["job_id"] == healthy
        assert elapsed < 2.0, f"the healthy webhook took {elapsed:.1f} s"
        views = [httpx.get(f"{server.url}/api/jobs/{j}", headers=KEY, timeout=10).json() for j in stuck]
        states = sorted(v["webhook_delivery"]["state"] for v in views)
        assert states.count("sending") == 1, states  # one lane per host: the other two wait their turn
    finally:
        stop_receiver(slow, slow_srv, slow_thread)
        stop_receiver(fast, fast_srv, fast_thread)


def _wait_sending(server, job_id: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = httpx.get(f"{server.url}/api/jobs/{job_id}", headers=KEY, timeout=10).json()
        if (view.get("webhook_delivery") or {}).get("state") == "sending":
            return True
        time.sleep(0.05)
    return False
