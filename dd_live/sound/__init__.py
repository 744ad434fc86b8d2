"""Sound: audio buffers (the one validator, conversion to mono float32 at 44.1 kHz, atomic writes),
sample libraries (user folders, the decoded-audio cache) and the synthesized default kit."""
