"""The stored PDF, read back: text (Arabic, Cyrillic, the code), page size, and the QR code."""

from __future__ import annotations

from collections.abc import Callable

import pypdfium2
import zxingcpp
from pypdf import PdfReader

from lms.auth.models import Role, User
from lms.certificates import codes, storage
from lms.courses.models import Course
from tests.test_certificates import TINY_TITLE_RU, certificate_of, complete_course, tiny_course

__all__ = ["tiny_course"]  # the fixture, shared with test_certificates

ARABIC_NAME = "ليلى حداد"
CYRILLIC_NAME = "Олена Миколаївна Коваль"


def _text_of(path: str) -> tuple[str, tuple[float, float]]:
    reader = PdfReader(path)
    assert len(reader.pages) == 1
    page = reader.pages[0]
    return page.extract_text(), (float(page.mediabox.width), float(page.mediabox.height))


def test_pdf_carries_arabic_and_cyrillic_names_and_the_code(
    make_user: Callable[..., User], tiny_course: Course
) -> None:
    leila = make_user(Role.TRAINEE, given_name="Leila", family_name="Haddad", native_name=ARABIC_NAME)
    olena = make_user(Role.TRAINEE, given_name="Olena", family_name="Koval", native_name=CYRILLIC_NAME)
    complete_course(leila, tiny_course, language="ru")  # a Russian course title beside an Arabic name
    complete_course(olena, tiny_course, language="en")

    arabic, size = _text_of(str(storage.pdf_path(certificate_of(leila))))
    assert ARABIC_NAME in arabic
    assert TINY_TITLE_RU in arabic
    assert codes.grouped(certificate_of(leila).code) in arabic
    width, height = size
    assert round(width) == 842 and round(height) == 595  # A4 landscape, in points

    cyrillic, _ = _text_of(str(storage.pdf_path(certificate_of(olena))))
    assert CYRILLIC_NAME in cyrillic and "Olena Koval" in cyrillic
    assert codes.grouped(certificate_of(olena).code) in cyrillic


def test_the_qr_code_on_the_page_is_the_verify_url(
    make_user: Callable[..., User], tiny_course: Course
) -> None:
    trainee = make_user(Role.TRAINEE)
    complete_course(trainee, tiny_course)
    certificate = certificate_of(trainee)
    document = pypdfium2.PdfDocument(str(storage.pdf_path(certificate)))
    try:
        image = document[0].render(scale=2).to_pil()
    finally:
        document.close()
    found = zxingcpp.read_barcodes(image)
    assert [barcode.text for barcode in found] == [
        f"http://127.0.0.1:5000/verify/{codes.grouped(certificate.code)}"
    ]
