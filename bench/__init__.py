"""Benchmark tooling (docs/performance.md): data generator, `flask lms bench generate`, load runner.

Development tooling, not part of the runtime package: the wheel ships `lms` only, and `lms.cli` adds the
`bench` command group only when this package can be imported (a checkout, run from the project root).
Nothing under `lms/` imports it otherwise.
"""
