import { Controller, Get, Injectable } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';

/** The admin API's OpenAPI document, built once the application's modules are known. */
@Injectable()
export class OpenApiDocument {
  document?: OpenAPIObject;
}

@Controller('admin')
export class OpenApiController {
  constructor(private readonly holder: OpenApiDocument) {}

  @Get('openapi.json')
  @Public()
  get(): OpenAPIObject | Record<string, never> {
    return this.holder.document ?? {};
  }
}
