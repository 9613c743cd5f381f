"""Printed cards: the table card PDF (join QR code, address, code, optional venue Wi-Fi)."""

import io
import zipfile
from pathlib import Path

import pypdfium2 as pdfium  # PDF to image, pure wheel (no poppler needed)
import zxingcpp  # QR decoder

from live.sessions import cards, service

REMOTE = {"REMOTE_ADDR": "192.168.1.37"}

SSID, PASSWORD = 'Salle "B"; 2:étage', "s3cr3t,;pass\\word"


def _session(store):
    with store.write() as db:
        event = service.create_event(db, "Rencontres", None, None)
        live_session = service.create_session(db, event, "workshop", "Atelier vélo", None, None, "fr")
        return live_session.id, live_session.join_code


def _render(pdf: bytes, path: Path):
    document = pdfium.PdfDocument(pdf)
    assert len(document) == 1
    page = document[0]
    width, height = page.get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    image = page.render(scale=2).to_pil()
    image.save(path)
    return image


def _codes(image) -> dict[str, str]:
    return {found.text: found.format.name for found in zxingcpp.read_barcodes(image)}


def test_table_card_renders_with_join_qr_and_wifi_never_stored(client, store, tmp_path, app):
    session_id, code = _session(store)
    response = client.post(f"/admin/sessions/{session_id}/cards.pdf",
                           data={"ssid": SSID, "password": PASSWORD})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    image = _render(response.data, tmp_path / "card.png")
    found = _codes(image)
    join = f"http://localhost/j/{code}"
    assert join in found
    wifi = r'WIFI:T:WPA;S:Salle \"B\"\; 2\:étage;P:s3cr3t\,\;pass\\word;;'
    assert wifi in found
    # The text is there too (the code big, the address), in the PDF's text layer.
    text = pdfium.PdfDocument(response.data)[0].get_textpage().get_text_bounded()
    assert code in text and join in text and "Wi-Fi" in text
    # Nothing of the Wi-Fi reached the database file (nor its journal) or the archive.
    for path in tmp_path.rglob("*.db*"):
        raw = path.read_bytes()
        assert b"s3cr3t" not in raw and "étage".encode() not in raw
    archive = client.get(f"/admin/sessions/{session_id}/archive.zip")
    assert archive.status_code == 200 and archive.data.startswith(b"PK")
    with zipfile.ZipFile(io.BytesIO(archive.data)) as bundle:
        for name in bundle.namelist():
            body = bundle.read(name)
            assert b"s3cr3t" not in body and "étage".encode() not in body


def test_table_card_without_wifi_in_english(client, store, tmp_path):
    session_id, code = _session(store)
    response = client.post(f"/admin/sessions/{session_id}/cards.pdf", data={"ssid": "", "password": ""},
                           headers={"Accept-Language": "en"})
    image = _render(response.data, tmp_path / "card-en.png")
    assert list(_codes(image)) == [f"http://localhost/j/{code}"]
    text = pdfium.PdfDocument(response.data)[0].get_textpage().get_text_bounded()
    assert "Join with your phone" in text and "Wi-Fi" not in text


def test_french_card_and_bad_wifi_refused(client, store):
    session_id, _code = _session(store)
    response = client.post(f"/admin/sessions/{session_id}/cards.pdf", data={},
                           headers={"Accept-Language": "fr"})
    text = pdfium.PdfDocument(response.data)[0].get_textpage().get_text_bounded()
    assert "Rejoignez avec votre téléphone" in text
    refused = client.post(f"/admin/sessions/{session_id}/cards.pdf", data={"ssid": "x", "password": "short"},
                          headers={"Accept-Language": "fr"}, follow_redirects=True)
    assert "mot de passe du Wi-Fi" in refused.get_data(as_text=True)


def test_only_the_organiser_prints_cards(client, store):
    session_id, _code = _session(store)
    response = client.post(f"/admin/sessions/{session_id}/cards.pdf", environ_base=REMOTE)
    assert response.status_code == 403


def test_wifi_escaping():
    assert cards.wifi_escape('a\\b;c,d:e"f') == 'a\\\\b\\;c\\,d\\:e\\"f'
    assert cards.Wifi("open", "").payload() == "WIFI:T:nopass;S:open;;"
