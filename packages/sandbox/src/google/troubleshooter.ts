/**
 * The Policy Troubleshooter v3 REST fake: `POST /v3/iam:troubleshoot` with a JSON body and a Bearer token, the
 * way google-auth-library's request helper calls it. Errors use Google's JSON error envelope.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { admit, type WireRuntime } from '../world/call-log.ts';
import { type AccessTuple, TroubleshootError, troubleshoot } from '../world/troubleshoot.ts';
import type { World } from '../world/world.ts';

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const UNAUTHENTICATED_MESSAGE =
  'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

/** Google's JSON error envelope. */
export function sendGoogleError(res: ServerResponse, code: number, message: string): void {
  sendJson(res, code, { error: { code, message, status: STATUS_NAMES[code] ?? 'UNKNOWN' } });
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The HTTP/1.1 request handler for the REST side of the Google endpoint. */
export function troubleshooterHandler(
  world: World,
  rt: WireRuntime,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/v3/iam:troubleshoot') {
        await readBody(req);
        sendGoogleError(res, 404, `The requested URL ${path} was not found on this server.`);
        return;
      }
      const body = await readBody(req);
      const fault = await admit(rt, 'troubleshooter.troubleshoot');
      if (fault !== undefined) {
        sendGoogleError(res, fault, `Injected failure (HTTP ${fault}).`);
        return;
      }
      if (req.method !== 'POST') {
        sendGoogleError(res, 404, `The requested URL ${path} was not found on this server.`);
        return;
      }
      if (!/^Bearer\s+\S+/i.test(req.headers.authorization ?? '')) {
        sendGoogleError(res, 401, UNAUTHENTICATED_MESSAGE);
        return;
      }
      let tuple: AccessTuple;
      try {
        const parsed = JSON.parse(body || '{}') as { accessTuple?: Partial<AccessTuple> };
        tuple = {
          principal: String(parsed.accessTuple?.principal ?? ''),
          fullResourceName: String(parsed.accessTuple?.fullResourceName ?? ''),
          permission: String(parsed.accessTuple?.permission ?? ''),
        };
      } catch {
        sendGoogleError(res, 400, 'Invalid JSON payload received. Unexpected token.');
        return;
      }
      try {
        sendJson(res, 200, troubleshoot(world, tuple));
      } catch (e) {
        if (e instanceof TroubleshootError) sendGoogleError(res, 400, e.message);
        else sendGoogleError(res, 500, `sandbox error: ${(e as Error).message}`);
      }
    })();
  };
}
