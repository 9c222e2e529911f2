/**
 * The refusal hook of the gateway: each 401, 403 and 429 answer is recorded once, with the
 * reason its refuser gave (a note, or a thrown problem's `refusal`) or the status's default,
 * the token the request authenticated as, and the route's pattern; other answers are not.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { errorHandler } from '../../src/gateway/middleware/errors';
import {
  auditRefusals,
  noteRefusal,
  noteRefusedProblems,
} from '../../src/gateway/middleware/refusals';
import { declareRoute } from '../../src/gateway/openapi';
import { ForbiddenProblem, HttpProblem, UnauthorizedProblem } from '../../src/gateway/problems';
import type { Refusal, RefusalRecorder } from '../../src/gateway/services/refusals';
import { createLogger } from '../../src/logging';

declareRoute({
  method: 'get',
  path: '/t/{id}',
  tag: 't',
  summary: 's',
  auth: 'public',
  responses: {},
});

function app(recorded: Refusal[]) {
  const recorder = { record: (r: Refusal) => recorded.push(r) } as unknown as RefusalRecorder;
  const a = express();
  a.use(
    auditRefusals(recorder, (req) =>
      req.headers['x-token'] ? { tokenId: 'tok-9', name: 'nine' } : undefined,
    ),
  );
  a.get('/t/:id', (req) => {
    switch (req.params.id) {
      case 'thrown':
        throw Object.assign(new UnauthorizedProblem('no'), {
          refusal: { reason: 'revoked-token', tokenId: 'tok-1', tokenName: 'one' },
        });
      case 'noted':
        noteRefusal(req, {
          reason: 'wrong-source',
          source: 'sap',
          tokenSource: 'workday',
        });
        throw new ForbiddenProblem('not yours');
      case 'plain':
        throw new ForbiddenProblem('no');
      case 'busy':
        throw new HttpProblem(429, 'rate-limited', 'Too many requests');
      case 'odd':
        throw Object.assign(new UnauthorizedProblem('no'), { refusal: 'not an object' });
      case 'gone':
        throw new HttpProblem(404, 'not-found', 'Not found');
      default:
        throw new HttpProblem(409, 'conflict', 'Conflict');
    }
  });
  a.use(noteRefusedProblems());
  a.use(errorHandler(createLogger('silent')));
  return a;
}

async function withServer(a: express.Express, fn: (url: string) => Promise<void>): Promise<void> {
  const server = a.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

test('each refusal is recorded once, with its reason, token, source and route pattern', async () => {
  const recorded: Refusal[] = [];
  await withServer(app(recorded), async (url) => {
    const get = async (id: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${url}/t/${id}`, { headers });
      await res.text();
      return res.status;
    };
    expect(await get('thrown')).toBe(401);
    expect(await get('noted', { 'x-token': '1' })).toBe(403);
    expect(await get('plain', { 'x-token': '1' })).toBe(403);
    expect(await get('busy')).toBe(429);
    expect(await get('odd')).toBe(401);
    expect(await get('gone')).toBe(404);
    expect(await get('other')).toBe(409);
    // the hook runs once the answer is sent: give the last one a moment
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
  const route = { method: 'GET', route: '/t/{id}' };
  expect(recorded).toEqual([
    { reason: 'revoked-token', status: 401, ...route, tokenId: 'tok-1', tokenName: 'one' },
    {
      reason: 'wrong-source',
      status: 403,
      ...route,
      tokenId: 'tok-9',
      tokenName: 'nine',
      source: 'sap',
      tokenSource: 'workday',
    },
    { reason: 'forbidden', status: 403, ...route, tokenId: 'tok-9', tokenName: 'nine' },
    { reason: 'rate-limited', status: 429, ...route },
    { reason: 'unauthenticated', status: 401, ...route },
  ]);
});
