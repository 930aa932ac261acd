"""The gate domain: credentials, identities, policies, the decision; and the composition root."""
