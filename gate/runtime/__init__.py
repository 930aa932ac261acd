"""The composition root, settings and the CLI: the only part of ``gate`` that imports adapters."""
