"""Which attachment URLs the relay may fetch, and which addresses it may connect to.

A customer's attachment URL arrives in a signed webhook, but the signature only says Meta sent it; the URL
is still data. The relay fetches only:

- `https` on port 443, to a host matching `ATTACHMENT_DOWNLOAD_HOSTS` (default Meta's CDN families:
  `*.fbcdn.net`, `*.fbsbx.com`, `*.cdninstagram.com`; docs/reference/messenger-webhook.md#attachment-urls: the
  URL points at Meta's CDN, docs/messenger.md#attachment-downloads lists what was observed);
- never an IP literal, in any notation the C resolver accepts (`127.0.0.1`, `2130706433`, `0x7f000001`,
  `0177.0.0.1`, `127.1`, `[::1]`, ...), even if someone put one on the list;
- and only when every address the name resolves to is a public unicast one: no loopback (the Lambda runtime
  API listens on 127.0.0.1:9001), link-local (169.254.169.254), private, shared, reserved, multicast or
  unspecified address, also when wrapped in IPv6 (IPv4-mapped, 6to4, Teredo, NAT64).

The address checked is the address connected to (http.py `PinnedConnections`): no second lookup an attacker's
DNS could answer differently. An entry written as an origin (`http://127.0.0.1:8000`) is trusted exactly as
written, address included: the local sandbox's CDN stand-in; never a default.

Refusals are `DownloadRefused` with a reason code; nothing here logs or raises the URL.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from chalicelib.messaging.errors import PermanentError, TransientError
from chalicelib.settings import DEFAULT_DOWNLOAD_HOSTS

__all__ = ["DEFAULT_DOWNLOAD_HOSTS", "DownloadPolicy", "DownloadRefused", "HostList", "Target", "public_only"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# An address policy answers None (allowed) or the reason code of a refusal; tests hand in one allowing loopback.
AddressPolicy = Callable[[IPAddress], str | None]
Resolver = Callable[[str, int], list[str]]

_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_DEFAULT_PORTS = {"https": 443, "http": 80}
_NO_SUCH_NAME = frozenset(
    code for code in (getattr(socket, "EAI_NONAME", None), getattr(socket, "EAI_NODATA", None)) if code is not None
)


class DownloadRefused(PermanentError):
    """The URL or the address behind it is not one the relay fetches."""


@dataclass(frozen=True)
class Target:
    """A URL the policy accepted: where to connect and what to call the host (Host header, TLS SNI)."""

    url: str
    scheme: str
    host: str
    port: int
    trusted: bool = False  # an exact origin from the settings: its address is not checked


@dataclass(frozen=True)
class HostList:
    """`ATTACHMENT_DOWNLOAD_HOSTS`: `*.example.com` (any name under it, not itself), `cdn.example.com`
    (exactly), or an exact origin `scheme://host:port` trusted as written (the sandbox)."""

    patterns: tuple[str, ...]
    origins: frozenset[tuple[str, str, int]] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> HostList:
        patterns: list[str] = []
        origins: set[tuple[str, str, int]] = set()
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            if "://" in entry:
                parts = urlsplit(entry)
                if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
                    raise ValueError(f"not an origin: {raw!r} (scheme://host[:port])")
                origins.add((parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme]))
                continue
            name = entry.removeprefix("*.")
            if not all(_LABEL.match(label) for label in name.split(".")) or "." not in name:
                raise ValueError(f"not a host name or *.pattern: {raw!r}")
            patterns.append(entry)
        return cls(tuple(patterns), frozenset(origins))

    def allows(self, host: str) -> bool:
        for pattern in self.patterns:
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                    return True
            elif host == pattern:
                return True
        return False


def ip_literal(host: str) -> IPAddress | None:
    """The address a host string denotes by itself, in any notation `inet_aton` or `inet_pton` accepts
    (dotted, decimal `2130706433`, hex `0x7f000001`, octal `0177.0.0.1`, short `127.1`, IPv6), else None.
    A name made of numeric labels only that no parser accepts (an overflow) counts as a literal too."""
    bare = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(bare))
    except (OSError, ValueError):
        pass
    if bare and all(_NUMERIC_LABEL.match(label) for label in bare.rstrip(".").split(".")):
        return ipaddress.IPv4Address(0)  # numeric-looking, unparseable: treated as the unspecified address
    return None


def public_only(address: IPAddress) -> str | None:
    """The default address policy: public unicast only, looking inside IPv6 forms that carry IPv4."""
    for candidate in _embedded(address):
        if (
            candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_private
            or candidate.is_reserved
            or candidate.is_multicast
            or candidate.is_unspecified
            or not candidate.is_global
        ):
            return "attachment_address_refused"
    return None


def _embedded(address: IPAddress) -> list[IPAddress]:
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            found.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            found.append(address.sixtofour)
        if address.teredo is not None:
            found.extend(address.teredo)
        if address in _NAT64:
            found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the name resolves to (TCP), as strings."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]).split("%", 1)[0] for info in infos]


class DownloadPolicy:
    def __init__(
        self,
        hosts: HostList,
        addresses: AddressPolicy = public_only,
        resolve: Resolver | None = None,
        ports: frozenset[int] = frozenset({443}),
    ):
        """`resolve`: None is `system_resolver`, looked up when used (a test stands in for DNS there);
        `addresses` and `ports` are what tests change to reach a server on 127.0.0.1."""
        self._hosts = hosts
        self._addresses = addresses
        self._resolve = resolve
        self._ports = ports

    def target(self, url: str) -> Target:
        """Parse and check a URL (before any connection); raises `DownloadRefused`."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise DownloadRefused("attachment_url_invalid") from None
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        if scheme not in _DEFAULT_PORTS or not host or parts.username is not None or parts.password is not None:
            raise DownloadRefused("attachment_url_invalid")
        port = port or _DEFAULT_PORTS[scheme]
        # Rebuilt from the parsed parts, so the HTTP client cannot read another host out of the same string.
        netloc = host if port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
        if ":" in host:
            netloc = f"[{host}]" if port == _DEFAULT_PORTS[scheme] else f"[{host}]:{port}"
        canonical = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
        if (scheme, host, port) in self._hosts.origins:
            return Target(canonical, scheme, host, port, trusted=True)
        if scheme != "https":
            raise DownloadRefused("attachment_scheme_refused")
        if ip_literal(host) is not None:
            raise DownloadRefused("attachment_ip_literal_refused")
        if not all(_LABEL.match(label) for label in host.split(".")):
            raise DownloadRefused("attachment_host_not_allowed")
        if not self._hosts.allows(host):
            raise DownloadRefused("attachment_host_not_allowed")
        if port not in self._ports:
            raise DownloadRefused("attachment_port_refused")
        return Target(canonical, scheme, host, port)

    def address(self, target: Target) -> str:
        """The one address to connect to: resolved once, every answer checked. Raises `DownloadRefused` when
        any answer is not allowed or the name does not exist, `TransientError` when DNS fails otherwise."""
        try:
            answers = (self._resolve or system_resolver)(target.host, target.port)
        except socket.gaierror as failed:
            if failed.errno in _NO_SUCH_NAME:  # the name does not exist: a redelivery would not help
                raise DownloadRefused("attachment_host_unknown") from None
            raise TransientError("attachment_resolve_failed") from None
        except OSError:
            raise TransientError("attachment_resolve_failed") from None
        if not answers:
            raise TransientError("attachment_resolve_failed")
        if target.trusted:
            return answers[0]
        for answer in answers:
            try:
                parsed = ipaddress.ip_address(answer)
            except ValueError:
                raise DownloadRefused("attachment_address_refused") from None
            refusal = self._addresses(parsed)
            if refusal is not None:
                raise DownloadRefused(refusal)
        return answers[0]
