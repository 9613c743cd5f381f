"""A socket's `CONNECT` on the real server (the async mode of PALABRE_TEST_ASYNC_MODE): a phone
with its signed cookie is let in with its snapshot; a forged cookie, a cookie signed with
another key, no cookie, an unknown code, a staff link that is not one are refused with the
same words as ever, in the language the client asks for (its `auth.lang`, else its request's:
the lang cookie, the browser's). Leaving lowers the connected count seen by the screen."""

from __future__ import annotations

import base64

import pytest
import socketio
from realserver import Listener, Server, connect, join_cookie, prepare

NO_COOKIE_EN = "Your browser did not send its cookie. Reload the page (cookies must be allowed)."
UNKNOWN_CODE_EN = "No session has this code. Check the code on the screen."
UNKNOWN_CODE_FR = "Aucune session n’a ce code. Vérifiez le code affiché à l’écran."


def _refusal(url: str, auth: dict, headers: dict | None = None) -> dict:
    """The `connect_error` data the server answers with (a refused socket), or fails."""
    client = socketio.Client(reconnection=False, handle_sigint=False, request_timeout=10)
    refused: list = []
    client.on("connect_error", lambda data=None: refused.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(url, headers=headers or {}, auth=auth, transports=["websocket"], wait_timeout=10)
    client.disconnect()
    assert refused, "no connect_error"
    return refused[0]


def _forged(cookie: str) -> str:
    """The same cookie with its payload changed (another participant id), signature kept."""
    name, value = cookie.split("=", 1)
    payload, rest = value.split(".", 1)
    tampered = base64.urlsafe_b64encode(b'{"pid":"someone-else"}').rstrip(b"=").decode()
    assert tampered != payload
    return f"{name}={tampered}.{rest}"


def _signed_elsewhere(cookie: str) -> str:
    """The same cookie's content, signed as a server with another secret key signs it."""
    from flask import Flask

    other = Flask("elsewhere")
    other.secret_key = "another-servers-key"
    signer = other.session_interface.get_signing_serializer(other)
    name, value = cookie.split("=", 1)
    _valid, content = signer.loads_unsafe(value)
    assert content.get("pid")
    return f"{name}={signer.dumps(content)}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    setup = prepare(tmp_path_factory.mktemp("refusals") / "palabre.db")
    with Server(setup.database) as srv:
        yield srv, setup


def test_a_phone_with_its_cookie_is_let_in_with_its_snapshot(server):
    srv, setup = server
    snapshots = Listener("snapshot")
    phone = connect(srv.url, {"code": setup.code, "lang": "en"}, cookie=join_cookie(srv.url, setup.code),
                    listener=snapshots)
    try:
        assert snapshots.wait_for(lambda seen: seen.count("snapshot") == 1, timeout=10)
        snap = snapshots.messages("snapshot")[0]
        assert snap["role"] == "participant" and snap["session"]["code"] == setup.code
    finally:
        phone.disconnect()


@pytest.mark.parametrize("how", ["forged", "another key", "none"])
def test_a_socket_without_a_valid_signed_cookie_is_refused(server, how):
    srv, setup = server
    cookie = join_cookie(srv.url, setup.code)
    if how == "forged":
        cookie = _forged(cookie)
    elif how == "another key":  # this participant's id, signed by another server's key
        cookie = _signed_elsewhere(cookie)
    headers = {"Cookie": cookie} if how != "none" else {}
    refusal = _refusal(srv.url, {"code": setup.code, "lang": "en"}, headers)
    assert refusal == {"message": NO_COOKIE_EN, "data": {"code": "no_identity", "message": NO_COOKIE_EN}}


def test_a_refusal_speaks_the_language_the_client_asks_for(server):
    srv, setup = server
    cookie = join_cookie(srv.url, setup.code)
    asked = _refusal(srv.url, {"code": "ZZZZZZ", "lang": "en"}, {"Cookie": cookie})
    assert asked["message"] == UNKNOWN_CODE_EN and asked["data"]["code"] == "unknown_code"
    # No `lang` in the auth: the request's language (its lang cookie, else the browser's).
    by_cookie = _refusal(srv.url, {"code": "ZZZZZZ"}, {"Cookie": f"{cookie}; lang=fr"})
    by_browser = _refusal(srv.url, {"code": "ZZZZZZ"}, {"Cookie": cookie, "Accept-Language": "fr-FR,fr"})
    assert by_cookie["message"] == by_browser["message"] == UNKNOWN_CODE_FR
    english = _refusal(srv.url, {"code": "ZZZZZZ"}, {"Cookie": cookie, "Accept-Language": "en-GB"})
    assert english["message"] == UNKNOWN_CODE_EN


def test_a_staff_socket_needs_a_real_link_and_its_leaving_is_counted(server):
    srv, setup = server
    refusal = _refusal(srv.url, {"token": "not-a-link", "lang": "en"})
    assert refusal["data"]["code"] == "bad_token"
    presence = Listener("snapshot", "presence")
    screen = connect(srv.url, {"token": setup.screen, "lang": "en"}, listener=presence)
    try:
        assert presence.wait_for(lambda seen: seen.count("snapshot") == 1, timeout=10)
        phone = connect(srv.url, {"code": setup.code, "lang": "en"}, cookie=join_cookie(srv.url, setup.code))
        assert presence.wait_for(lambda seen: any(p.get("connected") == 1 for p in seen.messages("presence")),
                                 timeout=10)
        phone.disconnect()
        assert presence.wait_for(lambda seen: seen.messages("presence")[-1].get("connected") == 0, timeout=10)
    finally:
        screen.disconnect()
