from __future__ import annotations

from otelite.cli import main

raise SystemExit(main())
