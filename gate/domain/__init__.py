"""The pure domain: credentials, identities, the registry snapshot, rules and the decision.

Imports the standard library and its own modules only: no framework, no adapter, no clock.
"""
