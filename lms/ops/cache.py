"""A small shared cache: Redis when ``REDIS_URL`` is configured, otherwise no cache at all.

Without Redis every ``get`` misses and the caller computes the value, so behaviour is identical,
only slower; there is deliberately no per-process cache, which would serve stale values from one
gunicorn worker after another worker changed the data.
"""

from __future__ import annotations

from lms.ops.redis_connection import key_prefix, redis_client


def redis_key(key: str) -> str:
    """The key in Redis: this academy's prefix (lms.ops.redis_connection.key_prefix), then ``cache:``."""
    return f"{key_prefix()}cache:{key}"


def get(key: str) -> bytes | None:
    client = redis_client()
    if client is None:
        return None
    value = client.get(redis_key(key))
    return value if isinstance(value, bytes) else None


def set(key: str, value: bytes | str, ttl_seconds: int) -> None:
    client = redis_client()
    if client is not None:
        client.set(redis_key(key), value, ex=ttl_seconds)


def delete(key: str) -> None:
    client = redis_client()
    if client is not None:
        client.delete(redis_key(key))
