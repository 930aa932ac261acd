"""The application layer: one place per use case, the passage pipeline, lanes and device watch.

Imports the domain and the ports only; adapters come in through the composition root.
"""
