"""The ID-card reader: the GA 467 SAM protocol over a serial port, and its emulator.

- ``config``: the config models of its two drivers (pydantic only);
- ``frames``: the frame codec (preamble, length, XOR checksum) and a resynchronising buffer;
- ``protocol``: commands, status codes and their ``Outcome``, the read answer's layout,
  the ``WltDecoder`` hook for a vendor photo decoder;
- ``text``: the 256-byte UCS-2LE text block of the four card types;
- ``reader``: ``Ga467SerialReader``, the driver (``ga467-serial``);
- ``emulator``: ``Ga467Emulator``, a SAM on a pseudo-terminal;
- ``emulated``: ``EmulatedGa467Reader``, emulator plus driver (``ga467-emulated``).
"""
