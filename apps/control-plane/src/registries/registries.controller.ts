import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { WriteGateStatus } from '@berth/platform-contracts';
import { Idempotent } from '../common/idempotency.interceptor';
import { pageRequest, type Page } from '../common/pagination';
import { OrgAccess, Scope } from '../identity/decorators';
import type { OrgScope } from '../orgs/org-scope';
import { PageQueryDto } from '../orgs/orgs.dto';
import { CredentialsService, type RegistryCredentials } from './credentials.service';
import { RegistriesService } from './registries.service';
import { CreateCredentialsDto, CreateRegistryDto, UpdateRegistryDto } from './registries.dto';
import type { RegistryView } from './registry.types';
import { UsageMonitor } from './usage-monitor.service';

@Controller('api/v1/orgs/:org/registries')
@ApiTags('registries')
export class RegistriesController {
  constructor(
    private readonly registries: RegistriesService,
    private readonly credentials: CredentialsService,
    private readonly monitor: UsageMonitor,
  ) {}

  @Get()
  @OrgAccess('reader')
  @ApiOperation({ summary: "The organisation's registries" })
  list(@Scope() scope: OrgScope, @Query() query: PageQueryDto): Promise<Page<RegistryView>> {
    return this.registries.list(scope, pageRequest(query));
  }

  @Post()
  @OrgAccess('admin')
  @Idempotent()
  @ApiOperation({
    summary:
      'Create a registry: it is provisioned in the background (state provisioning -> ready | failed)',
  })
  create(@Scope() scope: OrgScope, @Body() body: CreateRegistryDto): Promise<RegistryView> {
    return this.registries.create(scope, body);
  }

  @Get(':registry')
  @OrgAccess('reader')
  @ApiOperation({ summary: 'One registry: state, endpoint, tier, usage' })
  get(@Scope() scope: OrgScope, @Param('registry') name: string): Promise<RegistryView> {
    return this.registries.get(scope, name);
  }

  @Patch(':registry')
  @OrgAccess('admin')
  @ApiOperation({ summary: 'Change tier, quota policy, or the maintenance switch' })
  update(
    @Scope() scope: OrgScope,
    @Param('registry') name: string,
    @Body() body: UpdateRegistryDto,
  ): Promise<RegistryView> {
    return this.registries.update(scope, name, body);
  }

  @Delete(':registry')
  @OrgAccess('admin')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Delete a registry with everything of it (runtime, storage, database, secrets, credentials)',
  })
  delete(@Scope() scope: OrgScope, @Param('registry') name: string): Promise<RegistryView> {
    return this.registries.delete(scope, name);
  }

  @Post(':registry/suspend')
  @OrgAccess('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop serving; data is kept' })
  suspend(@Scope() scope: OrgScope, @Param('registry') name: string): Promise<RegistryView> {
    return this.registries.suspend(scope, name);
  }

  @Post(':registry/resume')
  @OrgAccess('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a suspended registry or retry a failed one' })
  resume(@Scope() scope: OrgScope, @Param('registry') name: string): Promise<RegistryView> {
    return this.registries.resume(scope, name);
  }

  @Post(':registry/usage/refresh')
  @OrgAccess('reader')
  @HttpCode(200)
  @ApiOperation({ summary: 'Measure usage now and apply the quota policy; returns the write gate' })
  async refreshUsage(
    @Scope() scope: OrgScope,
    @Param('registry') name: string,
  ): Promise<{ registry: RegistryView; gate: WriteGateStatus }> {
    const record = await this.registries.require(scope, name);
    const gate = await this.monitor.check(record);
    return { registry: await this.registries.get(scope, name), gate };
  }

  @Post(':registry/credentials')
  @OrgAccess('reader')
  @Idempotent()
  @ApiOperation({
    summary:
      'Issue credentials: a token for your registry user or a new service account, with a docker login command and a pull secret',
  })
  async createCredentials(
    @Scope() scope: OrgScope,
    @Param('registry') name: string,
    @Body() body: CreateCredentialsDto,
  ): Promise<RegistryCredentials> {
    return this.credentials.issue(scope, await this.registries.require(scope, name), body);
  }
}
