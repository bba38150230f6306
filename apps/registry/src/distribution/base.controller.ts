import { Controller, Get, Header } from '@nestjs/common';
import { BaseAccess } from '../auth/auth.decorators';

/** `GET /v2/`: the API version check every client starts with. */
@Controller('v2')
export class BaseController {
  @Get()
  @BaseAccess()
  @Header('Content-Type', 'application/json; charset=utf-8')
  check(): string {
    return '{}';
  }
}
