// Tests of dd_live/max/dd_live.js under node, with a fake LiveAPI standing in for Ableton Live.
// Run: node --test tests/js/  (tests/test_max_patches.py runs it under pytest).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const SOURCE = fs.readFileSync(path.join(__dirname, "..", "..", "..", "dd_live", "max", "dd_live.js"), "utf8");

// A track with clip slots; a slot path is "this_device canonical_parent clip_slots N [clip]".
function fakeLive({slots, modern = true}) {
  const calls = [];
  class LiveAPI {
    constructor(p) {
      this.path = p;
      const m = /clip_slots (\d+)( clip)?$/.exec(p);
      this.slot = m ? Number(m[1]) : null;
      this.isClip = Boolean(m && m[2]);
      if (this.isClip) {
        assert.ok(slots[this.slot].clip, `no clip at slot ${this.slot}`);
      }
    }
    get info() {
      if (!this.isClip) return "type ClipSlot";
      return "type Clip\nproperty name str\nfunction set_notes\n" + (modern ? "function add_new_notes\n" : "");
    }
    getcount(what) {
      assert.equal(this.path, "this_device canonical_parent");
      assert.equal(what, "clip_slots");
      return slots.length;
    }
    get(prop) {
      assert.equal(prop, "has_clip");
      return [slots[this.slot].clip ? 1 : 0];
    }
    set(prop, value) {
      assert.ok(this.isClip);
      calls.push(["set", this.slot, prop, value]);
      slots[this.slot].clip[prop] = value;
    }
    call(fn, ...a) {
      calls.push(["call", this.slot, fn, ...a]);
      const s = slots[this.slot];
      if (!this.isClip) {
        assert.equal(fn, "create_clip");
        assert.equal(s.clip, null, "create_clip on an occupied slot");
        s.clip = {length: a[0], notes: [], name: ""};
        return;
      }
      if (fn === "add_new_notes") {
        assert.ok(modern, "add_new_notes called where the Live API has none");
        s.clip.notes.push(...a[0].notes);
      } else if (fn === "set_notes") {
        s.clip.legacy = [];
      } else if (fn === "note") {
        const [pitch, start, duration, velocity, mute] = a;
        s.clip.legacy.push({pitch, start_time: Number(start), duration: Number(duration), velocity, mute});
      } else if (fn === "done") {
        s.clip.notes.push(...s.clip.legacy);
      } else if (fn !== "notes") {
        assert.fail(`unexpected call ${fn}`);
      }
    }
  }
  return {LiveAPI, calls};
}

function load(live) {
  const out = [];
  const ctx = {LiveAPI: live ? live.LiveAPI : undefined, outlet: (n, ...a) => out.push([n, ...a]), post() {},
               inlets: 0, outlets: 0};
  vm.createContext(ctx);
  vm.runInContext(SOURCE, ctx, {filename: "dd_live.js"});
  return {ctx, out};
}

// a 4 x 16 pattern: kick on the beats, snare on 2 and 4, hats on the off-beats, one swung perc
function feed(ctx) {
  const hits = [];
  for (let b = 0; b < 4; b++) hits.push([36, b, 100]);
  hits.push([37, 1, 110], [37, 3, 90]);
  for (let b = 0; b < 4; b++) hits.push([38, b + 0.5, 64]);
  hits.push([39, 3.3125, 127]);
  hits.sort((x, y) => x[1] - y[1]);
  ctx.candidate(7, 0.8361, 120, "/tmp/loop.wav");
  ctx.notes(7, ...hits.flat());
  return hits;
}

function slots(occupied) {
  return occupied.map((o) => ({clip: o ? {name: "mine", notes: [{pitch: 60}], length: 8} : null}));
}

test("a 4 x 16 pattern becomes a one-bar clip in the first empty slot", () => {
  const track = slots([true, true, false, false]);
  const live = fakeLive({slots: track});
  const {ctx, out} = load(live);
  const hits = feed(ctx);
  ctx.capture();
  assert.deepEqual(track[0].clip, {name: "mine", notes: [{pitch: 60}], length: 8});
  assert.deepEqual(track[1].clip, {name: "mine", notes: [{pitch: 60}], length: 8});
  assert.equal(track[3].clip, null);
  const clip = track[2].clip;
  assert.equal(clip.length, 4);
  assert.equal(clip.name, "dd 7 0.84");
  assert.deepEqual(clip.notes.map((n) => [n.pitch, n.start_time, n.velocity]), hits);
  assert.ok(clip.notes.every((n) => n.duration === 0.125 && n.mute === 0));
  assert.deepEqual(out.at(-1), [3, "set", "captured 'dd 7 0.84' into slot 3"]);
});

test("Live 10 (no add_new_notes) gets set_notes with the same notes", () => {
  const track = slots([false]);
  const {ctx} = load(fakeLive({slots: track, modern: false}));
  const hits = feed(ctx);
  ctx.capture();
  assert.deepEqual(track[0].clip.notes.map((n) => [n.pitch, n.start_time, n.velocity]), hits);
});

test("a full track is never touched", () => {
  const track = slots([true, true]);
  const live = fakeLive({slots: track});
  const {ctx, out} = load(live);
  feed(ctx);
  ctx.capture();
  assert.deepEqual(live.calls, []);
  assert.ok(track.every((s) => s.clip.name === "mine" && s.clip.notes.length === 1));
  assert.match(out.at(-1)[2], /no empty clip slot/);
});

test("capture before any candidate says so and touches nothing", () => {
  const live = fakeLive({slots: slots([false])});
  const {ctx, out} = load(live);
  ctx.capture();
  assert.deepEqual(live.calls, []);
  assert.match(out.at(-1)[2], /no candidate yet/);
});

test("playback follows the transport: notes of each 16th, delayed by their offsets", () => {
  const {ctx, out} = load(null);
  feed(ctx);
  ctx.tempo(120);
  out.length = 0;
  ctx.pos(1, 1, 0);
  assert.deepEqual(out, []);  // transport stopped: nothing
  ctx.running(1);
  ctx.pos(1, 1, 0);         // beat 1: kick
  assert.deepEqual(out, [[1, 0], [0, 36, 100]]);
  out.length = 0;
  ctx.pos(3, 4, 120);       // the 2nd 16th of beat 4 (beat 3.25): the perc at 3.3125, 31.25 ms late
  assert.deepEqual(out, [[1, 31.25], [0, 39, 127]]);
  out.length = 0;
  ctx.pos(2, 2, 238);       // a tick early still counts as the 16th at beat 1.5: the hat
  assert.deepEqual(out, [[1, 0], [0, 38, 64]]);
});

test("grid, counters, errors and the audition buffers", () => {
  const {ctx, out} = load(null);
  ctx.samples(3, "kick_01", "snare_02", "hat_closed_03");
  const cells = new Array(3 * 16).fill(0);
  cells[0] = 100; cells[16 + 4] = 90; cells[2 * 16 + 15] = 1; cells[2 * 16 + 2] = 127;
  out.length = 0;
  ctx.grid(3, ...cells);
  // a hit up to the normal velocity is level 1, louder is an accent: level 2
  assert.deepEqual(out, [[2, "clear"], [2, 0, 0, 1], [2, 4, 1, 1], [2, 2, 2, 2], [2, 15, 2, 1]]);
  out.length = 0;
  ctx.grid(3, 1, 2, 3, 4);  // 4 cells cannot be 3 tracks
  assert.match(out[0][2], /does not fit 3 tracks/);
  // the daemon sends /dd/grid before /dd/samples: a 2-track grid drawn as 3 tracks is redrawn as 2
  const two = new Array(2 * 16).fill(0);
  two[3] = 80; two[16 + 9] = 70;
  out.length = 0;
  ctx.grid(4, ...two);
  ctx.samples(4, "kick_01", "snare_02");
  assert.deepEqual(out.at(-3), [2, "clear"]);
  assert.deepEqual(out.slice(-2), [[2, 3, 0, 1], [2, 9, 1, 1]]);
  ctx.rated(3, "like", 5, 2);
  assert.deepEqual(out.filter((o) => o[0] === 4).at(-1), [4, "set", "likes 5  dislikes 2  critic v0"]);
  // following a host's MIDI clock: its tempo with the counters, or that it stopped; the internal clock says nothing
  ctx.sync("midi", 123.04, 0.25, 1);
  assert.deepEqual(out.at(-1), [4, "set", "likes 5  dislikes 2  critic v0  midi 123.0 bpm"]);
  ctx.sync("midi", 123.04, -1, 0);
  assert.deepEqual(out.at(-1), [4, "set", "likes 5  dislikes 2  critic v0  midi stopped"]);
  ctx.sync("internal", 120, -1, 0);
  assert.deepEqual(out.at(-1), [4, "set", "likes 5  dislikes 2  critic v0"]);
  ctx.dderror("unknown-id", "no candidate 99");
  assert.deepEqual(out.at(-1), [3, "set", "error unknown-id: no candidate 99"]);
  // first loop: buffer A, started at once; second: buffer B, switched at the loop end
  out.length = 0;
  ctx.candidate(1, 0.5, 120, "/a.wav");
  ctx.loaded();
  ctx.candidate(2, 0.6, 120, "/b.wav");
  ctx.loaded();
  assert.deepEqual(out.filter((o) => o[0] >= 5), [[5, "replace", "/a.wav"], [7, "set", "ddA"], [7, "startloop"],
                                                  [6, "replace", "/b.wav"]]);
  out.length = 0;
  ctx.wrap();
  ctx.wrap();  // nothing pending: no switch
  assert.deepEqual(out, [[7, "set", "ddB"]]);
});

test("takes: the Take toggle starts and ends one, onsets go out with their beat only during it", () => {
  const {ctx, out} = load(null);
  const osc = () => out.filter((o) => o[0] === 8).map((o) => o.slice(1));
  ctx.phase(0.25);          // the human playing before a take: nothing sent
  ctx.onsetat(1, 2, 0);
  assert.deepEqual(osc(), []);
  ctx.taketoggle(1);
  ctx.phase(0.5);           // standalone: groove~ halfway through the bar = beat 2
  ctx.onsetat(3, 4, 240);   // device: bar 3, beat 4 and half a beat = beat 3.5 of the bar
  ctx.phase(1.0);           // the loop's end is the next bar's start
  ctx.taketoggle(0);
  ctx.phase(0.75);
  assert.deepEqual(osc(), [["/dd/take/start"], ["/dd/onset", 2], ["/dd/onset", 3.5], ["/dd/onset", 0],
                           ["/dd/take/end"]]);
  ctx.take(48, 46, 21.54, 9.87, 3);
  assert.deepEqual(out.at(-1), [3, "set", "take 3: 46 of 48 onsets matched, gap 9.9 ms (21.5 with latency)"]);
  ctx.feel(0, 0.25, 0, -0.125);
  assert.deepEqual(out.at(-1), [3, "set", "feel: up to 0.25 of a step off the grid"]);
  ctx.feel(0, 0, 0);
  assert.deepEqual(out.at(-1), [3, "set", "feel: straight"]);
});

test("/dd/shape: a 3/4 grid of 12 steps resizes the matrix; loops, onsets and clips are 3 beats", () => {
  const track = slots([false]);
  const {ctx, out} = load(fakeLive({slots: track}));
  out.length = 0;
  ctx.shape(4, 16, 4);      // the shape it already has: the matrix is left alone
  assert.deepEqual(out, []);
  ctx.shape(4, 12, 3);
  assert.deepEqual(out, [[2, "rows", 4], [2, "columns", 12]]);
  const cells = new Array(4 * 12).fill(0);
  cells[11] = 100; cells[12 + 6] = 90;
  out.length = 0;
  ctx.grid(1, ...cells);
  assert.deepEqual(out, [[2, "clear"], [2, 11, 0, 1], [2, 6, 1, 1]]);
  ctx.candidate(1, 0.5, 120);
  ctx.notes(1, 36, 0, 100, 37, 1.5, 90, 38, 2.75, 70);
  ctx.tempo(120);
  ctx.running(1);
  out.length = 0;
  ctx.pos(2, 1, 0);         // the next bar of a 3/4 set: the loop starts again
  ctx.pos(2, 3, 360);       // beat 2.75 of the bar: the last note
  assert.deepEqual(out, [[1, 0], [0, 36, 100], [1, 0], [0, 38, 70]]);
  ctx.taketoggle(1);
  ctx.phase(0.5);           // halfway through a 3-beat loop: beat 1.5
  assert.deepEqual(out.filter((o) => o[0] === 8).at(-1), [8, "/dd/onset", 1.5]);
  ctx.capture();
  assert.equal(track[0].clip.length, 3);
  out.length = 0;
  ctx.shape(4, 16, 3);      // 16 steps do not divide into 3 beats: refused, nothing changes
  assert.match(out[0][2], /is not a grid/);
  assert.equal(ctx.state.beats, 3);
});

test("a click on a cell edits the loop: one /dd/edit in flight, the rest queued; drawing is no click", () => {
  const {ctx, out} = load();
  const cells = new Array(64).fill(0);
  cells[0] = 100;                                  // kick on step 1
  // a matrixctrl that echoes every cell it is told to change, "clear" too (the worst case): the js must not take
  // its own drawing for clicks
  const shown = new Map();
  ctx.outlet = (n, ...a) => {
    out.push([n, ...a]);
    if (n !== 2) return;
    const changed = a[0] === "clear" ? [...shown.keys()].map((k) => [...k.split(",").map(Number), 0])
      : a.length === 3 ? [a] : [];
    for (const [c, r, v] of changed) {
      if (v) shown.set(`${c},${r}`, v); else shown.delete(`${c},${r}`);
      ctx.cell(c, r, v);
    }
  };
  ctx.grid(7, ...cells);
  const edits = () => out.filter((m) => m[0] === 8 && m[1] === "/dd/edit").map((m) => m.slice(2));
  assert.deepEqual(edits(), []);
  ctx.cell(4, 0, 1);                               // kick on step 5: sent at once
  ctx.cell(0, 0, 1);                               // already on: no edit
  ctx.cell(8, 1, 1);                               // snare on step 9: waits for the first edit's answer
  ctx.cell(0, 0, 0);                               // kick off on step 1: waits too
  assert.deepEqual(edits(), [[7, 1, 4, 100]]);
  ctx.grid(9, ...cells.map((v, i) => (i === 4 ? 100 : v)));   // the edited loop's grid: queued clicks still shown
  assert.equal(ctx.state.cells[16 + 8], 100);
  assert.equal(ctx.state.cells[0], 0);
  ctx.edited(9, 7, 7);
  assert.deepEqual(edits(), [[7, 1, 4, 100], [9, 2, 8, 100]]);
  ctx.edited(10, 9, 7);
  assert.deepEqual(edits(), [[7, 1, 4, 100], [9, 2, 8, 100], [10, 1, 0, 0]]);
  ctx.edited(11, 10, 7);
  ctx.cell(5, 2, 2);                               // a click on a hit: an accent (the matrixctrl's third level)
  assert.deepEqual(edits().at(-1), [11, 3, 5, 127]);
  ctx.edited(12, 11, 7);
  ctx.cell(5, 2, 2);                               // an accent already: no edit
  assert.equal(edits().length, 4);
  ctx.cell(12, 3, 1);                              // refused by the daemon: the grid goes back to its loop
  ctx.cell(13, 3, 1);
  ctx.dderror("args", "no such candidate");
  assert.equal(ctx.state.editing, false);
  assert.equal(ctx.state.edits.length, 0);
  assert.equal(ctx.state.cells[3 * 16 + 12], 0);
  assert.equal(edits().length, 5);
});

test("the sound menu: once a track is chosen, its sounds are asked for each loop; a choice is an edit in the queue", () => {
  const {ctx, out} = load();
  const osc = () => out.filter((m) => m[0] === 8).map((m) => m.slice(1));
  const menu = () => out.filter((m) => m[0] === 9).map((m) => m.slice(1));
  ctx.grid(7, ...new Array(64).fill(0));
  ctx.samples(7, "kick_01", "snare_02", "hat_03", "perc_04");
  assert.deepEqual(osc(), []);                     // the menu not in use: nothing asked
  ctx.soundtrack(2);
  assert.deepEqual(osc(), [["/dd/sounds", 7, 2]]);
  ctx.sounds(7, 1, "kick/k.wav");                  // an answer for another track: let go
  ctx.sounds(6, 2, "snare/old.wav");               // ... for a loop no longer shown: let go
  assert.deepEqual(menu(), []);
  ctx.sounds(7, 2, "snare/snare_02.wav", "snare/snare_05.flac", "clap/clap 1.wav");
  assert.deepEqual(menu(), [["clear"], ["append", "snare_02"], ["append", "snare_05"], ["append", "clap 1"],
    ["set", 0]]);
  ctx.soundpick(0);                                // the sound it plays already: no edit
  assert.equal(osc().length, 1);
  ctx.cell(3, 0, 1);                               // a cell edit goes first ...
  ctx.soundpick(2);                                // ... the sound waits its turn, on the loop that edit makes
  assert.deepEqual(osc().slice(1), [["/dd/edit", 7, 1, 3, 100]]);
  ctx.edited(8, 7, 7);
  assert.deepEqual(osc().at(-1), ["/dd/edit/sound", 8, 2, "clap/clap 1.wav"]);
  assert.match(out.filter((m) => m[0] === 3).at(-1)[2], /track 2 plays clap 1/);
  ctx.edited(9, 8, 7);
  ctx.grid(9, ...new Array(64).fill(0));
  ctx.samples(9, "kick_01", "clap 1", "hat_03", "perc_04");   // the new loop: the menu asks again
  assert.deepEqual(osc().at(-1), ["/dd/sounds", 9, 2]);
  ctx.soundtrack(99);                              // beyond the loop's tracks: its last
  assert.deepEqual(osc().at(-1), ["/dd/sounds", 9, 4]);
});

test("the grid menu: the daemon's grids offered, the one playing shown; a choice asks the daemon for it", () => {
  const {ctx, out} = load();
  const osc = () => out.filter((m) => m[0] === 8).map((m) => m.slice(1));
  const menu = () => out.filter((m) => m[0] === 10).map((m) => m.slice(1));
  ctx.grids(12, 3, 16, 4, 24, 6);
  assert.deepEqual(menu(), [["clear"], ["append", "12 in 3 beats"], ["append", "16 in 4 beats"],
    ["append", "24 in 6 beats"], ["set", 1]]);     // a new js plays 16 in 4 until told otherwise
  ctx.gridpick(1);                                 // the grid playing already: nothing sent
  ctx.gridpick(7);                                 // no such item: nothing sent
  assert.deepEqual(osc(), []);
  ctx.gridpick(2);
  assert.deepEqual(osc(), [["/dd/set/grid", 24, 6]]);
  out.length = 0;
  ctx.shape(4, 24, 6);                             // the daemon's answer: the matrix redrawn, the menu shows it
  assert.deepEqual(out, [[2, "rows", 4], [2, "columns", 24], [10, "set", 2]]);
  out.length = 0;
  ctx.shape(4, 16, 2);                             // a grid the menu does not offer: nothing chosen in it
  assert.deepEqual(menu(), []);
  ctx.gridpick(2);
  assert.deepEqual(osc(), [["/dd/set/grid", 24, 6]]);
});
