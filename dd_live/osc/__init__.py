"""OSC: the one table of addresses (``protocol``), datagrams to validated commands and back (``osc``), the UDP
thread (``osc_server``) and who hears the daemon's replies (``replies``)."""
