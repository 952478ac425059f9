"""Alembic environment: run against the connection ChatMore hands over.

ChatMore calls Alembic programmatically (``server_ext.store.migrate``) with an open
connection in ``config.attributes["connection"]``; there is no alembic.ini.
"""

from alembic import context

from server_ext.store.search import is_index_object
from server_ext.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    compare_server_default=False,
    # The search index's engine-specific objects are the migrations' own (store/search.py).
    include_name=lambda name, _type, _parent: not is_index_object(name),
)
with context.begin_transaction():
    context.run_migrations()
