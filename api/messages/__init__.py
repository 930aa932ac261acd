"""Message catalogues, one module per page family; ``api.i18n`` merges them."""
