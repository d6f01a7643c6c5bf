import zlib

import pytest

from chalicelib.scanning.pdf import decode_name
from chalicelib.scanning.reasons import Reason
from chalicelib.scanning.source import MemorySource
from tests.scanning import files
from tests.scanning.helpers import decide


def test_clean_pdf_is_approved():
    assert decide("statement.pdf", files.pdf()).reason is Reason.CLEAN


def test_open_action_to_a_destination_is_allowed():
    assert decide("a.pdf", files.pdf("/OpenAction [3 0 R /Fit]")).reason is Reason.CLEAN


@pytest.mark.parametrize(
    "catalog, reason",
    [
        ("/Names << /JavaScript 9 0 R >>", Reason.PDF_JAVASCRIPT),
        ("/Names << /J#61vaScript 9 0 R >>", Reason.PDF_JAVASCRIPT),
        ("/Names << /#4a#61#76#61#53#63#72#69#70#74 9 0 R >>", Reason.PDF_JAVASCRIPT),
        ("/X << /S /Foo /JS (app.alert(1)) >>", Reason.PDF_JAVASCRIPT),
        ("/X << /S /Foo /J#53 <6170702e616c657274283129> >>", Reason.PDF_JAVASCRIPT),
        ("/OpenAction << /S /Foo >>", Reason.PDF_AUTO_ACTION),
        ("/OpenAction 9 0 R", Reason.PDF_AUTO_ACTION),
        ("/AA << /O 9 0 R >>", Reason.PDF_AUTO_ACTION),
        ("/X << /S /Launch /F (cmd.exe) >>", Reason.PDF_LAUNCH),
        ("/X << /S /L#61unch /F (cmd.exe) >>", Reason.PDF_LAUNCH),
        ("/Names << /EmbeddedFiles 9 0 R >>", Reason.PDF_EMBEDDED_FILE),
        ("/X << /Type /EmbeddedFile >>", Reason.PDF_EMBEDDED_FILE),
        ("/X << /S /GoToE >>", Reason.PDF_EMBEDDED_FILE),
        ("/X << /Subtype /RichMedia >>", Reason.PDF_RICH_MEDIA),
        ("/AcroForm << /XFA 9 0 R >>", Reason.PDF_XFA),
    ],
)
def test_active_content_is_rejected(catalog, reason):
    assert decide("a.pdf", files.pdf(catalog)).reason is reason


def test_names_that_only_start_like_dangerous_ones_are_fine():
    assert decide("a.pdf", files.pdf("/JSX 1 /AAA << >> /Launcher 2 /XFAX 3")).reason is Reason.CLEAN


def test_javascript_hidden_in_a_compressed_object_stream_is_rejected():
    verdict = decide("a.pdf", files.pdf_with_object_stream("/OpenAction << /S /JavaScript /JS (x) >>"))
    assert verdict.reason in (Reason.PDF_AUTO_ACTION, Reason.PDF_JAVASCRIPT)


def test_clean_object_stream_is_approved():
    assert decide("a.pdf", files.pdf_with_object_stream("/PageMode /UseNone")).reason is Reason.CLEAN


def test_object_stream_with_a_filter_we_cannot_inflate_is_rejected():
    data = files.pdf_with_object_stream("").replace(b"/Filter /FlateDecode", b"/Filter /LZWDecode  ")
    assert decide("a.pdf", data).reason is Reason.PDF_UNREADABLE_STREAM


def test_object_stream_that_is_not_deflate_is_rejected():
    packed = zlib.compress(b"1 0 << /Type /Catalog >>")
    data = files.pdf_with_object_stream("").replace(packed[:8], b"\x00" * 8)
    assert decide("a.pdf", data).reason is Reason.PDF_UNREADABLE_STREAM


def _object_stream(dictionary: bytes, content: bytes, compress=zlib.compress) -> bytes:
    packed = compress(content)
    return dictionary % len(packed) + b"\nstream\n" + packed + b"\nendstream"


def test_object_stream_hidden_behind_a_fake_object_header_is_still_inflated():
    # `(obj)` in a string would make a backwards dictionary search start after /Type /ObjStm.
    hidden = _object_stream(
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Note (x obj) /Length %d >>",
        b"5 0 << /S /JavaScript /JS (app.alert(1)) >>",
    )
    assert decide("a.pdf", files.assemble_pdf([b"<< /Type /Catalog >>", hidden])).reason is Reason.PDF_JAVASCRIPT


def test_object_stream_with_an_undecoded_filter_or_predictor_is_rejected():
    hexed = _object_stream(
        b"<< /Type /ObjStm /N 1 /First 4 /Filter [/ASCIIHexDecode /FlateDecode] /Note (obj) /Length %d >>",
        b"5 0 << /S /JavaScript >>",
        compress=lambda b: zlib.compress(b).hex().encode(),
    )
    predicted = _object_stream(
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >> /Length %d >>",
        b"\x005 0 \x00<< /\x00S /J\x00S (x\x00) >>",
    )
    for body in (hexed, predicted):
        assert (
            decide("a.pdf", files.assemble_pdf([b"<< /Type /Catalog >>", body])).reason is Reason.PDF_UNREADABLE_STREAM
        )


def test_compressed_page_content_and_images_are_not_mistaken_for_object_streams():
    objstm = _object_stream(
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>", b"5 0 << /Type /Font >>"
    )
    content = _object_stream(b"<< /Filter /FlateDecode /Length %d >>", b"BT /F1 12 Tf (Hello) Tj ET")
    image = _object_stream(
        b"<< /Subtype /Image /Filter /DCTDecode /Length %d >>", b"", compress=lambda _: files.noise(3000)
    )
    data = files.assemble_pdf([b"<< /Type /Catalog >>", objstm, image, content])
    assert decide("a.pdf", data).reason is Reason.CLEAN


def test_object_stream_bomb_is_capped():
    huge = zlib.compress(b" " * (8 * 1024 * 1024))
    body = (
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(huge)
        + huge
        + b"\nendstream"
    )
    data = files.assemble_pdf([body])
    verdict = decide("a.pdf", data, SCAN_PDF_MAX_INFLATED_BYTES=str(1024 * 1024))
    assert verdict.reason is Reason.PDF_UNREADABLE_STREAM


def test_encrypted_pdf_follows_the_policy():
    data = files.pdf(trailer_extra="/Encrypt 9 0 R")
    assert decide("a.pdf", data).reason is Reason.PDF_ENCRYPTED
    assert decide("a.pdf", data, SCAN_PDF_ENCRYPTED="allow").reason is Reason.CLEAN


def test_pdf_without_an_end_marker_is_approved_as_readers_open_it():
    assert decide("a.pdf", files.pdf().replace(b"%%EOF", b"%%EOX")).reason is Reason.CLEAN


def test_pdf_with_a_comment_line_before_its_header_is_a_pdf():
    assert decide("a.pdf", b"% generated by a tool\n" + files.pdf()).reason is Reason.CLEAN
    assert decide("a.txt", b"notes\n" + files.pdf()).reason is Reason.TYPE_MISMATCH  # a PDF to every reader


def test_a_name_inside_a_literal_string_is_text():
    link = "<< /Type /Annot /Subtype /Link /A << /S /URI /URI (https://en.wikipedia.org/wiki/JavaScript) >> >>"
    assert decide("a.pdf", files.pdf(extra_objects=(link,))).reason is Reason.CLEAN
    nested = "<< /Title (a (nested) /JavaScript \\) still text) >>"
    assert decide("a.pdf", files.pdf(extra_objects=(nested,))).reason is Reason.CLEAN


@pytest.mark.parametrize(
    "hidden",
    [
        "<< /S /JavaScript /JS (app.alert(1)) >>",  # a real action
        "<< /T (x) /S /JavaScript /JS 9 0 R >>",  # after a closed string
        "<< /T (a \\\\) /S /JavaScript /JS 9 0 R >>",  # an escaped backslash, then the string closes
        "<< % (\n /S /JavaScript /JS 9 0 R >>",  # a parenthesis in a comment opens no string
    ],
)
def test_a_name_outside_strings_still_counts(hidden):
    assert decide("a.pdf", files.pdf(extra_objects=(hidden,))).reason is Reason.PDF_JAVASCRIPT


def test_a_name_split_across_read_chunks_is_still_found():
    padding = "(" + "x" * (1024 * 1024 - 300) + ")"
    data = files.pdf(padding + " /Names << /JavaScript 9 0 R >>")
    for shift in range(0, 40, 7):
        shifted = files.pdf(" " * shift + padding + " /Names << /JavaScript 9 0 R >>")
        assert decide("a.pdf", shifted).reason is Reason.PDF_JAVASCRIPT
    assert decide("a.pdf", data).reason is Reason.PDF_JAVASCRIPT


def test_decode_name():
    assert decode_name(b"J#61vaScript") == b"JavaScript"
    assert decode_name(b"A#2") == b"A#2"


@pytest.mark.parametrize(
    "catalog",
    [
        "/X << /S /Foo /JS %comment\n(app.alert(1)) >>",
        "/X << /S /Foo /JS\r\n\t (x) >>",
        "/AA %c\n%d\n<< /O 9 0 R >>",
        "/X << /S /Foo /JS" + " " * 2000 + "(x) >>",
        "/OpenAction" + "\n" * 300 + "[3 0 R /Fit]",
    ],
)
def test_whitespace_and_comments_cannot_separate_a_key_from_its_value(catalog):
    assert not decide("a.pdf", files.pdf(catalog)).approved


def test_file_attachments_are_embedded_files():
    annotation = "/X << /Subtype /FileAttachment /FS << /Type /Filespec /F (a.exe) /EF << /F 9 0 R >> >> >>"
    assert decide("a.pdf", files.pdf(annotation)).reason is Reason.PDF_EMBEDDED_FILE
    assert decide("a.pdf", files.pdf("/X << /Type /Filespec /EF << /F 9 0 R >> >>")).reason is Reason.PDF_EMBEDDED_FILE


def test_predictor_streams_after_an_object_stream_are_fine():
    # Modern writers put the cross-reference stream (Flate + PNG predictor) right after the last object stream.
    objstm = _object_stream(
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>", b"5 0 << /Type /Font >>"
    )
    xref = _object_stream(
        b"<< /Type /XRef /W [1 2 1] /Filter /FlateDecode /DecodeParms << /Columns 4 /Predictor 12 >> /Length %d >>",
        b"\x02\x01\x00\x10\x00",
    )
    image = _object_stream(
        b"<< /Subtype /Image /Filter /LZWDecode /Length %d >>", b"", compress=lambda _: b"\x80\x0b\x60\x50"
    )
    data = files.assemble_pdf([b"<< /Type /Catalog >>", objstm, xref, image])
    assert decide("a.pdf", data).reason is Reason.CLEAN


def test_fake_object_header_in_a_comment_does_not_hide_the_declaration():
    body = _object_stream(
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /LZWDecode %% 9 0 obj\n /Length %d >>",
        b"",
        compress=lambda _: b"\x80\x0b",
    )
    assert decide("a.pdf", files.assemble_pdf([b"<< /Type /Catalog >>", body])).reason is Reason.PDF_UNREADABLE_STREAM


@pytest.mark.parametrize(
    "name, expected",
    [
        ("issue17215.pdf", Reason.CLEAN),  # RC4-128, empty user password
        ("empty_protected.pdf", Reason.CLEAN),  # AES-256 (R6), empty user password, object streams decrypted
        ("issue7665.pdf", Reason.CLEAN),  # AES-256, empty user password
        ("pr6531_2.pdf", Reason.PDF_ENCRYPTED),  # only the owner password is empty: readers ask for one
        ("saslprep-r6.pdf", Reason.PDF_ENCRYPTED),  # needs a password
    ],
)
def test_encrypted_pdfs_that_open_without_a_password_are_inspected(name, expected):
    from tests.scanning.corpus import CORPUS

    assert decide(name, (CORPUS / "files" / "pdfjs" / name).read_bytes()).reason is expected


def test_an_encryption_dictionary_near_the_trailer_costs_no_second_pass():
    """Small files are read once; in a larger one the dictionary is found in the last 16 KiB, not by streaming."""
    from chalicelib.scanning import pdf_crypt
    from tests.scanning.corpus import CORPUS

    small = MemorySource((CORPUS / "files" / "pdfjs" / "issue17215.pdf").read_bytes())
    assert pdf_crypt.find_security(small) is not None
    assert small.requests == 1 and small.bytes_read == small.size
    data = (CORPUS / "files" / "pdfjs" / "issue17215.pdf").read_bytes()
    start = data.index(b"%", 1)  # after the header line: a long comment pads the file past both edges
    padded = data[:start] + b"%" + b"x" * (3 * pdf_crypt._EDGE) + b"\n" + data[start:]
    large = MemorySource(padded)
    assert pdf_crypt.find_security(large) == pdf_crypt.find_security(MemorySource(data))
    assert large.bytes_read <= 2 * pdf_crypt._EDGE
