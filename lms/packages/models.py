"""SCORM packages, their versions and items (issue 25). See docs/packages.md.

A package belongs to a course and sits in one module; each upload of a zip is a version. A version's files
are stored once per zip content, under ``<instance>/packages/<sha256 of the zip>/`` (``storage_key``), so the
same zip uploaded twice (to one package or to two) is stored once. Items are the SCOs and assets of the
default organisation, flattened in manifest order; the lessons of the module point at the package and at an
item's identifier (``lesson.package_id``, ``lesson.package_item_identifier``: lms/courses/models.py), so a new
version keeps its lessons, and learners' attempts (lms/packages/attempts*.py) keep the version they used.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class ScormVersion(enum.StrEnum):
    SCORM_12 = "1.2"
    SCORM_2004_3 = "2004 3rd"
    SCORM_2004_4 = "2004 4th"


class ItemKind(enum.StrEnum):
    SCO = "sco"  # talks to the runtime API (tracked)
    ASSET = "asset"  # a plain page: no API calls; opening it is all there is


class Package(db.Model):  # type: ignore[name-defined]
    __tablename__ = "package"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    # The version learners start new attempts on; set once the first version is stored.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("package_version.id", use_alter=True, ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[PackageVersion]] = relationship(
        back_populates="package",
        order_by="PackageVersion.number",
        cascade="all, delete-orphan",
        foreign_keys="PackageVersion.package_id",
    )
    current_version: Mapped[PackageVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )


class PackageVersion(db.Model):  # type: ignore[name-defined]
    __tablename__ = "package_version"
    __table_args__ = (UniqueConstraint("package_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("package.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1, 2, ... within the package
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the zip: the storage folder's name
    scorm_version: Mapped[str] = mapped_column(String(10))  # ScormVersion
    title: Mapped[str] = mapped_column(String(200))  # the organisation's title in the manifest
    size_bytes: Mapped[int] = mapped_column(BigInteger)  # uncompressed total
    file_count: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    package: Mapped[Package] = relationship(back_populates="versions", foreign_keys=[package_id])
    items: Mapped[list[PackageItem]] = relationship(
        back_populates="version", order_by="PackageItem.position", cascade="all, delete-orphan"
    )

    @property
    def storage_key(self) -> str:
        """The folder under ``<instance>/packages/`` that holds this version's files."""
        return self.sha256

    def item(self, identifier: str) -> PackageItem | None:
        return next((item for item in self.items if item.identifier == identifier), None)


class PackageItem(db.Model):  # type: ignore[name-defined]
    __tablename__ = "package_item"
    __table_args__ = (UniqueConstraint("version_id", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("package_version.id", ondelete="CASCADE"), index=True)
    identifier: Mapped[str] = mapped_column(String(200))  # the <item>'s identifier: stable across versions
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(5), default=ItemKind.SCO)
    # Path of the launch file inside the package (xml:base applied), and the item's parameters ("?a=1" or
    # "#x"), to be appended as SCORM's content packaging rules say (lms.packages.manifest.launch_url).
    href: Mapped[str] = mapped_column(String(1000))
    parameters: Mapped[str] = mapped_column(String(1000), default="")
    # SCORM 1.2 adlcp:masteryscore (0-100); SCORM 2004 the primary objective's minNormalizedMeasure (-1..1)
    # when satisfiedByMeasure, and the completion threshold (0..1).
    mastery_score: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    scaled_passing_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    completion_threshold: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    data_from_lms: Mapped[str] = mapped_column(Text, default="")  # adlcp:datafromlms / dataFromLMS
    position: Mapped[int] = mapped_column(default=0)  # manifest order, from 0

    version: Mapped[PackageVersion] = relationship(back_populates="items")
