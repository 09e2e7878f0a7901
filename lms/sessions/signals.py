"""What the sessions feature tells later features and its own calendar mail (docs/architecture.md
"Signals"). Sent inside the transaction of the change, after a flush; subscribers never commit."""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

# sender: the TrainingSession just created (flushed, id set).
session_scheduled = signals.signal("session-scheduled")

# sender: the TrainingSession whose time, place or link changed (its sequence already raised);
# changed: the names of the fields that changed.
session_changed = signals.signal("session-changed")

# sender: the TrainingSession just cancelled (cancelled_at set, sequence raised).
session_cancelled = signals.signal("session-cancelled")
