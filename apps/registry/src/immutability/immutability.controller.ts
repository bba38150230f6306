import { Body, Controller, Get, Put } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiBody,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { AuthAudit } from '../auth/auth-audit';
import { AdminOnly, CurrentCaller, type Caller } from '../auth/auth.decorators';
import { ImmutabilityService, type ImmutabilityRule } from './immutability.service';
import { badRequest } from '../admin/admin-errors';

class ImmutabilityRuleDto {
  @ApiProperty({ example: '**' }) repositories!: string;
  @ApiProperty({ example: 'v*' }) tags!: string;
}

class ImmutabilityRulesDto {
  @ApiProperty({ type: [ImmutabilityRuleDto] }) rules!: ImmutabilityRuleDto[];
}

@Controller('admin/v1/immutability')
@AdminOnly()
@ApiTags('lifecycle')
@ApiBasicAuth()
@ApiBearerAuth()
export class ImmutabilityController {
  constructor(
    private readonly immutability: ImmutabilityService,
    private readonly audit: AuthAudit,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Immutable tag rules' })
  list(): Promise<ImmutabilityRule[]> {
    return this.immutability.list();
  }

  @Put()
  @ApiOperation({ summary: 'Replace the immutable tag rules' })
  @ApiBody({ type: ImmutabilityRulesDto })
  async replace(
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ImmutabilityRule[]> {
    const rules = await this.immutability.replace(parseRules(body));
    await this.audit.admin(caller, 'immutability.set', { rules });
    return rules;
  }
}

function parseRules(body: unknown): ImmutabilityRule[] {
  const rules = (body as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules))
    throw badRequest('body must be {"rules": [{"repositories": "...", "tags": "..."}]}');
  return rules.map((r: unknown) => {
    const rule = r as { repositories?: unknown; tags?: unknown } | null;
    if (typeof rule?.repositories !== 'string' || typeof rule.tags !== 'string') {
      throw badRequest('each rule needs "repositories" and "tags" globs');
    }
    return { repositories: rule.repositories, tags: rule.tags };
  });
}
