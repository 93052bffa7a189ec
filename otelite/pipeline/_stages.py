"""The pipeline file's stages in front of the local pipeline, built and run in order.

What the receivers accept goes through the file's processors (redaction) first, then
tail sampling, which holds spans until their trace is decided, then the exporters'
queues and the local pipeline: what is forwarded is what is kept, redacted. A component
in the Collector's mould: ``start`` starts the stages downstream first and answers the
consumer the receivers hand requests to; ``shutdown`` stops them upstream first, so that
the sampler hands what it decides on to the exporters before they stop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from otelite.pipeline._consumer import Consumer
from otelite.pipeline._forwarding import FORWARD_DIR, Forwarding
from otelite.pipeline._pipeline_file import PipelineFile
from otelite.pipeline._processing import Processing, Processor
from otelite.pipeline._tail_sampling import TAIL_SAMPLING_DIR, TailSampler

__all__ = ["PipelineStages"]

log = logging.getLogger("otelite")


class PipelineStages:
    """The stages ``file`` asks for (None: none) in front of ``local``; their state lives
    under ``data_dir`` (None: in memory). ``tenant_header``: forward each request with its
    tenant as ``X-Scope-OrgID``. ``admit``: raises what ``local`` would raise for good
    for a tenant's first data (``Tenants.admit``), for stages that answer the client
    before handing data on."""

    def __init__(
        self,
        file: PipelineFile | None,
        local: Consumer,
        *,
        data_dir: Path | None,
        tenant_header: bool,
        admit: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._file = file
        self._local = local
        self._data_dir = data_dir
        self._tenant_header = tenant_header
        self._admit = admit
        self.processors: tuple[Processor, ...] = () if file is None else tuple(file.processors)
        self.forwarding: Forwarding | None = None
        self.sampler: TailSampler | None = None

    async def start(self) -> Consumer:
        """Start the stages; the consumer the receivers hand requests to."""
        file, data_dir = self._file, self._data_dir
        downstream: Consumer = self._local
        if file is not None and file.exporters:
            self.forwarding = Forwarding(
                self._local,
                file.exporters,
                directory=None if data_dir is None else data_dir / FORWARD_DIR,
                tenant_header=self._tenant_header,
            )
            await self.forwarding.start()
            downstream = self.forwarding
        if file is not None and file.tail_sampling is not None:
            self.sampler = TailSampler(
                downstream,
                file.tail_sampling,
                log_dir=None if data_dir is None else data_dir / TAIL_SAMPLING_DIR,
                interval=file.tail_sampling.tick_seconds,
                admit=self._admit,
            )
            await self.sampler.start()
            downstream = self.sampler
        elif data_dir is not None and any((data_dir / TAIL_SAMPLING_DIR).glob("held/*.wal")):
            log.warning(
                "%s/%s holds spans waiting for tail sampling; they are decided only when "
                "the pipeline file has tail_sampling again",
                data_dir,
                TAIL_SAMPLING_DIR,
            )
        return Processing(downstream, self.processors) if self.processors else downstream

    async def shutdown(self) -> None:
        """Stop the stages, upstream first. Safe to call twice."""
        if self.sampler is not None:
            await self.sampler.shutdown()
            self.sampler = None
        if self.forwarding is not None:
            await self.forwarding.shutdown()
            self.forwarding = None
