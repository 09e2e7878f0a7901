"""Face-to-face, live online and blended trainings (issue 20): the sessions of a run, calendars, attendance
(roll call, rotating QR check-in, signed sheets), participant details for international events. Sits
between enrolment and certificates (docs/architecture.md "Layers")."""
