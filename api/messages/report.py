"""Messages of the shift report and the audit log pages."""

ZH: dict[str, str] = {}

EN: dict[str, str] = {}
