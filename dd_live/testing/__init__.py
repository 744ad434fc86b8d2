"""What the tests and the benchmarks drive dd_live with: a daemon in-process or ``dd-live serve`` as a
subprocess (:mod:`.harness`), an OSC client (:mod:`.oscclient`), a JACK host's MIDI clock (:mod:`.clockhost`),
headless chromium (:mod:`.browser`), a simulated human playing along (:mod:`.human`), a small SFZ player
(:mod:`.sfzplay`) and virtual time for a player's loop (:mod:`.offline`)."""
