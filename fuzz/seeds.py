"""Seed inputs: small valid requests of every signal, as protobuf and as OTLP/JSON.

Mutating valid requests reaches far deeper into the decoders than random bytes do. Their
times are those of when they were written: in the past from then on, which validation
accepts (it bounds how far ahead a time may be, not how far back), so they reach the
flattening after it.
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

from fuzz.targets import split
from otelite.demo import generate_batches
from otelite.otlp import encode_request_json
from otelite.types import Signal

__all__ = ["write_seeds"]


def write_seeds(corpus: Path) -> None:
    """Write the seeds into ``corpus/<target>/``, named by content like libFuzzer's own."""
    for index, signal in enumerate(Signal):
        assert split(bytes([index]))[0] is signal
        for seed, size in itertools.product((1, 2, 3), (1, 3)):
            request = next(iter(generate_batches(signal, seed=seed, batch_size=size)))
            _write(corpus / "otlp_protobuf", bytes([index]) + request.SerializeToString())
            _write(corpus / "otlp_json", bytes([index]) + encode_request_json(request))


def _write(directory: Path, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
