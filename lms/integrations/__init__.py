"""Outgoing interfaces (issue 24): webhooks to subscribers and xAPI statements to the academy's learning
record store, both sent by the job queue after the commit. See docs/integrations.md."""
