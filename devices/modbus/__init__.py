"""What the Modbus drivers share: the link to a device, its config, the emulator server.

- ``config``: ``ModbusLinkConfig``, the keys naming a device on TCP or RTU (pydantic only);
- ``link``: ``ModbusLink``, one synchronous pymodbus client whose errors come out mapped;
- ``server``: ``ModbusEmulatorServer`` and ``ModbusDeviceEmulator``, a pymodbus server in
  a thread of its own that the emulated relay module and thermometer are built on.
"""
