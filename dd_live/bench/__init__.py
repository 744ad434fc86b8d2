"""The figures behind ``dd-live bench``: render, load, critic, protocol, live, lean, feel, pretrain, song, web,
prior and hostile (:mod:`.cli`), each measured on this machine and printed or written as JSON, never judged by
a timed test."""
