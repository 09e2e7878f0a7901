"""What the certificates feature tells others (docs/architecture.md "Signals").

Sent inside the transaction of the change, after a flush; a subscriber writes in that same transaction
and must not commit, and must not render or send anything (that waits for the commit: docs/certificates.md).
"""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

# sender: the new Certificate (flushed; its PDF is rendered after the commit); method: the IssueMethod
# (automatic, approved, manual, reissue); actor_id: who issued it (None for an automatic issue).
certificate_issued = signals.signal("certificate-issued")

# sender: the revoked Certificate; actor_id: the admin who revoked it.
certificate_revoked = signals.signal("certificate-revoked")
