"""Live: the daemon behind ``dd-live serve``: the OSC table and its I/O, sessions, config, the trainer
and generator threads, MIDI and audio out."""
