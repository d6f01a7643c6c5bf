"""Issue 17, attachment downloads: any http(s) URL was fetched and redirects followed (127.0.0.1:9001, the
Lambda runtime API, in decimal or hex, or behind a 302); the "15 s" limit was per read (a trickling server
held a call 36 s), a `Retry-After` of 24 s was honoured, and several attachments had no shared budget.

Now (chalicelib/messaging/meta/download_policy.py, meta/cdn.py, http.py, deadline.py):
- the policy itself, with every literal form of a loopback / metadata / private address;
- a real TLS server on 127.0.0.1 (tests/adversarial/cdn_server.py) behind names only the test resolver
  knows, so a download that works proves the connection went to the checked address with the right SNI;
- redirects off the list refused, chains bounded; a trickling body cut at the deadline (an injected clock
  that the server moves, and counts of bytes, never wall-clock assertions); a `Retry-After` beyond the
  budget gives up without waiting; several attachments share one budget.
"""

from __future__ import annotations

import ipaddress
import socket
import threading

import pytest

from chalicelib.messaging.deadline import Deadline
from chalicelib.messaging.errors import PermanentError, TransientError
from chalicelib.messaging.meta.cdn import MAX_REDIRECTS, AttachmentDownloader, DeadlineExceeded
from chalicelib.messaging.meta.download_policy import (
    DownloadPolicy,
    DownloadRefused,
    HostList,
    ip_literal,
    public_only,
)
from chalicelib.settings import DEFAULT_DOWNLOAD_HOSTS, Settings, SettingsError
from tests.adversarial import cdn_server
from tests.adversarial.cdn_server import HostileCdn, loopback_only_for_tests

META = HostList.parse(DEFAULT_DOWNLOAD_HOSTS)
PUBLIC = lambda host, port: ["157.240.22.35"]  # a Meta address, as DNS would answer

# ------------------------------------------------------------------------------------------- the policy

LOOPBACK_LITERALS = [
    "127.0.0.1",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0177.0.0.1",  # octal
    "0x7f.0.0.1",
    "127.1",  # short form
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "169.254.169.254",
    "2852039166",  # 169.254.169.254 in decimal
    "10.0.0.1",
    "4294967296",  # overflows IPv4: still not a name
]


@pytest.mark.parametrize("host", LOOPBACK_LITERALS)
def test_an_ip_literal_is_refused_in_every_notation_whatever_the_list_says(host):
    policy = DownloadPolicy(HostList.parse([*DEFAULT_DOWNLOAD_HOSTS, "*.example.com"]), resolve=PUBLIC)
    with pytest.raises(DownloadRefused) as refused:
        policy.target(f"https://{host}:443/v/t1.png")
    assert refused.value.reason == "attachment_ip_literal_refused"


@pytest.mark.parametrize(
    ("literal", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("::1", "::1"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
    ],
)
def test_literals_decode_to_the_address_the_resolver_would_use(literal, address):
    assert ip_literal(literal) == ipaddress.ip_address(address)


REFUSED_ADDRESSES = [
    "127.0.0.1",
    "127.255.255.254",
    "::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:169.254.169.254",
    "169.254.169.254",  # instance metadata
    "fe80::1",
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.0.1",
    "192.168.255.255",
    "fd00::1",
    "fdff:ffff::1",
    "fc00::1",
    "100.64.0.1",  # shared address space
    "0.0.0.0",
    "::",
    "224.0.0.1",
    "ff02::1",
    "240.0.0.1",
    "255.255.255.255",
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo around 127.0.0.1
]


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_the_address_policy_refuses_every_non_public_range(address):
    assert public_only(ipaddress.ip_address(address)) == "attachment_address_refused"


@pytest.mark.parametrize("address", ["157.240.22.35", "31.13.64.1", "2a03:2880:f12f:83:face:b00c::25de"])
def test_the_address_policy_allows_public_addresses(address):
    assert public_only(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("answers", "allowed"),
    [
        (["157.240.22.35"], True),
        (["10.1.2.3"], False),
        (["157.240.22.35", "127.0.0.1"], False),  # one bad answer refuses the name
        (["::ffff:127.0.0.1"], False),
    ],
)
def test_every_resolved_address_is_checked(answers, allowed):
    policy = DownloadPolicy(META, resolve=lambda host, port: answers)
    target = policy.target("https://scontent.xx.fbcdn.net/v/t1.png")
    if allowed:
        assert policy.address(target) == answers[0]
    else:
        with pytest.raises(DownloadRefused) as refused:
            policy.address(target)
        assert refused.value.reason == "attachment_address_refused"


def test_a_name_that_does_not_exist_is_refused_and_a_dns_outage_is_transient():
    def answer(error):
        def resolve(host, port):
            raise error

        return resolve

    target = DownloadPolicy(META, resolve=PUBLIC).target("https://nothing-here.fbcdn.net/x")
    missing = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    with pytest.raises(DownloadRefused) as refused:
        DownloadPolicy(META, resolve=answer(missing)).address(target)
    assert refused.value.reason == "attachment_host_unknown"
    with pytest.raises(TransientError) as failed:
        DownloadPolicy(META, resolve=answer(socket.gaierror(socket.EAI_AGAIN, "again"))).address(target)
    assert failed.value.reason == "attachment_resolve_failed"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://lookaside.fbsbx.com/x", "attachment_scheme_refused"),
        ("ftp://lookaside.fbsbx.com/x", "attachment_url_invalid"),
        ("file:///etc/passwd", "attachment_url_invalid"),
        ("https://evil.example/x", "attachment_host_not_allowed"),
        ("https://fbcdn.net/x", "attachment_host_not_allowed"),  # *.fbcdn.net is the names under it
        ("https://evilfbcdn.net/x", "attachment_host_not_allowed"),
        ("https://fbcdn.net.evil.example/x", "attachment_host_not_allowed"),
        ("https://lookaside.fbsbx.com:9001/x", "attachment_port_refused"),
        ("https://user@lookaside.fbsbx.com/x", "attachment_url_invalid"),
        ("https://lookaside.fbsbx.com:99999/x", "attachment_url_invalid"),
        ("https://looka\u0455ide.fbsbx.com/x", "attachment_host_not_allowed"),
    ],
)
def test_only_https_to_listed_hosts_on_443(url, reason):
    with pytest.raises(DownloadRefused) as refused:
        DownloadPolicy(META, resolve=PUBLIC).target(url)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    "url",
    [
        "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&signature=x",
        "https://scontent.xx.fbcdn.net/v/t1.15752-9/1.png?_nc_cat=1",
        "https://scontent-iad3-1.cdninstagram.com/v/t51.2885-15/2.jpg",
        "https://LOOKASIDE.fbsbx.com./x",
    ],
)
def test_meta_cdn_urls_are_accepted(url):
    assert DownloadPolicy(META, resolve=PUBLIC).target(url).host.endswith((".com", ".net"))


def test_an_origin_in_the_setting_is_trusted_exactly_as_written_and_nothing_else():
    hosts = HostList.parse(["http://127.0.0.1:8000"])
    policy = DownloadPolicy(hosts, resolve=lambda host, port: [host])
    assert policy.address(policy.target("http://127.0.0.1:8000/sandbox/cdn/x")) == "127.0.0.1"
    for other in ("http://127.0.0.1:8001/x", "http://2130706433:8000/x", "http://localhost:8000/x"):
        with pytest.raises(DownloadRefused):
            policy.target(other)


def test_the_setting_defaults_to_metas_cdn_and_refuses_malformed_entries():
    base = {
        "CONNECT_INSTANCE_ID": "i",
        "CONNECT_CONTACT_FLOW_ID": "f",
        "CONNECT_STREAMING_TOPIC_ARN": "arn:aws:sns:us-east-1:1:t",
        "SESSIONS_TABLE": "t",
        "MESSENGER_SECRET_ID": "s",
    }
    messaging = Settings(base).messaging
    assert messaging.attachment_download_hosts == ("*.fbcdn.net", "*.fbsbx.com", "*.cdninstagram.com")
    assert messaging.webhook_deadline_seconds == 15.0
    for bad in ("*", "https://x/y", "a b", "localhost", "*.fbcdn.net,user@host.com"):
        with pytest.raises(SettingsError):
            Settings({**base, "ATTACHMENT_DOWNLOAD_HOSTS": bad}).messaging  # noqa: B018


# ------------------------------------------------------------------------------- against a real server


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return cdn_server.make_certificates(tmp_path_factory.mktemp("cdn-tls"))


@pytest.fixture(scope="module")
def server(certificates):
    _, chain, key = certificates
    running = HostileCdn(chain, key)
    yield running
    running.stop()


@pytest.fixture
def cdn(server):
    server.reset()
    return server


class Resolver:
    """DNS for the tests: every test name is 127.0.0.1; counts the look-ups."""

    def __init__(self):
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return ["127.0.0.1"]


class ManualClock:
    def __init__(self):
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float = 1.0) -> None:
        with self._lock:
            self.now += seconds


@pytest.fixture
def resolver():
    return Resolver()


def downloader(cdn, certificates, resolver, hosts=("cdn.test", "*.cdn.test"), sleep=None, max_bytes=10_000_000):
    policy = DownloadPolicy(
        HostList.parse(hosts), addresses=loopback_only_for_tests, resolve=resolver, ports=frozenset({cdn.port})
    )
    ca, _, _ = certificates
    sleeps = sleep if sleep is not None else (lambda seconds: pytest.fail(f"slept {seconds} s"))
    return AttachmentDownloader(policy, max_bytes=max_bytes, sleep=sleeps, verify=str(ca))


def fetch(downloader, url, deadline=None):
    with downloader.fetch(url, deadline or Deadline(15)) as (body, size):
        return body.read(), size


def test_a_listed_name_is_fetched_over_tls_from_the_checked_address(cdn, certificates, resolver):
    cdn.routes["/photo.png"] = cdn_server.serve(b"\x89PNG\r\n\x1a\nbytes")
    got = fetch(downloader(cdn, certificates, resolver), cdn.url("/photo.png", "a.cdn.test"))
    assert got == (b"\x89PNG\r\n\x1a\nbytes", 13)
    # One look-up, and no other: `a.cdn.test` exists in no DNS, so the connection used the checked address;
    # TLS verified the certificate for the name (SNI), and the server was told the name, not the address.
    assert resolver.lookups == ["a.cdn.test"]
    assert cdn.hosts == [f"a.cdn.test:{cdn.port}"]
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("a.cdn.test", 443)


def test_the_certificate_is_still_checked_against_the_name(cdn, certificates, resolver):
    cdn.routes["/photo.png"] = cdn_server.serve(b"png")
    wrong = downloader(cdn, certificates, resolver, hosts=("*.other.test",))  # the certificate does not name it
    with pytest.raises(TransientError) as failed:
        fetch(wrong, cdn.url("/photo.png", "files.other.test"))
    assert failed.value.reason == "attachment_download_failed"


def test_the_loopback_address_is_refused_by_the_production_policy(cdn, certificates, resolver):
    """The same server, the production address policy: the name resolves to 127.0.0.1, nothing is fetched."""
    cdn.routes["/photo.png"] = cdn_server.serve(b"png")
    ca, _, _ = certificates
    policy = DownloadPolicy(HostList.parse(["*.cdn.test"]), resolve=resolver, ports=frozenset({cdn.port}))
    with pytest.raises(DownloadRefused) as refused:
        fetch(AttachmentDownloader(policy, 1000, verify=str(ca)), cdn.url("/photo.png", "a.cdn.test"))
    assert refused.value.reason == "attachment_address_refused"
    assert cdn.hits["/photo.png"] == 0


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("https://evil.test:{port}/secret", "attachment_host_not_allowed"),
        ("http://127.0.0.1:9001/2018-06-01/runtime/invocation/next", "attachment_scheme_refused"),
        ("https://2130706433:{port}/x", "attachment_ip_literal_refused"),
        ("https://0x7f000001:{port}/x", "attachment_ip_literal_refused"),
        ("https://[::ffff:127.0.0.1]:{port}/x", "attachment_ip_literal_refused"),
    ],
)
def test_a_redirect_off_the_list_is_refused_before_anything_is_fetched(cdn, certificates, resolver, location, why):
    cdn.routes["/photo.png"] = cdn_server.redirect(location.format(port=cdn.port))
    cdn.routes["/secret"] = cdn_server.serve(b"runtime api")
    with pytest.raises(DownloadRefused) as refused:
        fetch(downloader(cdn, certificates, resolver), cdn.url("/photo.png"))
    assert (refused.value.reason, refused.value.code) == ("attachment_redirect_refused", why)
    assert cdn.hits["/secret"] == 0


def test_a_redirect_on_the_list_is_followed_and_checked_again(cdn, certificates, resolver):
    cdn.routes["/photo.png"] = cdn_server.redirect(f"https://b.cdn.test:{cdn.port}/real.png", status=307)
    cdn.routes["/real.png"] = cdn_server.serve(b"real")
    assert fetch(downloader(cdn, certificates, resolver), cdn.url("/photo.png", "a.cdn.test")) == (b"real", 4)
    assert resolver.lookups == ["a.cdn.test", "b.cdn.test"]


def test_a_redirect_chain_is_bounded(cdn, certificates, resolver):
    for hop in range(10):
        cdn.routes[f"/hop{hop}"] = cdn_server.redirect(f"/hop{hop + 1}")
    with pytest.raises(PermanentError) as refused:
        fetch(downloader(cdn, certificates, resolver), cdn.url("/hop0"))
    assert refused.value.reason == "attachment_too_many_redirects"
    assert sum(cdn.hits.values()) == MAX_REDIRECTS + 1


def test_a_trickling_body_is_cut_at_the_deadline(cdn, certificates, resolver):
    """A byte every 10 ms of a declared MB: each read is short, so only a total deadline ends it. The test's
    clock is moved by the server, one second per byte sent: the budget of 15 s is gone after ~15 bytes."""
    clock = ManualClock()
    cdn.routes["/slow.pdf"] = cdn_server.trickle(1_000_000, 0.01, on_chunk=clock.advance)
    with pytest.raises(DeadlineExceeded) as cut:
        fetch(downloader(cdn, certificates, resolver), cdn.url("/slow.pdf"), Deadline(15, clock))
    assert cut.value.reason == "attachment_deadline_exceeded"
    assert cdn.sent["/slow.pdf"] < 100  # of 1,000,000 declared


def test_a_server_that_never_finishes_its_headers_is_cut_by_the_watchdog(cdn, certificates, resolver):
    """No response object ever exists to check a clock on: the watchdog shuts the socket at the deadline.
    (Real time here, 0.3 s; asserted as bytes the server managed to send of 2,000, not as a duration.)"""
    cdn.routes["/headers"] = cdn_server.trickle_headers(0.01, 2000)
    with pytest.raises(DeadlineExceeded):
        fetch(downloader(cdn, certificates, resolver), cdn.url("/headers"), Deadline(0.3))
    assert cdn.sent["/headers"] < 1000


def test_retry_after_beyond_the_budget_gives_up_at_once(cdn, certificates, resolver):
    cdn.routes["/busy.png"] = cdn_server.retry_after("24")
    slept: list[float] = []
    with pytest.raises(TransientError) as gave_up:
        fetch(downloader(cdn, certificates, resolver, sleep=slept.append), cdn.url("/busy.png"), Deadline(15))
    assert (gave_up.value.reason, gave_up.value.code) == ("attachment_retry_after_beyond_deadline", "503")
    assert slept == [] and cdn.hits["/busy.png"] == 1


def test_retry_after_within_the_budget_waits_on_the_same_clock(cdn, certificates, resolver):
    answers = iter([cdn_server.retry_after("2", status=429), cdn_server.serve(b"ok")])
    cdn.routes["/busy.png"] = lambda handler: next(answers)(handler)
    clock = ManualClock()
    slept: list[float] = []

    def sleep(seconds):
        slept.append(seconds)
        clock.advance(seconds)

    deadline = Deadline(15, clock)
    assert fetch(downloader(cdn, certificates, resolver, sleep=sleep), cdn.url("/busy.png"), deadline) == (b"ok", 2)
    assert slept == [2.0] and deadline.remaining() == 13.0


def test_several_attachments_share_one_budget(cdn, certificates, resolver):
    """Four files of 4 chunks each; the server's clock moves a second per chunk; one budget of 10 s: two
    files arrive, the third is cut, the fourth is never requested (it would restart no clock)."""
    clock = ManualClock()
    for name in ("a", "b", "c", "d"):
        cdn.routes[f"/{name}.pdf"] = cdn_server.trickle(4 * 4, 0.005, on_chunk=clock.advance, chunk=b"%PDF")
    deadline = Deadline(10, clock)
    fetcher = downloader(cdn, certificates, resolver)
    outcomes = []
    for name in ("a", "b", "c", "d"):
        try:
            outcomes.append(fetch(fetcher, cdn.url(f"/{name}.pdf"), deadline)[1])
        except DeadlineExceeded as cut:
            outcomes.append(cut.reason)
    assert outcomes == [16, 16, "attachment_deadline_exceeded", "attachment_deadline_exceeded"]
    assert cdn.hits["/d.pdf"] == 0


def test_the_size_cap_holds_without_a_content_length(cdn, certificates, resolver):
    def chunked(handler):
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for _ in range(8000):  # 8 MB, more than socket buffers hold
            handler.write(b"400\r\n" + b"x" * 1024 + b"\r\n")
        handler.write(b"0\r\n\r\n")

    cdn.routes["/big"] = chunked
    with pytest.raises(PermanentError) as refused:
        fetch(downloader(cdn, certificates, resolver, max_bytes=10_000), cdn.url("/big"))
    assert refused.value.reason == "attachment_too_large"
    assert cdn.sent["/big"] < 8000 * 1029
