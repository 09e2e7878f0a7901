"""Sessions of runs (issue 20). Views parse and call a service; the request commits once
(lms/unit_of_work.py).

- base.py: the blueprint (`bp`);
- schedule.py: a run's sessions (admins and the run's trainers manage them; participants see them), the
  hybrid attendance choice, "next session";
- attendance.py: the register (roll call on a phone, the room's rotating QR code);
- check_in_pages.py, sheet_pages.py: a participant's check-in, the sign-in sheets (they use attendance.py);
- calendar.py: .ics of a run, the personal calendar feed;
- events.py: international events (participant details, visa invitation letters, the venue's list).
"""

from lms.sessions.views import (  # register the routes
    attendance,
    calendar,
    check_in_pages,
    events,
    schedule,
    sheet_pages,
)
from lms.sessions.views.base import bp

__all__ = ["attendance", "bp", "calendar", "check_in_pages", "events", "schedule", "sheet_pages"]
