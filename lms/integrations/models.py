"""Webhook subscriptions and deliveries, the xAPI statement outbox (issue 24)."""

from __future__ import annotations
