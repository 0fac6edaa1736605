"""Where `pixtools serve` may send a webhook: public addresses only, checked at submit and at delivery.

Why: a client names the webhook URL, and the server POSTs to it from inside
its network; without a check, `http://169.254.169.254/`, RFC 1918 hosts or
the server's own API are one form field away (SSRF), and the job status
tells the client how the target answered. So:
- at submit (422): a well-formed http(s) URL (no spaces, CR/LF or control
  characters, a valid port, IPv4 in plain dotted form) whose host, as
  resolved now, is not loopback, private, link-local, multicast, reserved or
  unspecified (IPv4, IPv6 and IPv4-mapped / NAT64 / 6to4 forms alike);
- at delivery: resolved again, every address checked, and the connection
  made to the checked address (the URL's host goes in `Host` and in TLS SNI),
  so a DNS answer that changes in between cannot redirect it.
The operator may allow private targets (`serve_allow_private_webhooks`,
PIXTOOLS_SERVE_ALLOW_PRIVATE_WEBHOOKS; the tests use it); the server's own
port on this machine stays refused even then. The desktop's own configured
webhook is the user's choice and is not checked here.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from pixtools_desktop.cloud.webhooks import TargetRefused
from pixtools_desktop.core.errors import ValidationError

_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED = re.compile(rf"^{_OCTET}(\.{_OCTET}){{3}}$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class WebhookPolicy:
    allow_private: bool = False
    own_port: int | None = None


def check_syntax(url: str | None) -> str:
    """The submit-time form check (422); returns the URL, '' for none."""
    if not url:
        return ""
    if _BAD_CHARS.search(url):
        raise ValidationError("webhook_url must not contain spaces, line breaks or control characters")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or not parts.hostname:
        raise ValidationError("webhook_url must be a valid http(s) URL")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValidationError("webhook_url has an invalid port (1..65535)") from exc
    if port == 0:
        raise ValidationError("webhook_url has an invalid port (1..65535)")
    host = parts.hostname
    if _NUMERIC_HOST.match(host) and not _DOTTED.match(host):
        raise ValidationError(
            "webhook_url host must be a name or a dotted IPv4 address (no decimal, hex or octal forms)"
        )
    return url


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a webhook may not go to this address, or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            why = forbidden_reason(inner)
            return f"{why} (inside {ip})" if why else None
    for attr, what in (
        ("is_loopback", "a loopback address"),
        ("is_unspecified", "an unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(ip, attr):
            return f"{ip} is {what}"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def _is_this_machine(ip) -> bool:
    if ip.is_loopback or ip.is_unspecified:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _is_this_machine(ip.ipv4_mapped)
    try:
        mine = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None)}
    except OSError:
        mine = set()
    return str(ip) in mine


def resolve(url: str, policy: WebhookPolicy) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address the URL's host resolves to, all allowed (TargetRefused otherwise, or when it does not resolve)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"the webhook host {host} does not resolve ({exc})") from exc
    addrs = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if policy.own_port is not None and port == policy.own_port and _is_this_machine(ip):
            raise TargetRefused(f"the webhook points at this server itself ({ip} port {port})")
        why = None if policy.allow_private else forbidden_reason(ip)
        if why:
            raise TargetRefused(f"webhooks to {host} are not allowed: {why}")
        if ip not in addrs:
            addrs.append(ip)
    if not addrs:
        raise TargetRefused(f"the webhook host {host} does not resolve")
    return addrs


def check_at_submit(url: str | None, policy: WebhookPolicy) -> str:
    """Form check, then the address check (422 with the reason); an unresolvable host is left to delivery."""
    url = check_syntax(url)
    if not url:
        return ""
    try:
        resolve(url, policy)
    except TargetRefused as exc:
        if "does not resolve" in str(exc):
            return url  # DNS may be down for a moment: the delivery checks again, and retries
        raise ValidationError(f"webhook_url refused: {exc}") from exc
    return url


def make_guard(policy: WebhookPolicy):
    """The SinkConfig.url_guard of `pixtools serve`: check, then pin the first allowed address."""

    def guard(url: str) -> tuple[str, dict[str, str], dict]:
        check_syntax_for_delivery(url)
        ip = resolve(url, policy)[0]
        parts = urlsplit(url)
        literal = f"[{ip}]" if ip.version == 6 else str(ip)
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        if parts.username is not None:
            userinfo = parts.netloc.rpartition("@")[0]
            netloc = f"{userinfo}@{netloc}"
        pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
        host_header = parts.netloc.rpartition("@")[2]
        extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
        return pinned, {"Host": host_header}, extensions

    return guard


def check_syntax_for_delivery(url: str) -> None:
    try:
        check_syntax(url)
    except ValidationError as exc:
        raise TargetRefused(exc.detail) from exc
