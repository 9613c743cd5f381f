"""The address phones should use to reach this machine on the local network."""

from __future__ import annotations

import socket


def lan_address() -> str:
    """This machine's LAN IPv4 address (no packet is sent), or 127.0.0.1 without a network."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def public_base_url(config: dict, request_host_url: str | None = None) -> str:
    """The base URL printed and put in QR codes: LIVE_PUBLIC_URL, else the request's, else the LAN's."""
    if config.get("PUBLIC_URL"):
        return config["PUBLIC_URL"].rstrip("/")
    bound = str(config.get("HOST") or "")
    if is_loopback(bound):
        # Listening on loopback only: the LAN address would lead nowhere; this machine's would.
        if request_host_url:
            return request_host_url.rstrip("/")
        return f"http://{'[::1]' if bound == '::1' else bound}:{config['PORT']}"
    if request_host_url:
        host = request_host_url.rstrip("/")
        if not any(local in host for local in ("//localhost", "//127.", "//[::1]")):
            return host
        port = host.rsplit(":", 1)[-1] if host.count(":") >= 2 else None
        return f"http://{lan_address()}" + (f":{port}" if port else "")
    return f"http://{lan_address()}:{config['PORT']}"


def is_loopback(host: str) -> bool:
    """Whether `host` (an address to listen on) is this machine only."""
    return host == "localhost" or host == "::1" or host.startswith("127.")
