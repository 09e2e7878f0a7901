"""Zips for the package import tests (issue 25), built here with zipfile: SCORM 1.2 and 2004 3rd and 4th
edition manifests with several SCOs, and the hostile or broken zips the import must refuse."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

PAGE = "<!DOCTYPE html><html><head><title>SCO</title></head><body><p>SCO</p></body></html>"

MANIFEST_12 = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="m12" version="1" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org1">
    <organization identifier="other"><title>Not the default</title>
      <item identifier="x" identifierref="r1"><title>X</title></item></organization>
    <organization identifier="org1"><title>Border checks</title>
      <item identifier="intro" identifierref="r1" parameters="?start=1"><title>Introduction</title>
        <adlcp:masteryscore>80</adlcp:masteryscore><adlcp:datafromlms>level=2</adlcp:datafromlms></item>
      <item identifier="part"><title>Part one</title>
        <item identifier="docs" identifierref="r2"><title>Documents</title></item>
        <item identifier="glossary" identifierref="r3"><title>Glossary</title></item>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="intro/index.html?lang=en">
      <file href="intro/index.html"/></resource>
    <resource identifier="r2" type="webcontent" adlcp:scormtype="sco" xml:base="docs/" href="page.html">
      <file href="page.html"/><file href="style.css"/></resource>
    <resource identifier="r3" type="webcontent" adlcp:scormtype="asset" href="glossary.html"/>
  </resources>
</manifest>
"""

FILES_12 = {
    "intro/index.html": PAGE,
    "docs/page.html": PAGE,
    "docs/style.css": "p { margin: 0; }",
    "glossary.html": PAGE,
}


def manifest_2004(edition: str) -> str:
    threshold = (
        '<adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.75"/>'
        if edition == "4th"
        else "<adlcp:completionThreshold>0.75</adlcp:completionThreshold>"
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="m2004" version="1" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 {edition} Edition</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>Interviews {edition}</title>
    <item identifier="one" identifierref="r1"><title>Open questions</title>
      {threshold}
      <imsss:sequencing><imsss:objectives>
        <imsss:primaryObjective objectiveID="p1" satisfiedByMeasure="true">
          <imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure></imsss:primaryObjective>
      </imsss:objectives></imsss:sequencing></item>
    <item identifier="two" identifierref="r2"><title>Closing</title></item>
    <item identifier="three" identifierref="r2" parameters="#end"><title>Summary</title></item>
  </organization></organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="one.html">
      <file href="one.html"/></resource>
    <resource identifier="r2" type="webcontent" adlcp:scormType="sco" href="two.html">
      <file href="two.html"/></resource>
  </resources>
</manifest>
"""


FILES_2004 = {"one.html": PAGE, "two.html": PAGE}


def zip_bytes(files: dict[str, str | bytes], manifest: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if manifest is not None:
            archive.writestr(fixed_time("imsmanifest.xml"), manifest, zipfile.ZIP_DEFLATED)
        for name, data in files.items():
            archive.writestr(fixed_time(name), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def fixed_time(name: str) -> zipfile.ZipInfo:
    """An entry with a fixed date: the same files make the same bytes (the same SHA-256), whenever the
    second ticks between two builds of a test."""
    return zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))


def package_12() -> bytes:
    return zip_bytes(FILES_12, MANIFEST_12)


def package_2004(edition: str = "4th") -> bytes:
    return zip_bytes(FILES_2004, manifest_2004(edition))


def with_entry(name: str, data: bytes = b"x", *, symlink: bool = False, encrypted: bool = False) -> bytes:
    """The SCORM 1.2 package plus one more entry, written as given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imsmanifest.xml", MANIFEST_12)
        for file_name, content in FILES_12.items():
            archive.writestr(file_name, content)
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        if symlink:
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, data)
    raw = bytearray(buffer.getvalue())
    if encrypted:  # zipfile writes no encrypted entry: set the flag in both headers afterwards
        encoded = name.encode()
        local = raw.rindex(encoded, 0, raw.index(b"PK\x01\x02")) - 30
        central = raw.rindex(encoded) - 46
        for header, offset in ((local, 6), (central, 8)):
            raw[header + offset] |= 0x1
    return bytes(raw)


def write(tmp_path: Path, data: bytes, name: str = "package.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path
