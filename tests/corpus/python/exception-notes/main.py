def migrate(version):
    if version < 3:
        err = RuntimeError(f"schema version {version} is too old")
        err.add_note("run `manage.py upgrade` first")
        err.add_note("see docs/migrations.md")
        raise err


migrate(2)
