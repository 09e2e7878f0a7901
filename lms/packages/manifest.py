"""imsmanifest.xml -> the package's SCORM version, title and items in order: pure, no app or database.

Read with lxml, entities not resolved, no DTD loaded, no network. Namespaces differ between SCORM 1.2
(imscp_rootv1p1p2, adlcp_rootv1p2) and 2004 (imscp_v1p1, adlcp_v1p3, imsss), and real packages mix
prefixes, so elements and attributes are matched by their local names (``scormtype`` and ``scormType``).

- version: ``metadata/schemaversion`` ("1.2", "2004 3rd Edition", "2004 4th Edition"; "CAM 1.3" and "2004
  2nd Edition" are read as 3rd edition: the same runtime API); without it, the adlcp namespace decides;
- organisation: the one ``organizations/@default`` names, else the first; its items (nested ones
  flattened in document order) that reference a resource become the package's items;
- launch: xml:base of the manifest, ``resources`` and the ``resource``, then its href; the item's
  ``parameters`` are joined to the href's own query as the content packaging rules say;
- mastery: SCORM 1.2 ``adlcp:masteryscore``; SCORM 2004 the primary objective's ``minNormalizedMeasure``
  when ``satisfiedByMeasure`` is true, and ``adlcp:completionThreshold`` (4th edition attributes or 3rd
  edition text);
- every launch file and every ``file/@href`` of a used resource must be in the zip.

Each refusal is a PackageRefused whose message starts with "imsmanifest.xml line N:" where there is a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from posixpath import normpath
from urllib.parse import unquote, urlsplit

from flask_babel import gettext as _
from lxml import etree

from lms.packages.extraction import MANIFEST_NAME, PackageRefused, check_name
from lms.packages.models import ItemKind, ScormVersion

_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_SCHEMA_VERSIONS = {
    "1.2": ScormVersion.SCORM_12,
    "cam 1.3": ScormVersion.SCORM_2004_3,
    "2004 2nd edition": ScormVersion.SCORM_2004_3,
    "2004 3rd edition": ScormVersion.SCORM_2004_3,
    "2004 4th edition": ScormVersion.SCORM_2004_4,
}


@dataclass(frozen=True)
class ItemSpec:
    identifier: str
    title: str
    kind: str  # ItemKind
    href: str  # the launch file's path inside the package
    parameters: str  # "" or "?a=1&b=2" and/or "#part"
    mastery_score: Decimal | None = None
    scaled_passing_score: Decimal | None = None
    completion_threshold: Decimal | None = None
    data_from_lms: str = ""


@dataclass(frozen=True)
class Manifest:
    scorm_version: str  # ScormVersion
    title: str
    items: tuple[ItemSpec, ...]


def launch_url(href: str, parameters: str) -> str:
    """The path to open, relative to the package's root (percent-encoding is the caller's)."""
    return href + parameters


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    wanted = name.lower()
    return [child for child in element if _local(child.tag).lower() == wanted]


def _child(element: etree._Element, name: str) -> etree._Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _attribute(element: etree._Element, name: str) -> str | None:
    wanted = name.lower()
    for key, value in element.attrib.items():
        if _local(key).lower() == wanted and key != _XML_BASE:
            return str(value).strip()
    return None


def _text(element: etree._Element | None) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _where(element: etree._Element) -> str:
    return _("%(file)s line %(line)s", file=MANIFEST_NAME, line=element.sourceline or 0)


def parse_manifest(data: bytes, names: frozenset[str]) -> Manifest:
    """The manifest's bytes and the zip's file names -> Manifest, or PackageRefused saying what is wrong."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)  # entities off, no DTD, no network: see above
    except etree.XMLSyntaxError as error:
        raise PackageRefused(
            _("%(file)s is not valid XML: %(error)s", file=MANIFEST_NAME, error=str(error))
        ) from None
    if _local(root.tag) != "manifest":
        raise PackageRefused(_("%(file)s has no <manifest> root element.", file=MANIFEST_NAME))
    version = _scorm_version(root)
    organization = _default_organization(root)
    resources = _resources(root)
    items: list[ItemSpec] = []
    seen: set[str] = set()
    for element in organization.iter():
        if _local(element.tag) != "item":
            continue
        item = _item(element, resources, names, version)
        if item is None:
            continue
        if item.identifier in seen:
            raise PackageRefused(
                _("%(where)s: two items are named '%(id)s'.", where=_where(element), id=item.identifier)
            )
        seen.add(item.identifier)
        items.append(item)
    if not items:
        raise PackageRefused(
            _("%(where)s: the organization has no item to launch.", where=_where(organization))
        )
    title = _text(_child(organization, "title")) or items[0].title
    return Manifest(scorm_version=version, title=title[:200], items=tuple(items))


def _scorm_version(root: etree._Element) -> str:
    metadata = _child(root, "metadata")
    schema_version = _text(_child(metadata, "schemaversion")) if metadata is not None else ""
    if schema_version:
        version = _SCHEMA_VERSIONS.get(" ".join(schema_version.lower().split()))
        if version is None:
            raise PackageRefused(
                _(
                    "%(where)s: schemaversion '%(value)s' is not supported (SCORM 1.2, 2004 3rd or 4th "
                    "Edition).",
                    where=_where(_child(metadata, "schemaversion")),
                    value=schema_version,
                )
            )
        return version
    namespaces = " ".join(str(uri) for uri in root.nsmap.values())
    if "adlcp_rootv1p2" in namespaces or "imscp_rootv1p1p2" in namespaces:
        return ScormVersion.SCORM_12
    if "adlcp_v1p3" in namespaces:
        return ScormVersion.SCORM_2004_3
    raise PackageRefused(
        _("%(file)s does not say its SCORM version (metadata/schemaversion).", file=MANIFEST_NAME)
    )


def _default_organization(root: etree._Element) -> etree._Element:
    organizations = _child(root, "organizations")
    found = _children(organizations, "organization") if organizations is not None else []
    if not found:
        raise PackageRefused(_("%(file)s has no organization.", file=MANIFEST_NAME))
    default = _attribute(organizations, "default")
    if not default:
        return found[0]
    for organization in found:
        if _attribute(organization, "identifier") == default:
            return organization
    raise PackageRefused(
        _(
            "%(where)s: the default organization '%(id)s' is not in the manifest.",
            where=_where(organizations),
            id=default,
        )
    )


def _resources(root: etree._Element) -> dict[str, tuple[etree._Element, str]]:
    """identifier -> (resource, its xml:base joined from the manifest and ``resources``)."""
    resources = _child(root, "resources")
    if resources is None:
        raise PackageRefused(_("%(file)s has no resources.", file=MANIFEST_NAME))
    base = (root.get(_XML_BASE) or "") + (resources.get(_XML_BASE) or "")
    found: dict[str, tuple[etree._Element, str]] = {}
    for resource in _children(resources, "resource"):
        identifier = _attribute(resource, "identifier")
        if identifier:
            found[identifier] = (resource, base + (resource.get(_XML_BASE) or ""))
    return found


def _item(
    element: etree._Element,
    resources: dict[str, tuple[etree._Element, str]],
    names: frozenset[str],
    version: str,
) -> ItemSpec | None:
    identifier = _attribute(element, "identifier")
    if not identifier:
        raise PackageRefused(_("%(where)s: an item has no identifier.", where=_where(element)))
    reference = _attribute(element, "identifierref")
    if not reference:
        return None  # an aggregation: its children are the items
    if reference not in resources:
        raise PackageRefused(
            _(
                "%(where)s: item '%(id)s' refers to resource '%(ref)s', which is not in the manifest.",
                where=_where(element),
                id=identifier,
                ref=reference,
            )
        )
    resource, base = resources[reference]
    href = _attribute(resource, "href")
    if not href:
        raise PackageRefused(
            _("%(where)s: resource '%(id)s' has no href.", where=_where(resource), id=reference)
        )
    path, query = _package_path(resource, base + href, names)
    for file_element in _children(resource, "file"):
        file_href = _attribute(file_element, "href")
        if file_href:
            _package_path(file_element, base + file_href, names)
    kind = (_attribute(resource, "scormtype") or ItemKind.ASSET).lower()
    return ItemSpec(
        identifier=identifier[:200],
        title=(_text(_child(element, "title")) or identifier)[:200],
        kind=ItemKind.SCO if kind == ItemKind.SCO else ItemKind.ASSET,
        href=path,
        parameters=_join_parameters(query, _attribute(element, "parameters") or ""),
        data_from_lms=_text(_child(element, "dataFromLMS")),
        **_mastery(element, version),
    )


def _package_path(element: etree._Element, href: str, names: frozenset[str]) -> tuple[str, str]:
    """An href -> (the file's path in the zip, its "?query#fragment"); refused if outside or missing."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("/"):
        raise PackageRefused(
            _("%(where)s: '%(href)s' points outside the package.", where=_where(element), href=href)
        )
    path = unquote(parts.path)
    if ".." in path.split("/"):
        raise PackageRefused(
            _("%(where)s: '%(href)s' points outside the package.", where=_where(element), href=href)
        )
    path = normpath(path)
    try:
        check_name(path)
    except PackageRefused as refused:
        raise PackageRefused(f"{_where(element)}: {refused.message}") from None
    if path not in names:
        raise PackageRefused(
            _(
                "%(where)s: the file '%(name)s' is not in the zip.",
                where=_where(element),
                name=path,
            )
        )
    suffix = ("?" + parts.query if parts.query else "") + ("#" + parts.fragment if parts.fragment else "")
    return path, suffix


def _join_parameters(own: str, parameters: str) -> str:
    """SCORM CAM: parameters start with '?', '&' or '#'; joined to a query the href already has."""
    parameters = parameters.strip()
    if not parameters:
        return own
    query, _hash, fragment = own.partition("#")
    if parameters.startswith("#"):
        return own if fragment else own + parameters
    extra = parameters.lstrip("?&")
    return (query + "&" + extra if query else "?" + extra) + (_hash + fragment)


def _decimal(element: etree._Element | None, text: str | None, low: Decimal, high: Decimal) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not low <= value <= high:
        where = _where(element) if element is not None else MANIFEST_NAME
        raise PackageRefused(
            _("%(where)s: '%(value)s' is not a number from %(low)s to %(high)s.", where=where, value=text,
              low=low, high=high)
        )  # fmt: skip
    return value


def _mastery(element: etree._Element, version: str) -> dict[str, Decimal | None]:
    if version == ScormVersion.SCORM_12:
        score = _child(element, "masteryscore")
        return {"mastery_score": _decimal(score, _text(score) or None, Decimal(0), Decimal(100))}
    found: dict[str, Decimal | None] = {}
    sequencing = _child(element, "sequencing")
    objectives = _child(sequencing, "objectives") if sequencing is not None else None
    primary = _child(objectives, "primaryObjective") if objectives is not None else None
    if primary is not None and (_attribute(primary, "satisfiedByMeasure") or "").lower() == "true":
        measure = _child(primary, "minNormalizedMeasure")
        value = _text(measure) if measure is not None else "1.0"
        found["scaled_passing_score"] = _decimal(measure, value, Decimal(-1), Decimal(1))
    threshold = _child(element, "completionThreshold")
    if threshold is not None:
        by_measure = (_attribute(threshold, "completedByMeasure") or "").lower() == "true"
        if by_measure:  # 4th edition
            value = _attribute(threshold, "minProgressMeasure") or "1.0"
        else:  # 3rd edition: the text
            value = _text(threshold) or None  # type: ignore[assignment]
        found["completion_threshold"] = _decimal(threshold, value, Decimal(0), Decimal(1))
    return found
