"""Pass tokens: compact signed passes that a gate verifies offline (issue 9, item 1)."""
