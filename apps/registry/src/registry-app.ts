import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import pino, { type Logger } from 'pino';
import { describeConfig, type RegistryConfig } from './config/registry-config';
import {
  runningEmbeddedPostgres,
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from '@berth/embedded-postgres';
import { rewriteRegistryUrl } from './distribution/route-rewrite';
import { ociErrorBody } from '@berth/oci';
import { tooManyRequests } from './auth/auth-challenge';
import { RateLimiter } from './auth/rate-limiter';
import { REGISTRY_CONFIG } from './config/config.tokens';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { GcModule } from './gc/gc.module';
import { ImmutabilityModule } from './immutability/immutability.module';
import { JobsModule } from './jobs/jobs.module';
import { RetentionModule } from './retention/retention.module';
import { UsageModule } from './usage/usage.module';
import { WriteGateModule } from './write-gate/write-gate.module';
import { EgressModule } from './egress/egress.module';
import { MetricsService } from './observability/metrics.service';
import { OpenApiDocument } from './openapi/openapi.controller';
import { PinoNestLogger } from './observability/pino-nest-logger';
import { RegistryModule, type RegistryModuleOptions } from './registry.module';

export interface RunningRegistry {
  app: NestFastifyApplication;
  /** `http://host:port` the registry listens on. */
  url: string;
  /** Stops taking requests, lets in-flight ones finish (up to the grace period), closes everything. */
  close(): Promise<void>;
}

export function createLogger(config: Pick<RegistryConfig, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'berth-registry' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.secretAccessKey'],
  });
}

/**
 * Starts the data plane: the embedded PostgreSQL when no DATABASE_URL is given, the NestJS
 * application on Fastify (migrations run as the database module starts), then the listener.
 */
export async function startRegistry(
  config: RegistryConfig,
  logger: Logger,
  options: RegistryModuleOptions = {},
): Promise<RunningRegistry> {
  const started = Date.now();
  logger.info({ config: describeConfig(config) }, 'starting registry');
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(config.dataDir, logger);
    databaseUrl = embedded.url;
  }
  const effective: RegistryConfig = { ...config, databaseUrl };
  const adapter = new FastifyAdapter({
    // Request logs are written by the onResponse hook below: one line per request.
    logger: false,
    rewriteUrl: rewriteRegistryUrl,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    exposeHeadRoutes: false,
    requestIdHeader: 'x-request-id',
    genReqId: (req: IncomingMessage) => requestIdOf(req),
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 75_000,
    forceCloseConnections: 'idle',
    // Behind a load balancer, client addresses (lockout, rate limit, audit) and the token
    // realm's scheme come from X-Forwarded-* of the trusted hops only.
    trustProxy: config.trustProxy > 0 ? config.trustProxy : false,
  });
  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(
      RegistryModule.forRoot(effective, options),
      adapter,
      {
        logger: new PinoNestLogger(logger),
        abortOnError: false,
        // Nest's own body parsers would consume blob and manifest bodies; see configureHttp.
        bodyParser: false,
      },
    );
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  configureHttp(app, logger);
  app.get(OpenApiDocument).setBuilder(async () => {
    const { DocumentBuilder, SwaggerModule } = await import('@nestjs/swagger');
    return SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Berth registry admin API')
        .setDescription(
          'Principals, access tokens, the access matrix, public access, signing keys, audit log, lifecycle, write gate, egress metering',
        )
        .setVersion('1')
        .addBasicAuth()
        .addBearerAuth()
        .build(),
      { include: [AuthModule, ...ADMIN_API_MODULES] },
    );
  });

  await app.listen({ port: config.port, host: config.host });
  const url = await app.getUrl();
  logger.info({ url, startupMs: Date.now() - started }, 'registry ready');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info('shutting down: finishing in-flight requests');
      const server = app.getHttpServer();
      const force = setTimeout(() => {
        logger.warn('grace period over: abandoning in-flight requests');
        server.closeAllConnections();
      }, config.shutdownGraceMs);
      force.unref();
      // Keep-alive connections whose last request just finished would hold the close open.
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearTimeout(force);
        clearInterval(idle);
        await embedded?.stop();
      }
      logger.info('registry stopped');
    })());
  return { app, url, close };
}

export interface RegistryContext {
  app: INestApplicationContext;
  close(): Promise<void>;
}

/**
 * The data plane without its HTTP listener: the worker process (`berth registry worker`,
 * queue role `worker`) and one-off operator commands (`berth registry gc`) run in it. With
 * no DATABASE_URL it uses the embedded PostgreSQL of a serving registry, or starts it.
 */
export async function startRegistryContext(
  config: RegistryConfig,
  logger: Logger,
): Promise<RegistryContext> {
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl ?? (await runningEmbeddedPostgres(config.dataDir));
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(config.dataDir, logger);
    databaseUrl = embedded.url;
  }
  let app: INestApplicationContext;
  try {
    app = await NestFactory.createApplicationContext(
      RegistryModule.forRoot({ ...config, databaseUrl }),
      {
        logger: new PinoNestLogger(logger),
        abortOnError: false,
      },
    );
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  return {
    app,
    close: async () => {
      await app.close();
      await embedded?.stop();
    },
  };
}

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
}

/** Raw request bodies, the API version header, request logs and metrics. */
function configureHttp(app: NestFastifyApplication, logger: Logger): void {
  const fastify = app.getHttpAdapter().getInstance();
  // Blob and manifest bodies are streamed by the handlers themselves, never parsed here;
  // only the admin API takes JSON bodies.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (request, payload, done) => {
    if (
      !request.url.startsWith('/admin/') ||
      !/^application\/json\b/i.test(request.headers['content-type'] ?? '')
    ) {
      done(null);
      return;
    }
    readJson(payload, ADMIN_BODY_LIMIT).then(
      (body) => done(null, body),
      (err: Error) => done(err),
    );
  });
  const metrics = app.get(MetricsService);
  const config = app.get<RegistryConfig>(REGISTRY_CONFIG);
  const limiter = new RateLimiter(
    config.auth.rateLimitRequests,
    config.auth.rateLimitWindowSeconds * 1000,
  );
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.originalUrl.startsWith('/v2')) {
      void reply.header('Docker-Distribution-API-Version', 'registry/2.0');
    }
    void reply.header('X-Request-Id', request.id);
    const wait = UNLIMITED_PATHS.has(request.url) ? 0 : limiter.take(request.ip);
    if (wait > 0) {
      const error = tooManyRequests(wait, 'request rate limit exceeded');
      void reply
        .status(error.status)
        .headers(error.headers)
        .header('Content-Type', 'application/json; charset=utf-8')
        .header('Connection', 'close')
        .send(JSON.stringify(ociErrorBody(error)));
      return;
    }
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.observeRequest(route, request.method, reply.statusCode, seconds);
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    if (logger.isLevelEnabled(level)) {
      logger[level](
        {
          reqId: request.id,
          method: request.method,
          url: request.originalUrl,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
          remote: request.ip,
        },
        'request',
      );
    }
    done();
  });
}

const ADMIN_BODY_LIMIT = 1024 * 1024;

/** Probes and scrapes are not client traffic: never rate limited. */
const UNLIMITED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Modules whose controllers belong to the admin API, besides AuthModule. */
const ADMIN_API_MODULES: (new () => unknown)[] = [
  AuditModule,
  ImmutabilityModule,
  RetentionModule,
  GcModule,
  UsageModule,
  WriteGateModule,
  EgressModule,
  JobsModule,
];

function readJson(stream: NodeJS.ReadableStream, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error('request body too large'), { statusCode: 413 }));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('error', reject);
    stream.on('end', () => {
      try {
        resolve(size === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(Object.assign(new Error('request body is not valid JSON'), { statusCode: 400 }));
      }
    });
  });
}
