"""ClamAV through a real clamd (Debian's clamav-daemon, started by the `clamd` fixture with the
repository's own test signatures): the INSTREAM client, the engine's reason codes, and the scanner
failing closed whenever clamd cannot give a clean verdict."""

from __future__ import annotations

import base64
import io
import socket
import threading
import zipfile

import pytest

from chalicelib.scanning.clamav import Address, ClamavEngine, ClamdClient, Reply, parse_reply
from chalicelib.scanning.deadline import Deadline
from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.source import MemorySource
from chalicelib.settings import DEFAULT_SCAN_EXTENSIONS_SET
from sandbox import clamd as local_clamd
from sandbox.ports import reserved_port
from tests.scanning import files
from tests.scanning.helpers import decide

EICAR = local_clamd.EICAR


def engine(address: str) -> ClamavEngine:
    return ClamavEngine(ClamdClient(Address.parse(address)))


def instream(clamd, data: bytes) -> Reply:
    return ClamdClient(Address.parse(clamd.address)).instream(MemorySource(data).stream(), Deadline.after(30))


# ---------------------------------------------------------------------------------------- protocol, no clamd


@pytest.mark.parametrize(
    "text, expected",
    [
        ("127.0.0.1:3310", Address("127.0.0.1", 3310)),
        ("clamd.connect-guard.local:3310", Address("clamd.connect-guard.local", 3310)),
        ("[::1]:3310", Address("::1", 3310)),
    ],
)
def test_address_parses_host_and_port(text, expected):
    assert Address.parse(text) == expected


@pytest.mark.parametrize("text", ["127.0.0.1", ":3310", "host:0", "host:99999", "host:port"])
def test_bad_addresses_are_refused(text):
    with pytest.raises(ValueError):
        Address.parse(text)


@pytest.mark.parametrize(
    "raw, expected",
    [
        (b"stream: OK\0", Reply()),
        (b"stream: Win.Test.EICAR_HDB-1 FOUND\0", Reply(signature="Win.Test.EICAR_HDB-1")),
        (
            b"stream: Eicar(44d88612fea8a8f36de82e1278abb02f:68) FOUND\0",
            Reply(signature="Eicar_44d88612fea8a8f36de82e1278abb02f:68_"),
        ),
        (b"stream: Can't allocate memory ERROR\0", Reply(error="scan_error")),
        (b"INSTREAM size limit exceeded. ERROR\0", Reply(error="size_limit")),
        (b"UNKNOWN COMMAND\0", Reply(error="unparseable_reply")),
        (b"stream: OK and more\0", Reply(error="unparseable_reply")),
        (b"\0", Reply(error="unparseable_reply")),
    ],
)
def test_replies_are_read_exactly(raw, expected):
    assert parse_reply(raw) == expected


def test_signature_names_are_made_log_safe():
    reply = parse_reply(b"stream: Evil name\x1b[31m<script> FOUND\0")
    assert reply.signature is not None
    assert all(ch.isalnum() or ch in "_.:-" for ch in reply.signature)


def test_clamd_down_is_rejected_as_unavailable():
    with reserved_port() as port:  # held, so nothing can listen on it
        verdict = decide("notes.txt", b"hello\n", antivirus=engine(f"127.0.0.1:{port}"))
    assert verdict.status == "REJECTED" and verdict.reason is Reason.ANTIVIRUS_UNAVAILABLE


def test_a_clamd_that_never_answers_is_rejected_at_the_deadline():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
    try:
        silent = engine(f"127.0.0.1:{server.getsockname()[1]}")
        with pytest.raises(Rejected) as caught:
            silent.check(MemorySource(b"hello"), Deadline.after(0.5), "bucket", "key", None)
        assert caught.value.reason in (Reason.DEADLINE_EXCEEDED, Reason.ANTIVIRUS_ERROR)
    finally:
        server.close()
        for conn in accepted:
            conn.close()


# ---------------------------------------------------------------------------------------- the real clamd


def test_ping_and_a_clean_stream(clamd):
    client = ClamdClient(Address.parse(clamd.address))
    assert client.ping(Deadline.after(5))
    assert instream(clamd, b"quarterly figures\n").clean


def test_eicar_is_found_by_its_hash_signature(clamd):
    assert instream(clamd, EICAR) == Reply(signature=local_clamd.EICAR_SIGNATURE)


def test_each_signature_format_of_the_test_database_detects(clamd):
    assert instream(clamd, b"header " + local_clamd.MARKER + b" footer").signature == "Local.Test.Marker_NDB.UNOFFICIAL"
    a, b = local_clamd.LOGICAL_PARTS
    assert instream(clamd, b"x" + a + b"y" * 100 + b + b"z").signature == "Local.Test.Logical_LDB.UNOFFICIAL"
    assert instream(clamd, b"x" + a + b"y").clean  # one part alone is not the logical signature


def test_clamd_unpacks_mail_and_archives(clamd):
    payload = b"prefix " + local_clamd.MARKER + b" suffix"
    mail = (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nsee file\r\n"
        b"--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=r.bin\r\n\r\n" + base64.encodebytes(payload) + b"--XX--\r\n"
    )
    assert instream(clamd, mail).signature == "Local.Test.Marker_NDB.UNOFFICIAL"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/b/eicar.com", EICAR)
    assert instream(clamd, archive.getvalue()).signature == local_clamd.EICAR_SIGNATURE


@pytest.mark.parametrize("extension", sorted(DEFAULT_SCAN_EXTENSIONS_SET))
def test_eicar_in_every_allowed_extension_is_rejected_as_malware(clamd, extension):
    verdict = decide(f"file.{extension}", EICAR, antivirus=engine(clamd.address))
    assert verdict.status == "REJECTED" and verdict.reason is Reason.MALWARE
    assert verdict.detail == local_clamd.EICAR_SIGNATURE


@pytest.mark.parametrize("extension", ["txt", "csv", "pdf", "docx", "png"])
def test_clean_files_still_pass_with_the_engine_on(clamd, extension):
    data = files.SAMPLES[extension]()
    verdict = decide(f"file.{extension}", data, antivirus=engine(clamd.address), SCAN_UNSUPPORTED_IMAGES="allow")
    assert verdict.approved, verdict


def test_the_engine_never_approves_what_a_structure_check_rejects(clamd):
    verdict = decide("sheet.csv", files.csv("a,b", "=cmd|' /C calc'!A0,1"), antivirus=engine(clamd.address))
    assert verdict.reason is Reason.CSV_FORMULA


def test_a_large_file_is_streamed_in_chunks_and_judged_whole(clamd):
    body = b"lorem ipsum dolor sit amet\n" * (3 * 1024 * 1024 // 27)
    data = body + local_clamd.MARKER + b"\n"  # the detection is in the last chunk
    verdict = decide("big.txt", data, antivirus=engine(clamd.address))
    assert verdict.reason is Reason.MALWARE and verdict.detail == "Local.Test.Marker_NDB.UNOFFICIAL"


def test_over_the_stream_limit_is_rejected_never_clean():
    if local_clamd.binary() is None:
        pytest.skip("clamd is not installed")
    with local_clamd.LocalClamd(StreamMaxLength="1M") as small:
        verdict = decide("big.txt", b"a" * (2 * 1024 * 1024), antivirus=engine(small.address))
    assert verdict.reason is Reason.ANTIVIRUS_LIMIT


def test_over_the_file_size_limit_is_an_alert_never_clean():
    if local_clamd.binary() is None:
        pytest.skip("clamd is not installed")
    with local_clamd.LocalClamd(MaxFileSize="1M", StreamMaxLength="4M") as small:
        verdict = decide("big.txt", b"a" * (2 * 1024 * 1024), antivirus=engine(small.address))
    assert verdict.reason is Reason.ANTIVIRUS_LIMIT
    assert verdict.detail.startswith("Heuristics.Limits.Exceeded")


def test_an_encrypted_archive_is_an_alert_never_clean(clamd):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("secret.txt", b"not really encrypted, but flagged as such" * 10)
    data = bytearray(archive.getvalue())
    data[6] |= 1  # local header: general purpose flag bit 0 = encrypted
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 1
    reply = instream(clamd, bytes(data))
    assert reply.signature is not None and reply.signature.startswith("Heuristics.Encrypted")
