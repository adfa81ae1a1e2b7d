import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { HTTPReceiver, type HTTPReceiverOptions } from '@slack/bolt';
import type { Logger } from '../shared/logger.ts';

/** The largest Slack request body accepted (Slack's own payloads are a few KB; a modal view is the largest). */
export const MAX_SLACK_BODY = 1024 * 1024;

/**
 * Bolt's HTTP receiver with a guard in front: no request may kill or stall the bot (docs/architecture.md, "Slack").
 * Bolt parses a signed body and then reads fields of it unguarded inside a floating promise, so a signed
 * `payload=null` (or an array, or a scalar) throws an unhandled rejection that ends the process. The guard reads the
 * body once (bounded: 413 beyond `MAX_SLACK_BODY`), answers 400 to a body that is not a JSON object, and hands Bolt
 * the buffered body (`rawBody`, which Bolt uses instead of reading the stream again) for its signature check.
 */
export class GuardedHTTPReceiver extends HTTPReceiver {
  constructor(options: HTTPReceiverOptions & { readonly guardLogger: Logger }) {
    const { guardLogger, ...rest } = options;
    super(rest);
    const inner = this.requestListener;
    this.requestListener = (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'POST' || path !== '/slack/events') {
        inner(req, res);
        return;
      }
      readBounded(req, MAX_SLACK_BODY).then(
        (body) => {
          if (body === undefined) return reject(res, 413, 'request body too large');
          const problem = shapeProblem(body, String(req.headers['content-type'] ?? ''));
          if (problem) {
            guardLogger.warn({ problem }, 'malformed Slack request refused');
            return reject(res, 400, problem);
          }
          (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
          try {
            inner(req, res);
          } catch (e) {
            guardLogger.error({ err: e }, 'Slack request failed');
            reject(res, 500, 'internal error');
          }
        },
        (e: unknown) => {
          guardLogger.warn({ err: e }, 'could not read a Slack request');
          reject(res, 400, 'unreadable request');
        },
      );
    };
  }
}

/** Why a body is not one Bolt can process safely, or undefined. */
export function shapeProblem(body: Buffer, contentType: string): string | undefined {
  const text = body.toString('utf8');
  let value: unknown;
  try {
    if (contentType.startsWith('application/json')) value = JSON.parse(text);
    else {
      const form = parseQuery(text);
      if (form.payload === undefined) return undefined; // a slash command or ssl_check: plain form fields
      if (typeof form.payload !== 'string') return 'payload given more than once';
      value = JSON.parse(form.payload);
    }
  } catch {
    return 'body is not valid JSON';
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? undefined
    : 'payload is not a JSON object';
}

function readBounded(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reject(res: ServerResponse, status: number, reason: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(reason);
}
