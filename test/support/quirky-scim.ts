/**
 * A SCIM service that bends RFC 7644 the way some third-party ones do, over HTTP: it forwards
 * every request to a real SCIM target and, when asked, answers a created user with 201 and no
 * `id` in the body, and a DELETE of a user that is not there with 500 instead of 404.
 */
import { createServer, type Server } from 'node:http';

export interface QuirkyScim {
  url: string;
  quirks: { createdWithoutId: boolean; deleteGoneAs500: boolean; deleteAlways500: boolean };
  stop(): Promise<void>;
}

export async function startQuirkyScim(targetUrl: string): Promise<QuirkyScim> {
  const target = new URL(targetUrl);
  const quirks = { createdWithoutId: false, deleteGoneAs500: false, deleteAlways500: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers))
          if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        if (req.method === 'DELETE' && quirks.deleteAlways500) {
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"detail":"oops"}');
          return;
        }
        const answer = await fetch(`${target.origin}${req.url ?? '/'}`, {
          method: req.method ?? 'GET',
          headers,
          ...(body ? { body } : {}),
        });
        let text = await answer.text();
        let status = answer.status;
        if (req.method === 'POST' && status === 201 && quirks.createdWithoutId) {
          const created = JSON.parse(text) as Record<string, unknown>;
          delete created.id;
          text = JSON.stringify(created);
        }
        if (req.method === 'DELETE' && status === 404 && quirks.deleteGoneAs500) {
          status = 500;
          text = '{"detail":"internal error"}';
        }
        const out: Record<string, string> = {};
        answer.headers.forEach((v, k) => {
          if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v;
        });
        res.writeHead(status, out).end(text);
      })().catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    quirks,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
