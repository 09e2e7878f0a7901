"""What the quizzes feature tells later features (docs/architecture.md "Signals").

Sent inside the transaction of the change, after a flush; a subscriber writes in that same transaction
and must not commit. The subscribers live in the feature that reacts (the completion check in
lms/enrolment/completion.py), so this module imports nothing of theirs.
"""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

# sender: the QuizAttempt that was submitted or closed at its time limit, graded and flushed;
# enrolment_id: its enrolment.
attempt_finished = signals.signal("attempt-finished")

# sender: a QuizAttempt whose time ran out, found by a page (GET) that is about to close it;
# enrolment_id: its enrolment. Sent before the reading transaction ends: a receiver returns the rows of
# its own that closing the attempt depends on (an iterable), and they are read again under the write lock.
attempt_closing = signals.signal("attempt-closing")

# sender: the Question whose grading key was applied again to finished attempts;
# enrolment_ids: the enrolments whose results may have changed.
attempts_regraded = signals.signal("attempts-regraded")
