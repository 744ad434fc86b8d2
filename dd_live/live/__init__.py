"""Live: the daemon behind ``dd-live serve`` and its threads: commands, the trainer and generator workers,
takes, sync, songs, the supervisor, config and the serve CLI (OSC in :mod:`dd_live.osc`, ports in
:mod:`dd_live.ports`, sessions in :mod:`dd_live.session`)."""
