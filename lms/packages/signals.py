"""Signals of the packages feature (imports nothing but blinker, so features above may subscribe)."""

from blinker import signal

# Sent when a learner's attempt on a package item (an SCO) changes its completion or success status or
# score, after a flush. Sender: the attempt; keywords: enrolment_id, lesson_id, satisfied (the item
# counts as done: completed and not failed). Subscriber: lms.enrolment.completion (records the lesson's
# completion and re-checks the enrolment, like a lesson read to the end).
sco_status_changed = signal("sco-status-changed")
