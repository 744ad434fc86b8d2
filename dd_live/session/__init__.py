"""Sessions on disk: one folder per performer's session with its SQLite store (ratings, candidates, settings,
the feel layer), the sounds its rated loops play, its lock, recovery of a damaged store, and where sessions live."""
