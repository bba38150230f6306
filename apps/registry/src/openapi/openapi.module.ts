import { Global, Module } from '@nestjs/common';
import { OpenApiController, OpenApiDocument } from './openapi.controller';

@Global()
@Module({
  controllers: [OpenApiController],
  providers: [OpenApiDocument],
  exports: [OpenApiDocument],
})
export class OpenApiModule {}
