// dd_live's page: the address table comes from /protocol.json (the daemon's protocol.py), commands go out and
// replies come in over one WebSocket as {"address": ..., "args": {name: value, ...}} (the table's argument names);
// the loop plays through Web Audio.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);
const dd = {                                   // the page's state (read by the browser tests too)
  table: null, ws: null, connected: false, shape: { tracks: 4, steps: 16, beats: 4 },
  candidate: null, grid: null, samples: [], ratings: [], latencies: [], pending: null, errors: [],
  audio: { ctx: null, playing: false, source: null, buffer: null, start: 0, loaded: 0, want: 0 },
  settings: null, retry: 500, ratingsAsked: 0, ratingsDone: 0,
};
window.dd = dd;

function byCommand(name) {
  return dd.table.addresses.find((a) => a.direction === "in" && a.command === name);
}

function argOf(command, name) {
  return byCommand(command).args.find((a) => a.name === name);
}

function send(command, args = []) {
  const entry = byCommand(command);
  if (!entry || !dd.ws || dd.ws.readyState !== WebSocket.OPEN) {
    say(`not connected: ${command} not sent`);
    return false;
  }
  dd.ws.send(JSON.stringify({ address: entry.address, args }));
  return true;
}

function say(text) {
  $("status").textContent = text;
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
    send("hello");
    loadLists();
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
                : "no token in the address: open the address dd-live serve printed");
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
    $("score").textContent = score === null ? "-" : score.toFixed(2);
    loadLoop(id, dd.candidate.files.loop_wav, bpm);
  },
  "/dd/shape": ({ tracks, steps, beats }) => { dd.shape = { tracks, steps, beats }; },
  "/dd/grid": ({ id, cells }) => {
    dd.grid = { id, cells };
    drawGrid();
    if (dd.pending !== null && id !== dd.pending.from) {
      const t = dd.pending.t;
      const dom = performance.now() - t;
      dd.pending = null;
      requestAnimationFrame(() => dd.latencies.push({ dom, frame: performance.now() - t }));
    }
  },
  "/dd/samples": ({ names }) => { dd.samples = names; drawGrid(); },
  "/dd/status": ({ ratings, likes, dislikes, version, queue }) => {
    loadRatings();             // sent on (re)connect and after an undo: the plot is drawn from the session's list
    $("ratings").textContent = ratings;
    $("likes").textContent = likes;
    $("dislikes").textContent = dislikes;
    $("version").textContent = version;
    $("queue").textContent = queue;
  },
  "/dd/rated": ({ id, label, likes, dislikes }) => {
    const like = label === "like" ? 1 : 0;
    const given = dd.ratings.find((r) => r[0] === id);  // a rating replaced keeps its place, as in the database
    if (given) given[1] = like; else dd.ratings.push([id, like]);
    if (dd.ratingsAsked !== dd.ratingsDone) loadRatings();  // the list asked for may not hold this one: ask again
    $("likes").textContent = likes;
    $("dislikes").textContent = dislikes;
    $("ratings").textContent = likes + dislikes;
    drawPlot();
  },
  "/dd/trained": ({ version }) => { $("version").textContent = version; },
  "/dd/settings": (args) => showSettings(args),
  "/dd/sync": ({ source, bpm, running }) => {
    $("sync").textContent = source === "internal" ? "" : `${source} clock ${bpm ? bpm.toFixed(1) : "?"} bpm ${running ? "running" : "stopped"}`;
  },
  "/dd/exported": () => loadLists(),
  "/dd/song/done": ({ song, dir }) => say(`song drums written: ${song} -> ${dir}`),
  "/dd/song/playing": ({ song, bar, bars }) => say(`playing ${song} from bar ${bar} of ${bars}`),
  "/dd/song/stopped": ({ song }) => say(`${song} stopped: the loop plays again`),
  "/dd/song/feel": ({ song, sections }) => {
    const parts = [];
    for (let i = 0; i + 1 < sections.length; i += 2) parts.push(`${sections[i]} ${sections[i + 1].toFixed(1)} ms`);
    say(`${song} after the take: ${parts.join(", ")}`);
  },
  "/dd/error": ({ code, message }) => {
    dd.errors.push([code, message]);
    say(`${code}: ${message}`);
  },
};

function handle(msg) {
  const fn = handlers[msg.address];
  if (fn) fn(msg.args || {}, msg);
}

// ---------------------------------------------------------------- the grid and the plot

function drawGrid() {
  const table = $("grid");
  if (!dd.grid) return;
  const { tracks, steps, beats } = dd.shape;
  const perBeat = Math.max(1, Math.round(steps / beats));
  const locks = dd.settings ? dd.settings.locks : [];
  const rows = [];
  for (let t = 0; t < tracks; t++) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = dd.samples[t] || `track ${t + 1}`;
    th.title = th.textContent;
    tr.appendChild(th);
    for (let s = 0; s < steps; s++) {
      const v = dd.grid.cells[t * steps + s] || 0;
      const td = document.createElement("td");
      td.className = s % perBeat === 0 ? "cell beat" : "cell";
      if (v > 0) td.style.background = `rgba(var(--cell), ${(0.25 + 0.75 * v / 127).toFixed(3)})`;
      td.dataset.velocity = v;
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

function showSettings({ bpm, mode, fotf, temperature, density, feel, swing, latency, autotake, adapt, locks }) {
  dd.settings = { bpm, mode, fotf, temperature, density, feel, swing, latency, autotake, adapt, locks };
  const set = (id, value) => { if (document.activeElement !== $(id)) $(id).value = value; };
  set("bpm", bpm.toFixed(1));
  set("mode", mode);
  $("fotf").checked = Boolean(fotf);
  set("density", density.toFixed(2));
  set("temperature", temperature.toFixed(2));
  drawGrid();
}

function setUpControls() {
  for (const [id, command, arg] of [["bpm", "set_tempo", "bpm"], ["density", "set_density", "p"],
                                    ["temperature", "set_temperature", "s"]]) {
    const spec = argOf(command, arg);
    const input = $(id);
    if (spec.lo !== null && spec.lo !== undefined) input.min = spec.lo;
    if (spec.hi !== null && spec.hi !== undefined) input.max = spec.hi;
    input.addEventListener("change", () => {
      const v = Number(input.value);
      if (Number.isFinite(v)) send(command, [v]);
    });
  }
  const mode = $("mode");
  for (const choice of argOf("set_mode", "mode").choices) {
    const o = document.createElement("option");
    o.value = o.textContent = choice;
    mode.appendChild(o);
  }
  mode.addEventListener("change", () => send("set_mode", [mode.value]));
  $("fotf").addEventListener("change", () => send("set_fotf", [$("fotf").checked ? 1 : 0]));
  for (const b of document.querySelectorAll("button[data-command]")) {
    b.addEventListener("click", () => press(b.dataset.command));
  }
  $("play").addEventListener("click", togglePlay);
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
  if (["like", "dislike", "next"].includes(command) && dd.grid) {
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
    dd.audio.loaded = id;
    if (dd.audio.playing) switchAtLoopEnd(buffer);
  } catch (err) {
    say(`the loop could not be loaded: ${err.message || err}`);
  }
}

function startSource(buffer, when) {
  const src = dd.audio.ctx.createBufferSource();
  src.buffer = buffer;
  src.loop = true;                               // one bar, seamless: looped sample-accurately by Web Audio
  src.connect(dd.audio.ctx.destination);
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
        `${s.likes ?? "?"} likes`;
      return li;
    }));
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

// ---------------------------------------------------------------- start

fetch("/protocol.json").then((r) => r.json()).then((table) => {
  dd.table = table;
  setUpControls();
  drawPlot();
  connect();
}).catch((err) => say(`the page could not start: ${err}`));
