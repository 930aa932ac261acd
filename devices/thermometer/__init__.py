"""Contactless thermometers at a lane: a Modbus register driver and its emulator.

``modbus`` holds ``ModbusThermometer``, ``emulator`` the ``ThermometerEmulator``, ``emulated``
the ``EmulatedModbusThermometer`` (the driver against an emulator started in-process) and
``config`` their config models. Importing this package imports no hardware library.
"""
