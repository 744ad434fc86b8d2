// Songs on the page (after app.js, whose dd, send, say and withToken it uses): a MIDI song dropped or chosen goes to
// the daemon as one binary WebSocket message (a line of JSON, a newline, the file's bytes); song mode writes its
// drums in the session's taste; the page shows the arrangement (sections, drum density against the song's
// intensity, fills), plays drums.wav with a playhead, offers the files, and starts the play-along on MIDI out.
"use strict";

dd.song = { name: null, doc: null, list: [], sent: [], wav: null, listening: null, playhead: -1 };

const SONG_COLOURS = ["#2e86c1", "#28b463", "#af7ac5", "#d68910", "#16a085", "#cb4335", "#7f8c8d", "#b7950b"];
const SONG_FILES = [                             // what a written song offers: file, what it is
  ["song.mid", "the song with its new drums (General MIDI, channel 10)"], ["drums.mid", "the drums alone"],
  ["drums.wav", "the drums as audio, as long as the song"], ["kit.zip", "the sampler kit: kit.sfz and its samples"],
];

function sendSong(file, play) {
  if (!/\.(mid|midi|smf|kar)$/i.test(file.name)) {
    say(`${file.name} is not a MIDI song (.mid, .midi, .smf or .kar)`, { error: true });
    return false;
  }
  if (file.size > dd.table.upload_bytes) {
    say(`${file.name} is ${file.size} bytes: songs of at most ${dd.table.upload_bytes} bytes are taken`, { error: true });
    return false;
  }
  if (!dd.ws || dd.ws.readyState !== WebSocket.OPEN) {
    say(`not connected: ${file.name} was not sent`, { error: true });
    return false;
  }
  dd.ws.send(new Blob([JSON.stringify({ song: file.name, play }) + "\n", file]));
  dd.song.sent.push(file.name);
  say(`${file.name} sent: its drums are being written (seconds for a short song, a minute for a long one)`, { stay: true });
  return true;
}

function songWritten(song, dir) {                // /dd/song/done: show what was written
  say(`drums written for ${song}: the arrangement and its files are below`);
  showSong(dir.split(/[\\/]/).filter(Boolean).pop());
  loadSongs();
}

async function loadSongs() {
  try {
    const body = await fetch(withToken("/api/songs")).then((r) => r.json());
    dd.song.list = body.songs;
    $("songs").replaceChildren(...body.songs.map((s) => {
      const li = document.createElement("li");
      li.textContent = `${s.song || s.name}: ${s.bars} bars, ${s.sections} sections`;
      li.title = `drums in the taste of ${s.taste}; click to show`;
      li.addEventListener("click", () => showSong(s.name));
      return li;
    }));
  } catch (err) {
    say(`the songs could not be listed: ${err.message || err}`);
  }
}

async function showSong(name) {
  try {
    const r = await fetch(withToken(`/songs/${name}/arrangement.json`));
    if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
    const doc = await r.json();
    stopListening();
    Object.assign(dd.song, { name, doc, wav: null, playhead: -1 });
  } catch (err) {
    say(`the song could not be shown: ${err.message || err}`, { error: true });
    return;
  }
  const doc = dd.song.doc;
  const fills = doc.bars.filter((b) => b.kind === "fill" || b.kind === "lead-in").length;
  $("song-view").hidden = false;
  $("song-title").textContent = `${doc.song}: ${doc.bars.length} bars, ${doc.summary.seconds.toFixed(0)} s`;
  $("song-facts").textContent = `sections ${doc.sections.map((s) => s.label).join(" ")}; ${fills} fills and ` +
    `lead-ins; drums in the taste of ${doc.taste}. Columns: drum hits per quarter note; line: how busy the ` +
    "song's other parts are; marks on top: fills.";
  $("song-files").replaceChildren(...SONG_FILES.map(([file, what]) => {
    const a = document.createElement("a");
    a.href = withToken(`/songs/${name}/${file}`);
    a.textContent = file;
    a.title = what;
    a.download = file === "kit.zip" ? `dd_live-${name}-kit.zip` : file;   // the names the daemon gives them
    return a;
  }), Object.assign(document.createElement("a"), {
    href: withToken(`/songs/${name}.zip`), textContent: "everything (zip)", download: `dd_live-${name}.zip`,
  }));
  drawSong();
}

function drawSong() {
  const c = $("song-plot");
  const g = c.getContext("2d");
  const doc = dd.song.doc;
  g.clearRect(0, 0, c.width, c.height);
  if (!doc || !doc.bars.length) return;
  const bars = doc.bars;
  const end = Math.max(doc.summary.seconds, bars[bars.length - 1].start_s + 1e-3);
  const x = (s) => 2 + (s / end) * (c.width - 4);
  const stop = (i) => (i + 1 < bars.length ? bars[i + 1].start_s : end);
  const top = 18, h = c.height - top - 4;
  const labels = [...new Set(doc.sections.map((s) => s.label))];
  for (const s of doc.sections) {                // a band per section, coloured by its label
    const x0 = x(bars[s.start].start_s), x1 = x(stop(Math.min(s.end, bars.length) - 1));
    g.fillStyle = s.label === "silence" ? "#23262d" : SONG_COLOURS[labels.indexOf(s.label) % SONG_COLOURS.length] + "40";
    g.fillRect(x0, top, x1 - x0 - 1, h);
    g.fillStyle = "#c8ccd4";
    g.fillText(s.label, x0 + 3, 12);
  }
  const most = Math.max(1e-9, ...bars.map((b) => b.drums_per_quarter || 0));
  const level = Math.max(1e-9, ...bars.map((b) => b.intensity.level));
  g.fillStyle = "#7fb3ff";
  bars.forEach((b, i) => {                       // the drums' density per bar
    const v = (b.drums_per_quarter || 0) / most;
    g.fillRect(x(b.start_s) + 0.5, top + h * (1 - 0.9 * v), Math.max(1, x(stop(i)) - x(b.start_s) - 1), h * 0.9 * v);
  });
  g.strokeStyle = "#f5b041";                     // how busy the song's other parts are
  g.lineWidth = 2;
  g.beginPath();
  bars.forEach((b, i) => {
    const y = top + h * (1 - 0.9 * b.intensity.level / level);
    if (i === 0) g.moveTo(x(b.start_s), y); else g.lineTo(x(b.start_s), y);
    g.lineTo(x(stop(i)), y);
  });
  g.stroke();
  g.fillStyle = "#e74c3c";                       // fills and lead-ins
  bars.forEach((b, i) => {
    if (b.kind !== "fill" && b.kind !== "lead-in") return;
    const m = (x(b.start_s) + x(stop(i))) / 2;
    g.beginPath();
    g.moveTo(m - 4, top);
    g.lineTo(m + 4, top);
    g.lineTo(m, top + 7);
    g.fill();
  });
  if (dd.song.playhead >= 0) {                   // where drums.wav is on this page's speakers
    g.fillStyle = "#ffffff";
    g.fillRect(x(dd.song.playhead) - 1, top - 4, 2, h + 4);
  }
}

async function listen() {
  const s = dd.song;
  if (s.listening) return stopListening();
  if (!s.name) return;
  const a = dd.audio;
  if (!a.ctx) a.ctx = new AudioContext();
  await a.ctx.resume();
  if (a.playing) togglePlay();                   // the loop stops: one thing at a time on this page
  try {
    if (!s.wav || s.wav.name !== s.name) {
      const r = await fetch(withToken(`/songs/${s.name}/drums.wav`));
      if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
      s.wav = { name: s.name, buffer: await a.ctx.decodeAudioData(await r.arrayBuffer()) };
    }
  } catch (err) {
    say(`drums.wav could not be played: ${err.message || err}`, { error: true });
    return;
  }
  const src = a.ctx.createBufferSource();
  src.buffer = s.wav.buffer;
  src.connect(output());
  const at = a.ctx.currentTime + 0.05;
  src.start(at);
  src.onended = () => { if (s.listening && s.listening.src === src) stopListening(); };
  s.listening = { src, start: at };
  $("song-listen").textContent = "Stop";
  requestAnimationFrame(songTick);
}

function stopListening() {
  const s = dd.song;
  if (!s.listening) return;
  const { src } = s.listening;
  s.listening = null;
  s.playhead = -1;
  try { src.stop(); } catch (err) { /* already ended */ }
  $("song-listen").textContent = "Listen";
  drawSong();
}

function songTick() {
  const s = dd.song;
  if (!s.listening) return;
  s.playhead = Math.max(0, audioTimeOf(performance.now()) - s.listening.start);
  drawSong();
  requestAnimationFrame(songTick);
}

async function playAlong() {
  await loadSongs();                             // the source path the daemon keeps for this song
  const s = dd.song.list.find((x) => x.name === dd.song.name);
  if (!s || !s.source) {
    say("this song was not sent from this page: play along with /dd/song/play and the song's path", { error: true });
    return;
  }
  stopListening();
  send("song_play", [s.source, 0]);
}

function setUpSongs() {
  const drop = $("song-drop");
  for (const kind of ["dragover", "drop"]) {     // a file dropped anywhere else must not replace the page
    document.addEventListener(kind, (e) => e.preventDefault());
  }
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file) sendSong(file, $("song-along-now").checked);
  });
  $("song-file").addEventListener("change", () => {
    const file = $("song-file").files[0];
    if (file) sendSong(file, $("song-along-now").checked);
    $("song-file").value = "";
  });
  $("song-listen").addEventListener("click", listen);
  $("song-along").addEventListener("click", playAlong);
}

setUpSongs();
