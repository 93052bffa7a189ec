"""The pieces of the ``otelite`` command line: one module per command group.

``otelite.cli.main`` wires them together; nothing here is public API.
"""
