"""Security controls shared by every feature: browser headers, request limits, error pages, password
policy, password reset, TOTP two-factor sign-in, session invalidation, and the GDPR export and erase.

See docs/security.md for the threat model and where each control lives.
"""
