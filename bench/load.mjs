// The load generator, always run as its own process (never inside the server it measures):
// autocannon against one route and one shape, printing one JSON line with throughput and latency.
//   node bench/load.mjs --url URL --token T --route gate|noop|peer --shape hot|spread --connections 32 --seconds 10
// For the gate each connection loops "POST /v1/gate, then release the reservation it got": in a real
// fleet a reservation lives only while its task runs, so live reservations stay bounded instead of
// piling up for the whole run. Throughput and latency are those of the gate requests themselves,
// timed here per request; the releases are reported beside them. The peer loops "consume, then
// refund", and `noop-cycle` "no-op, then no-op": the HTTP ceiling of a cycle of two requests.
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { gateRequest } from './requests.mjs';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string', default: '' },
    route: { type: 'string', default: 'gate' },
    shape: { type: 'string', default: 'spread' },
    accounts: { type: 'string', default: '100' },
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    tag: { type: 'string', default: 'r' },
    release: { type: 'string', default: 'yes' },
  },
});

const PATHS = { gate: '/v1/gate', noop: '/bench/noop', 'noop-cycle': '/bench/noop', peer: '/bench/peer' };
if (!(values.route in PATHS))
  throw new Error(`unknown route ${values.route}: ${Object.keys(PATHS).join(', ')}`);
const accounts = Number(values.accounts);
// A process-unique prefix: every gate request is a new task (taskId is the idempotency key).
const prefix = `${values.tag}-${process.pid}-${Date.now().toString(36)}`;
let n = 0;
// A release and the no-op cycle's second request carry no body, so only the token.
const auth = values.token ? { authorization: `Bearer ${values.token}` } : {};
const headers = { 'content-type': 'application/json', ...auth };
const latencies = [];
const decisions = {};
let primaryOk = 0;
let primaryFailed = 0;
let releases = 0;

const primary = {
  method: 'POST',
  path: PATHS[values.route],
  headers,
  setupRequest: (req, context) => {
    n++;
    // Deterministic spread: request i goes to account i mod N, so every account gets the same load.
    const account = values.shape === 'hot' ? 'acct-0' : `acct-${n % accounts}`;
    context.t0 = performance.now();
    context.reservationId = undefined;
    context.account = account;
    return {
      ...req,
      body: JSON.stringify(gateRequest(`${prefix}-${n}`, account)),
    };
  },
  onResponse: (status, body, context) => {
    latencies.push(performance.now() - context.t0);
    if (status !== 200) {
      primaryFailed++;
      return;
    }
    primaryOk++;
    if (values.route === 'gate') {
      const j = JSON.parse(body);
      decisions[j.decision] = (decisions[j.decision] ?? 0) + 1;
      context.reservationId = j.reservationId;
    }
  },
};
const release = {
  method: 'POST',
  headers: auth,
  setupRequest: (req, context) => ({
    ...req,
    path: `/v1/reservations/${context.reservationId ?? 'none'}/release`,
  }),
  onResponse: () => {
    releases++;
  },
};

// The peer's release: give the consumed point back (see bench/server.mjs).
const refund = {
  method: 'POST',
  path: '/bench/peer/refund',
  headers,
  setupRequest: (req, context) => ({ ...req, body: JSON.stringify({ account: context.account }) }),
  onResponse: () => {
    releases++;
  },
};
// The no-op cycle's second request: the same no-op, shaped like a release (a POST without a body).
const noopAgain = {
  method: 'POST',
  path: PATHS.noop,
  headers: auth,
  onResponse: () => {
    releases++;
  },
};
const second = { gate: release, peer: refund, 'noop-cycle': noopAgain }[values.route];

const started = performance.now();
const result = await autocannon({
  url: values.url,
  connections: Number(values.connections),
  duration: Number(values.seconds),
  pipelining: 1,
  requests: second && values.release === 'yes' ? [primary, second] : [primary],
});
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const q = (p) =>
  latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN;

process.stdout.write(
  `${JSON.stringify({
    route: values.route,
    shape: values.shape,
    connections: Number(values.connections),
    seconds: Number(values.seconds),
    rps: primaryOk / elapsed,
    ok: primaryOk,
    failed: primaryFailed,
    latencyP50: q(0.5),
    latencyP99: q(0.99),
    releases,
    allRequestsPerSecond: result.requests.average,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    decisions,
  })}\n`,
);
