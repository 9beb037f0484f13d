// The redaction review editor (plain ES2020, no framework, no build step).
//
// The page (web/redaction_pages.py) embeds the project as JSON; every change goes
// through the redaction API (/api/v1/redaction), whose service checks permissions and
// writes the audit record. Boxes are [frame, x, y, w, h] rows in video pixels.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const root = $('rx-editor');
  if (!root) return;

  const API = '/api/v1/redaction';
  const pid = root.dataset.project;
  const csrf = root.dataset.csrf || '';
  const STROKE = { included: '#d7263d', excluded: '#1f9d55', undecided: '#f0b400', draft: '#2b7bd8' };
  const FILL = {
    included: 'rgba(215, 38, 61, 0.3)',
    excluded: 'rgba(31, 157, 85, 0.3)',
    undecided: 'rgba(240, 180, 0, 0.3)',
    draft: 'rgba(43, 123, 216, 0.25)',
  };
  const MIN_BOX = 4; // video pixels

  const video = $('rx-video');
  const canvas = $('rx-canvas');
  const g = canvas.getContext('2d');
  const timelineEl = $('rx-timeline');

  let project = JSON.parse($('rx-data').textContent);
  let fps = 30;
  let frames = 0;
  let vw = video.width || 1;
  let vh = video.height || 1;
  let selected = null; // {kind: 'track' | 'box' | 'full_frame' | 'audio', id}
  let draft = null; // {keys: [[frame, x, y, w, h], ...]} of the box being drawn
  let drawing = false;
  let drag = null; // {mode: 'new' | 'move' | 'resize', x0, y0, box, cur}
  let markIn = null;
  let markOut = null;

  // --- messages and the API -----------------------------------------------------------

  function say(text) {
    $('rx-message').textContent = text;
    $('rx-error').hidden = true;
  }

  function fail(text) {
    const el = $('rx-error');
    el.textContent = text;
    el.hidden = false;
  }

  async function api(method, url, body) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
    const init = { method, headers, credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    let answer = null;
    try {
      answer = await response.json();
    } catch (_) {
      answer = null;
    }
    if (!response.ok) {
      const detail = answer && typeof answer.detail === 'string' ? answer.detail : '';
      throw new Error(detail || `The server answered ${response.status}.`);
    }
    return answer;
  }

  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

  // Times in the agency's time zone, as the pages show them.
  function localTime(iso) {
    const options = {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'short',
    };
    try {
      return new Date(iso).toLocaleString(undefined, { ...options, timeZone: root.dataset.tz });
    } catch (_) {
      return new Date(iso).toLocaleString(undefined, options);
    }
  }

  // --- frames and time ----------------------------------------------------------------

  function readFacts() {
    const v = project.video;
    if (v) {
      fps = v.fps[0] / v.fps[1];
      frames = v.frames;
      vw = v.width;
      vh = v.height;
    } else if (video.duration) {
      frames = Math.max(1, Math.round(video.duration * fps));
    }
  }

  const clamp = (n, lo, hi) => Math.max(lo, Math.min(hi, n));
  const frameNow = () => clamp(Math.floor(video.currentTime * fps + 1e-3), 0, Math.max(0, frames - 1));

  function seekFrame(f) {
    video.pause();
    video.currentTime = (clamp(f, 0, Math.max(0, frames - 1)) + 0.5) / fps;
  }

  function clock(seconds) {
    const m = Math.floor(seconds / 60);
    return `${m}:${(seconds - m * 60).toFixed(2).padStart(5, '0')}`;
  }

  const clockOfFrame = (f) => clock(f / fps);

  // --- boxes --------------------------------------------------------------------------

  // The box of `rows` at frame `f`. Tracks draw only their own rows (what the renderer
  // redacts); drawn boxes are interpolated between keyframes, as the plan renders them.
  function boxAt(rows, f, interpolate) {
    if (!rows || !rows.length || f < rows[0][0] || f > rows[rows.length - 1][0]) return null;
    let lo = 0;
    let hi = rows.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid][0] < f) lo = mid + 1;
      else hi = mid;
    }
    const b = rows[lo];
    if (b[0] === f) return b.slice(1);
    if (!interpolate) return null;
    const a = rows[lo - 1];
    const t = (f - a[0]) / (b[0] - a[0]);
    return [1, 2, 3, 4].map((i) => a[i] + (b[i] - a[i]) * t);
  }

  function grown(box) {
    const k = (project.mask_scale_percent || 100) / 100;
    if (k === 1) return box;
    const [x, y, w, h] = box;
    return [x + (w - w * k) / 2, y + (h - h * k) / 2, w * k, h * k];
  }

  const stateOf = (t) => (!t.decided ? 'undecided' : t.include ? 'included' : 'excluded');
  const STATE_TEXT = { undecided: 'undecided', included: 'redacted', excluded: 'kept visible' };
  const findTrack = (id) => project.tracks.find((t) => t.id === id);

  function draftAt(f) {
    const keys = draft.keys;
    const exact = keys.find((k) => k[0] === f);
    if (exact) return { box: exact.slice(1), key: true };
    const between = boxAt(keys, f, true);
    if (between) return { box: between };
    const near = f < keys[0][0] ? keys[0] : keys[keys.length - 1];
    return { box: near.slice(1), held: true };
  }

  function setKey(f, box) {
    let [x, y, w, h] = box.map((n) => Math.round(n));
    w = Math.max(1, w);
    h = Math.max(1, h);
    const row = [f, x, y, w, h];
    if (!draft) draft = { keys: [] };
    const keys = draft.keys.filter((k) => k[0] !== f);
    keys.push(row);
    keys.sort((a, b) => a[0] - b[0]);
    draft.keys = keys;
    showDraft();
  }

  // --- drawing the overlay ------------------------------------------------------------

  function fitCanvas() {
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const h = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    draw();
  }

  function rect(box, state, thick, text, dashed) {
    const sx = canvas.width / vw;
    const sy = canvas.height / vh;
    const ratio = canvas.width / Math.max(1, canvas.clientWidth);
    const [x, y, w, h] = [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy];
    g.fillStyle = FILL[state];
    g.fillRect(x, y, w, h);
    g.setLineDash(dashed ? [6 * ratio, 4 * ratio] : []);
    g.lineWidth = (thick ? 4 : 2) * ratio;
    g.strokeStyle = STROKE[state];
    g.strokeRect(x, y, w, h);
    g.setLineDash([]);
    if (text) {
      g.font = `${12 * ratio}px system-ui, sans-serif`;
      const tw = g.measureText(text).width + 6 * ratio;
      const ty = y >= 16 * ratio ? y - 16 * ratio : y + h;
      g.fillStyle = STROKE[state];
      g.fillRect(x, ty, tw, 16 * ratio);
      g.fillStyle = state === 'undecided' ? '#000' : '#fff';
      g.fillText(text, x + 3 * ratio, ty + 12 * ratio);
    }
    if (state === 'draft') {
      const s = 8 * ratio;
      g.fillStyle = STROKE.draft;
      g.fillRect(x + w - s / 2, y + h - s / 2, s, s);
    }
  }

  function draw() {
    g.clearRect(0, 0, canvas.width, canvas.height);
    const f = frameNow();
    for (const r of project.full_frame) {
      if (f >= r.start_frame && (r.end_frame === null || f < r.end_frame)) {
        g.fillStyle = 'rgba(215, 38, 61, 0.18)';
        g.fillRect(0, 0, canvas.width, canvas.height);
        rect([2, 2, vw - 4, vh - 4], 'included', false, `Whole picture ${r.number}: ${r.reason}`);
      }
    }
    for (const t of project.tracks) {
      const b = boxAt(t.boxes, f, false);
      const chosen = selected && selected.kind === 'track' && selected.id === t.id;
      if (b) rect(grown(b), stateOf(t), chosen, `Face ${t.id}`);
    }
    for (const m of project.manual_boxes) {
      const b = boxAt(m.keyframes, f, true);
      const chosen = selected && selected.kind === 'box' && selected.id === m.number;
      if (b) rect(grown(b), 'included', chosen, `Box ${m.number}`);
    }
    if (drag && drag.cur) {
      rect(drag.cur, 'draft', true, 'new keyframe');
    } else if (draft) {
      const d = draftAt(f);
      const label = d.key ? 'keyframe' : d.held ? 'drag to add a keyframe here' : 'between keyframes';
      rect(d.box, 'draft', true, label, Boolean(d.held));
    }
  }

  // --- the timeline -------------------------------------------------------------------

  const pct = (f) => `${(100 * clamp(f, 0, frames)) / Math.max(1, frames)}%`;

  function timelineRow(name, detail, item, spans, kind) {
    const row = document.createElement('div');
    row.className = 'rx-row';
    row.setAttribute('role', 'listitem');
    let label;
    if (item) {
      label = document.createElement('button');
      label.type = 'button';
      const chosen = selected && selected.kind === item.kind && selected.id === item.id;
      label.setAttribute('aria-pressed', String(Boolean(chosen)));
      label.dataset.item = `${item.kind}:${item.id}`;
      if (chosen) row.classList.add('rx-chosen');
      label.addEventListener('click', () => select(item.kind, item.id, true));
    } else {
      label = document.createElement('span');
    }
    label.className = 'rx-name';
    label.textContent = name;
    if (detail) {
      const small = document.createElement('small');
      small.textContent = detail;
      label.append(small);
    }
    const lane = document.createElement('div');
    lane.className = 'rx-lane';
    for (const [a, b] of spans) {
      const bar = document.createElement('span');
      bar.className = `rx-bar rx-${kind}`;
      bar.style.left = pct(a);
      bar.style.width = `max(3px, ${pct(b - a)})`;
      lane.append(bar);
    }
    lane.addEventListener('click', (ev) => {
      const box = lane.getBoundingClientRect();
      if (item) select(item.kind, item.id, false);
      seekFrame(Math.floor(((ev.clientX - box.left) / box.width) * frames));
    });
    row.append(label, lane);
    timelineEl.append(row);
  }

  function timeline() {
    // Rebuilt on every change: keep the keyboard focus on the same row's name.
    const focused = timelineEl.contains(document.activeElement) ? document.activeElement.dataset.item : null;
    timelineEl.textContent = '';
    timelineRow('Time', clock(frames / fps), null, [], 'time');
    for (const t of project.tracks) {
      const state = stateOf(t);
      const detail = STATE_TEXT[state] + (t.decided && t.reason ? ` · ${t.reason}` : '');
      timelineRow(`Face ${t.id}`, detail, { kind: 'track', id: t.id }, [[t.first_frame, t.last_frame + 1]], state);
    }
    for (const m of project.manual_boxes) {
      timelineRow(`Box ${m.number}`, `redacted · ${m.reason}`, { kind: 'box', id: m.number }, [[m.first_frame, m.last_frame + 1]], 'included');
    }
    for (const r of project.full_frame) {
      const end = r.end_frame === null ? frames : r.end_frame;
      timelineRow(`Whole picture ${r.number}`, r.reason, { kind: 'full_frame', id: r.number }, [[r.start_frame, end]], 'full');
    }
    for (const a of project.audio) {
      const span = [(a.start_ms / 1000) * fps, (a.end_ms / 1000) * fps];
      timelineRow(`Audio ${a.number}`, `${a.mode} · ${a.reason}`, { kind: 'audio', id: a.number }, [span], 'audio');
    }
    if (focused) {
      const again = [...timelineEl.querySelectorAll('button.rx-name')].find((b) => b.dataset.item === focused);
      if (again) again.focus();
    }
    playhead();
  }

  function playhead() {
    timelineEl.style.setProperty('--playhead', pct(frameNow() + 0.5));
  }

  // --- selection and decisions --------------------------------------------------------

  function itemOf(kind, id) {
    if (kind === 'track') return findTrack(id);
    const list = { box: project.manual_boxes, full_frame: project.full_frame, audio: project.audio }[kind];
    return list ? list.find((x) => x.number === id) : null;
  }

  function startOf(kind, item) {
    if (kind === 'track' || kind === 'box') return item.first_frame;
    if (kind === 'full_frame') return item.start_frame;
    return Math.floor((item.start_ms / 1000) * fps);
  }

  function select(kind, id, seek) {
    const item = itemOf(kind, id);
    selected = item ? { kind, id } : null;
    if (item && seek) seekFrame(startOf(kind, item));
    showSelected();
    timeline();
    draw();
  }

  function showSelected() {
    const text = $('rx-selected-text');
    const thumb = $('rx-thumb');
    const item = selected ? itemOf(selected.kind, selected.id) : null;
    const isTrack = Boolean(item) && selected.kind === 'track';
    $('rx-include').disabled = !isTrack;
    $('rx-exclude').disabled = !isTrack;
    $('rx-remove').hidden = !item || isTrack;
    $('rx-decide').hidden = Boolean(item) && !isTrack;
    thumb.hidden = true;
    if (!item) {
      text.textContent = 'Nothing selected. Click a box on the video or a name in the timeline.';
      return;
    }
    if (isTrack) {
      const state = STATE_TEXT[stateOf(item)];
      const span = `${clockOfFrame(item.first_frame)} to ${clockOfFrame(item.last_frame + 1)}`;
      text.textContent = `Face ${item.id}, frames ${item.first_frame} to ${item.last_frame} (${span}): ${state}${item.decided && item.reason ? `, reason ${item.reason}` : ''}.`;
      $('rx-reason').value = item.decided && item.reason ? item.reason : '';
      $('rx-note').value = item.note || '';
      if (item.thumbnail) {
        thumb.src = item.thumbnail;
        thumb.alt = `Face ${item.id} as first seen`;
        thumb.hidden = false;
      }
      return;
    }
    const names = { box: 'Box', full_frame: 'Whole picture', audio: 'Audio' };
    let where;
    if (selected.kind === 'audio') where = `${clock(item.start_ms / 1000)} to ${clock(item.end_ms / 1000)}, ${item.mode}`;
    else if (selected.kind === 'box') where = `frames ${item.first_frame} to ${item.last_frame}, ${item.keyframes.length} keyframe(s)`;
    else where = `frames ${item.start_frame} to ${item.end_frame === null ? 'the end' : item.end_frame - 1}`;
    text.textContent = `${names[selected.kind]} ${item.number}: ${where}; reason ${item.reason}${item.note ? ` (${item.note})` : ''}.`;
  }

  function merge(answer) {
    // Answers to edits carry no track boxes nor thumbnails: keep the ones we have.
    const old = new Map(project.tracks.map((t) => [t.id, t]));
    for (const t of answer.tracks) {
      const before = old.get(t.id);
      if (t.boxes === null) t.boxes = before ? before.boxes : [];
      if (t.thumbnail === null && before) t.thumbnail = before.thumbnail;
    }
    project = answer;
    refresh();
  }

  async function edit(method, path, body, done) {
    try {
      merge(await api(method, API + path, body));
      say(done);
      return true;
    } catch (err) {
      fail(err.message);
      return false;
    }
  }

  function reasonFrom(pickerId, noteId, fallback) {
    const reason = $(pickerId).value || fallback;
    const note = $(noteId).value.trim();
    if (!reason) {
      fail('Choose a reason first.');
      $(pickerId).focus();
      return null;
    }
    if (reason === 'other' && !note) {
      fail('Say what in the note when the reason is "other".');
      $(noteId).focus();
      return null;
    }
    return { reason, note };
  }

  async function decide(include) {
    if (!selected || selected.kind !== 'track') {
      fail('Select a track first: click its box on the video or its name in the timeline.');
      return;
    }
    // Keeping a track visible is usually for an officer; redacting always needs a reason.
    const why = reasonFrom('rx-reason', 'rx-note', include ? '' : 'officer');
    if (!why) return;
    const id = selected.id;
    await edit(
      'PUT',
      `/projects/${pid}/tracks/${id}`,
      { include, reason: why.reason, note: why.note },
      `Face ${id} ${include ? 'is redacted' : 'is kept visible'} (reason ${why.reason}). Saved.`,
    );
  }

  async function removeSelected() {
    if (!selected || selected.kind === 'track') return;
    const { kind, id } = selected;
    if (await edit('DELETE', `/projects/${pid}/items/${kind}/${id}`, undefined, 'Removed. Saved.')) {
      selected = null;
      showSelected();
    }
  }

  // --- drawing boxes ------------------------------------------------------------------

  function setDrawing(on) {
    drawing = on;
    const button = $('rx-draw');
    button.setAttribute('aria-pressed', String(on));
    button.textContent = on ? 'Stop drawing (b)' : 'Draw a box (b)';
    canvas.classList.toggle('rx-drawing', on);
    if (on) {
      video.pause();
      say(draft ? 'Drag the box, or its corner, to add a keyframe on this frame.' : 'Drag over the video to draw a box.');
    }
    showDraft();
    draw();
  }

  function showDraft() {
    const has = Boolean(draft && draft.keys.length);
    $('rx-key').disabled = !has;
    $('rx-box-save').disabled = !has;
    $('rx-box-discard').disabled = !has;
    $('rx-draft-text').textContent = has
      ? `${draft.keys.length} keyframe(s), at frame(s) ${draft.keys.map((k) => k[0]).join(', ')}. Step or seek and drag the box to add more, then save it.`
      : 'No box drawn yet.';
  }

  function toVideo(ev) {
    const box = canvas.getBoundingClientRect();
    return [((ev.clientX - box.left) * vw) / box.width, ((ev.clientY - box.top) * vh) / box.height];
  }

  function hit(x, y) {
    const f = frameNow();
    let best = null;
    const consider = (kind, id, b) => {
      if (!b) return;
      const [bx, by, bw, bh] = grown(b);
      if (x < bx || y < by || x > bx + bw || y > by + bh) return;
      if (!best || bw * bh < best.area) best = { kind, id, area: bw * bh };
    };
    for (const t of project.tracks) consider('track', t.id, boxAt(t.boxes, f, false));
    for (const m of project.manual_boxes) consider('box', m.number, boxAt(m.keyframes, f, true));
    return best;
  }

  canvas.addEventListener('pointerdown', (ev) => {
    const [x, y] = toVideo(ev);
    if (!drawing) {
      const found = hit(x, y);
      if (found) select(found.kind, found.id, false);
      return;
    }
    video.pause();
    if (draft) {
      const b = draftAt(frameNow()).box;
      const handle = (12 * vw) / canvas.getBoundingClientRect().width;
      const nearCorner = Math.abs(x - (b[0] + b[2])) <= handle && Math.abs(y - (b[1] + b[3])) <= handle;
      const inside = x >= b[0] && y >= b[1] && x <= b[0] + b[2] && y <= b[1] + b[3];
      if (nearCorner) drag = { mode: 'resize', x0: x, y0: y, box: b.slice() };
      else if (inside) drag = { mode: 'move', x0: x, y0: y, box: b.slice() };
      else {
        say('Drag the box itself (or its corner); discard it to draw another.');
        return;
      }
    } else {
      drag = { mode: 'new', x0: x, y0: y, box: [x, y, 0, 0] };
    }
    canvas.setPointerCapture(ev.pointerId);
    ev.preventDefault();
  });

  canvas.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const [x, y] = toVideo(ev);
    const dx = x - drag.x0;
    const dy = y - drag.y0;
    const b = drag.box;
    if (drag.mode === 'new') {
      drag.cur = [Math.min(drag.x0, x), Math.min(drag.y0, y), Math.abs(dx), Math.abs(dy)];
    } else if (drag.mode === 'move') {
      drag.cur = [b[0] + dx, b[1] + dy, b[2], b[3]];
    } else {
      drag.cur = [b[0], b[1], Math.max(MIN_BOX, b[2] + dx), Math.max(MIN_BOX, b[3] + dy)];
    }
    draw();
  });

  function endDrag() {
    if (!drag) return;
    const done = drag.cur;
    const mode = drag.mode;
    drag = null;
    if (!done) {
      draw();
      return;
    }
    if (mode === 'new' && (done[2] < MIN_BOX || done[3] < MIN_BOX)) {
      say('Drag further to draw a box.');
      draw();
      return;
    }
    setKey(frameNow(), done);
    say(`Keyframe at frame ${frameNow()}. Step or seek and drag the box to add another, or save it.`);
    draw();
  }

  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', () => {
    drag = null;
    draw();
  });

  async function saveBox() {
    if (!draft || !draft.keys.length) return;
    const why = reasonFrom('rx-box-reason', 'rx-box-note', '');
    if (!why) return;
    const n = draft.keys.length;
    const body = { keyframes: draft.keys, reason: why.reason, note: why.note };
    if (await edit('POST', `/projects/${pid}/boxes`, body, `Box saved with ${n} keyframe(s).`)) {
      draft = null;
      setDrawing(false);
      select('box', project.manual_boxes.length, false);
    }
  }

  // --- ranges, style, preview ---------------------------------------------------------

  function showMarks() {
    $('rx-in-at').textContent = markIn === null ? 'in: —' : `in: frame ${markIn} (${clockOfFrame(markIn)})`;
    $('rx-out-at').textContent = markOut === null ? 'out: —' : `out: frame ${markOut} (${clockOfFrame(markOut)})`;
  }

  async function addRange() {
    if (markIn === null || markOut === null) {
      fail('Mark the in point and the out point first (the frames under the playhead).');
      return;
    }
    const why = reasonFrom('rx-range-reason', 'rx-range-note', '');
    if (!why) return;
    const first = Math.min(markIn, markOut);
    const last = Math.max(markIn, markOut);
    const body = { start_s: first / fps, end_s: (last + 1) / fps, reason: why.reason, note: why.note };
    const kind = $('rx-range-kind').value;
    let ok;
    if (kind === 'full_frame') {
      ok = await edit('POST', `/projects/${pid}/full-frame`, body, `The whole picture is redacted from frame ${first} to ${last}.`);
    } else {
      body.mode = kind;
      ok = await edit('POST', `/projects/${pid}/audio`, body, `The audio is ${kind === 'mute' ? 'muted' : 'bleeped'} from ${clockOfFrame(first)} to ${clockOfFrame(last + 1)}.`);
    }
    if (ok) {
      markIn = null;
      markOut = null;
      showMarks();
    }
  }

  function preview() {
    const player = $('rx-preview');
    const at = video.currentTime.toFixed(3);
    const url = `${API}/projects/${pid}/preview?at=${at}&seconds=4&revision=${project.revision}`;
    say('Rendering the preview…');
    player.hidden = false;
    player.onloadeddata = () => {
      say(`Preview of 4 s around ${clock(Number(at))}.`);
      player.play().catch(() => {});
    };
    player.onerror = async () => {
      try {
        await api('GET', url);
        fail('The preview could not be played.');
      } catch (err) {
        fail(`The preview could not be made: ${err.message}`);
      }
    };
    player.src = url;
  }

  // --- jobs: detection and rendering --------------------------------------------------

  async function follow(job, progress, status, label) {
    for (;;) {
      if (job.progress === null) progress.removeAttribute('value');
      else progress.value = job.progress;
      const count = job.total ? ` (${job.done} of ${job.total} frames)` : '';
      status.textContent = `${label}: ${job.status}${count}`;
      if (job.status === 'done') return job;
      if (job.status === 'quarantined') throw new Error(`${label} failed: ${job.error || 'no reason given'}`);
      if (job.error) status.textContent += `; the last attempt failed (${job.error}), retrying`;
      await sleep(500);
      job = await api('GET', `${API}/jobs/${job.id}`);
    }
  }

  async function showCopy(copyId) {
    const copy = await api('GET', `${API}/copies/${copyId}`);
    const open = copy.findings.filter((f) => !f.accepted).length;
    const player = $('rx-copy');
    $('rx-result').hidden = false;
    if (player.getAttribute('src') !== copy.content) player.src = copy.content;
    let text = `Copy ${copy.id}: ${copy.status.replace('_', ' ')}, SHA-256 ${copy.sha256.slice(0, 16)}…`;
    if (open) {
      text += ` The quality check still sees ${open} face(s): fix the plan and render again, or accept each finding with a reason (bodycam redact accept ${copy.id} N --reason ...).`;
    } else if (copy.status !== 'approved') {
      text += ` Approve it for release with: bodycam redact approve ${copy.id}.`;
    }
    $('rx-copy-text').textContent = text;
    if (!project.copies.some((c) => c.id === copy.id)) {
      project.copies.push({ id: copy.id, status: copy.status, sha256: copy.sha256, plan_hash: copy.plan_hash, created_at: copy.created_at, content: copy.content });
      showCopies();
    }
  }

  async function renderCopy() {
    const button = $('rx-render');
    button.disabled = true;
    try {
      const answer = await api('POST', `${API}/projects/${pid}/render`);
      say('Rendering the redacted copy…');
      const job = await follow(answer.job, $('rx-progress'), $('rx-render-status'), 'Render');
      $('rx-progress').value = 1;
      await showCopy(job.result.copy_id);
      say('The redacted copy is ready.');
    } catch (err) {
      fail(err.message);
    } finally {
      button.disabled = false;
    }
  }

  function showCopies() {
    const list = $('rx-copies');
    list.textContent = '';
    if (!project.copies.length) {
      const li = document.createElement('li');
      li.textContent = 'None rendered yet.';
      list.append(li);
    }
    for (const c of project.copies) {
      const li = document.createElement('li');
      const when = localTime(c.created_at);
      li.textContent = `${c.status.replace('_', ' ')}, ${when} `;
      const play = document.createElement('button');
      play.type = 'button';
      play.textContent = 'Play';
      play.setAttribute('aria-label', `Play the copy of ${when}`);
      play.addEventListener('click', () => showCopy(c.id).catch((err) => fail(err.message)));
      li.append(play);
      list.append(li);
    }
  }

  async function waitForDetection() {
    const box = $('rx-detecting');
    const job = project.detection_job;
    if (!job) {
      say('The faces are being found elsewhere (a worker or the command line); reload this page later.');
      return;
    }
    box.hidden = false;
    try {
      await follow(job, $('rx-detect-progress'), $('rx-detect-status'), 'Finding faces');
      project = await api('GET', `${API}/projects/${pid}`);
      box.hidden = true;
      say(`Found ${project.tracks.length} face track(s). Decide on each, then render.`);
      refresh();
    } catch (err) {
      fail(err.message);
    }
  }

  // --- playback and keys --------------------------------------------------------------

  function update() {
    const f = frameNow();
    $('rx-time').textContent = `frame ${f} of ${frames} · ${clock(video.currentTime)}`;
    const seek = $('rx-seek');
    seek.max = String(Math.max(0, frames - 1));
    if (document.activeElement !== seek) seek.value = String(f);
    playhead();
    draw();
  }

  function tick() {
    update();
    if (video.paused) return;
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(tick);
    else requestAnimationFrame(tick);
  }

  function togglePlay() {
    if (video.paused) video.play().catch((err) => fail(`The video cannot play: ${err.message}`));
    else video.pause();
  }

  function step(n) {
    video.pause();
    seekFrame(frameNow() + n);
  }

  const KEYS = {
    ' ': togglePlay,
    ',': () => step(-1),
    '.': () => step(1),
    i: () => decide(true),
    x: () => decide(false),
    b: () => setDrawing(!drawing),
    k: () => draft && setKey(frameNow(), draftAt(frameNow()).box),
    '[': () => {
      markIn = frameNow();
      showMarks();
    },
    ']': () => {
      markOut = frameNow();
      showMarks();
    },
    p: preview,
    escape: () => {
      if (drag) {
        drag = null;
        draw();
      } else if (drawing) setDrawing(false);
    },
  };

  const PLAYBACK_KEYS = new Set([' ', ',', '.']);

  document.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const target = ev.target;
    const tag = target.tagName;
    if (tag === 'SELECT' || tag === 'TEXTAREA' || (tag === 'INPUT' && target.type !== 'range')) return;
    if ((tag === 'BUTTON' || tag === 'A' || (tag === 'VIDEO' && target !== video)) && (ev.key === ' ' || ev.key === 'Enter')) return;
    const key = ev.key.toLowerCase();
    const action = KEYS[key];
    if (!action || (project.status !== 'review' && !PLAYBACK_KEYS.has(key))) return;
    ev.preventDefault();
    action();
  });

  // --- wiring -------------------------------------------------------------------------

  function refresh() {
    readFacts();
    $('rx-state').textContent = project.status;
    const ready = project.status === 'review';
    for (const fs of root.querySelectorAll('fieldset.rx-edit')) fs.disabled = !ready;
    if (project.style) $('rx-style').value = project.style;
    if (project.status === 'failed') fail(`Finding the faces failed: ${project.error || 'no reason given'}. Start a new redaction below.`);
    if (selected && !itemOf(selected.kind, selected.id)) selected = null;
    showSelected();
    showDraft();
    showMarks();
    showCopies();
    timeline();
    update();
  }

  $('rx-play').addEventListener('click', togglePlay);
  $('rx-back').addEventListener('click', () => step(-1));
  $('rx-fwd').addEventListener('click', () => step(1));
  $('rx-seek').addEventListener('input', (ev) => seekFrame(Number(ev.target.value)));
  $('rx-include').addEventListener('click', () => decide(true));
  $('rx-exclude').addEventListener('click', () => decide(false));
  $('rx-remove').addEventListener('click', removeSelected);
  $('rx-draw').addEventListener('click', () => setDrawing(!drawing));
  $('rx-key').addEventListener('click', KEYS.k);
  $('rx-box-save').addEventListener('click', saveBox);
  $('rx-box-discard').addEventListener('click', () => {
    draft = null;
    showDraft();
    draw();
    say('The box is discarded.');
  });
  $('rx-in').addEventListener('click', KEYS['[']);
  $('rx-out').addEventListener('click', KEYS[']']);
  $('rx-range-add').addEventListener('click', addRange);
  $('rx-style').addEventListener('change', (ev) => {
    const style = ev.target.value;
    edit('PUT', `/projects/${pid}/style`, { style }, `Redactions are drawn as ${style}.`);
  });
  $('rx-preview-button').addEventListener('click', preview);
  $('rx-render').addEventListener('click', renderCopy);

  video.addEventListener('play', () => {
    $('rx-play').textContent = 'Pause';
    tick();
  });
  video.addEventListener('pause', () => {
    $('rx-play').textContent = 'Play';
    update();
  });
  for (const name of ['seeked', 'timeupdate', 'loadeddata']) video.addEventListener(name, update);
  video.addEventListener('loadedmetadata', () => {
    readFacts();
    refresh();
  });
  new ResizeObserver(fitCanvas).observe(canvas);

  refresh();
  fitCanvas();
  if (project.status === 'detecting') waitForDetection();
})();
