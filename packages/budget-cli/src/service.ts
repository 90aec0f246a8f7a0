import { createRequire } from 'node:module';
import type * as BudgetApi from '@mosaic/budget-api';

/** The service package's API, as the CLI uses it in process (local mode, serve, migrate, token). */
export type ServiceApi = typeof BudgetApi;

// Where `pnpm build` writes the service as one CommonJS file (scripts/bundle.mjs): beside this module
// in dist/. Node's ESM loader resolved, read and linked the service's ~1,000 modules one by one, about
// 0.6 s of every local-mode command on this machine, against ~0.25 s to require the same code as one
// file (docs/decisions.md). Run from the sources (the tests) or after a bare `tsc -b`, no bundle is
// there and the modules are imported as before: speed, never behaviour.
const BUNDLE = './service.bundle.cjs';

let loading: Promise<ServiceApi> | undefined;

/** Loads the service package once: its bundle when the build wrote one, else its modules. */
export function loadService(): Promise<ServiceApi> {
  loading ??= fromBundle() ?? import('@mosaic/budget-api');
  return loading;
}

function fromBundle(): Promise<ServiceApi> | undefined {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve(BUNDLE);
  } catch {
    return undefined;
  }
  // A failure to load a bundle that is there is a broken build, reported as such, never hidden.
  return Promise.resolve(require(path) as ServiceApi);
}
