"""'Add to LinkedIn': the certification "add to profile" link (issue 23).

An outgoing link only: LinkedIn's documented URL with the certificate's name, the academy, the month
of issue, the public verify URL and the code as query parameters. No script, no tracking pixel, no
call to LinkedIn from the academy: nothing leaves the academy unless the holder follows the link.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from lms.certificates import codes
from lms.certificates.issuer import academy_issuer
from lms.certificates.models import Certificate
from lms.certificates.signed_documents import verify_url

ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


def add_to_profile_url(name: str, organization: str, issued_at: datetime, cert_url: str, cert_id: str) -> str:
    query = urlencode(
        {
            "startTask": "CERTIFICATION_NAME",
            "name": name,
            "organizationName": organization,
            "issueYear": str(issued_at.year),
            "issueMonth": str(issued_at.month),
            "certUrl": cert_url,
            "certId": cert_id,
        }
    )
    return f"{ADD_TO_PROFILE}?{query}"


def certificate_link(certificate: Certificate) -> str:
    """The link for a certificate: its course title, its issuer, its verify page and grouped code."""
    return add_to_profile_url(
        certificate.course_title,
        certificate.issuer_name,
        certificate.issued_at,
        verify_url(academy_issuer(), certificate.code),
        codes.grouped(certificate.code),
    )
