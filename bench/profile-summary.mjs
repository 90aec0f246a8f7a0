// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per area
// (the core, the api, fastify, pg, kysely, node internals, …), so the report can say where time goes.
import { readFileSync } from 'node:fs';

function areaOf(url) {
  if (!url) return '(native / idle / gc)';
  if (url.includes('/packages/budget-core/')) return 'budget-core (decide, schemas)';
  if (url.includes('/packages/budget-api/')) return 'budget-api (service)';
  const m = /node_modules\/\.pnpm\/([^/]+)\//.exec(url) ?? /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (m) return m[1].replace(/@\d[^+]*$/, '').replace(/@[\d.]+.*$/, '');
  if (url.startsWith('node:')) return 'node internals';
  return url.split('/').slice(-2).join('/');
}

/** Self-time shares by area and the top functions of a profile. */
export function summarise(path, top = 15) {
  const prof = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  let total = 0;
  const areas = new Map();
  const fns = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    if (cf.functionName === '(idle)') continue;
    total += us;
    const area = areaOf(cf.url);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const key =
      `${cf.functionName || '(anonymous)'} ${cf.url ? `${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}` : ''}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const share = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, pct: (100 * us) / total }));
  // Inclusive time of the project's own functions (self + callees), to say which of them is costly.
  const inclusive = new Map();
  const visit = (id, stack) => {
    const n = byId.get(id);
    const cf = n.callFrame;
    let t = self.get(id) ?? 0;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
    const own = cf.url.includes('/packages/budget-') && !stack.has(key);
    if (own) stack.add(key);
    for (const c of n.children ?? []) t += visit(c, stack);
    if (own) {
      stack.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    }
    return t;
  };
  visit(prof.nodes[0].id, new Set());
  return { busyMs: total / 1000, areas: share(areas), functions: share(fns), project: share(inclusive) };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  console.log(JSON.stringify(summarise(process.argv[2]), null, 2));
}
