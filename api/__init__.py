"""The web edge: guard terminal, resident and visitor pages, district API, admin."""
