"""Course runs for trainees, focal points and admins. Views parse and call a service; the request commits once
(lms/unit_of_work.py).

- base.py: the blueprint (`bp`) and what the pages share (status badges, a run or 404, a kept refusal);
- pages.py: trainees (runs, enrol, request, withdraw), focal points (their authority, nominate) and admins
  (runs, a run's edit and decisions);
- csv_files.py: a run's CSV import, the import job's progress page and the CSV export.
"""

from lms.enrolment.views import csv_files, pages  # register the routes
from lms.enrolment.views.base import bp

__all__ = ["bp", "csv_files", "pages"]
