// dd_live's page: the address table comes from /protocol.json (the daemon's protocol.py), commands go out and
// replies come in over one WebSocket as {"address": ..., "args": {name: value, ...}} (the table's argument names);
// the loop plays through Web Audio.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);
const dd = {                                   // the page's state (read by the browser tests too)
  table: null, ws: null, connected: false, shape: { tracks: 4, steps: 16, beats: 4 },
  candidate: null, grid: null, samples: [], ratings: [], notesById: new Map(), controls: {},
  editClick: null, editLatencies: [], afterEdits: null, latencies: [], pending: null, errors: [],
  audio: { ctx: null, playing: false, source: null, buffer: null, start: 0, loaded: 0, want: 0 },
  settings: null, retry: 500, ratingsAsked: 0, ratingsDone: 0, status: { text: "", error: false, at: 0 },
  playhead: { step: -1, source: "", late: [] }, columns: [], sync: null, edits: [], editing: false, kit: null, taps: [],
  midi: { access: null, inputs: 0, output: null, onsets: 0, sent: 0 },
};
window.dd = dd;

function byCommand(name) {
  return dd.table.addresses.find((a) => a.direction === "in" && a.command === name);
}

function send(command, args = []) {
  const entry = byCommand(command);
  if (!entry || !dd.ws || dd.ws.readyState !== WebSocket.OPEN) {
    say(`not connected: ${command} not sent`, { error: true });
    return false;
  }
  clearStatus();
  dd.ws.send(JSON.stringify({ address: entry.address, args }));
  return true;
}

const STATUS_S = 8;                             // a message stays this long unless a later action clears it

function say(text, { error = false, stay = false } = {}) {
  dd.status = { text, error, at: stay ? Infinity : performance.now() };
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

function clearStatus() {                         // a new action: what the last one said is done with
  if (dd.status.text) say("");
}

function withToken(url) {
  return `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

// ---------------------------------------------------------------- the connection

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws?token=${encodeURIComponent(token)}`);
  dd.ws = ws;
  let opened = false;
  ws.onopen = () => {
    opened = true;
    dd.connected = true;
    dd.retry = 500;
    $("conn").textContent = "connected";
    $("conn").className = "conn on";
    say("");
    dd.kit = null;              // the daemon may serve another session now (/dd/session/open): its kit and ids
    dd.notesById.clear();
    send("hello");
    loadLists();
    loadSongs();
  };
  ws.onmessage = (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch (err) {
      say(`unreadable reply: ${err}`);
      return;
    }
    handle(msg);
  };
  ws.onclose = () => {
    dd.connected = false;
    $("conn").textContent = "reconnecting";
    $("conn").className = "conn off";
    if (!opened) {
      say(token ? "cannot connect: the daemon is stopped, or the token is wrong (open the address dd-live serve printed)"
                : "no token in the address: open the address dd-live serve printed", { error: true, stay: true });
    }
    setTimeout(connect, dd.retry);
    dd.retry = Math.min(dd.retry * 2, 4000);
  };
}

// ---------------------------------------------------------------- replies

const handlers = {
  "/dd/candidate": ({ id, score, bpm }, msg) => {
    dd.candidate = { id, score, bpm, files: msg.files || {} };
    $("cid").textContent = id;
    $("edited").textContent = "";
    $("score").textContent = score === null ? "-" : score.toFixed(2);
    loadLoop(id, dd.candidate.files.loop_wav, bpm);
  },
  "/dd/shape": ({ tracks, steps, beats }) => { dd.shape = { tracks, steps, beats }; },
  "/dd/grid": ({ id, cells }) => {
    dd.grid = { id, cells: cells.slice(), daemon: cells };
    for (const e of dd.edits) if (e.cell !== undefined) dd.grid.cells[e.cell] = e.velocity;  // cell edits still to send
    drawGrid();
    if (dd.pending !== null && id !== dd.pending.from) {
      const t = dd.pending.t;
      const dom = performance.now() - t;
      dd.pending = null;
      requestAnimationFrame(() => dd.latencies.push({ dom, frame: performance.now() - t }));
    }
  },
  "/dd/samples": ({ names }) => { dd.samples = names; drawGrid(); },
  "/dd/notes": ({ id, notes }) => { dd.notesById.set(id, notes); trimNotes(); },
  "/dd/edited": ({ id, parent, root }) => {
    $("edited").textContent = `(edited from loop ${parent}; Like keeps it and says loop ${root} was not it)`;
    dd.editing = false;
    if (dd.editClick !== null) dd.editLatencies.push(performance.now() - dd.editClick);
    dd.editClick = null;
    pumpEdits();
  },
  "/dd/status": ({ ratings, likes, dislikes, version, queue }) => {
    loadRatings();             // sent on (re)connect and after an undo: the plot is drawn from the session's list
    $("ratings").textContent = ratings;
    $("likes").textContent = likes;
    $("dislikes").textContent = dislikes;
    $("version").textContent = version;
    $("queue").textContent = queue;
    hint(likes, dislikes);
  },
  "/dd/rated": ({ id, label, likes, dislikes }) => {
    const like = label === "like" ? 1 : 0;
    const given = dd.ratings.find((r) => r[0] === id);  // a rating replaced keeps its place, as in the database
    if (given) given[1] = like; else dd.ratings.push([id, like]);
    if (dd.ratingsAsked !== dd.ratingsDone) loadRatings();  // the list asked for may not hold this one: ask again
    $("likes").textContent = likes;
    $("dislikes").textContent = dislikes;
    $("ratings").textContent = likes + dislikes;
    hint(likes, dislikes);
    drawPlot();
    soon("sessions", loadLists, 1000);
  },
  "/dd/trained": ({ version }) => { $("version").textContent = version; },
  "/dd/settings": (args) => showSettings(args),
  "/dd/sync": ({ source, bpm, phase, running }) => {
    dd.sync = { bpm, phase, running, at: performance.now() };
    $("sync").textContent = source === "internal" ? "" : `${source} clock ${bpm ? bpm.toFixed(1) : "?"} bpm ${running ? "running" : "stopped"}`;
  },
  "/dd/exported": () => loadLists(),
  "/dd/song/done": ({ song, dir }) => songWritten(song, dir),              // songs.js
  "/dd/song/playing": ({ song, bar, bars }) => say(`playing ${song} from bar ${bar} of ${bars}`),
  "/dd/song/stopped": ({ song }) => say(`${song} stopped: the loop plays again`),
  "/dd/song/feel": ({ song, sections }) => {
    const parts = [];
    for (let i = 0; i + 1 < sections.length; i += 2) parts.push(`${sections[i]} ${sections[i + 1].toFixed(1)} ms`);
    say(`${song} after the take: ${parts.join(", ")}`);
  },
  "/dd/take": ({ onsets, matched, gap_ms }) => say(`take: ${matched} of ${onsets} onsets matched, ${gap_ms.toFixed(1)} ms off on average`),
  "/dd/error": ({ code, message }) => {
    dd.errors.push([code, message]);
    say(`${code}: ${message}`, { error: true });
    if (dd.editing) {                            // an edit refused: the grid shows the loop as the daemon has it
      dd.editing = false;
      dd.edits = [];
      dd.afterEdits = null;
      if (dd.grid) dd.grid.cells = dd.grid.daemon.slice();
      drawGrid();
    }
  },
};

const timers = {};
function soon(name, fn, ms) {                    // fn once, ms after the last ask
  clearTimeout(timers[name]);
  timers[name] = setTimeout(fn, ms);
}

function hint(likes, dislikes) {
  $("hint").textContent = likes === 0 && dislikes >= 5
    ? "Only dislikes so far: the loops move away from what you dislike, and a like (or an edited loop you keep) " +
      "shows the critic what to lean towards."
    : "";
}

function handle(msg) {
  const fn = handlers[msg.address];
  if (fn) fn(msg.args || {}, msg);
}

// ---------------------------------------------------------------- the grid and the plot

// shift-click steps through the table's edit velocities (ghost, soft, normal, accent); a click adds a normal hit
const velocities = () => Object.values(dd.table.velocities);

function drawGrid() {
  const table = $("grid");
  if (!dd.grid) return;
  const { tracks, steps, beats } = dd.shape;
  const perBeat = Math.max(1, Math.round(steps / beats));
  const locks = dd.settings ? dd.settings.locks : [];
  const rows = [];
  dd.columns = Array.from({ length: steps }, () => []);
  for (let t = 0; t < tracks; t++) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = dd.samples[t] || `track ${t + 1}`;
    th.title = `${th.textContent}: click to give track ${t + 1} another sound`;
    th.addEventListener("click", () => pickSound(t, th));
    tr.appendChild(th);
    for (let s = 0; s < steps; s++) {
      const v = dd.grid.cells[t * steps + s] || 0;
      const td = document.createElement("td");
      td.className = s % perBeat === 0 ? "cell beat" : "cell";
      if (s === dd.playhead.step) td.classList.add("now");
      if (v > 0) td.style.background = `rgba(var(--cell), ${(0.25 + 0.75 * v / 127).toFixed(3)})`;
      td.dataset.velocity = v;
      td.dataset.track = t + 1;
      td.dataset.step = s;
      td.addEventListener("click", (event) => editCell(t, s, event.shiftKey));
      dd.columns[s].push(td);
      tr.appendChild(td);
    }
    const lock = document.createElement("td");
    lock.className = "lock";
    lock.innerHTML = `<label><input type="checkbox" data-track="${t + 1}"> lock</label>`;
    const box = lock.querySelector("input");
    box.checked = Boolean(locks[t]);
    box.addEventListener("change", () => send("set_lock", [t + 1, box.checked ? 1 : 0]));
    tr.appendChild(lock);
    rows.push(tr);
  }
  table.replaceChildren(...rows);
}

// ---------------------------------------------------------------- editing is rating

function editCell(t, s, shift) {
  if (!dd.grid) return;
  const i = t * dd.shape.steps + s;
  const v = dd.grid.cells[i] || 0;
  const steps = velocities(), normal = dd.table.velocities.normal;
  let velocity = v > 0 ? 0 : normal;
  if (shift) velocity = v > 0 ? steps[(steps.findIndex((x) => x >= v) + 1) % steps.length] : normal;
  dd.grid.cells[i] = velocity;                   // shown at once; the daemon's loop follows
  dd.editClick = performance.now();
  dd.edits = dd.edits.filter((e) => e.cell !== i);
  dd.edits.push({ command: "edit", args: [t + 1, s, velocity], cell: i, velocity });
  drawGrid();
  pumpEdits();
}

function pumpEdits() {                           // one edit at a time, each on the loop the last one made
  if (!dd.editing && !dd.edits.length && dd.afterEdits) {
    const command = dd.afterEdits;
    dd.afterEdits = null;
    return press(command);
  }
  if (dd.editing || !dd.edits.length || !dd.grid) return;
  const e = dd.edits.shift();                    // a cell edit or a sound picked, on the loop shown now
  if (e.cell !== undefined && dd.grid.daemon[e.cell] === e.velocity) return pumpEdits();
  dd.editing = send(e.command, [dd.grid.id, ...e.args]);
}

async function pickSound(t, th) {
  if (!dd.grid || th.querySelector("select")) return;
  try {
    if (!dd.kit) dd.kit = (await fetch(withToken("/api/kit")).then((r) => r.json())).sounds;
  } catch (err) {
    say(`the kit could not be loaded: ${err.message || err}`, { error: true });
    return;
  }
  const name = dd.samples[t];
  const mine = dd.kit.find((x) => x.name === name);
  const choices = dd.kit.filter((x) => !mine || x.role === mine.role);
  const select = document.createElement("select");
  select.title = `a sound for track ${t + 1} (sounds of the same role: kicks for a kick, snares and claps for a snare ...)`;
  const groups = new Map();
  for (const x of choices) {
    if (!groups.has(x.category)) {
      const g = document.createElement("optgroup");
      g.label = x.category;
      groups.set(x.category, g);
      select.appendChild(g);
    }
    const o = document.createElement("option");
    o.value = x.key;
    o.textContent = x.name;
    o.selected = mine !== undefined && x.key === mine.key;
    groups.get(x.category).appendChild(o);
  }
  select.addEventListener("change", () => {
    dd.edits.push({ command: "edit_sound", args: [t + 1, select.value] });
    pumpEdits();
  });
  select.addEventListener("blur", () => drawGrid());
  th.replaceChildren(select);
  select.focus();
}

// ---------------------------------------------------------------- the playhead

function audioPosition(at) {                     // where the page's loop is at audio time `at`, 0-1 of the bar
  const a = dd.audio;
  if (!a.playing || !a.source || !a.ctx) return null;
  const dur = a.source.buffer.duration;
  return ((((at - a.start) % dur) + dur) % dur) / dur;
}

function tick() {
  requestAnimationFrame(tick);
  const steps = dd.shape.steps;
  const a = dd.audio;
  let pos = null;
  let source = "";
  if (a.playing && a.source) {                   // the page's own sound: what the speakers play now
    pos = audioPosition(audioTimeOf(performance.now()));
    source = "page";
  } else if (dd.sync && dd.sync.running && dd.sync.phase >= 0 && dd.sync.bpm > 0) {   // MIDI out's bar
    const bar = (60 / dd.sync.bpm) * dd.shape.beats;
    pos = (dd.sync.phase + (performance.now() - dd.sync.at) / 1000 / bar) % 1;
    source = "daemon";
  }
  const step = pos === null ? -1 : Math.min(steps - 1, Math.floor(pos * steps));
  if (step !== dd.playhead.step) {
    for (const td of dd.columns[dd.playhead.step] || []) td.classList.remove("now");
    for (const td of dd.columns[step] || []) td.classList.add("now");
    if (source === "page" && step >= 0) {        // how far past the step's start the bar was when it was drawn
      const bar = a.source.buffer.duration;
      dd.playhead.late.push(((pos * steps - step) * bar) / steps * 1000);
      if (dd.playhead.late.length > 2000) dd.playhead.late.splice(0, 1000);
    }
  }
  dd.playhead.step = step;
  dd.playhead.source = source;
}

function drawPlot() {
  const c = $("plot");
  const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  g.strokeStyle = "#3a3e48";
  g.beginPath();
  g.moveTo(0, c.height / 2);
  g.lineTo(c.width, c.height / 2);
  g.stroke();
  const r = dd.ratings.map((x) => x[1]);
  if (r.length < 1) return;
  const span = 10;                              // the like rate over the last ten ratings
  const pts = r.map((_, i) => {
    const part = r.slice(Math.max(0, i - span + 1), i + 1);
    return part.reduce((a, b) => a + b, 0) / part.length;
  });
  g.strokeStyle = "#2f9e57";
  g.lineWidth = 2;
  g.beginPath();
  pts.forEach((p, i) => {
    const x = pts.length === 1 ? c.width / 2 : (i / (pts.length - 1)) * (c.width - 4) + 2;
    const y = c.height - 4 - p * (c.height - 8);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
  g.fillStyle = "#8a8f98";
  g.fillText(`like rate (last ${span}): ${(pts[pts.length - 1] * 100).toFixed(0)}%`, 6, 12);
}

// ---------------------------------------------------------------- settings

function showSettings(args) {
  dd.settings = args;
  for (const [setting, input] of Object.entries(dd.controls)) {
    const v = args[setting];
    if (v === undefined || document.activeElement === input) continue;
    if (input.type === "checkbox") input.checked = Boolean(v);
    else if (typeof v === "number" && input.step) input.value = v.toFixed(decimals(input.step));
    else input.value = v;
  }
  drawGrid();
}

function decimals(step) {
  const text = String(step);
  return text.includes(".") ? text.length - text.indexOf(".") - 1 : 0;
}

function words(entry) {                          // "/dd/set/song/adapt" -> "song adapt"
  return entry.address.replace(/^\/dd\/(set\/)?/, "").replaceAll("/", " ");
}

function control(entry) {
  // One of the performer's controls, made from its entry in the address table: a button, a switch, a choice or
  // a number (its range and step from the table), its help the table's words.
  const args = entry.args.filter((a) => a.name !== "value");
  if (!args.length) {
    const b = document.createElement("button");
    b.textContent = words(entry);
    b.title = entry.doc;
    b.dataset.command = entry.command;
    b.addEventListener("click", () => { if (send(entry.command) && ["play", "stop"].includes(entry.command)) send("status"); });
    return b;
  }
  const wrap = document.createElement("span");
  wrap.className = "control";
  const inputs = args.map((a) => {
    let input;
    if (a.choices.length === 2 && a.choices.includes(0) && a.choices.includes(1)) {
      input = document.createElement("input");
      input.type = "checkbox";
    } else if (a.choices.length) {
      input = document.createElement("select");
      for (const c of a.choices) {
        const o = document.createElement("option");
        o.value = o.textContent = c;
        input.appendChild(o);
      }
    } else {
      input = document.createElement("input");
      input.type = "number";
      if (a.lo !== null) input.min = a.lo;
      if (a.hi !== null) input.max = a.hi;
      input.step = a.step ?? (a.type === "i" ? 1 : "any");
      if (a.optional) input.placeholder = "default";
    }
    input.id = `ctl-${entry.command}-${a.name}`;
    input.dataset.command = entry.command;
    input.dataset.arg = a.name;
    const label = document.createElement("label");
    label.title = `${entry.doc} (${a.name}: ${a.doc})`;
    label.append(`${args.length === 1 ? words(entry) : `${words(entry)} ${a.name}`} `, input);
    wrap.appendChild(label);
    return input;
  });
  const value = (input, a) => {
    if (input.type === "checkbox") return input.checked ? 1 : 0;
    if (input.tagName === "SELECT") return typeof a.choices[0] === "number" ? Number(input.value) : input.value;
    return input.value === "" ? null : Number(input.value);
  };
  const change = () => {
    const values = [];
    for (const [i, a] of args.entries()) {
      const v = value(inputs[i], a);
      if (v === null || Number.isNaN(v)) {
        if (a.optional) break;
        return;
      }
      values.push(v);
    }
    send(entry.command, values);
  };
  for (const input of inputs) input.addEventListener("change", change);
  [].concat(entry.setting || []).forEach((setting, i) => { dd.controls[setting] = inputs[i]; });  // one per argument
  if (entry.command === "set_tempo") wrap.appendChild(tapButton(inputs[0]));
  return wrap;
}

function tapButton(input) {                      // tap tempo: the mean of the last taps' intervals
  const b = document.createElement("button");
  b.textContent = "tap";
  b.id = "tap";
  b.title = "tap the beat: the tempo follows from the last taps (a pause of 2 s starts again)";
  b.addEventListener("click", () => {
    const now = performance.now();
    if (dd.taps.length && now - dd.taps[dd.taps.length - 1] > 2000) dd.taps = [];
    dd.taps = [...dd.taps.slice(-4), now];
    if (dd.taps.length < 3) return;
    const gaps = dd.taps.slice(1).map((t, i) => t - dd.taps[i]);
    const bpm = 60000 / (gaps.reduce((x, y) => x + y, 0) / gaps.length);
    const lo = Number(input.min), hi = Number(input.max);
    input.value = Math.min(hi, Math.max(lo, bpm)).toFixed(1);
    send("set_tempo", [Number(input.value)]);
  });
  return b;
}

function setUpControls() {
  const panels = {};
  for (const [name, title] of Object.entries(dd.table.panels)) {
    const div = document.createElement("div");
    div.className = "panel";
    div.id = `panel-${name}`;
    const h = document.createElement("h2");
    h.textContent = title;
    div.appendChild(h);
    panels[name] = div;
    $("controls").appendChild(div);
  }
  for (const entry of dd.table.addresses) {
    if (entry.direction === "in" && entry.page) panels[entry.page].appendChild(control(entry));
  }
  for (const b of document.querySelectorAll("#rate button[data-command]")) {
    b.addEventListener("click", () => press(b.dataset.command));
  }
  $("play").addEventListener("click", togglePlay);
  $("new-session").addEventListener("click", newSession);
  $("volume").addEventListener("input", () => { if (dd.audio.gain) dd.audio.gain.gain.value = Number($("volume").value); });
  const keys = dd.table.keys;
  document.addEventListener("keydown", (event) => {
    if (event.target.matches("input, select") || event.ctrlKey || event.metaKey || event.altKey) return;
    for (const [command, key] of Object.entries(keys)) {
      if (event.key === key) {
        event.preventDefault();
        if (command === "play") togglePlay(); else press(command);
      }
    }
  });
}

function press(command) {
  const rating = ["like", "dislike", "next"].includes(command);
  if (rating && (dd.editing || dd.edits.length)) {   // edits still on their way: rate the loop they make
    dd.afterEdits = command;
    return;
  }
  if (rating && dd.grid) {
    dd.pending = { t: performance.now(), from: dd.grid.id };
  }
  send(command);
}

// ---------------------------------------------------------------- the loop in the browser

async function loadLoop(id, url, bpm) {
  if (!url) return;
  dd.audio.want = id;
  try {
    const response = await fetch(withToken(`${url}`) + `&v=${bpm}`);
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    const bytes = await response.arrayBuffer();
    if (!dd.audio.ctx) dd.audio.ctx = new AudioContext();
    const buffer = await dd.audio.ctx.decodeAudioData(bytes);
    if (dd.audio.want !== id) return;           // a newer loop came meanwhile
    dd.audio.buffer = buffer;
    buffer.id = id;                             // its notes (/dd/notes) go to a Web MIDI output
    dd.audio.loaded = id;
    if (dd.audio.playing) switchAtLoopEnd(buffer);
  } catch (err) {
    say(`the loop could not be loaded: ${err.message || err}`, { error: true });
  }
}

function output() {                             // the page's volume, between its loops and the speakers
  const a = dd.audio;
  if (!a.gain) {
    a.gain = a.ctx.createGain();
    a.gain.gain.value = Number($("volume").value);
    a.gain.connect(a.ctx.destination);
  }
  return a.gain;
}

function startSource(buffer, when) {
  const src = dd.audio.ctx.createBufferSource();
  src.buffer = buffer;
  src.loop = true;                               // one bar, seamless: looped sample-accurately by Web Audio
  src.connect(output());
  src.start(when);
  return src;
}

function switchAtLoopEnd(buffer) {
  const a = dd.audio;
  const now = a.ctx.currentTime;
  const old = a.source;
  if (!old) {
    a.start = now + 0.05;
    a.source = startSource(buffer, a.start);
    return;
  }
  const length = old.buffer.duration;            // the playing loop ends its bar, then the new one starts
  let bars = Math.ceil((now + 0.02 - a.start) / length);
  const at = a.start + Math.max(bars, 1) * length;
  old.stop(at);
  a.old = { buffer: old.buffer, start: a.start, end: at };   // still heard until `at` (its notes too)
  a.source = startSource(buffer, at);
  a.start = at;
}

async function togglePlay() {
  const a = dd.audio;
  if (!a.ctx) a.ctx = new AudioContext();
  await a.ctx.resume();
  if (a.playing) {
    a.playing = false;
    if (a.source) a.source.stop();
    a.source = null;
  } else {
    stopListening();                             // a song heard on this page (songs.js) gives way to the loop
    a.playing = true;
    if (a.buffer) switchAtLoopEnd(a.buffer);
  }
  $("play").classList.toggle("on", a.playing);
  $("play").firstChild.textContent = a.playing ? "Stop " : "Play ";
}

// ---------------------------------------------------------------- sessions, ratings and exports

async function loadRatings() {
  // The session's ratings in the order given ([id, 1 like | 0 dislike]), so the plot survives a reload, a
  // restart and an undo; only the answer to the latest ask is kept.
  const ask = ++dd.ratingsAsked;
  try {
    const body = await fetch(withToken("/api/ratings")).then((r) => r.json());
    if (ask !== dd.ratingsAsked) return;
    dd.ratings = body.ratings;
    drawPlot();
  } catch (err) {
    say(`the ratings could not be loaded: ${err.message || err}`);
  } finally {
    if (ask === dd.ratingsAsked) dd.ratingsDone = ask;
  }
}

async function loadLists() {
  try {
    const [sessions, exports] = await Promise.all([
      fetch(withToken("/api/sessions")).then((r) => r.json()),
      fetch(withToken("/api/exports")).then((r) => r.json()),
    ]);
    $("sessions").replaceChildren(...sessions.sessions.map((s) => {
      const li = document.createElement("li");
      li.textContent = `${s.name}${s.name === sessions.current ? " (this one)" : ""}: ${s.ratings ?? "?"} ratings, ` +
        `${s.likes ?? "?"} likes${s.kit ? `, ${s.kit}` : ""}${s.in_use_by ? " (served by another daemon)" : ""} `;
      if (s.name !== sessions.current && !s.error && !s.in_use_by) {
        const open = document.createElement("button");
        open.textContent = "open";
        open.title = `serve session ${s.name} instead of this one (the daemon starts again on it)`;
        open.onclick = () => openSession(s.name);
        li.appendChild(open);
      }
      return li;
    }));
    const kit = $("new-kit");
    const chosen = kit.value;
    kit.replaceChildren(...sessions.kits.map((k) => new Option(k.label, k.value)));
    if (chosen) kit.value = chosen;
    $("exports").replaceChildren(...exports.exports.map((e) => {
      const li = document.createElement("li");
      const zip = document.createElement("a");
      zip.href = withToken(`/exports/${e.id}.zip`);
      zip.textContent = `loop ${e.id} (zip: MIDI, WAV, SFZ kit)`;
      li.appendChild(zip);
      for (const f of e.files.filter((n) => /\.(mid|wav|sfz)$/.test(n))) {
        const a = document.createElement("a");
        a.href = withToken(`/exports/${e.id}/${f}`);
        a.textContent = f;
        li.append(" ", a);
      }
      return li;
    }));
  } catch (err) {
    say(`lists could not be loaded: ${err.message || err}`);
  }
}

function openSession(name, kit) {
  // /dd/session/open: the daemon checks the name and kit (an error leaves this session playing), then starts
  // again on that session; this page reconnects by itself and shows it.
  if (send("session_open", kit ? [name, kit] : [name])) {
    say(name === "new" ? "starting a new session: the daemon starts again on it" :
      `opening session ${name}: the daemon starts again on it`);
  }
}

function newSession() {
  const folder = $("new-kit-folder").value.trim();
  openSession("new", folder || $("new-kit").value);
}

// ---------------------------------------------------------------- MIDI from the browser (Web MIDI)

function trimNotes() {
  while (dd.notesById.size > 8) dd.notesById.delete(dd.notesById.keys().next().value);
}

async function setUpMidi() {
  const box = $("midi");
  if (!navigator.requestMIDIAccess) {
    box.textContent = "(this browser has no Web MIDI: MIDI in and out go through the daemon's ports)";
    return;
  }
  box.innerHTML = '<label title="each note-on of a MIDI controller plugged into this computer is an onset of a ' +
    'take (/dd/onset), placed where this page\'s loop was when you hit"><input id="midi-in" type="checkbox" checked> ' +
    'MIDI in plays along</label> <label title="this page\'s loop also plays its notes on a MIDI output (while Play ' +
    'is on)">MIDI out <select id="midi-out"><option value="">none</option></select></label>';
  try {
    dd.midi.access = await navigator.requestMIDIAccess();
  } catch (err) {
    box.textContent = `MIDI refused by the browser: ${err.message || err}`;
    return;
  }
  const refresh = () => {
    dd.midi.inputs = 0;
    for (const input of dd.midi.access.inputs.values()) {
      input.onmidimessage = midiIn;
      dd.midi.inputs++;
    }
    const select = $("midi-out");
    const chosen = select.value;
    select.replaceChildren(select.options[0]);
    for (const out of dd.midi.access.outputs.values()) {
      const o = document.createElement("option");
      o.value = out.id;
      o.textContent = out.name;
      o.selected = out.id === chosen;
      select.appendChild(o);
    }
  };
  dd.midi.access.onstatechange = refresh;
  refresh();
  $("midi-out").addEventListener("change", () => {
    dd.midi.output = dd.midi.access.outputs.get($("midi-out").value) || null;
    dd.midi.until = 0;
  });
  setInterval(midiOut, 25);
}

function audioTimeOf(timeStamp) {                // a DOMHighResTimeStamp as the audio clock's time at the speakers
  const ts = dd.audio.ctx.getOutputTimestamp();
  return ts.contextTime + (timeStamp - ts.performanceTime) / 1000;
}

function midiIn(event) {
  const [status, , velocity] = event.data;
  if ((status & 0xf0) !== 0x90 || !velocity || !$("midi-in").checked) return;
  dd.midi.onsets++;
  const pos = dd.audio.ctx ? audioPosition(audioTimeOf(event.timeStamp || performance.now())) : null;
  send("onset", pos === null ? [] : [pos * dd.shape.beats]);   // none: where the daemon's player is
}

const MIDI_AHEAD_S = 0.1;                        // notes handed to the output this far ahead of their time

function midiOut() {
  const a = dd.audio;
  const out = dd.midi.output;
  if (!out || !a.playing || !a.source) return;
  const now = a.ctx.currentTime;
  const from = Math.max(dd.midi.until || 0, now);
  const to = now + MIDI_AHEAD_S;
  const ts = a.ctx.getOutputTimestamp();
  const old = a.old && a.old.end > from ? a.old : null;    // the loop playing until the new one starts
  if (old) sendNotes(out, ts, old.buffer, old.start, from, Math.min(to, old.end));
  sendNotes(out, ts, a.source.buffer, a.start, Math.max(from, a.start), to);
  dd.midi.until = to;
}

function sendNotes(out, ts, buffer, start, from, to) {
  // The notes of the loop in `buffer` (looping from audio time `start`) that fall in [from, to), handed to the
  // output with their time on the performance clock.
  const bar = buffer.duration;
  const notes = dd.notesById.get(buffer.id) || [];
  for (let k = Math.floor((from - start) / bar); start + k * bar < to; k++) {
    for (let i = 0; i + 2 < notes.length; i += 3) {
      const t = start + k * bar + (notes[i + 1] / dd.shape.beats) * bar;
      if (t < from || t >= to) continue;
      const when = ts.performanceTime + (t - ts.contextTime) * 1000;
      out.send([0x99, notes[i], notes[i + 2]], when);
      out.send([0x89, notes[i], 0], when + 50);
      dd.midi.sent++;
    }
  }
}

// ---------------------------------------------------------------- start

setInterval(() => {                              // a message fades after STATUS_S
  if (dd.status.text && performance.now() - dd.status.at > STATUS_S * 1000) say("");
}, 1000);

fetch("/protocol.json").then((r) => r.json()).then((table) => {
  dd.table = table;
  setUpControls();
  drawPlot();
  connect();
  requestAnimationFrame(tick);
  setUpMidi();
}).catch((err) => say(`the page could not start: ${err}`, { error: true }));
