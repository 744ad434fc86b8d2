"""Song mode (issue 16): a drum track for a whole MIDI song. :mod:`.read` reads the song (tempo map, bars,
the other parts' notes and intensity)."""
