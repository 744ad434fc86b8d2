"""The browser front end (``dd-live serve --web``): one page and a WebSocket served by the daemon itself.

:mod:`.access` decides what a request may reach (the token, the Origin, the few files there are), pure logic;
:mod:`.server` is the thread that serves HTTP and WebSocket on one port and hands every browser message to the
OSC thread, through the same dispatcher and handlers as a datagram; ``static/`` is the page (plain HTML, CSS and
JavaScript, no build step), which reads the address table from ``/protocol.json``.
"""
