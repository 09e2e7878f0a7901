"""The versioned REST API `/api/v1` (issue 24): tokens with scopes, the resources, the OpenAPI document.
See docs/api.md."""
