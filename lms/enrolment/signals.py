"""What the enrolment feature tells later features (docs/architecture.md "Signals").

Sent inside the transaction of the change, after a flush; a subscriber writes in that same transaction
and must not commit. Later features (certificates, reports) subscribe instead of enrolment importing them.
"""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

# sender: the Enrolment; lesson_id: the lesson newly recorded as done (a repeat sends nothing).
lesson_completed = signals.signal("lesson-completed")

# sender: the Enrolment that has just become complete (status COMPLETED, completed_at set, flushed).
enrolment_completed = signals.signal("enrolment-completed")

# sender: the CourseRun written to; runs / users: the ids written with bulk statements
# (lms.enrolment.bulk_import), which the ORM's listeners do not see: the indicator facts subscribe
# (lms/reports/facts.py); places: the ids of the places (enrolments) it wrote, which
# lms.sessions.invitations reads to invite the new seat holders to the run's future sessions.
places_written_in_bulk = signals.signal("places-written-in-bulk")

# sender: the Enrolment whose attended minutes (enrolment.attended_minutes) lms.sessions has just changed
# from the register. Defined here, not in lms.sessions: sessions sits above enrolment, and the subscriber
# (lms.enrolment.completion, which re-checks completion) may import only downwards.
attendance_changed = signals.signal("attendance-changed")

# sender: the Enrolment that has just taken a seat (status ENROLLED, flushed): self-enrolment, approval of a
# request or nomination, promotion from the waiting list (lms.enrolment.transitions, the one place a place
# is granted). Places written by the CSV import are told through places_written_in_bulk instead.
# Subscriber: lms.sessions.invitations (the calendar invitations of the run's future sessions).
place_taken = signals.signal("place-taken")

# sender: the Enrolment whose request or nomination an admin has just decided (approved: now enrolled or
# waiting; rejected), flushed; keywords: approved (bool), actor_id. Sent by lms.enrolment.nominations
# (approve, reject, decide_many). Subscriber: lms.integrations (the `enrolment.decided` webhook).
enrolment_decided = signals.signal("enrolment-decided")

# sender: the Enrolment that has just given up its seat or its claim (withdrawn, rejected, cancelled,
# removed), flushed; keyword: previous (the EnrolmentStatus it left). Sent by lms.enrolment.transitions.
# Subscriber: lms.sessions.invitations (METHOD:CANCEL for the run's future sessions it was invited to).
place_released = signals.signal("place-released")
