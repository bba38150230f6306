import 'reflect-metadata';
import { ConsoleLogger, type LoggerService, type LogLevel as NestLogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '@berth/embedded-postgres';
import { join } from 'node:path';
import pino from 'pino';
import { validationPipe } from './common/validation';
import type { ControlPlaneConfig, LogLevel } from './config/control-plane-config';
import { ControlPlaneModule } from './control-plane.module';
import { loadOrCreateSecret } from './identity/session-keys';

export interface RunningControlPlane {
  url: string;
  app: NestFastifyApplication;
  config: ControlPlaneConfig;
  close(): Promise<void>;
}

const NEST_LEVELS: Record<LogLevel, NestLogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
  silent: [],
};

/** JSON log lines on stdout, like the data plane's. */
export function createControlPlaneLogger(level: LogLevel): LoggerService {
  return new ConsoleLogger('berth-control-plane', { json: true, logLevels: NEST_LEVELS[level] });
}

/** The OpenAPI document of the REST API (served at /api/docs and /api/docs-json). */
export function buildOpenApi(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Berth provisioning API')
    .setDescription(
      'Organisations, members, registries, tiers, credentials and invoices. Errors are RFC 9457 problem details (application/problem+json); lists are paginated with limit and cursor; create calls accept an Idempotency-Key header.',
    )
    .setVersion('1')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      description: 'A session access token or an API key (bk_...)',
    })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * Starts the control plane: its database (embedded PostgreSQL under DATA_DIR when no
 * CONTROL_PLANE_DATABASE_URL is set, migrations at start-up), the REST API with its OpenAPI
 * description, the job queue, the runtime adapter, and the usage monitor.
 */
export async function startControlPlane(
  input: ControlPlaneConfig,
  logger: LoggerService = createControlPlaneLogger(input.logLevel),
): Promise<RunningControlPlane> {
  let embedded: EmbeddedDatabase | undefined;
  const config = { ...input };
  if (!config.databaseUrl) {
    const pinoLogger = pino({ level: config.logLevel === 'silent' ? 'silent' : 'warn' });
    embedded = await startEmbeddedPostgres(config.dataDir, pinoLogger, 'control_plane');
    config.databaseUrl = embedded.url;
    config.tenantDatabaseAdminUrl ??= embedded.adminUrl;
  }
  const secretKey = Buffer.from(
    await loadOrCreateSecret(
      config.secretKey,
      join(config.dataDir, 'control-plane', 'secret.key'),
      32,
    ),
    'base64',
  );
  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(
      ControlPlaneModule.forRoot(config, secretKey),
      new FastifyAdapter({ bodyLimit: 1024 * 1024 }),
      { logger, abortOnError: false },
    );
    app.useGlobalPipes(validationPipe());
    app.enableShutdownHooks();
    const document = buildOpenApi(app);
    SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
    await app.listen(config.port, config.host);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    app,
    config,
    close: async () => {
      await app.close();
      await embedded?.stop();
    },
  };
}
