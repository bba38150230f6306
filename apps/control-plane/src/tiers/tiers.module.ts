import { Global, Module } from '@nestjs/common';
import { TiersController } from './tiers.controller';
import { TiersService } from './tiers.service';

/** The tiers catalogue (seed data, edited by operators). */
@Global()
@Module({ controllers: [TiersController], providers: [TiersService], exports: [TiersService] })
export class TiersModule {}
