"""Adapters to the gate's hardware and their emulators (see the devices issue)."""
