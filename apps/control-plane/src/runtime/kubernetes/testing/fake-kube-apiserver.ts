import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';

/**
 * A minimal kube-apiserver on 127.0.0.1 for tests: discovery of the resources the adapter uses,
 * server-side apply (checked: method, path, content type, field manager, force, body against
 * path), GET of one object, list of pods by label selector, DELETE of namespaces (cascading to
 * everything in them). It keeps objects in memory and records every request. It is no
 * Kubernetes: no admission, no merge of field ownership (an apply replaces what it sends), no
 * controllers (tests set a Deployment's status themselves).
 */

interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const RESOURCE_TYPES: ResourceType[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
  },
  {
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    namespaced: true,
  },
  {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    kind: 'HTTPRoute',
    plural: 'httproutes',
    namespaced: true,
  },
  {
    group: 'gateway.networking.k8s.io',
    version: 'v1beta1',
    kind: 'ReferenceGrant',
    plural: 'referencegrants',
    namespaced: true,
  },
  {
    group: 'cert-manager.io',
    version: 'v1',
    kind: 'Certificate',
    plural: 'certificates',
    namespaced: true,
  },
];

export type JsonObject = Record<string, unknown>;

export interface StoredObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & {
    name: string;
    namespace?: string;
    generation: number;
    resourceVersion: string;
    deletionTimestamp?: string;
  };
  spec?: JsonObject;
  status?: JsonObject;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  /** The parsed JSON body, when there is one. */
  body: unknown;
}

export interface FakeKubeApiServerOptions {
  /** The bearer token every request must carry. */
  token: string;
  /** Group versions (`cert-manager.io/v1`) that are not installed: discovery answers 404. */
  missingApis?: string[];
  /**
   * `immediate` (default): a deleted namespace and its objects disappear at once.
   * `terminating`: its objects disappear, but the namespace stays with a deletion timestamp
   * until `finishTermination`, as a real one does until its finalizers ran; deleting it again
   * answers 409 and creating objects in it 403.
   */
  namespaceDeletion?: 'immediate' | 'terminating';
  /** Answers every apply of this kind with this error (as admission or validation would). */
  failApply?: { kind: string; code: number; reason: string; message: string };
}

interface ParsedPath {
  type: ResourceType;
  namespace?: string;
  name?: string;
}

function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

function status(code: number, reason: string, message: string): JsonObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class FakeKubeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Requests that a real API server would have rejected, or that the adapter should not send. */
  readonly violations: string[] = [];
  private readonly objects = new Map<string, StoredObject>();
  private resourceVersion = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: FakeKubeApiServerOptions,
  ) {}

  static async start(options: FakeKubeApiServerOptions): Promise<FakeKubeApiServer> {
    const server = createServer();
    const fake = new FakeKubeApiServer(server, options);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      fake.handle(request, response).catch((error: unknown) => {
        fake.violations.push(`handler error: ${String(error)}`);
        fake.send(response, 500, status(500, 'InternalError', String(error)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  /** A stored object, or undefined. */
  get(kind: string, namespace: string | undefined, name: string): StoredObject | undefined {
    return this.objects.get(this.key(kind, namespace, name));
  }

  /** Every stored object, in creation order. */
  all(): StoredObject[] {
    return [...this.objects.values()];
  }

  /** Plays a controller: sets an object's status (as the Deployment controller would). */
  setStatus(kind: string, namespace: string, name: string, value: JsonObject): void {
    const object = this.get(kind, namespace, name);
    if (object === undefined) throw new Error(`no ${kind} ${namespace}/${name}`);
    object.status = structuredClone(value);
  }

  /**
   * Stores an object as another actor would have created it (the ReplicaSet controller and
   * the kubelet a pod, someone else a namespace).
   */
  put(
    object: {
      kind: string;
      metadata: { name: string; namespace?: string; labels?: Record<string, string> };
    } & JsonObject,
  ): void {
    const type = this.typeOf(object.kind);
    this.objects.set(this.key(object.kind, object.metadata.namespace, object.metadata.name), {
      ...structuredClone(object),
      apiVersion: apiVersionOf(type),
      kind: object.kind,
      metadata: {
        ...structuredClone(object.metadata),
        uid: randomUUID(),
        generation: 1,
        resourceVersion: this.nextVersion(),
      },
    });
  }

  /** Plays the namespace controller: a terminating namespace and everything in it go. */
  finishTermination(namespace: string): void {
    this.dropNamespace(namespace);
  }

  private key(kind: string, namespace: string | undefined, name: string): string {
    return `${kind}/${namespace ?? ''}/${name}`;
  }

  private typeOf(kind: string): ResourceType {
    const type = RESOURCE_TYPES.find((t) => t.kind === kind);
    if (type === undefined) throw new Error(`unknown kind ${kind}`);
    return type;
  }

  private nextVersion(): string {
    this.resourceVersion += 1;
    return String(this.resourceVersion);
  }

  private installed(type: { group: string; version: string }): boolean {
    const groupVersion = type.group === '' ? type.version : `${type.group}/${type.version}`;
    return !(this.options.missingApis ?? []).includes(groupVersion);
  }

  private send(response: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(code, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  }

  private reject(response: ServerResponse, code: number, reason: string, message: string): void {
    this.violations.push(`${code} ${reason}: ${message}`);
    this.send(response, code, status(code, reason, message));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        body = raw;
      }
    }
    const method = request.method ?? 'GET';
    this.requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: request.headers['content-type'],
      body,
    });

    if (request.headers.authorization !== `Bearer ${this.options.token}`) {
      this.reject(response, 401, 'Unauthorized', 'missing or wrong bearer token');
      return;
    }

    const discovery = this.discovery(url.pathname);
    if (discovery !== undefined) {
      if (method !== 'GET') {
        this.reject(response, 405, 'MethodNotAllowed', `${method} ${url.pathname}`);
      } else if (discovery === null) {
        this.send(
          response,
          404,
          status(404, 'NotFound', 'the server could not find the requested resource'),
        );
      } else {
        this.send(response, 200, discovery);
      }
      return;
    }

    const parsed = this.parsePath(url.pathname);
    if (parsed === undefined) {
      this.reject(response, 404, 'NotFound', `unknown path ${url.pathname}`);
      return;
    }
    if (method === 'PATCH' && parsed.name !== undefined) {
      this.apply(parsed, parsed.name, request, url.searchParams, body, response);
    } else if (method === 'GET' && parsed.name !== undefined) {
      const object = this.get(parsed.type.kind, parsed.namespace, parsed.name);
      if (object === undefined) {
        this.send(
          response,
          404,
          status(404, 'NotFound', `${parsed.type.plural} "${parsed.name}" not found`),
        );
      } else {
        this.send(response, 200, object);
      }
    } else if (method === 'GET' && parsed.type.kind === 'Pod') {
      this.listPods(parsed.namespace, url.searchParams.get('labelSelector'), response);
    } else if (
      method === 'DELETE' &&
      parsed.type.kind === 'Namespace' &&
      parsed.name !== undefined
    ) {
      this.deleteNamespace(parsed.name, body, response);
    } else {
      this.reject(response, 405, 'MethodNotAllowed', `${method} ${url.pathname} is not expected`);
    }
  }

  /** An APIResourceList for `/api/v1` or `/apis/<group>/<version>`; null when not installed. */
  private discovery(path: string): JsonObject | null | undefined {
    const match = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (match === null) return undefined;
    const group = match[2] ?? '';
    const version = match[1] ?? match[3] ?? '';
    const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
    if (types.length === 0 || !this.installed({ group, version })) return null;
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group === '' ? version : `${group}/${version}`,
      resources: types.map((t) => ({
        name: t.plural,
        singularName: t.kind.toLowerCase(),
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      })),
    };
  }

  private parsePath(path: string): ParsedPath | undefined {
    const match = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))\/(.+)$/.exec(path);
    if (match === null) return undefined;
    const group = match[1] ?? '';
    const version = match[2] ?? 'v1';
    const segments = (match[3] ?? '').split('/').map(decodeURIComponent);
    let namespace: string | undefined;
    let rest = segments;
    if (segments[0] === 'namespaces' && segments.length >= 3) {
      namespace = segments[1];
      rest = segments.slice(2);
    }
    if (rest.length > 2) return undefined;
    const type = RESOURCE_TYPES.find(
      (t) => t.group === group && t.version === version && t.plural === rest[0],
    );
    if (type === undefined || type.namespaced !== (namespace !== undefined)) return undefined;
    return { type, namespace, name: rest[1] };
  }

  private apply(
    parsed: ParsedPath,
    name: string,
    request: IncomingMessage,
    query: URLSearchParams,
    body: unknown,
    response: ServerResponse,
  ): void {
    const { type, namespace } = parsed;
    const failure = this.options.failApply;
    if (failure !== undefined && failure.kind === type.kind) {
      this.send(response, failure.code, status(failure.code, failure.reason, failure.message));
      return;
    }
    if (request.headers['content-type'] !== 'application/apply-patch+yaml') {
      this.reject(
        response,
        415,
        'UnsupportedMediaType',
        `content type ${request.headers['content-type']}`,
      );
      return;
    }
    const fieldManager = query.get('fieldManager');
    if (fieldManager === null || fieldManager === '') {
      this.reject(response, 422, 'Invalid', 'fieldManager is required for apply requests');
      return;
    }
    if (query.get('force') !== 'true') {
      this.reject(response, 422, 'Invalid', 'the adapter must force its apply requests');
      return;
    }
    if (!isObject(body) || !isObject(body.metadata)) {
      this.reject(response, 400, 'BadRequest', 'the body is not a JSON object with metadata');
      return;
    }
    const metadata = body.metadata;
    if (body.apiVersion !== apiVersionOf(type) || body.kind !== type.kind) {
      this.reject(
        response,
        400,
        'BadRequest',
        `body is ${String(body.apiVersion)} ${String(body.kind)}, path is ${type.kind}`,
      );
      return;
    }
    if (metadata.name !== name || metadata.namespace !== namespace) {
      this.reject(
        response,
        400,
        'BadRequest',
        'the name or namespace of the body does not match the path',
      );
      return;
    }
    if (body.status !== undefined) {
      this.reject(response, 400, 'BadRequest', 'an apply of the object must not set its status');
      return;
    }
    if (namespace !== undefined) {
      const ns = this.get('Namespace', undefined, namespace);
      if (ns === undefined) {
        this.send(response, 404, status(404, 'NotFound', `namespaces "${namespace}" not found`));
        return;
      }
      if (
        ns.metadata.deletionTimestamp !== undefined &&
        this.get(type.kind, namespace, name) === undefined
      ) {
        this.send(
          response,
          403,
          status(
            403,
            'Forbidden',
            `unable to create new content in namespace ${namespace} because it is being terminated`,
          ),
        );
        return;
      }
    }
    const key = this.key(type.kind, namespace, name);
    const existing = this.objects.get(key);
    const { status: _ignored, ...desired } = body;
    if (existing === undefined) {
      const created: StoredObject = {
        ...structuredClone(desired),
        apiVersion: apiVersionOf(type),
        kind: type.kind,
        metadata: {
          ...structuredClone(metadata),
          name,
          uid: randomUUID(),
          generation: 1,
          resourceVersion: this.nextVersion(),
          creationTimestamp: new Date(0).toISOString(),
        },
      };
      this.objects.set(key, created);
      this.send(response, 201, created);
      return;
    }
    // Server-side apply keeps what others own (status, server-set metadata); this fake keeps
    // exactly those and replaces the rest with what the apply sent.
    const {
      metadata: oldMetadata,
      status: oldStatus,
      apiVersion: _a,
      kind: _k,
      ...oldFields
    } = existing;
    const { metadata: _m, apiVersion: _b, kind: _c, ...newFields } = desired;
    const changedFields = !isDeepStrictEqual(oldFields, newFields);
    const labelsChanged =
      !isDeepStrictEqual(oldMetadata.labels, metadata.labels) ||
      !isDeepStrictEqual(oldMetadata.annotations, metadata.annotations);
    const updated: StoredObject = {
      ...structuredClone(newFields),
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: {
        ...oldMetadata,
        labels: structuredClone(metadata.labels),
        annotations: structuredClone(metadata.annotations),
        // Only a changed spec moves the generation (what `observedGeneration` is compared to).
        generation:
          oldMetadata.generation + (isDeepStrictEqual(oldFields.spec, newFields.spec) ? 0 : 1),
        resourceVersion:
          changedFields || labelsChanged ? this.nextVersion() : oldMetadata.resourceVersion,
      },
      ...(oldStatus !== undefined ? { status: oldStatus } : {}),
    };
    if (updated.metadata.labels === undefined) delete updated.metadata.labels;
    if (updated.metadata.annotations === undefined) delete updated.metadata.annotations;
    this.objects.set(key, updated);
    this.send(response, 200, updated);
  }

  private listPods(
    namespace: string | undefined,
    selector: string | null,
    response: ServerResponse,
  ): void {
    const wanted = (selector ?? '')
      .split(',')
      .filter((term) => term !== '')
      .map((term) => term.split('=') as [string, string]);
    const items = this.all().filter((object) => {
      if (object.kind !== 'Pod' || object.metadata.namespace !== namespace) return false;
      const labels = (object.metadata.labels ?? {}) as Record<string, string>;
      return wanted.every(([key, value]) => labels[key] === value);
    });
    this.send(response, 200, { apiVersion: 'v1', kind: 'PodList', metadata: {}, items });
  }

  private deleteNamespace(name: string, body: unknown, response: ServerResponse): void {
    const ns = this.get('Namespace', undefined, name);
    if (ns === undefined) {
      this.send(response, 404, status(404, 'NotFound', `namespaces "${name}" not found`));
      return;
    }
    const preconditions = isObject(body) && isObject(body.preconditions) ? body.preconditions : {};
    if (preconditions.uid !== undefined && preconditions.uid !== ns.metadata.uid) {
      this.send(
        response,
        409,
        status(
          409,
          'Conflict',
          `Precondition failed: UID in precondition: ${JSON.stringify(preconditions.uid)}, UID in object meta: ${String(ns.metadata.uid)}`,
        ),
      );
      return;
    }
    if (ns.metadata.deletionTimestamp !== undefined) {
      this.send(
        response,
        409,
        status(
          409,
          'Conflict',
          `Operation cannot be fulfilled on namespaces "${name}": The system is ensuring all content is removed from this namespace.`,
        ),
      );
      return;
    }
    ns.metadata.deletionTimestamp = new Date(0).toISOString();
    ns.status = { phase: 'Terminating' };
    const answer = structuredClone(ns);
    const immediate = (this.options.namespaceDeletion ?? 'immediate') === 'immediate';
    this.dropNamespace(name, immediate);
    this.send(response, 200, answer);
  }

  private dropNamespace(name: string, withNamespace = true): void {
    for (const [key, object] of this.objects) {
      const isTheNamespace = object.kind === 'Namespace' && object.metadata.name === name;
      if (object.metadata.namespace === name || (withNamespace && isTheNamespace)) {
        this.objects.delete(key);
      }
    }
  }
}
