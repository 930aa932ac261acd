"""Contactless thermometers at a lane: a Modbus register driver and its emulator.

``devices.thermometer.modbus`` holds ``ModbusThermometer``, ``EmulatedModbusThermometer``
and ``ThermometerEmulator``. Importing this package imports no hardware library.
"""
