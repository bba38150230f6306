import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiBasicAuth, ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CreateAccessTokenDto,
  CreatePrincipalDto,
  PublicAccessDto,
  SetGrantsDto,
  UpdatePrincipalDto,
  parseCreateAccessToken,
  parseCreatePrincipal,
  parseGrants,
  parsePublicAccess,
  parseUpdatePrincipal,
} from './admin.dto';
import { AuditAction } from '../audit/audit-event';
import { AuthAudit } from './auth-audit';
import { AdminOnly, CurrentCaller, type Caller } from './auth.decorators';
import { KeyRingService, type PublicKeyInfo } from './key-ring.service';
import { PermissionService, type Grant, type PublicAccess } from './permission.service';
import { PrincipalService, type AccessTokenInfo, type Principal } from './principal.service';
import { notFound } from '../admin/admin-errors';

/** The registry's admin API: principals, their tokens and grants, public access, signing keys. */
@Controller('admin/v1')
@AdminOnly()
@ApiTags('access')
@ApiBasicAuth()
@ApiBearerAuth()
export class AdminController {
  constructor(
    private readonly principals: PrincipalService,
    private readonly permissions: PermissionService,
    private readonly keys: KeyRingService,
    private readonly audit: AuthAudit,
  ) {}

  @Get('principals')
  @ApiOperation({ summary: 'List users and service accounts' })
  list(): Promise<Principal[]> {
    return this.principals.list();
  }

  @Post('principals')
  @ApiOperation({ summary: 'Create a user or service account' })
  @ApiBody({ type: CreatePrincipalDto })
  async create(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<Principal> {
    const principal = await this.principals.create(parseCreatePrincipal(body));
    await this.audit.admin(caller, 'principal.create', {
      principal: principal.name,
      role: principal.role,
    });
    return principal;
  }

  @Get('principals/:id')
  @ApiOperation({ summary: 'One principal' })
  get(@Param('id') id: string): Promise<Principal> {
    return this.principals.require(id);
  }

  @Patch('principals/:id')
  @ApiOperation({
    summary: 'Change role, disable or enable (takes effect on the next request), set password',
  })
  @ApiBody({ type: UpdatePrincipalDto })
  async update(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<Principal> {
    const change = parseUpdatePrincipal(body);
    const principal = await this.principals.update(id, change);
    await this.audit.admin(caller, 'principal.update', {
      principal: principal.name,
      role: change.role,
      disabled: change.disabled,
      passwordChanged: change.password !== undefined,
    });
    return principal;
  }

  @Delete('principals/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a principal; its tokens stop working at once' })
  async remove(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    const principal = await this.principals.require(id);
    await this.principals.delete(id);
    await this.audit.admin(caller, 'principal.delete', { principal: principal.name });
  }

  @Get('principals/:id/tokens')
  @ApiOperation({ summary: 'List access tokens (never their secrets)' })
  async tokens(@Param('id') id: string): Promise<AccessTokenInfo[]> {
    await this.principals.require(id);
    return this.principals.listAccessTokens(id);
  }

  @Post('principals/:id/tokens')
  @ApiOperation({ summary: 'Create an access token; its secret is in this response only' })
  @ApiBody({ type: CreateAccessTokenDto })
  async createToken(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<AccessTokenInfo & { token: string }> {
    const input = parseCreateAccessToken(body);
    const { token, info } = await this.principals.createAccessToken(
      id,
      input.name,
      input.expiresAt,
    );
    await this.audit.token(caller, AuditAction.TokenIssue, {
      principalId: id,
      tokenId: info.id,
      name: info.name,
    });
    return { ...info, token };
  }

  @Delete('principals/:id/tokens/:tokenId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an access token (takes effect on the next request)' })
  async revokeToken(
    @Param('id') id: string,
    @Param('tokenId') tokenId: string,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    if (!(await this.principals.revokeAccessToken(id, tokenId))) {
      throw notFound(`no active token ${tokenId}`);
    }
    await this.audit.token(caller, AuditAction.TokenRevoke, { principalId: id, tokenId });
  }

  @Get('principals/:id/grants')
  @ApiOperation({ summary: 'The principal row of the access matrix' })
  async grants(@Param('id') id: string): Promise<Grant[]> {
    await this.principals.require(id);
    return this.permissions.grants(id);
  }

  @Put('principals/:id/grants')
  @ApiOperation({ summary: 'Replace the principal row of the access matrix' })
  @ApiBody({ type: SetGrantsDto })
  async setGrants(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<Grant[]> {
    const principal = await this.principals.require(id);
    const grants = await this.permissions.setGrants(id, parseGrants(body));
    await this.audit.admin(caller, 'grants.set', { principal: principal.name, grants });
    return grants;
  }

  @Get('public')
  @ApiOperation({ summary: 'Anonymous pull: whole registry and repository patterns' })
  publicAccess(): Promise<PublicAccess> {
    return this.permissions.getPublicAccess();
  }

  @Put('public')
  @ApiOperation({ summary: 'Set anonymous pull access' })
  @ApiBody({ type: PublicAccessDto })
  async setPublicAccess(
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<PublicAccess> {
    const access = await this.permissions.setPublicAccess(parsePublicAccess(body));
    await this.audit.admin(caller, 'public.set', { ...access });
    return access;
  }

  @Get('keys')
  @ApiOperation({ summary: 'Token signing keys that still verify' })
  listKeys(): PublicKeyInfo[] {
    return this.keys.list();
  }

  @Post('keys/rotate')
  @ApiOperation({
    summary: 'Rotate the signing key; tokens already issued keep working until they expire',
  })
  async rotate(@CurrentCaller() caller: Caller): Promise<PublicKeyInfo> {
    const key = await this.keys.rotate();
    await this.audit.keyRotated(caller, key.kid);
    return key;
  }
}
