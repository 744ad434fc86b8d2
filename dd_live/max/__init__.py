"""Max front ends: the patch and Max for Live device builder (py2max) and their ``[js]`` logic
(``dd_live.js``, shipped beside it)."""
