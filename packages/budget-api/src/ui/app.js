// The read-only budget dashboard: plain browser JavaScript over the service's read routes, no build step.
/* global document, window, Node, uPlot */
'use strict';

(() => {
  const TOKEN_KEY = 'mosaic.budget.readToken';
  // Live enough for a fleet whose signals arrive every few minutes, cheap for the service.
  const REFRESH_MS = 5000;
  const charts = new Map();
  let timer;

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function pct(text, digits = 1) {
    const n = Number(text);
    return Number.isFinite(n) ? `${n.toFixed(digits)}%` : '-';
  }

  function usd(text) {
    const n = Number(text);
    return Number.isFinite(n) ? `$${n.toFixed(2)}` : '-';
  }

  function when(iso) {
    if (!iso) return '-';
    return `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  }

  function signed(text) {
    const n = Number(text);
    if (!Number.isFinite(n)) return '-';
    return `${n >= 0 ? '+' : ''}${n.toFixed(1)} pts`;
  }

  async function get(path) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const res = await fetch(path, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (res.status === 401 || res.status === 403) {
      const body = await res.json().catch(() => ({}));
      throw Object.assign(new Error(body.detail || `the token was refused (${res.status})`), { auth: true });
    }
    if (!res.ok) throw new Error(`${path} answered ${res.status}`);
    return res.json();
  }

  // Draws each reset as a dashed vertical line (the ideal line restarts from 0 there).
  function resetLines(resets) {
    return {
      hooks: {
        draw: [
          (u) => {
            const { ctx } = u;
            ctx.save();
            ctx.strokeStyle = '#9ca3af';
            ctx.setLineDash([4, 4]);
            ctx.lineWidth = 1;
            for (const t of resets) {
              const x = Math.round(u.valToPos(t, 'x', true));
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  // uPlot wants one x array shared by every series: merge both series' instants, null where absent.
  function chartData(w) {
    const series = [w.ideal, w.usage, w.projection];
    const xs = [...new Set(series.flat().map((p) => p[0]))].sort((a, b) => a - b);
    return [
      xs,
      ...series.map((points) => {
        const at = new Map(points.map((p) => [p[0], p[1]]));
        return xs.map((x) => (at.has(x) ? at.get(x) : null));
      }),
    ];
  }

  function drawChart(key, holder, w) {
    const data = chartData(w);
    const u = new uPlot(
      {
        width: 500,
        height: 200,
        scales: { y: { range: [0, 100] } },
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => `${t}%`) }],
        series: [
          {},
          { label: 'ideal', stroke: '#9ca3af', width: 2, dash: [6, 4], spanGaps: true },
          { label: 'used', stroke: '#1f6feb', width: 2, spanGaps: true, points: { show: true, size: 5 } },
          {
            label: 'projected',
            stroke: '#b42318',
            width: 1.5,
            dash: [2, 3],
            spanGaps: true,
            points: { show: false },
          },
        ],
        plugins: [resetLines(w.resets)],
      },
      data,
      holder,
    );
    charts.set(key, u);
  }

  function renderWindow(account, w) {
    const key = `${account.account}/${w.window}`;
    const exhaustion = w.projectedExhaustionAt
      ? el(
          'span',
          { class: w.exhaustsBeforeReset ? 'warn' : '' },
          when(w.projectedExhaustionAt),
          w.exhaustsBeforeReset ? ' (before reset)' : '',
        )
      : '-';
    const facts = el(
      'dl',
      { class: 'facts' },
      el('dt', {}, 'used'),
      el('dt', {}, 'ideal now'),
      el('dt', {}, 'pace'),
      el('dd', { 'data-field': 'used' }, pct(w.usedPercent)),
      el('dd', { 'data-field': 'ideal' }, pct(w.idealPercent)),
      el('dd', { 'data-field': 'status', class: w.status }, `${w.status} ${signed(w.leadPercent)}`),
      el('dt', {}, 'target'),
      el('dt', {}, 'reset'),
      el('dt', {}, 'projected exhaustion'),
      el('dd', { 'data-field': 'target' }, `${pct(w.targetPerDayPercent)} / day`),
      el('dd', { 'data-field': 'reset' }, `${when(w.resetAt)} (${w.resetConfidence})`),
      el('dd', { 'data-field': 'exhaustion' }, exhaustion),
    );
    const card = el(
      'div',
      { class: 'card', 'data-account': account.account, 'data-window': w.window },
      el(
        'h3',
        {},
        `${account.account} · ${w.window}`,
        el('span', { class: 'muted' }, ` ${account.provider}, ${account.kind}`),
      ),
      facts,
    );
    const holder = el('div', { class: 'chart' });
    card.append(holder);
    drawChart(key, holder, w);
    return card;
  }

  function renderCeiling(account) {
    const c = account.ceiling;
    return el(
      'div',
      { class: 'card', 'data-account': account.account, 'data-ceiling': c.period },
      el(
        'h3',
        {},
        `${account.account} · ceiling ${c.period}`,
        el('span', { class: 'muted' }, ` ${account.provider}, ${account.kind}`),
      ),
      el(
        'dl',
        { class: 'facts' },
        el('dt', {}, 'committed'),
        el('dt', {}, 'reserved'),
        el('dt', {}, 'ceiling'),
        el('dd', { 'data-field': 'committed' }, usd(c.committedUsd)),
        el('dd', { 'data-field': 'reserved' }, usd(c.reservedUsd)),
        el('dd', { 'data-field': 'ceiling' }, usd(c.usd)),
        el('dt', {}, 'period'),
        el('dt', {}, 'queued'),
        el('dt', {}, ''),
        el('dd', {}, `${when(c.start)} → ${when(c.end)}`),
        el('dd', { 'data-field': 'queued' }, String(account.queueDepth)),
        el('dd', {}, ''),
      ),
    );
  }

  function renderPace(pace) {
    const root = $('accounts');
    // Charts are re-created when their card is rebuilt; stale instances are dropped with their nodes.
    for (const [key, u] of charts) {
      u.destroy();
      charts.delete(key);
    }
    const cards = [];
    for (const a of pace.accounts) {
      for (const w of a.windows) cards.push(renderWindow(a, w));
      if (a.ceiling) cards.push(renderCeiling(a));
    }
    if (cards.length === 0) cards.push(el('p', { class: 'empty' }, 'No accounts yet.'));
    root.replaceChildren(...cards);
  }

  function renderRows(tbody, rows, empty, columns) {
    if (rows.length === 0) {
      tbody.replaceChildren(el('tr', {}, el('td', { class: 'empty', colspan: String(columns) }, empty)));
      return;
    }
    tbody.replaceChildren(...rows);
  }

  function renderQueue(queue) {
    const rows = [];
    for (const a of queue.accounts) {
      for (const e of a.waiting) {
        rows.push(
          el(
            'tr',
            { 'data-task': e.taskId },
            el('td', {}, a.account || '-'),
            el('td', {}, e.taskId),
            el('td', { class: 'num' }, String(e.priority)),
            el('td', {}, when(e.createdAt)),
            el('td', {}, when(e.retryAt)),
            el('td', {}, e.reason),
          ),
        );
      }
    }
    renderRows($('queue').querySelector('tbody'), rows, 'Nothing is waiting.', 6);
  }

  function renderDecisions(list) {
    const rows = list.decisions.map((d) =>
      el(
        'tr',
        { 'data-task': d.taskId, 'data-decision': d.decision },
        el('td', {}, when(d.createdAt)),
        el('td', {}, d.taskId),
        el('td', { class: d.decision === 'refuse' ? 'warn' : '' }, d.decision),
        el('td', {}, d.account || '-'),
        el('td', {}, d.model || '-'),
        el('td', {}, d.reason),
      ),
    );
    renderRows($('decisions').querySelector('tbody'), rows, 'No decisions yet.', 6);
  }

  async function refresh() {
    try {
      const [pace, queue, decisions] = await Promise.all([
        get('/v1/pace/history'),
        get('/v1/queue'),
        get('/v1/decisions?limit=20'),
      ]);
      renderPace(pace);
      renderQueue(queue);
      renderDecisions(decisions);
      $('status').textContent = `updated ${when(pace.at)}`;
      $('status').dataset.at = pace.at;
    } catch (error) {
      if (error.auth) {
        signOut(error.message);
        return;
      }
      $('status').textContent = `refresh failed: ${error.message}; retrying`;
    }
  }

  function start() {
    $('login').hidden = true;
    $('dashboard').hidden = false;
    $('signout').hidden = false;
    void refresh();
    clearInterval(timer);
    timer = setInterval(() => void refresh(), REFRESH_MS);
  }

  function signOut(message) {
    clearInterval(timer);
    sessionStorage.removeItem(TOKEN_KEY);
    $('dashboard').hidden = true;
    $('signout').hidden = true;
    $('login').hidden = false;
    $('status').textContent = message || 'not connected';
  }

  $('login').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token').value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    start();
  });
  $('signout').addEventListener('click', () => signOut());

  if (sessionStorage.getItem(TOKEN_KEY)) start();
  else signOut();
  window.addEventListener('beforeunload', () => clearInterval(timer));
})();
