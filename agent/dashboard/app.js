/*
 * hearsay dashboard: the cluster as this hearsayd sees it, live.
 *
 * Data: GET /v1/members every second (the snapshot, and the history the
 * plot draws: phi and heartbeats per member, kept here in fixed rings;
 * less often past 2,000 members), GET /v1/stats as often (this node's
 * gossip counters, as /metrics), and GET /v1/events (EventSource) for changes as they happen, so a
 * failure shows within a frame of the local verdict rather than at the
 * next poll. A reconnecting stream resumes after the last event seen
 * (Last-Event-ID, or ?last-event-id= when the page reopens it itself), and
 * an event id seen already is never applied twice.
 *
 * Rendering: every change only marks the page dirty; one
 * requestAnimationFrame pass per batch renders it. Rows are created once
 * per member and only cells whose text changed are written; rows are moved
 * only when the order changed. No per-row timers, nothing quadratic, so a
 * thousand members stay smooth.
 *
 * Token: reads need none, but when the page is opened as /#token=TOKEN (a
 * fragment never reaches the server's logs), or a request answers 401 and
 * the token is typed into the form that appears, it is kept for this tab
 * (sessionStorage) and sent as "Authorization: Bearer" on every fetch.
 */
'use strict';

(function () {
  const POLL_MS = 1000;
  const HIST = 120;          // samples kept per member: two minutes of polls
  const TIMELINE_MAX = 200;  // events shown
  const STATES = ['alive', 'suspect', 'dead', 'left'];
  const ICON = { alive: '●', suspect: '▲', dead: '✖', left: '◌' };
  const EVENT_TYPES = ['join', 'leave', 'fail', 'suspect', 'recover', 'update',
    'restart', 'reap', 'user'];

  const $ = (id) => document.getElementById(id);
  const el = {
    rows: $('rows'), self: $('self'), conn: $('conn'), shown: $('shown'),
    fname: $('f-name'), fstate: $('f-state'), ftag: $('f-tag'),
    fnameErr: $('f-name-err'), thr: $('thr'), timeline: $('timeline'),
    gossip: $('gossip'), rejected: $('rejected'), tokenform: $('tokenform'),
    token: $('token'), detailNone: $('detail-none'), detailBody: $('detail-body'),
    detailTitle: $('detail-title'), detailFacts: $('detail-facts'),
    plotPhi: $('plot-phi'), plotThr: $('plot-thr'), plotThrLabel: $('plot-thr-label'),
    plotBeats: $('plot-beats'), plotYmax: $('plot-ymax'), plotSpan: $('plot-span'),
  };

  // ---- State ----------------------------------------------------------

  const S = {
    members: new Map(),     // name -> record
    self: null,
    selfGen: null,          // this daemon's generation: event ids restart with it
    threshold: 8,
    lastId: 0,              // last event id applied
    syncing: true,          // queue events until the snapshot after (re)connecting is in
    queued: [],
    order: [],              // names in the order rendered
    sort: { key: 'name', dir: 1 },
    filter: { re: null, states: null, tags: [] },
    selected: null,
    timeline: [],           // newest first: {id, type, name, time, text, gap}
    timelineDirty: false,
    statsPrev: null, stats: null, rates: null, statsDirty: false,
    token: null,
    es: null,
    dirty: false,
    firstRendered: false,
  };

  // Figures the tests read: time to first render and per-update cost.
  const perf = { firstRenderAt: null, firstRenderMs: null, updates: [], events: 0,
    duplicates: 0, gaps: 0, polls: 0, applied: [] };
  window.hearsayDashboard = { perf, state: S };

  function newRecord(name) {
    return {
      name, addr: '', state: 'alive', phi: 0, heartbeat: 0, generation: 0,
      tags: {}, tagText: '', self: false,
      beatAt: performance.now(), // when the heartbeat last rose here
      evAt: 0,                    // when an event last changed it
      hT: new Float64Array(HIST), hPhi: new Float32Array(HIST),
      hBeats: new Float32Array(HIST), hHead: 0, hLen: 0,
      row: null, cells: null, shown: [],
    };
  }

  function tagText(tags) {
    const keys = Object.keys(tags || {}).sort();
    return keys.map((k) => k + '=' + tags[k]).join(', ');
  }

  function applyMember(r, m) {
    r.addr = m.addr || '';
    r.state = STATES.includes(m.state) ? m.state : 'alive';
    r.phi = m.phi === null || m.phi === undefined ? Infinity : m.phi;
    if (typeof m.heartbeat === 'number' && m.heartbeat !== r.heartbeat) {
      if (m.heartbeat > r.heartbeat) r.beatAt = performance.now();
      r.heartbeat = m.heartbeat;
    }
    if (typeof m.generation === 'number') r.generation = m.generation;
    if (m.tags) { r.tags = m.tags; r.tagText = tagText(m.tags); }
    if (typeof m.self === 'boolean') r.self = m.self;
  }

  // ---- HTTP -----------------------------------------------------------

  function headers() {
    return S.token ? { Authorization: 'Bearer ' + S.token } : {};
  }

  async function getJSON(path) {
    const r = await fetch(path, { headers: headers(), cache: 'no-store' });
    if (r.status === 401) {
      el.tokenform.hidden = false;
      throw new Error('401');
    }
    if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
    return r.json();
  }

  function setConn(text, cls) {
    el.conn.textContent = text;
    el.conn.className = 'conn ' + (cls || '');
  }

  let pollBusy = false;
  async function poll() {
    if (pollBusy) return;
    pollBusy = true;
    const sentAt = performance.now();
    try {
      const doc = await getJSON('/v1/members');
      applySnapshot(doc, sentAt);
    } catch (e) {
      if (e.message !== '401') setConn('cannot reach hearsayd (' + e.message + ')', 'down');
    } finally {
      pollBusy = false;
    }
  }

  function applySnapshot(doc, sentAt) {
    const now = performance.now();
    const seen = new Set();
    S.self = doc.self;
    for (const m of doc.members || []) {
      seen.add(m.name);
      let r = S.members.get(m.name);
      if (!r) { r = newRecord(m.name); S.members.set(m.name, r); }
      const before = r.heartbeat;
      // An event that arrived after this snapshot was asked for is newer.
      if (r.evAt <= sentAt) applyMember(r, m);
      if (m.name === doc.self) {
        if (S.selfGen !== null && S.selfGen !== m.generation) {
          S.lastId = 0; // the daemon restarted: its event ids start again
        }
        S.selfGen = m.generation;
        r.beatAt = now;
      }
      const i = r.hHead;
      r.hT[i] = now;
      r.hPhi[i] = Number.isFinite(r.phi) ? r.phi : 1e3;
      r.hBeats[i] = Math.max(0, r.heartbeat - before);
      r.hHead = (i + 1) % HIST;
      if (r.hLen < HIST) r.hLen++;
    }
    for (const [name, r] of S.members) {
      if (!seen.has(name) && r.evAt <= sentAt) dropMember(name);
    }
    perf.polls++;
    if (S.syncing) {
      S.syncing = false;
      const q = S.queued;
      S.queued = [];
      for (const ev of q) applyEvent(ev);
    }
    schedule();
  }

  function dropMember(name) {
    const r = S.members.get(name);
    if (!r) return;
    if (r.row) r.row.remove();
    S.members.delete(name);
    if (S.selected === name) S.selected = null;
  }

  let statsBusy = false;
  async function pollStats() {
    if (statsBusy) return;
    statsBusy = true;
    try {
      const st = await getJSON('/v1/stats');
      const now = performance.now();
      st._t = now;
      if (st.config && typeof st.config.phi_threshold === 'number')
        S.threshold = st.config.phi_threshold;
      if (S.stats) S.statsPrev = S.stats;
      S.stats = st;
      S.statsDirty = true;
      schedule();
    } catch (e) {
      /* shown by the members poll */
    } finally {
      statsBusy = false;
    }
  }

  // ---- Event stream ---------------------------------------------------

  function openStream() {
    if (S.es) S.es.close();
    const url = '/v1/events' + (S.lastId ? '?last-event-id=' + S.lastId : '');
    const es = new EventSource(url);
    S.es = es;
    es.onopen = () => {
      setConn('live', 'live');
      // Refresh the snapshot; events wait until it is in, so a daemon that
      // restarted (ids from 1 again) is recognised before they are judged.
      S.syncing = true;
      poll();
    };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (an HTTP error): try again ourselves.
        setConn('event stream closed; retrying…', 'down');
        setTimeout(() => { if (S.es === es) openStream(); }, 2000);
      } else {
        setConn('reconnecting…', 'down');
      }
    };
    for (const t of EVENT_TYPES) {
      es.addEventListener(t, (msg) => {
        let ev;
        try { ev = JSON.parse(msg.data); } catch (e) { return; }
        ev.type = ev.type || t;
        if (typeof ev.id !== 'number') ev.id = Number(msg.lastEventId) || 0;
        if (S.syncing) S.queued.push(ev); else applyEvent(ev);
      });
    }
  }

  function applyEvent(ev) {
    if (ev.id && ev.id <= S.lastId) { perf.duplicates++; return; }
    if (ev.id && S.lastId && ev.id > S.lastId + 1) {
      perf.gaps++;
      S.timeline.unshift({ gap: true, text: (ev.id - S.lastId - 1) +
        ' event(s) not seen (stream resumed too late); the table is current' });
    }
    if (ev.id) S.lastId = ev.id;
    perf.events++;
    perf.applied.push(ev.id);
    if (perf.applied.length > 5000) perf.applied.splice(0, 1000);
    const name = ev.name;
    // A user event is named by its sender's choice, not after a member.
    if (name && ev.type !== 'user') {
      if (ev.type === 'reap') {
        dropMember(name);
      } else {
        let r = S.members.get(name);
        if (!r) { r = newRecord(name); S.members.set(name, r); }
        applyMember(r, ev);
        r.evAt = performance.now();
      }
    }
    let text = ev.type + ' ' + (name || '');
    if (ev.type === 'update' && ev.key) text += ' ' + ev.key + (ev.deleted ? ' (deleted)' : '');
    if (ev.state && ev.type !== 'update' && ev.state !== ev.type) text += ' → ' + ev.state;
    S.timeline.unshift({ id: ev.id, type: ev.type, time: ev.time || '', text });
    if (S.timeline.length > TIMELINE_MAX) S.timeline.length = TIMELINE_MAX;
    S.timelineDirty = true;
    schedule();
  }

  // ---- Filters and sorting --------------------------------------------

  function readFilters() {
    const f = S.filter;
    const src = el.fname.value;
    f.re = null;
    el.fnameErr.textContent = '';
    el.fname.removeAttribute('aria-invalid');
    if (src) {
      try {
        f.re = new RegExp(src);
      } catch (e) {
        el.fname.setAttribute('aria-invalid', 'true');
        el.fnameErr.textContent = 'not a regular expression: ' + e.message;
      }
    }
    f.states = el.fstate.value ? new Set(el.fstate.value.split(',')) : null;
    f.tags = el.ftag.value.split(/[\s,]+/).filter(Boolean).map((t) => {
      const i = t.indexOf('=');
      return i < 0 ? [t, null] : [t.slice(0, i), t.slice(i + 1)];
    });
    schedule();
  }

  function matches(r) {
    const f = S.filter;
    if (f.states && !f.states.has(r.state)) return false;
    if (f.re && !f.re.test(r.name)) return false;
    for (const [k, v] of f.tags) {
      if (!(k in r.tags)) return false;
      if (v !== null && r.tags[k] !== v) return false;
    }
    return true;
  }

  function ageMs(r, now) { return r.self ? 0 : now - r.beatAt; }

  function comparator(now) {
    const { key, dir } = S.sort;
    const val = {
      name: (r) => r.name, addr: (r) => r.addr,
      state: (r) => STATES.indexOf(r.state), phi: (r) => r.phi,
      age: (r) => ageMs(r, now), generation: (r) => r.generation,
      tags: (r) => r.tagText,
    }[key];
    return (a, b) => {
      const x = val(a), y = val(b);
      let c = x < y ? -1 : x > y ? 1 : 0;
      if (c === 0) c = a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
      return c * dir;
    };
  }

  // ---- Rendering ------------------------------------------------------

  function schedule() {
    if (S.dirty) return;
    S.dirty = true;
    requestAnimationFrame(render);
  }

  function fmtAge(ms) {
    if (ms < 1000) return '<1 s';
    if (ms < 120000) return Math.floor(ms / 1000) + ' s';
    return Math.floor(ms / 60000) + ' min';
  }

  function fmtPhi(phi) {
    return Number.isFinite(phi) ? phi.toFixed(2) : '∞';
  }

  function makeRow(r) {
    const tr = document.createElement('tr');
    tr.tabIndex = 0;
    tr.dataset.name = r.name;
    const classes = ['name', 'addr c-addr', 'state', 'phi num', 'age num', 'gen num c-gen', 'tags'];
    r.cells = classes.map((c) => {
      const td = document.createElement('td');
      td.className = c;
      tr.appendChild(td);
      return td;
    });
    r.shown = new Array(classes.length).fill(null);
    r.row = tr;
    r.rowState = null;
  }

  function setCell(r, i, text) {
    if (r.shown[i] !== text) {
      r.cells[i].textContent = text;
      r.shown[i] = text;
    }
  }

  function renderRow(r, now) {
    if (!r.row) makeRow(r);
    if (r.rowState !== r.state) {
      r.row.className = 'st-' + r.state;
      r.cells[2].className = 'state st-' + r.state;
      r.rowState = r.state;
    }
    setCell(r, 0, r.name + (r.self ? ' (this node)' : ''));
    setCell(r, 1, r.addr);
    setCell(r, 2, ICON[r.state] + ' ' + r.state);
    const phiText = r.self ? '–' : fmtPhi(r.phi);
    if (r.shown[3] !== phiText) {
      setCell(r, 3, phiText);
      const c = r.cells[3];
      // A threshold of 0 disables suspicion: nothing is over it then.
      const thr = S.threshold > 0 ? S.threshold : Infinity;
      c.classList.toggle('over', !r.self && r.phi >= thr);
      c.classList.toggle('warn', !r.self && r.phi >= thr / 2 && r.phi < thr);
    }
    setCell(r, 4, r.self || r.state === 'left' ? '–' : fmtAge(ageMs(r, now)));
    setCell(r, 5, String(r.generation));
    setCell(r, 6, r.tagText);
    const sel = S.selected === r.name ? 'true' : 'false';
    if (r.row.getAttribute('aria-selected') !== sel) r.row.setAttribute('aria-selected', sel);
  }

  function render() {
    S.dirty = false;
    const t0 = performance.now();
    const now = t0;
    const counts = { alive: 0, suspect: 0, dead: 0, left: 0 };
    const view = [];
    for (const r of S.members.values()) {
      counts[r.state]++;
      if (matches(r)) view.push(r);
    }
    view.sort(comparator(now));
    for (const r of view) renderRow(r, now);
    // Move rows only when the order (or the set) changed.
    let same = view.length === S.order.length;
    for (let i = 0; same && i < view.length; i++) same = view[i].name === S.order[i];
    if (!same) {
      el.rows.replaceChildren(...view.map((r) => r.row));
      S.order = view.map((r) => r.name);
    }
    for (const s of STATES) {
      const b = $('n-' + s);
      const t = String(counts[s]);
      if (b.textContent !== t) b.textContent = t;
    }
    const shown = view.length === S.members.size ? S.members.size + ' members'
      : view.length + ' of ' + S.members.size + ' shown';
    if (el.shown.textContent !== shown) el.shown.textContent = shown;
    const thr = '(threshold ' + S.threshold + ')';
    if (el.thr.textContent !== thr) el.thr.textContent = thr;
    if (S.self && el.self.textContent !== S.self) {
      el.self.textContent = S.self;
      document.title = 'hearsay · ' + S.self;
    }
    if (S.timelineDirty) renderTimeline();
    if (S.statsDirty) renderStats();
    renderDetail(now);
    const dt = performance.now() - t0;
    if (!S.firstRendered && S.members.size > 0) {
      S.firstRendered = true;
      perf.firstRenderAt = performance.now(); // since navigation started
      perf.firstRenderMs = dt;
    } else if (S.firstRendered) {
      perf.updates.push(dt);
      if (perf.updates.length > 2000) perf.updates.splice(0, 1000);
    }
  }

  function renderTimeline() {
    S.timelineDirty = false;
    const frag = document.createDocumentFragment();
    for (const e of S.timeline) {
      const li = document.createElement('li');
      if (e.gap) {
        li.className = 'gap';
        li.textContent = e.text;
      } else {
        const t = document.createElement('time');
        t.textContent = e.time ? e.time.slice(11, 23) : '';
        li.appendChild(t);
        const s = document.createElement('span');
        s.className = 'ev-' + e.type;
        s.textContent = e.text;
        li.appendChild(s);
        li.dataset.id = e.id;
      }
      frag.appendChild(li);
    }
    el.timeline.replaceChildren(frag);
  }

  function fmtRate(v, unit) {
    if (!Number.isFinite(v)) return '–';
    if (unit === 'B/s') {
      if (v >= 1e6) return (v / 1e6).toFixed(2) + ' MB/s';
      if (v >= 1e3) return (v / 1e3).toFixed(1) + ' KB/s';
      return v.toFixed(0) + ' B/s';
    }
    return v.toFixed(1) + ' ' + unit;
  }

  const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);

  function renderStats() {
    S.statsDirty = false;
    const st = S.stats, pr = S.statsPrev;
    const dt = pr ? (st._t - pr._t) / 1000 : 0;
    const rate = (f) => (pr && dt > 0 ? (f(st) - f(pr)) / dt : NaN);
    const exch = (s) => (s.messages_sent.syn || 0) + (s.messages_received.syn || 0);
    const facts = [
      ['exchanges', exch(st) + ' (' + fmtRate(rate(exch), '/s') + ')'],
      ['gossip rounds', String(st.gossip_rounds)],
      ['sent', fmtRate(rate((s) => sum(s.sent_bytes)), 'B/s') + ' · ' + sum(st.messages_sent) + ' msgs'],
      ['received', fmtRate(rate((s) => sum(s.received_bytes)), 'B/s') + ' · ' + sum(st.messages_received) + ' msgs'],
      ['intervals', 'gossip ' + st.config.gossip_interval_ms + ' ms, heartbeat ' +
        st.config.heartbeat_interval_ms + ' ms, dead after ' + st.config.dead_after_ms + ' ms'],
    ];
    fillFacts(el.gossip, facts);
    const frag = document.createDocumentFragment();
    for (const [reason, n] of Object.entries(st.rejected || {})) {
      if (!n) continue;
      const li = document.createElement('li');
      const d = pr ? n - ((pr.rejected || {})[reason] || 0) : 0;
      li.textContent = reason + ': ' + n + (d > 0 ? ' (+' + d + ')' : '');
      li.dataset.reason = reason;
      frag.appendChild(li);
    }
    if (!frag.firstChild) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = 'none';
      frag.appendChild(li);
    }
    el.rejected.replaceChildren(frag);
  }

  function fillFacts(dl, facts) {
    const frag = document.createDocumentFragment();
    for (const [k, v] of facts) {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      frag.append(dt, dd);
    }
    dl.replaceChildren(frag);
  }

  // Plot area: x 30..316, phi 20..100 (threshold line at 80 % height at
  // most), heartbeat bars 108..126.
  function renderDetail(now) {
    const r = S.selected ? S.members.get(S.selected) : null;
    el.detailNone.hidden = !!r;
    el.detailBody.hidden = !r;
    if (!r) return;
    el.detailTitle.textContent = ICON[r.state] + ' ' + r.name + ' — ' + r.state;
    // The x axis covers the history there is (at least 30 s, at most
    // the ring), so a page opened a moment ago still shows a readable plot.
    const oldest = r.hLen ? r.hT[(r.hHead - r.hLen + HIST) % HIST] : now;
    const span = Math.min(HIST * POLL_MS, Math.max(30000, now - oldest));
    const x = (t) => 316 - ((now - t) / span) * 286;
    const spanText = '−' + (span >= 60000 ? (span / 60000).toFixed(1) + ' min'
      : Math.round(span / 1000) + ' s');
    if (el.plotSpan.textContent !== spanText) el.plotSpan.textContent = spanText;
    let ymax = Math.max(S.threshold * 1.25, 1);
    for (let k = 0; k < r.hLen; k++) ymax = Math.max(ymax, Math.min(r.hPhi[k], 1e3));
    const y = (v) => 100 - (Math.min(v, ymax) / ymax) * 80;
    const pts = [];
    const bars = document.createDocumentFragment();
    let bmax = 1;
    for (let k = 0; k < r.hLen; k++) bmax = Math.max(bmax, r.hBeats[k]);
    for (let k = r.hLen - 1; k >= 0; k--) {
      const i = (r.hHead - 1 - k + HIST * 2) % HIST;
      const xx = x(r.hT[i]);
      if (xx < 30) continue;
      pts.push(xx.toFixed(1) + ',' + y(r.hPhi[i]).toFixed(1));
      if (r.hBeats[i] > 0) {
        const h = (r.hBeats[i] / bmax) * 18;
        const b = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
        b.setAttribute('x', (xx - 1).toFixed(1));
        b.setAttribute('y', (126 - h).toFixed(1));
        b.setAttribute('width', '2');
        b.setAttribute('height', h.toFixed(1));
        bars.appendChild(b);
      }
    }
    el.plotPhi.setAttribute('points', pts.join(' '));
    el.plotBeats.replaceChildren(bars);
    const ty = y(S.threshold).toFixed(1);
    el.plotThr.setAttribute('y1', ty);
    el.plotThr.setAttribute('y2', ty);
    el.plotThrLabel.setAttribute('y', (ty - 3).toFixed(1));
    el.plotThrLabel.textContent = 'threshold ' + S.threshold;
    el.plotYmax.textContent = ymax.toFixed(0);
    fillFacts(el.detailFacts, [
      ['address', r.addr], ['phi', r.self ? '– (this node)' : fmtPhi(r.phi) + ' of ' + S.threshold],
      ['heartbeat', r.heartbeat + (r.self ? '' : ', ' + fmtAge(ageMs(r, now)) + ' ago')],
      ['generation', String(r.generation)], ['tags', r.tagText || '–'],
    ]);
  }

  // ---- Interaction ----------------------------------------------------

  function select(name) {
    S.selected = S.selected === name ? null : name;
    schedule();
  }

  el.rows.addEventListener('click', (e) => {
    const tr = e.target.closest('tr');
    if (tr) select(tr.dataset.name);
  });
  el.rows.addEventListener('keydown', (e) => {
    const tr = e.target.closest('tr');
    if (!tr) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      select(tr.dataset.name);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = e.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling;
      if (next) next.focus();
    }
  });
  for (const th of document.querySelectorAll('th[data-key]')) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.key;
      S.sort = { key, dir: S.sort.key === key ? -S.sort.dir : 1 };
      for (const o of document.querySelectorAll('th[data-key]'))
        o.removeAttribute('aria-sort');
      th.setAttribute('aria-sort', S.sort.dir > 0 ? 'ascending' : 'descending');
      schedule();
    });
  }
  for (const i of [el.fname, el.ftag]) i.addEventListener('input', readFilters);
  el.fstate.addEventListener('change', readFilters);
  el.tokenform.addEventListener('submit', (e) => {
    e.preventDefault();
    S.token = el.token.value.trim() || null;
    if (S.token) sessionStorage.setItem('hearsay-token', S.token);
    el.tokenform.hidden = true;
    poll();
    pollStats();
  });

  // ---- Start ----------------------------------------------------------

  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    S.token = decodeURIComponent(m[1]);
    sessionStorage.setItem('hearsay-token', S.token);
    history.replaceState(null, '', location.pathname + location.search);
  } else {
    S.token = sessionStorage.getItem('hearsay-token');
  }
  readFilters();
  poll();
  pollStats();
  openStream();
  // Once a second, slower past 2,000 members (a snapshot of 16,384 is
  // megabytes): the event stream keeps states current in between.
  const tick = () => {
    poll();
    pollStats();
    const n = S.members.size;
    setTimeout(tick, n > 2000 ? Math.min(10000, POLL_MS * n / 2000) : POLL_MS);
  };
  setTimeout(tick, POLL_MS);
})();
