import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminOnly, CurrentCaller, type Caller } from '../auth/auth.decorators';
import { RetentionPoliciesDto, RetentionRunDto } from './retention.dto';
import { badRequest } from '../admin/admin-errors';
import { parseRetentionPolicies, type RetentionPolicy } from './retention-policy';
import {
  RetentionService,
  type RetentionApplyResult,
  type RetentionPlanEntry,
  type RetentionPlanOptions,
} from './retention.service';

/** Retention policies and runs (admin API). */
@Controller('admin/v1/retention')
@AdminOnly()
@ApiTags('lifecycle')
@ApiBasicAuth()
@ApiBearerAuth()
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Get('policies')
  @ApiOperation({ summary: 'Retention policies' })
  @ApiOkResponse({ type: RetentionPoliciesDto })
  async list(): Promise<{ policies: RetentionPolicy[] }> {
    return { policies: await this.retention.listPolicies() };
  }

  @Put('policies')
  @ApiOperation({ summary: 'Replace all retention policies' })
  @ApiBody({ type: RetentionPoliciesDto })
  @ApiOkResponse({ type: RetentionPoliciesDto })
  async replace(
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<{ policies: RetentionPolicy[] }> {
    const policies = parseRetentionPolicies(body);
    return { policies: await this.retention.replacePolicies(policies, caller) };
  }

  @Post('dry-run')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The tags a retention run would delete now, each with the rule that decided it',
  })
  @ApiBody({ type: RetentionRunDto, required: false })
  @ApiOkResponse({ description: '{ plan: [{ repository, tag, digest, pushedAt, rule }] }' })
  async dryRun(@Body() body: unknown): Promise<{ plan: RetentionPlanEntry[] }> {
    return { plan: await this.retention.plan(parseRunOptions(body)) };
  }

  @Post('run')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Delete the tags retention no longer keeps (each deletion is audited)',
  })
  @ApiBody({ type: RetentionRunDto, required: false })
  @ApiOkResponse({ description: '{ deleted: [...], skipped: [...], manifestsDeleted }' })
  async run(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<RetentionApplyResult> {
    const { deleted, skipped, manifestsDeleted } = await this.retention.run(
      caller,
      false,
      parseRunOptions(body),
    );
    return { deleted, skipped, manifestsDeleted };
  }
}

/** `{}`, no body, or `{ "repositories": "<glob>" }` (the glob is checked by the service). */
function parseRunOptions(body: unknown): RetentionPlanOptions {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('body must be empty or {"repositories": "<glob>"}');
  }
  const { repositories, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw badRequest(`unknown field "${unknown[0]}" (allowed: repositories)`);
  }
  if (repositories !== undefined && typeof repositories !== 'string') {
    throw badRequest('"repositories" must be a repository glob such as "**" or "team-a/*"');
  }
  return repositories === undefined ? {} : { repositories };
}
