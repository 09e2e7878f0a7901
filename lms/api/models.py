"""API tokens (issue 24): personal access tokens and service tokens for an authority or a donor."""

from __future__ import annotations
