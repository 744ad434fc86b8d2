"""Feel: a per-step timing layer the drums play on top of every loop, learned from a human playing along
(rolypoly~'s idea, rolypoly~'s equations reworked so that straight drums can learn; see adapt.py)."""
