"""Storage through SQLAlchemy 2: immutable plan versions and a hash-chained audit log."""
