"""What happens to people that other features may react to (docs/architecture.md "Signals").

Defined here, in the feature that owns people, so that any feature can subscribe without importing
the admin pages that send it. Sent inside the transaction of the change, after a flush.
"""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

# sender: the kept User; removed: the merged-away User (now deactivated, merged_into_id set);
# moved: rows moved per 'table.column'; actor_id: the admin who merged (lms.admin.services.merge_people).
person_merged = signals.signal("person-merged")
