"""What the surveys feature tells later features (docs/architecture.md "Signals")."""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

# sender: the SurveyInvitation just marked answered (answered_on set, flushed); the response itself is
# anonymous and never sent. lms.certificates subscribes: a run whose certificate waits for the
# end-of-course survey issues it now.
survey_answered = signals.signal("survey-answered")
