import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from '../errors.js';
import { remoteTransport } from './remote.js';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  return new Promise((resolve) =>
    server?.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server?.address() as AddressInfo).port}/`),
    ),
  );
}

describe('remoteTransport', () => {
  it('sends the method, token and JSON body, and returns status, headers and text as sent', async () => {
    const seen: { method?: string; url?: string; auth?: string; type?: string; body: string }[] = [];
    const base = await listen((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({
          method: req.method,
          url: req.url,
          auth: req.headers.authorization,
          type: req.headers['content-type'],
          body,
        });
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.setHeader('content-type', 'application/json');
        res.writeHead(409);
        res.end('{"code":"BUDGET_ERR_CONFLICT","note":"é"}');
      });
    });
    const t = remoteTransport(base, 'tok');
    const answer = await t.request('POST', '/v1/gate', { taskId: 'ü-1' });
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/v1/gate',
        auth: 'Bearer tok',
        type: 'application/json',
        body: '{"taskId":"ü-1"}',
      },
    ]);
    expect(answer.status).toBe(409);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers['set-cookie']).toBe('a=1, b=2');
    expect(answer.text).toBe('{"code":"BUDGET_ERR_CONFLICT","note":"é"}');
    const get = await t.request('GET', '/v1/accounts');
    expect(seen[1]).toMatchObject({ method: 'GET', url: '/v1/accounts', type: undefined, body: '' });
    expect(get.status).toBe(409);
  });

  it('reports a refused connection as unreachable, naming the service and the cause', async () => {
    const base = await listen(() => undefined);
    const port = (server?.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const error = await remoteTransport(base, undefined)
      .request('GET', '/healthz')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe('BUDGET_ERR_UNREACHABLE');
    expect((error as CliError).message).toBe(
      `cannot reach the service at http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
  });

  it('reports a connection cut before the answer ends as unreachable', async () => {
    const base = await listen((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const error = await remoteTransport(base, undefined)
      .request('GET', '/v1/status')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe('BUDGET_ERR_UNREACHABLE');
  });

  it('gives up on a service that stops answering, after the idle timeout, as unreachable', async () => {
    const base = await listen((_req, res) => {
      // Headers, then silence: a hung service.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
    });
    const error = await remoteTransport(base, undefined, 100)
      .request('GET', '/v1/status')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe('BUDGET_ERR_UNREACHABLE');
    expect((error as CliError).message).toContain('(no answer within 0.1 s)');
  });

  it('reports a redirect with where it points, without following it', async () => {
    let requests = 0;
    const base = await listen((_req, res) => {
      requests += 1;
      res.writeHead(308, { location: 'https://budget.example/v1/gate' });
      res.end('moved');
    });
    const error = await remoteTransport(base, 'tok')
      .request('POST', '/v1/gate', { taskId: 't' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe('BUDGET_ERR_REDIRECTED');
    expect((error as CliError).exitStatus).toBe(2);
    expect((error as CliError).message).toBe(
      `the service at ${base.replace(/\/+$/, '')} answered HTTP 308, redirecting to https://budget.example/v1/gate`,
    );
    expect(requests).toBe(1);
  });
});
