/**
 * Shared client wiring for the sandbox's Google wire tests: the real client libraries pointed at the sandbox
 * endpoint exactly as the bot does (apiEndpoint, port, insecure channel credentials).
 */
import * as grpc from '@grpc/grpc-js';
import { OAuth2Client } from 'google-auth-library';

/**
 * Generated-client options for `127.0.0.1:PORT`. `universeDomain` spares the client its ADC lookup, which would
 * otherwise probe the metadata server when METADATA_SERVER_DETECTION is not set (docs/library-traps.md, "Google clients").
 */
export function clientOptions(endpoint: string): {
  apiEndpoint: string;
  port: number;
  sslCreds: grpc.ChannelCredentials;
  universeDomain: string;
} {
  const i = endpoint.lastIndexOf(':');
  return {
    apiEndpoint: endpoint.slice(0, i),
    port: Number(endpoint.slice(i + 1)),
    sslCreds: grpc.credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  };
}

/** A google-auth-library client holding a static access token (what the bot's auth client would attach). */
export function authClient(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: 'sandbox-token', expiry_date: Date.now() + 3_600_000 });
  return client;
}

/** A gRPC error as the generated clients throw it. */
export interface GrpcFailure {
  code: number;
  details: string;
}

/** Runs `fn` and returns the gRPC error it throws (fails the test when it does not throw). */
export async function grpcError(fn: () => Promise<unknown>): Promise<GrpcFailure> {
  try {
    await fn();
  } catch (e) {
    return e as GrpcFailure;
  }
  throw new Error('expected the call to fail');
}
