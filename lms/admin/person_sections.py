"""Extension point for the admin's person page: later features (certificates, quiz attempts...) add a
section without the admin package importing them.

    from lms.admin.person_sections import PersonSection, register_person_section

    @register_person_section
    def certificates_section(user_id: int) -> PersonSection | None:
        rows = ...  # one query, plain strings
        return PersonSection(_("Certificates"), (_("Number"), _("Course"), _("Issued")), rows)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PersonSection:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]


SectionLoader = Callable[[int], PersonSection | None]
PERSON_SECTIONS: list[SectionLoader] = []


def register_person_section(loader: SectionLoader) -> SectionLoader:
    if loader not in PERSON_SECTIONS:
        PERSON_SECTIONS.append(loader)
    return loader


def person_sections(user_id: int) -> list[PersonSection]:
    return [section for loader in PERSON_SECTIONS if (section := loader(user_id)) is not None]
