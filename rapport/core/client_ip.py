"""Who is calling: the client IP of a request, and the key to count its attempts by."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """Return the caller's IP: REMOTE_ADDR, or the first X-Forwarded-For hop if trusted.

    Trust the header (setting TRUST_X_FORWARDED_FOR) only behind a proxy that overwrites
    it; a client can write any X-Forwarded-For it likes.
    """
    if settings.TRUST_X_FORWARDED_FOR:
        first = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(first))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or "unknown"


def client_ip_key(ip: str) -> str:
    """Return the key to count *ip*'s attempts by: an IPv6 caller counts by its /64.

    One host usually holds a whole IPv6 /64, so counting single addresses would let it
    start afresh with each of them.
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
