"""Messages of the office pages (households, persons, statuses, daily round, rules, import/export)."""

ZH: dict[str, str] = {}

EN: dict[str, str] = {}
