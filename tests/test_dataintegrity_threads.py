"""Canonicalisation one thread at a time: pyld's processed-context cache is one module-wide LRU cache that is
not thread-safe, and the job queue's thread workers issuing certificates in bulk on PostgreSQL broke it
("OrderedDict mutated during iteration": a certificate was lost)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from pyld import jsonld

from lms.certificates import dataintegrity


def test_no_two_threads_canonicalise_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    inside = 0
    most = 0
    count = threading.Lock()

    def normalize(document: Any, options: Any) -> str:  # stands in for pyld's, which shares its cache
        nonlocal inside, most
        with count:
            inside += 1
            most = max(most, inside)
        time.sleep(0.02)  # long enough for the other threads to arrive while one is inside
        with count:
            inside -= 1
        return ""

    monkeypatch.setattr(jsonld, "normalize", normalize)
    threads = [
        threading.Thread(target=dataintegrity.canonicalize, args=({"@context": [], "n": n},))
        for n in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1


def test_real_canonicalisation_in_threads_agrees() -> None:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:web:academy.example",
        "validFrom": "2026-12-05T00:00:00Z",
        "credentialSubject": {"id": "did:example:holder"},
    }
    expected = dataintegrity.canonicalize(document)
    results: list[str] = []

    def work() -> None:
        for _ in range(5):
            results.append(dataintegrity.canonicalize(document))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert expected and results == [expected] * 20
