"""Faces, QR decoding and pass tokens (see the recognition issues)."""
