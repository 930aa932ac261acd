"""Barrier relays: a relay module behind Modbus (TCP or RTU), a serial relay board, emulators.

Safety, for every driver in this package:

- Wiring assumption: the relay contact is wired in parallel with the guard's push-button on
  the barrier controller's "open" input. The service only ever *pulses* that input; it never
  holds the barrier open and never holds it shut. If the service, the relay or its link
  fails, the entry barrier stays shut and the guard's push-button still opens it. What the
  barrier does on power loss is the controller's own fail-safe setting, not ours.
- The relay is left de-energised (coil off) at start, on close and after every error, so a
  crashed or stopped service leaves the barrier in its wired fail-safe state. A drop-out
  coil is the only state this package leaves behind on purpose.
- Free exit (``LaneSettings.free_exit``) is decided in the supervisor
  (``gate.app.lanes.LaneBarriers``): the service must never be what keeps people from leaving in
  an emergency. An exit lane that must open without power is wired (or set in the barrier
  controller) to open on its own; a driver here cannot make it so.

Drivers: ``devices.relay.modbus`` (``ModbusRelay``), ``devices.relay.serial_board``
(``SerialRelayBoard``) and ``devices.relay.emulated`` (``EmulatedModbusRelay``); their
configs in ``devices.relay.config``, the emulators in ``devices.relay.emulators``.
Importing this package imports no hardware library.
"""
