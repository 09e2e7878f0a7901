"""Evaluation (issue 21): survey forms from files and the editor, end-of-course and follow-up surveys of a
run, anonymous responses, results and donor indicators. Sits above sessions, below certificates
(docs/architecture.md "Layers")."""
