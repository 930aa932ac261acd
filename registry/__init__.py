"""Persistence of the compound's registry: models, migrations, repositories, import/export."""
