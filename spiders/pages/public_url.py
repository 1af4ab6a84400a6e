"""Which URLs a crawl may request: http(s) to public hosts only (pure, offline).

Feeds name article URLs we did not choose: a GDELT or Google News answer can list
``http://127.0.0.1:6379/``, ``http://169.254.169.254/latest/meta-data/`` or
``file:///etc/passwd``, and a crawler that fetches them reads the machine's own services
(server-side request forgery). :func:`refused_url` is the check a URL must pass before it is
requested; :func:`refused_address` the check an address must pass once DNS has named it. Both
return a ``refused`` :class:`~records.Failure` saying why, or None.

A URL is refused when

* its scheme is not ``http``/``https`` (``file``, ``ftp``, ``gopher``, ``data``, ``s3``, none);
* it carries a user name or password (``http://user:pass@host/``, even an empty ``@``);
* it has no host, a port that is not a number, or a host that is not a valid name;
* its host is an IP address that is not public: loopback, private (RFC 1918, unique local
  ``fc00::/7``, "this network" ``0/8``), shared (``100.64/10``), link-local (the metadata
  service ``169.254.169.254``, ``fe80::/10``), multicast, reserved (``240/4``, ``::/8``) or
  unspecified, in every spelling a resolver accepts: ``2130706433``, ``0x7f.1``,
  ``0177.0.0.1``, ``127.1`` (``inet_aton``'s forms: a host whose last label is a number is an
  address, never a domain), IPv4 inside IPv6 (``::ffff:127.0.0.1``, 6to4 ``2002::/16``, NAT64
  ``64:ff9b::/96``), full-width digits and ideographic full stops (``１２７。０。０。１``: NFKC);
* its host names the machine or its local network: ``localhost`` and ``*.localhost``,
  ``localhost.localdomain`` and ``*.localdomain``, ``*.local`` (mDNS), ``*.internal``
  (``metadata.google.internal``), ``*.home.arpa``, ``*.lan``, ``*.home``, ``*.corp``,
  ``*.arpa``, and any single-label name (``metadata``, ``redis``: resolved through the local
  search domain).

What only DNS reveals (``localtest.me``, a rebinding name) is the network side's job:
``crawler.middlewares.public_hosts`` resolves every request's host before it is sent, and the
resolver ``crawler.dns`` refuses such an address at connect time; both call
:func:`refused_address`.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import unquote, urlsplit

from records import Failure, FailureKind

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = frozenset({"http", "https"})
#: Names of the machine itself.
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
#: Last labels that name a local network, never a public host (RFC 6761, 6762, 8375; ICANN's
#: ``.internal``; names ICANN never delegates because private networks use them).
LOCAL_SUFFIXES = ("localhost", "localdomain", "local", "internal", "arpa", "lan", "home", "corp")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IDEOGRAPHIC_STOPS = re.compile("[\u3002\uff0e\uff61]")
_NUMBER = re.compile(r"0x[0-9a-f]*|[0-9]+", re.ASCII)
_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*", re.ASCII)


def refusal(reason: str) -> Failure:
    """The ``refused`` failure of a URL that is not requested, saying why."""
    return Failure(FailureKind.REFUSED, f"{reason}; not requested (only http(s) URLs to public hosts are)")


def address_kind(address: Address) -> str | None:
    """Why ``address`` is not public ("a loopback address" ...), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return "a private address (local NAT64)"
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            kind = address_kind(embedded)
            if kind:
                return f"{kind} ({embedded})"
    for kind, test in (("a loopback address", address.is_loopback), ("the unspecified address", address.is_unspecified),
                       ("a link-local address", address.is_link_local), ("a multicast address", address.is_multicast),
                       ("a reserved address", address.is_reserved), ("a private address", address.is_private)):
        if test:
            return kind
    if not address.is_global:
        return "not a public address"
    return None


def refused_address(address: str, host: str | None = None) -> Failure | None:
    """The failure for connecting to ``address`` (what ``host`` resolved to), or None when public."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return refusal(f"{host or address} resolves to {address!r}, which is not an IP address")
    kind = address_kind(parsed)
    if kind is None:
        return None
    if host and host != address:
        return refusal(f"{host} resolves to {address}, {kind}")
    return refusal(f"{address} is {kind}")


def ipv4_number(text: str) -> ipaddress.IPv4Address | None:
    """``text`` read the way ``inet_aton`` (and so every resolver) reads it: one to four
    decimal, ``0x`` hex or ``0``-led octal parts, the last filling the remaining bytes
    (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1`` are all 127.0.0.1). None when it
    is not such a number; ValueError when it looks like one but is no address."""
    parts = text.split(".")
    if not _NUMBER.fullmatch(parts[-1]):
        return None
    if len(parts) > 4 or not all(_NUMBER.fullmatch(part) for part in parts):
        raise ValueError(f"{text!r} is not a valid IPv4 address")
    values = []
    for part in parts:
        if part.startswith("0x"):
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            values.append(int(part, 8))  # ValueError for "08"
        else:
            values.append(int(part))
    *head, last = values
    if any(value > 255 for value in head) or last >= 256 ** (4 - len(head)):
        raise ValueError(f"{text!r} is not a valid IPv4 address")
    number = last
    for index, value in enumerate(head):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def canonical_host(host: str) -> str:
    """A host as a resolver sees it: NFKC (full-width letters and digits), lower case,
    ideographic full stops as dots, IDNA for non-ASCII names, without the trailing dot."""
    text = _IDEOGRAPHIC_STOPS.sub(".", unicodedata.normalize("NFKC", host).lower())
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # refused below as not a valid name
    return text[:-1] if text.endswith(".") and not text.endswith("..") else text


def refused_host(host: str) -> Failure | None:
    """The failure for asking ``host`` (a URL's host, IPv6 without brackets), or None."""
    if ":" in host:  # only IPv6 literals have colons
        try:
            address: Address = ipaddress.IPv6Address(unquote(host).split("%", 1)[0])
        except ValueError:
            return refusal(f"[{host}] is not a valid IPv6 address")
        kind = address_kind(address)
        return refusal(f"[{host}] is {kind}") if kind else None
    name = canonical_host(host)
    try:
        number = ipv4_number(name)
    except ValueError as exc:
        return refusal(str(exc))
    if number is not None:
        kind = address_kind(number)
        if kind is None:
            return None
        return refusal(f"{host} is {kind}" if host == str(number) else f"{host} is {number}, {kind}")
    if not _NAME.fullmatch(name):
        return refusal(f"{host!r} is not a valid host name")
    if name in LOCAL_NAMES or name.rsplit(".", 1)[-1] in LOCAL_SUFFIXES:
        return refusal(f"{host} names this machine or its local network")
    if "." not in name:
        return refusal(f"{host} is a single-label name, resolved inside the local network")
    return None


def refused_url(url: str) -> Failure | None:
    """The ``refused`` failure for requesting ``url``, or None when it may be requested."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return refusal(f"not a valid URL ({exc})")
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        return refusal(f"scheme {scheme!r} is not http(s)" if scheme else "no http(s) scheme")
    if "@" in parts.netloc:
        return refusal("the URL carries a user name or password")
    if not parts.hostname:
        return refusal("no host in the URL")
    return refused_host(parts.hostname)
