import { Controller, Get, Injectable } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';

/**
 * The admin API's OpenAPI document, built on first request (building it at start-up costs
 * memory and time every registry would pay whether or not anyone reads it).
 */
@Injectable()
export class OpenApiDocument {
  private build?: () => Promise<OpenAPIObject>;
  private document?: Promise<OpenAPIObject>;

  setBuilder(build: () => Promise<OpenAPIObject>): void {
    this.build = build;
  }

  get(): Promise<OpenAPIObject | Record<string, never>> {
    if (!this.build) return Promise.resolve({});
    this.document ??= this.build();
    return this.document;
  }
}

@Controller('admin')
export class OpenApiController {
  constructor(private readonly holder: OpenApiDocument) {}

  @Get('openapi.json')
  @Public()
  get(): Promise<OpenAPIObject | Record<string, never>> {
    return this.holder.get();
  }
}
