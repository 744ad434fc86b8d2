"""The page as an instrument, in chromium: every control of the address table is on it and reaches the daemon,
a tap gives a tempo, the playhead walks the grid with the page's sound, a cell clicked is an edit stored as a
candidate and Like keeps it, a track's sound is picked from its role's, a controller's notes through Web MIDI
(a fake MIDIAccess) are onsets of a take and the loop's notes go out to a Web MIDI output, the status line
clears and the sessions list follows the ratings."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

#: a MIDIAccess with one input (its onmidimessage fired by the test) and one output recording what it is sent
INIT_SCRIPT = """
(() => {
  const sent = [];
  const input = { id: "in1", name: "fake pads", type: "input", onmidimessage: null };
  const output = { id: "out1", name: "fake synth", type: "output", send: (data, when) => sent.push([...data, when]) };
  const access = { inputs: new Map([["in1", input]]), outputs: new Map([["out1", output]]), onstatechange: null };
  navigator.requestMIDIAccess = async () => access;
  window.fakeMidi = { input, output, sent };
})();
"""


def test_every_control_of_the_table_is_on_the_page_and_reaches_the_daemon(shown):
    from dd_live.osc import protocol

    d, page, _ = shown
    for entry in protocol.inbound().values():
        if entry.page:
            assert page.locator(f"#panel-{entry.page} [data-command={entry.command}]").count() >= 1, entry.address
            assert page.locator(f"#panel-{entry.page} [data-command={entry.command}]").first.evaluate(
                "e => (e.title || e.closest('label').title).length > 20"), entry.address
    page.fill("#ctl-set_swing-amount", "0.2")
    page.press("#ctl-set_swing-amount", "Enter")
    page.fill("#ctl-set_autotake-bars", "4")
    page.press("#ctl-set_autotake-bars", "Enter")
    page.check("#ctl-set_feel-on")
    page.fill("#ctl-set_latency-ms", "-12")
    page.press("#ctl-set_latency-ms", "Enter")
    page.wait_for_function("dd.settings.latency === -12 && dd.settings.feel === 1 && dd.settings.autotake === 4")
    assert (d.settings.swing, d.settings.autotake, d.settings.own_feel, d.settings.latency) == (0.2, 4, True, -12.0)
    assert page.input_value("#ctl-set_swing-amount") == "0.20"    # shown back from /dd/settings
    for _ in range(4):                                          # tap tempo: four taps half a second apart
        page.click("#tap")
        page.wait_for_timeout(500)
    page.wait_for_function("dd.settings.bpm !== 120")
    assert 100 <= d.settings.bpm <= 150


def test_a_clicked_cell_is_an_edit_and_like_keeps_it(shown):
    d, page, root = shown
    p = d.current.pattern
    step = next(s for s in range(p.steps) if not p.hits[0, s])
    page.click(f"#grid td.cell[data-track='1'][data-step='{step}']")
    page.wait_for_function(f"dd.grid.id !== {root} && document.getElementById('edited').textContent.includes('{root}')")
    new = page.evaluate("dd.grid.id")
    row = d.session.candidate(new)
    assert row.mode == "edit" and d.current.id == new and d.current.pattern.hits[0, step]
    assert page.locator(f"#grid td.cell[data-track='1'][data-step='{step}']").get_attribute("data-velocity") == "100"
    # shift-click steps the hit to the next of the table's edit velocities: from normal to accent
    page.click(f"#grid td.cell[data-track='1'][data-step='{step}']", modifiers=["Shift"])
    page.wait_for_function(f"dd.grid.id !== {new} && dd.grid.daemon[{step}] === 127")
    accent = page.evaluate("dd.grid.id")
    assert d.current.id == accent and int(d.current.pattern.velocities[0, step]) == 127
    page.click("button[data-command=like]")
    page.wait_for_function(f"dd.grid.id !== {accent}")
    assert d.session.ratings() == [(root, False), (accent, True)]


def test_quick_edits_then_like_keeps_the_loop_all_of_them_made(shown):
    """Three cells clicked and Like pressed at once: the edits go one after another, each on the loop the last
    made, and the like waits for them: it keeps the loop with all three."""
    d, page, root = shown
    p = d.current.pattern
    empty = [s for s in range(p.steps) if not p.hits[3, s]][:3]
    page.evaluate(f"""() => {{                        // in one go, quicker than any daemon answers
      for (const s of {empty}) document.querySelector(`#grid td.cell[data-track='4'][data-step='${{s}}']`).click();
      document.querySelector("button[data-command=like]").click();
    }}""")
    page.wait_for_function("dd.ratings.length === 2", timeout=30_000)
    (r0, l0), (kept, l1) = d.session.ratings()
    assert (r0, l0, l1) == (root, False, True)
    from dd_live.loops.pattern import Pattern
    assert all(Pattern.from_json(d.session.candidate(kept).pattern).hits[3, s] for s in empty)


def test_a_tracks_sound_is_picked_from_its_roles_sounds(shown):
    d, page, root = shown
    page.click("#grid th >> nth=1")
    select = page.locator("#grid th select")
    select.wait_for()
    options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
    roles = {str(d.library.roles[d.library.index(k)]) for k in options}
    assert len(options) > 1 and roles == {str(d.library.roles[d.library.index(d.current.pattern.samples[1])])}
    other = next(k for k in options if k != d.current.pattern.samples[1])
    select.select_option(other)
    page.wait_for_function(f"dd.grid.id !== {root}")
    assert d.current.pattern.samples[1] == other and d.session.candidate(d.current.id).mode == "edit"


def test_the_playhead_walks_the_grid_with_the_pages_sound(shown):
    d, page, cid = shown
    page.wait_for_function(f"dd.audio.loaded === {cid}", timeout=30_000)
    page.keyboard.press(" ")
    page.wait_for_function("dd.playhead.source === 'page'")
    seen = page.evaluate("""() => new Promise((done) => {
      const out = [];
      const frame = () => {
        const a = dd.audio, steps = dd.shape.steps, dur = a.source.buffer.duration;
        const ts = a.ctx.getOutputTimestamp();    // the audio clock at the speakers, now
        const t = ts.contextTime + (performance.now() - ts.performanceTime) / 1000;
        const want = Math.floor(((((t - a.start) % dur) + dur) % dur) / dur * steps);
        const lit = [...document.querySelectorAll('#grid td.now')].map((e) => Number(e.dataset.step));
        out.push([want, lit]);
        if (out.length < 150) requestAnimationFrame(frame); else done(out);
      };
      requestAnimationFrame(() => requestAnimationFrame(frame));
    })""")
    tracks = d.current.pattern.tracks
    # each frame lights one column, one cell per track; the audio clock at the speakers says which (one step off
    # at most, where a step began between the page's drawing and this check)
    near, steps = 0, d.current.pattern.steps
    for want, lit in seen:
        assert len(lit) == tracks and len(set(lit)) == 1
        near += (lit[0] - want) % steps in (0, 1, steps - 1)
    assert near == len(seen)
    assert len({lit[0] for _, lit in seen}) >= 8                # it walks the bar (150 frames: over a bar at 120)


def test_web_midi_notes_are_onsets_of_a_take_and_the_loops_notes_go_out(shown):
    d, page, cid = shown
    page.wait_for_function(f"dd.audio.loaded === {cid} && dd.midi.inputs === 1", timeout=30_000)
    page.select_option("#midi-out", "out1")
    page.keyboard.press(" ")
    page.click("#panel-play [data-command=take_start]")
    page.wait_for_function("dd.playhead.source === 'page'")
    for _ in range(3):
        page.evaluate("fakeMidi.input.onmidimessage({data: new Uint8Array([0x99, 38, 100]), timeStamp: performance.now()})")
        page.wait_for_timeout(120)
    page.evaluate("fakeMidi.input.onmidimessage({data: new Uint8Array([0x89, 38, 0]), timeStamp: performance.now()})")
    page.wait_for_function("dd.midi.onsets === 3")
    take = d.takes._take
    for _ in range(100):
        if take is not None and len(take) == 3:
            break
        page.wait_for_timeout(50)
        take = d.takes._take
    assert take is not None and len(take) == 3                  # note-offs are no onsets
    page.wait_for_function("fakeMidi.sent.length >= 4", timeout=10_000)
    sent = page.evaluate("fakeMidi.sent")
    pitches = {n.pitch for n in d.current.notes}
    assert {m[1] for m in sent} <= pitches and {m[0] for m in sent} <= {0x99, 0x89}


def test_the_status_line_clears_and_the_sessions_list_follows_the_ratings(shown):
    from dd_live.testing.browser import next_grid

    d, page, cid = shown
    page.evaluate("send('set_tempo', [5000])")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('args')")
    page.click("button[data-command=like]")                    # a later action that works: the error is gone
    cid = next_grid(page, cid)
    assert page.text_content("#status") == ""
    page.wait_for_function("document.getElementById('sessions').textContent.includes('1 ratings')", timeout=10_000)
    for _ in range(5):
        page.click("button[data-command=dislike]")
        cid = next_grid(page, cid)
    assert page.text_content("#hint") == ""                    # one like: no hint that a like starts learning


def test_the_grid_is_chosen_on_the_page_and_drawn_at_once(shown):
    """Steps and beats are two choices of the Loops panel: each choice changes the daemon's grid, the next loop
    comes on it and the page draws its columns; a pair that does not divide is refused on the status line and
    the choices show the grid as it is."""
    d, page, _ = shown
    page.select_option("#ctl-set_grid-steps", "12")
    page.wait_for_function("dd.shape.steps === 12 && dd.shape.beats === 4 && dd.settings.steps === 12")
    page.select_option("#ctl-set_grid-beats", "3")
    page.wait_for_function("dd.shape.steps === 12 && dd.shape.beats === 3")
    assert page.locator("#grid tr:first-child td.cell").count() == 12
    assert (d.current.pattern.steps, d.current.pattern.beats) == (12, 3)
    assert d.session.settings()["live"]["beats"] == 3
    page.select_option("#ctl-set_grid-steps", "16")             # 16 steps in 3 beats: no grid
    page.wait_for_function("document.getElementById('status').textContent.includes('does not divide')")
    page.wait_for_function("document.getElementById('ctl-set_grid-steps').value === '12'")
    assert (d.settings.steps, d.settings.beats) == (12, 3)
