/**
 * The simulated Google Cloud and GKE of the sandbox (docs/testing.md, "The sandbox"): one loopback endpoint serving Artifact Registry,
 * GKE ClusterManager, Resource Manager Projects and AR's Locations over gRPC plus the Policy Troubleshooter v3 over
 * REST, and one HTTPS Kubernetes API per cluster, all backed by a live scenario world.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { ClusterController } from '../kube/controller.ts';
import { writeKubeconfig } from '../kube/kubeconfig.ts';
import { type KubeServer, startKubeServer } from '../kube/server.ts';
import { buildScenario, SCENARIOS, type ScenarioInfo } from '../scenarios/index.ts';
import {
  monitoringIncident as buildIncident,
  logEntries as buildLogEntries,
  type LogEntryOptions,
} from '../world/alerts.ts';
import { CallLog, FaultInjector, type WireRuntime } from '../world/call-log.ts';
import { addMember, removeMember } from '../world/iam.ts';
import type { IamPolicyState } from '../world/types.ts';
import type { World } from '../world/world.ts';
import { artifactRegistryService, locationsService } from './artifact-registry.ts';
import { clusterManagerService } from './cluster-manager.ts';
import { SERVICE_NAMES } from './grpc.ts';
import { startMux } from './mux.ts';
import { projectsService, projectsV1Service } from './projects.ts';
import { protoService } from './protos.ts';
import { type RestService, restHandler } from './rest.ts';
import { troubleshooterRoute } from './troubleshooter.ts';

export type { ScenarioInfo } from '../scenarios/index.ts';
export { CallLog } from '../world/call-log.ts';
export { World } from '../world/world.ts';
export { SCENARIOS };

/** How to start the Google + Kubernetes side of the sandbox. */
export interface GoogleSandboxOptions {
  /** A name from {@link SCENARIOS}. */
  scenario: string;
  /** Added to every Google API call and every Kubernetes API call (default 0). */
  latencyMs?: number;
  /** IAM grants become effective (for the troubleshooter and the kubelet) after this (default 0). */
  propagationDelayMs?: number;
  /** Delay before a newly created pod pulls its image and becomes Running/ErrImagePull (default 50). */
  podStartMs?: number;
}

/** A running sandbox: endpoints, the live world, the call log, and out-of-band controls. Always `stop()` it. */
export interface GoogleSandbox {
  /**
   * `127.0.0.1:PORT`: one endpoint serving gRPC (Artifact Registry, GKE ClusterManager, Resource Manager Projects,
   * and google.cloud.location.Locations for AR) and the Policy Troubleshooter v3 REST API (HTTP/1.1).
   */
  readonly endpoint: string;
  /** Live mutable state, for assertions and out-of-band changes. */
  readonly world: World;
  /** Name, description and target of the scenario. */
  readonly scenario: ScenarioInfo;
  /** Every Google and Kubernetes call by method (`artifactregistry.GetIamPolicy`, `kube.GET pods`, …). */
  readonly calls: CallLog;
  /** The Kubernetes API endpoint (`127.0.0.1:PORT`) of each cluster, by `projects/P/locations/L/clusters/C`. */
  readonly kubeEndpoints: ReadonlyMap<string, string>;
  /** The PEM of the CA that signs the Kubernetes fakes' certificate (what GKE returns base64-encoded). */
  readonly caPem: string;
  /** Pub/Sub payloads GKE logging would export for the failing pods right now (JSON objects, not base64). */
  logEntries(opts?: LogEntryOptions): object[];
  /** A log-based alert notification (version 1.2) for `pod` (default: the scenario's target pod). */
  monitoringIncident(pod?: string, state?: 'open' | 'closed'): object;
  /** Adds `member` to `role` on a repository resource name or `projects/P` (bumps the etag, timestamps the grant). */
  addBinding(resource: string, role: string, member: string): void;
  /**
   * Writes a kubeconfig for the real `kubectl` into `dir` (created 0700 if missing; the file is 0600) and returns its
   * path: the cluster's endpoint and CA, a token user, a context named like GKE's (`gke_PROJECT_LOCATION_CLUSTER`)
   * set as current. `cluster` is a resource name `projects/P/locations/L/clusters/C`; default: the scenario's.
   */
  writeKubeconfig(dir: string, cluster?: string): string;
  /** Removes `member` from the unconditional binding of `role` (bumps the etag). */
  removeBinding(resource: string, role: string, member: string): void;
  /** The next `times` (default 1) calls of `method` fail with `code`: a gRPC status for gRPC, an HTTP status otherwise. */
  failNext(method: string, code: number, times?: number): void;
  setLatency(ms: number): void;
  stop(): Promise<void>;
}

const TLS_DIR = new URL('../../tls/', import.meta.url);

function policyOf(world: World, resource: string): IamPolicyState {
  const name = resource.replace(/^\/\/[^/]+\//, '');
  const state = name.includes('/repositories/') ? world.repository(name)?.iam : world.project(name)?.iam;
  if (!state) throw new Error(`no repository or project named ${resource} in the sandbox`);
  return state;
}

/** Starts the Google + Kubernetes side of the sandbox for a scenario. Always call `stop()`. */
export async function startGoogleSandbox(opts: GoogleSandboxOptions): Promise<GoogleSandbox> {
  const { world, info } = buildScenario(opts.scenario);
  world.propagationDelayMs = opts.propagationDelayMs ?? 0;
  let latency = opts.latencyMs ?? 0;
  const calls = new CallLog();
  const faults = new FaultInjector();
  const rt: WireRuntime = { calls, faults, latencyMs: () => latency };
  const caPem = readFileSync(new URL('ca.crt', TLS_DIR), 'utf8');
  const tls = {
    key: readFileSync(new URL('server.key', TLS_DIR), 'utf8'),
    cert: readFileSync(new URL('server.crt', TLS_DIR), 'utf8'),
  };

  const controllers: ClusterController[] = [];
  const kubeServers: KubeServer[] = [];
  const kubeEndpoints = new Map<string, string>();
  const grpcServer = new grpc.Server();
  const grpcServices: RestService[] = [
    { proto: protoService(SERVICE_NAMES.artifactRegistry), implementation: artifactRegistryService(world, rt) },
    { proto: protoService(SERVICE_NAMES.clusterManager), implementation: clusterManagerService(world, rt, caPem) },
    { proto: protoService(SERVICE_NAMES.projects), implementation: projectsService(world, rt) },
    { proto: protoService(SERVICE_NAMES.locations), implementation: locationsService(world, rt) },
  ];
  const restOnly: RestService[] = [
    { proto: protoService('google.cloudresourcemanager.v1.Projects'), implementation: projectsV1Service(world, rt) },
  ];
  const http = createServer(restHandler([...grpcServices, ...restOnly], [troubleshooterRoute(world, rt)]));
  let mux: Awaited<ReturnType<typeof startMux>> | undefined;
  let injector: grpc.ConnectionInjector | undefined;

  const stop = async (): Promise<void> => {
    for (const c of controllers) c.stop();
    await Promise.allSettled([...kubeServers.map((k) => k.close()), mux?.close()]);
    injector?.destroy();
    http.closeAllConnections();
    await new Promise<void>((resolve) => {
      if (!http.listening) resolve();
      else http.close(() => resolve());
    });
    await new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
  };

  try {
    for (const cluster of world.clusters.values()) {
      const controller = new ClusterController(world, cluster, { podStartMs: opts.podStartMs ?? 50 });
      controllers.push(controller);
      const server = await startKubeServer({ world, cluster, rt, controller, tls });
      kubeServers.push(server);
      kubeEndpoints.set(cluster.resourceName, server.endpoint);
    }
    for (const s of grpcServices) grpcServer.addService(s.proto.definition, s.implementation);
    injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    mux = await startMux(injector, http);
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    endpoint: `127.0.0.1:${mux.port}`,
    world,
    scenario: info,
    calls,
    kubeEndpoints,
    caPem,
    logEntries: (o) => buildLogEntries(world, o),
    monitoringIncident: (pod, state) => buildIncident(world, pod ?? info.target.pod, state ?? 'open'),
    addBinding(resource, role, member) {
      addMember(policyOf(world, resource), resource.replace(/^\/\/[^/]+\//, ''), role, member, world.now());
    },
    writeKubeconfig(dir, clusterName) {
      const t = info.target;
      const name = clusterName ?? `projects/${t.project}/locations/${t.location}/clusters/${t.cluster}`;
      const cluster = world.cluster(name);
      if (!cluster?.endpoint) throw new Error(`no cluster named ${name} is served by this sandbox`);
      return writeKubeconfig(dir, {
        endpoint: cluster.endpoint,
        caPem,
        project: cluster.projectId,
        location: cluster.location,
        cluster: cluster.name,
      });
    },
    removeBinding(resource, role, member) {
      removeMember(policyOf(world, resource), resource.replace(/^\/\/[^/]+\//, ''), role, member, world.now());
    },
    failNext: (method, code, times) => faults.failNext(method, code, times),
    setLatency(ms) {
      latency = ms;
    },
    stop,
  };
}
