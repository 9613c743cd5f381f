"""With LIVE_HOST on loopback, every printed link and QR code leads where the server listens."""

import re
import urllib.request

import pytest

from live.netinfo import public_base_url


def test_a_loopback_server_prints_loopback_links():
    assert public_base_url({"HOST": "127.0.0.1", "PORT": 5077}) == "http://127.0.0.1:5077"
    assert public_base_url({"HOST": "::1", "PORT": 5077}) == "http://[::1]:5077"
    assert public_base_url({"HOST": "127.0.0.1", "PORT": 5077}, "http://localhost:5077/") \
        == "http://localhost:5077"
    # LIVE_PUBLIC_URL still wins (a proxy in front).
    assert public_base_url({"HOST": "127.0.0.1", "PORT": 1, "PUBLIC_URL": "https://x.example/"}) \
        == "https://x.example"


@pytest.mark.server
def test_every_link_a_loopback_server_prints_answers(tmp_path):
    """The real server bound to 127.0.0.1: the join address it prints and the links and QR code
    of the console all answer."""
    from support import prepare, server

    setup = prepare(tmp_path / "palabre.db")
    with server(setup.database, PUBLIC_URL="") as process:
        lines = [line for line in process.log_tail(60).splitlines()
                 if "Palabre" in line or "Organiser" in line or "Organisateur" in line]
        printed = re.findall(r"https?://[^\s)]+", "\n".join(lines))
        assert printed, process.log_tail(60)
        for url in printed:
            assert url.startswith("http://127.0.0.1:"), url
            with urllib.request.urlopen(url, timeout=10) as answer:
                assert answer.status == 200
        with urllib.request.urlopen(f"{process.url}/f/{setup.facilitator}", timeout=10) as answer:
            console = answer.read().decode()
        links = set(re.findall(r"https?://[^\s\"'<>]+", console))
        ours = [link for link in links if "/j/" in link or "/f/" in link or "/s/" in link
                or "/m/" in link]
        assert ours, "the console shows no link"
        for link in ours:
            assert link.startswith(process.url), link
            with urllib.request.urlopen(link, timeout=10) as answer:
                assert answer.status == 200
