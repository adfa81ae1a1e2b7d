import * as grpc from '@grpc/grpc-js';

/** How every Google gRPC client is built: real endpoints with ADC, or the sandbox endpoint, insecure, no auth. */
export interface ClientOptions {
  /** Passed to the generated client constructors. */
  readonly grpc: {
    apiEndpoint?: string;
    port?: number;
    sslCreds?: grpc.ChannelCredentials;
    universeDomain?: string;
  };
  readonly timeoutMs: number;
}

export function clientOptions(endpoint: string | undefined, timeoutMs: number): ClientOptions {
  if (!endpoint) return { grpc: {}, timeoutMs };
  const i = endpoint.lastIndexOf(':');
  return {
    grpc: {
      apiEndpoint: endpoint.slice(0, i),
      port: Number(endpoint.slice(i + 1)),
      sslCreds: grpc.credentials.createInsecure(),
      // No ADC discovery, hence no metadata-server probe for the universe domain (docs/library-traps.md, "Google clients").
      universeDomain: 'googleapis.com',
    },
    timeoutMs,
  };
}
