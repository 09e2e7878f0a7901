"""The package's zip and manifest checks, without an app (lms/packages/extraction.py, manifest.py)."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from lms.packages.extraction import PackageRefused, ZipLimits, extract_zip, inspect_zip, read_member
from lms.packages.manifest import parse_manifest
from tests.package_zips import (
    FILES_12,
    FILES_2004,
    MANIFEST_12,
    manifest_2004,
    package_12,
    package_2004,
    with_entry,
    write,
    zip_bytes,
)

LIMITS = ZipLimits()


def parsed(tmp_path: Path, data: bytes):  # type: ignore[no-untyped-def]
    path = write(tmp_path, data)
    contents = inspect_zip(path, LIMITS)
    return parse_manifest(read_member(path, "imsmanifest.xml", 1_000_000), contents.names)


def refusal(tmp_path: Path, data: bytes, limits: ZipLimits = LIMITS) -> str:
    path = write(tmp_path, data)
    with pytest.raises(PackageRefused) as refused:
        contents = inspect_zip(path, limits)
        parse_manifest(read_member(path, "imsmanifest.xml", 1_000_000), contents.names)
    return refused.value.message


def test_scorm_12_items_in_order_from_the_default_organization(tmp_path: Path) -> None:
    manifest = parsed(tmp_path, package_12())
    assert manifest.scorm_version == "1.2"
    assert manifest.title == "Border checks"
    assert [item.identifier for item in manifest.items] == ["intro", "docs", "glossary"]
    intro, docs, glossary = manifest.items
    assert (intro.href, intro.parameters) == ("intro/index.html", "?lang=en&start=1")
    assert intro.mastery_score == Decimal(80)
    assert intro.data_from_lms == "level=2"
    assert docs.href == "docs/page.html"  # xml:base of the resource
    assert (docs.kind, glossary.kind) == ("sco", "asset")


@pytest.mark.parametrize("edition", ["3rd", "4th"])
def test_scorm_2004_sequencing_values(tmp_path: Path, edition: str) -> None:
    manifest = parsed(tmp_path, package_2004(edition))
    assert manifest.scorm_version == f"2004 {edition}"
    assert [item.title for item in manifest.items] == ["Open questions", "Closing", "Summary"]
    one, _two, three = manifest.items
    assert one.scaled_passing_score == Decimal("0.6")
    assert one.completion_threshold == Decimal("0.75")
    assert three.parameters == "#end"


def test_not_a_zip_and_not_a_package(tmp_path: Path) -> None:
    assert refusal(tmp_path, b"plain text") == "The file is not a zip archive."
    assert "no imsmanifest.xml" in refusal(tmp_path, zip_bytes({"index.html": "<p>x</p>"}))


def test_manifest_pointing_at_a_missing_file_names_it(tmp_path: Path) -> None:
    files = dict(FILES_12)
    del files["docs/style.css"]
    message = refusal(tmp_path, zip_bytes(files, MANIFEST_12))
    assert message.startswith("imsmanifest.xml line ")
    assert "'docs/style.css' is not in the zip" in message


def test_resource_without_href_names_line_and_resource(tmp_path: Path) -> None:
    manifest = manifest_2004("4th").replace(' href="two.html">', ">")
    message = refusal(tmp_path, zip_bytes(FILES_2004, manifest))
    line = next(n for n, text in enumerate(manifest.splitlines(), 1) if 'identifier="r2"' in text)
    assert message == f"imsmanifest.xml line {line}: resource 'r2' has no href."


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../x.html", "points outside the package"),
        ("docs/../../x.html", "points outside the package"),
        ("/etc/x.html", "is an absolute path"),
        ("C:/x.html", "is an absolute path"),
        ("docs\\x.html", "character that is not allowed"),
        ("tool.exe", "this type of file is not allowed"),
        ("flash.swf", "this type of file is not allowed"),
        ("GLOSSARY.html", "names may not differ only by case"),
    ],
)
def test_hostile_names_are_refused(tmp_path: Path, name: str, expected: str) -> None:
    assert expected in refusal(tmp_path, with_entry(name))


def test_symlink_and_encrypted_entries_are_refused(tmp_path: Path) -> None:
    assert "symbolic link" in refusal(tmp_path, with_entry("link.html", b"/etc/passwd", symlink=True))
    assert "encrypted" in refusal(tmp_path, with_entry("secret.html", encrypted=True))


def test_unicode_normalisation_duplicates_are_refused(tmp_path: Path) -> None:
    data = zip_bytes({**FILES_12, "caf\u00e9.html": "a", "cafe\u0301.html": "b"}, MANIFEST_12)
    assert "names may not differ only by case" in refusal(tmp_path, data)


def test_zip_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    data = zip_bytes({**FILES_12, "zeros.txt": b"\0" * (8 * 1024 * 1024)}, MANIFEST_12)
    assert "zip bomb" in refusal(tmp_path, data)


def test_limits_on_size_and_count(tmp_path: Path) -> None:
    small = ZipLimits(max_zip_bytes=1000)
    assert "larger than" in refusal(tmp_path, package_12(), small)
    assert "more than 3 files" in refusal(tmp_path, package_12(), ZipLimits(max_files=3))
    big_file = ZipLimits(max_file_bytes=50)
    assert "larger than the 0 MB allowed for one file" in refusal(tmp_path, package_12(), big_file)
    assert "unpacks to more than" in refusal(tmp_path, package_12(), ZipLimits(max_total_bytes=100))


def test_invalid_xml_and_entities(tmp_path: Path) -> None:
    broken = zip_bytes(FILES_12, MANIFEST_12.replace("</manifest>", ""))
    assert refusal(tmp_path, broken).startswith("imsmanifest.xml is not valid XML")
    external = MANIFEST_12.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE manifest [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    ).replace("<title>Border checks</title>", "<title>&x;</title>")
    manifest = parsed(tmp_path, zip_bytes(FILES_12, external))
    assert "root:" not in manifest.title


def test_extract_writes_every_file_and_renames_into_place(tmp_path: Path) -> None:
    path = write(tmp_path, package_12())
    contents = inspect_zip(path, LIMITS)
    destination = tmp_path / "store" / "abc"
    assert extract_zip(path, contents, destination, LIMITS)
    assert (destination / "docs" / "page.html").read_text() == FILES_12["docs/page.html"]
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["abc"]  # no staging folder left


def test_extract_refuses_more_bytes_than_the_headers_say(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("imsmanifest.xml", MANIFEST_12)
        archive.writestr("big.txt", b"y" * 5000)
    path = write(tmp_path, buffer.getvalue())
    contents = inspect_zip(path, LIMITS)
    with pytest.raises(PackageRefused):
        extract_zip(path, contents, tmp_path / "store" / "x", ZipLimits(max_total_bytes=1000))
    assert list((tmp_path / "store").iterdir()) == []
