// dd_live.js -- the logic behind dd_live.maxpat and dd_live.amxd, for Max's [js] object.
//
// It keeps the current candidate (id, score, grid, notes), turns the daemon's
// replies into what the patch shows (matrixctrl cells, a status line, counters),
// swaps the audition buffers at the loop's end, plays the candidate's notes in
// time with Live's transport, and captures the candidate into the next empty
// Session clip slot of the device's track through the Live API. A click on a
// matrixctrl cell edits the loop (/dd/edit): the edited loop is a candidate of its
// own, and Like keeps it. During a take
// (the Take toggle) it sends each of the human's onsets with its beat in the bar:
// the standalone patch's from the audition loop's phase when bonk~ hears an
// attack, the device's from Live's transport when a note comes into the track.
//
// Plain ES5, so it runs in Max 8's and Max 9's [js]. Messages arrive from the
// patch as "name args...", each calling the function of that name. The tests
// load this file in node with a fake LiveAPI (tests/js/dd_live.test.js).
// Source: dd_live/max/dd_live.js; `dd-live patches` copies it into max_patches/.
//
// Outlets:
//   0  note "pitch velocity"           -> [pipe 0 0] -> [makenote] (device)
//   1  delay in ms for the next note   -> [pipe 0 0] right inlet
//   2  matrixctrl messages ("clear", "col row value")
//   3  status line ("set ...")
//   4  counters ("set ...")
//   5  audition: messages for buffer~ ddA ("replace path")
//   6  audition: messages for buffer~ ddB
//   7  audition: messages for groove~ ("set ddA", "startloop")
//   8  OSC messages for [udpsend]: takes, onsets, edits and the grid ("/dd/take/start", "/dd/onset beat",
//      "/dd/edit id track step velocity", "/dd/sounds id track", "/dd/edit/sound id track key",
//      "/dd/set/grid steps beats")
//   9  the sound menu's messages for [umenu] ("clear", "append name", "set index")
//  10  the grid menu's messages for [umenu] ("clear", "append 16 in 4 beats", "set index")

inlets = 1;
outlets = 11;

var OUT_NOTE = 0, OUT_DELAY = 1, OUT_GRID = 2, OUT_STATUS = 3, OUT_COUNT = 4,
    OUT_BUF_A = 5, OUT_BUF_B = 6, OUT_GROOVE = 7, OUT_OSC = 8, OUT_SOUNDS = 9, OUT_GRIDS = 10;
var STEPS_PER_BEAT = 4;   // the transport is read at 16ths (notes carry their own beat times)
var NOTE_BEATS = 0.125;   // a 32nd, as the daemon's MIDI files
var TICKS_PER_BEAT = 480; // Live's transport resolution

var state = {
    id: 0, score: 0, bpm: 120, tracks: 4, steps: 16, beats: 4, cells: [], notes: [],
    running: false, tempo: 120, sync: null,
    buffers: ["ddA", "ddB"], loading: -1, playing: -1, pending: -1,
    likes: 0, dislikes: 0, ratings: 0, version: 0,
    taking: false, onsets: 0, feel: [],
    gridId: 0, daemonCells: [], drawing: false, edits: [], editing: false,
    soundTrack: 0, soundKeys: [], grids: []
};

function args(a) {
    return Array.prototype.slice.call(a);
}

function say(text) {
    outlet(OUT_STATUS, "set", text);
}

function counters() {
    var sync = state.sync;
    var clock = "";
    if (sync && sync.source !== "internal") {   // following a host: its clock, its tempo, or that it stopped
        clock = "  " + sync.source + " " + (sync.running ? sync.bpm.toFixed(1) + " bpm" : "stopped");
    }
    outlet(OUT_COUNT, "set", "likes " + state.likes + "  dislikes " + state.dislikes +
           "  critic v" + state.version + clock);
}

// ---------------------------------------------------------------- daemon replies

// /dd/candidate id score bpm loop_wav preview_wav midi_file trained_on
function candidate(id, score, bpm, loopWav) {
    state.id = id;
    state.score = score;
    state.bpm = bpm;
    say("candidate " + id + "  score " + score.toFixed(2));
    if (loopWav !== undefined) {
        load(loopWav);
    }
}

// /dd/samples id name...: the number of names is the number of tracks. The daemon
// sends it after /dd/grid, so a grid drawn with another track count is redrawn.
function samples(id) {
    var names = args(arguments).slice(1);
    if (names.length > 0 && names.length !== state.tracks) {
        state.tracks = names.length;
        if (state.cells.length > 0) {
            draw(state.cells);
        }
    }
    askSounds();                     // a new loop: the sound menu, once in use, offers its track's sounds
}

// /dd/shape tracks steps beats: the grid of the candidates that follow. The matrixctrl
// takes the new rows and columns; loops, onsets and captured clips are that many beats.
function shape(tracks, steps, beats) {
    if (!(tracks >= 1 && steps >= 1 && beats >= 1 && steps % beats === 0)) {
        say("shape: " + tracks + " tracks x " + steps + " steps in " + beats + " beats is not a grid");
        return;
    }
    if (tracks !== state.tracks || steps !== state.steps) {
        outlet(OUT_GRID, "rows", tracks);
        outlet(OUT_GRID, "columns", steps);
    }
    state.tracks = tracks;
    state.steps = steps;
    state.beats = beats;
    showGrid();
}

// grids steps beats steps beats ...: the grids the daemon plays (the patch's loadmess, written from its table),
// offered in the grid menu with the one playing shown chosen.
function grids() {
    var a = args(arguments);
    state.grids = [];
    outlet(OUT_GRIDS, "clear");
    for (var i = 0; i + 1 < a.length; i += 2) {
        state.grids.push([a[i], a[i + 1]]);
        outlet(OUT_GRIDS, "append", a[i] + " in " + a[i + 1] + " beats");
    }
    showGrid();
}

function showGrid() {
    for (var i = 0; i < state.grids.length; i++) {
        if (state.grids[i][0] === state.steps && state.grids[i][1] === state.beats) {
            outlet(OUT_GRIDS, "set", i);
        }
    }
}

// A choice in the grid menu (its index): the daemon plays that grid from the next loop (/dd/set/grid), and its
// /dd/shape redraws the matrix. The grid playing already: nothing sent.
function gridpick(index) {
    var g = state.grids[index];
    if (g === undefined || (g[0] === state.steps && g[1] === state.beats)) {
        return;
    }
    outlet(OUT_OSC, "/dd/set/grid", g[0], g[1]);
}

// /dd/grid id cells...: velocities row by row, 0 a rest (the cell edits still to send shown over them)
function grid(id) {
    state.gridId = id;
    state.daemonCells = args(arguments).slice(1);
    state.cells = state.daemonCells.slice();
    for (var i = 0; i < state.edits.length; i++) {
        var e = state.edits[i];
        if (e[0] !== "sound") {
            state.cells[(e[0] - 1) * state.steps + e[1]] = e[2];
        }
    }
    draw(state.cells);
}

function draw(cells) {
    var tracks = state.tracks;
    var steps = Math.floor(cells.length / tracks);
    if (steps < 1 || steps * tracks !== cells.length) {
        say("grid of " + cells.length + " cells does not fit " + tracks + " tracks");
        return;
    }
    state.drawing = true;            // what the matrixctrl sends back meanwhile is our own drawing, not a click
    try {
        outlet(OUT_GRID, "clear");
        for (var t = 0; t < tracks; t++) {
            for (var s = 0; s < steps; s++) {
                var lit = level(cells[t * steps + s]);
                if (lit > 0) {
                    outlet(OUT_GRID, s, t, lit);
                }
            }
        }
    } finally {
        state.drawing = false;
    }
}

// ---------------------------------------------------------------- editing is rating (both patches)

// The matrixctrl's three levels a cell (@range 3; a click steps rest -> hit -> accent -> rest): their velocities
// (dd_live.VELOCITY_LEVELS' "normal" and "accent", protocol.json's "velocities"), and the level a velocity is shown at.
var LEVELS = [0, 100, 127];

function level(velocity) {
    return velocity > LEVELS[1] ? 2 : velocity > 0 ? 1 : 0;
}

// A click on the matrixctrl ("column row value"): the cell's hit added, made an accent or taken away, sent as
// /dd/edit id track step velocity on the loop the grid shows. The edited loop comes back as a candidate of its
// own (/dd/edited), and Like keeps it. One edit is in flight at a time, each on the loop the last one made;
// clicks meanwhile wait their turn, shown on the grid. A cell already as the click leaves it is no edit.
function cell(col, row, value) {
    var i = row * state.steps + col;
    if (state.drawing || !state.gridId || row < 0 || col < 0 || row >= state.tracks || col >= state.steps ||
        i >= state.cells.length) {
        return;
    }
    var velocity = LEVELS[Math.max(0, Math.min(LEVELS.length - 1, Math.round(value)))];
    if (level(state.cells[i]) === level(velocity)) {
        return;
    }
    state.cells[i] = velocity;
    state.edits.push([row + 1, col, velocity]);
    pumpEdits();
}

function pumpEdits() {
    if (state.editing || state.edits.length === 0) {
        return;
    }
    var e = state.edits.shift();
    state.editing = true;
    if (e[0] === "sound") {
        outlet(OUT_OSC, "/dd/edit/sound", state.gridId, e[1], e[2]);
        say("edit: track " + e[1] + " plays " + stem(e[2]) + " (Like keeps it)");
        return;
    }
    outlet(OUT_OSC, "/dd/edit", state.gridId, e[0], e[1], e[2]);
    say("edit: track " + e[0] + " step " + (e[1] + 1) + (e[2] > LEVELS[1] ? " accent" : e[2] > 0 ? " on" : " off") +
        " (Like keeps it)");
}

// ---------------------------------------------------------------- a track's sound (both patches)

// The track number box: the track whose sound the menu offers to change, asked of the daemon for the loop shown
// (/dd/sounds id track); from then on the menu follows each new loop.
function soundtrack(track) {
    state.soundTrack = Math.max(1, Math.min(state.tracks, Math.round(track)));
    askSounds();
}

function askSounds() {
    if (state.soundTrack > 0 && state.gridId) {
        outlet(OUT_OSC, "/dd/sounds", state.gridId, state.soundTrack);
    }
}

// /dd/sounds id track keys...: the menu's items (file names), the track's own sound (the first) shown chosen.
// An answer for a loop or a track no longer shown is let go.
function sounds(id, track) {
    if (id !== state.gridId || track !== state.soundTrack) {
        return;
    }
    state.soundKeys = args(arguments).slice(2);
    outlet(OUT_SOUNDS, "clear");
    for (var i = 0; i < state.soundKeys.length; i++) {
        outlet(OUT_SOUNDS, "append", stem(state.soundKeys[i]));
    }
    outlet(OUT_SOUNDS, "set", 0);
}

// A choice in the menu (its index): the track plays that sound, an edit (/dd/edit/sound) in the edits' queue.
function soundpick(index) {
    var key = state.soundKeys[index];
    if (key === undefined || index === 0 || !state.gridId) {   // 0: the sound it plays already
        return;
    }
    state.edits.push(["sound", state.soundTrack, key]);
    pumpEdits();
}

function stem(key) {
    return String(key).split("/").pop().replace(/\.[^.]*$/, "");
}

// /dd/edited id parent root: the edit's loop, a candidate of its own
function edited(id, parent, root) {
    state.editing = false;
    state.gridId = id;
    say("loop " + id + " edited from " + parent + ": Like keeps it (and says " + root + " was not it)");
    pumpEdits();
}

// /dd/notes id (pitch, start in beats, velocity)...
function notes(id) {
    var a = args(arguments).slice(1);
    if (a.length % 3 !== 0) {
        say("notes: " + a.length + " numbers is not a list of (pitch, beat, velocity)");
        return;
    }
    var list = [];
    for (var i = 0; i < a.length; i += 3) {
        list.push({pitch: a[i], beat: a[i + 1], velocity: a[i + 2]});
    }
    state.notes = list;
    state.id = id;
}

// /dd/rated id label likes dislikes
function rated(id, label, likes, dislikes) {
    state.likes = likes;
    state.dislikes = dislikes;
    counters();
    say(label + "d " + id);
}

// /dd/status ratings likes dislikes version queue
function status(ratings, likes, dislikes, version) {
    state.ratings = ratings;
    state.likes = likes;
    state.dislikes = dislikes;
    state.version = version;
    counters();
}

// /dd/sync source bpm phase running: the clock the drums follow (shown with the counters when it is a host's)
function sync(source, bpm, phase, running) {
    state.sync = {source: String(source), bpm: Number(bpm), phase: Number(phase), running: Number(running) === 1};
    counters();
}

// /dd/trained version ratings loss
function trained(version, ratings) {
    state.version = version;
    counters();
    say("critic v" + version + " trained on " + ratings + " ratings");
}

// /dd/exported id dir
function exported(id, dir) {
    say("exported " + id + " to " + dir);
}

// /dd/error code message (named so as not to hide Max's own error())
function dderror(code, message) {
    say("error " + code + ": " + args(arguments).slice(1).join(" "));
    if (state.editing) {             // an edit refused: the grid shows the loop as the daemon has it
        state.editing = false;
        state.edits = [];
        state.cells = state.daemonCells.slice();
        draw(state.cells);
    }
}

// /dd/take onsets matched gap_ms centred_gap_ms takes
function take(onsets, matched, gapMs, centredMs, takes) {
    say("take " + takes + ": " + matched + " of " + onsets + " onsets matched, gap " +
        Number(centredMs).toFixed(1) + " ms (" + Number(gapMs).toFixed(1) + " with latency)");
}

// /dd/feel offset...: the drums' timing per step (fractions of a step)
function feel() {
    state.feel = args(arguments);
    var most = 0;
    for (var i = 0; i < state.feel.length; i++) {
        most = Math.max(most, Math.abs(state.feel[i]));
    }
    say("feel: " + (most === 0 ? "straight" : "up to " + most.toFixed(2) + " of a step off the grid"));
}

// ---------------------------------------------------------------- takes (both patches)

// the Take toggle: 1 starts a take, 0 ends it (the daemon then moves the feel)
function taketoggle(on) {
    state.taking = on !== 0;
    state.onsets = 0;
    outlet(OUT_OSC, state.taking ? "/dd/take/start" : "/dd/take/end");
    say(state.taking ? "take: play along" : "take ended");
}

function sendOnset(beat) {
    if (!state.taking) {
        return;  // the human playing between takes is not an error
    }
    var bar = state.beats;
    beat = ((beat % bar) + bar) % bar;
    state.onsets += 1;
    outlet(OUT_OSC, "/dd/onset", beat);
}

// standalone: the audition loop's phase (0-1, groove~'s sync outlet) when an attack was heard
function phase(p) {
    sendOnset(p * state.beats);
}

// device: Live's transport position when a note came into the track
function onsetat(bars, beats, units) {
    sendOnset((beats - 1) + units / TICKS_PER_BEAT);
}

// ---------------------------------------------------------------- audition (standalone patch)

// Load a loop into the buffer that is not playing; it starts at the next loop end.
function load(path) {
    var next = state.playing === 0 ? 1 : 0;
    state.loading = next;
    outlet(next === 0 ? OUT_BUF_A : OUT_BUF_B, "replace", path);
}

// buffer~ finished reading (its right outlet): the loaded buffer waits for the loop end.
function loaded() {
    if (state.loading < 0) {
        return;
    }
    state.pending = state.loading;
    state.loading = -1;
    if (state.playing < 0) {  // nothing playing yet: start at once
        wrap();
        outlet(OUT_GROOVE, "startloop");
    }
}

// groove~ wrapped around (the bar line): switch to the pending buffer, if any.
function wrap() {
    if (state.pending < 0) {
        return;
    }
    outlet(OUT_GROOVE, "set", state.buffers[state.pending]);
    state.playing = state.pending;
    state.pending = -1;
}

// ---------------------------------------------------------------- playback in Live (device)

function tempo(bpm) {
    if (bpm > 0) {
        state.tempo = bpm;
    }
}

function running(on) {
    state.running = on !== 0;
}

// Live's transport position at a 16th: play the notes that start within this 16th,
// each delayed by its offset from the 16th (swing and micro-timing kept). The loop is
// state.beats beats long: Live's time signature should match it (3/4 for a 3-beat grid).
function pos(bars, beats, units) {
    if (!state.running) {
        return;
    }
    var sixteenth = Math.round(((beats - 1) * TICKS_PER_BEAT + units) / (TICKS_PER_BEAT / STEPS_PER_BEAT));
    step(sixteenth % (STEPS_PER_BEAT * state.beats));
}

function step(k) {
    var msPerStep = 60000 / state.tempo / STEPS_PER_BEAT;
    for (var i = 0; i < state.notes.length; i++) {
        var n = state.notes[i];
        var at = n.beat * STEPS_PER_BEAT;
        if (Math.floor(at + 1e-6) === k) {
            outlet(OUT_DELAY, Math.max(0, (at - k) * msPerStep));
            outlet(OUT_NOTE, n.pitch, n.velocity);
        }
    }
}

// ---------------------------------------------------------------- capture (device)

function hasFunction(api, name) {
    return String(api.info).indexOf("function " + name) >= 0;
}

function writeNotes(clip) {
    var n = state.notes;
    var i;
    if (hasFunction(clip, "add_new_notes")) {  // Live 11 and later
        var list = [];
        for (i = 0; i < n.length; i++) {
            list.push({pitch: n[i].pitch, start_time: n[i].beat, duration: NOTE_BEATS,
                       velocity: n[i].velocity, mute: 0});
        }
        clip.call("add_new_notes", {notes: list});
        return;
    }
    clip.call("set_notes");  // Live 10
    clip.call("notes", n.length);
    for (i = 0; i < n.length; i++) {
        clip.call("note", n[i].pitch, n[i].beat.toFixed(6), NOTE_BEATS.toFixed(6), n[i].velocity, 0);
    }
    clip.call("done");
}

// Write the current candidate into the first empty Session clip slot of this device's track.
function capture() {
    if (state.notes.length === 0) {
        say("capture: no candidate yet");
        return;
    }
    var trackPath = "this_device canonical_parent";
    var track = new LiveAPI(trackPath);
    var count = track.getcount("clip_slots");
    for (var i = 0; i < count; i++) {
        var slotPath = trackPath + " clip_slots " + i;
        var slot = new LiveAPI(slotPath);
        if (Number(slot.get("has_clip")) !== 0) {
            continue;
        }
        slot.call("create_clip", state.beats);
        var clip = new LiveAPI(slotPath + " clip");
        var name = "dd " + state.id + " " + state.score.toFixed(2);
        clip.set("name", name);
        writeNotes(clip);
        say("captured '" + name + "' into slot " + (i + 1));
        return;
    }
    say("capture: no empty clip slot on this track (nothing overwritten)");
}

if (typeof module !== "undefined") {
    module.exports = {state: state};
}
