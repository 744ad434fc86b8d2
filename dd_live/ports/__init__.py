"""Ports: MIDI out and in (rtmidi, and JACK stamped to the frame through ``jack_midi.c``), audio out (PortAudio),
and the host's clock (MIDI clock and Ableton Link followers), each opened lazily and owned by the daemon."""
