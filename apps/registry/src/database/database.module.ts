import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { registryDataSourceOptions } from '@berth/registry-db';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';

/** PostgreSQL through TypeORM; committed migrations run at start-up. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [REGISTRY_CONFIG],
      useFactory: (config: RegistryConfig) => {
        if (!config.databaseUrl) {
          throw new Error('database URL not resolved (embedded PostgreSQL did not start)');
        }
        return {
          ...registryDataSourceOptions({
            url: config.databaseUrl,
            poolSize: config.databasePoolSize,
          }),
          retryAttempts: 3,
          retryDelay: 1000,
        };
      },
    }),
  ],
})
export class DatabaseModule {}
