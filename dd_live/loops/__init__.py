"""Loops: the grid pattern and its proposals, the batched renderer and its mixing kernel, and the
exports a DAW reads (MIDI file, WAV, SFZ kit)."""
