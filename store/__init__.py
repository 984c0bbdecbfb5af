"""The event store: every plate event kept in SQLite with its crop, searchable by (fuzzy) text, time and camera."""
