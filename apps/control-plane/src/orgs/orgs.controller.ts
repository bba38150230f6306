import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Idempotent } from '../common/idempotency.interceptor';
import { pageRequest, type Page } from '../common/pagination';
import type { Actor } from '../identity/actor';
import { CurrentActor, OrgAccess, Scope, SignedIn } from '../identity/decorators';
import type { OrgScope } from './org-scope';
import {
  AcceptInvitationDto,
  ChangeRoleDto,
  CreateOrgDto,
  InviteDto,
  PageQueryDto,
  UpdateOrgDto,
} from './orgs.dto';
import { OrgsService, type Invitation, type Member, type Organisation } from './orgs.service';

@Controller('api/v1/orgs')
@ApiTags('organisations')
export class OrgsController {
  constructor(private readonly orgs: OrgsService) {}

  @Get()
  @SignedIn()
  @ApiOperation({ summary: 'The organisations the caller belongs to' })
  list(@CurrentActor() actor: Actor, @Query() query: PageQueryDto): Promise<Page<Organisation>> {
    return this.orgs.listFor(actor, pageRequest(query));
  }

  @Post()
  @SignedIn()
  @Idempotent()
  @ApiOperation({ summary: 'Create an organisation; the caller becomes its owner' })
  create(@CurrentActor() actor: Actor, @Body() body: CreateOrgDto): Promise<Organisation> {
    return this.orgs.create(actor, body);
  }

  @Post('invitations/accept')
  @SignedIn()
  @HttpCode(200)
  @ApiOperation({ summary: "Accept an invitation sent to the caller's e-mail address" })
  accept(@CurrentActor() actor: Actor, @Body() body: AcceptInvitationDto): Promise<Organisation> {
    return this.orgs.accept(actor, body.token);
  }

  @Get(':org')
  @OrgAccess('reader')
  @ApiOperation({ summary: 'One organisation' })
  get(@Scope() scope: OrgScope): Promise<Organisation> {
    return this.orgs.get(scope);
  }

  @Patch(':org')
  @OrgAccess('admin')
  @ApiOperation({ summary: 'Rename an organisation' })
  update(@Scope() scope: OrgScope, @Body() body: UpdateOrgDto): Promise<Organisation> {
    return this.orgs.rename(scope, body.name);
  }

  @Delete(':org')
  @OrgAccess('owner')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an organisation without registries' })
  async delete(@Scope() scope: OrgScope): Promise<void> {
    await this.orgs.delete(scope);
  }

  @Get(':org/members')
  @OrgAccess('reader')
  @ApiOperation({ summary: 'Members and their roles' })
  members(@Scope() scope: OrgScope, @Query() query: PageQueryDto): Promise<Page<Member>> {
    return this.orgs.members(scope, pageRequest(query));
  }

  @Patch(':org/members/:account')
  @OrgAccess('admin')
  @ApiOperation({ summary: "Change a member's role (applies to every registry at once)" })
  changeRole(
    @Scope() scope: OrgScope,
    @Param('account') account: string,
    @Body() body: ChangeRoleDto,
  ): Promise<Member> {
    return this.orgs.changeRole(scope, account, body.role);
  }

  @Delete(':org/members/:account')
  @OrgAccess('reader')
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Remove a member (admins), or leave (anyone, for themselves); registry access ends at once',
  })
  async removeMember(@Scope() scope: OrgScope, @Param('account') account: string): Promise<void> {
    await this.orgs.removeMember(scope, account);
  }

  @Get(':org/invitations')
  @OrgAccess('admin')
  @ApiOperation({ summary: 'Invitations sent' })
  invitations(@Scope() scope: OrgScope, @Query() query: PageQueryDto): Promise<Page<Invitation>> {
    return this.orgs.invitations(scope, pageRequest(query));
  }

  @Post(':org/invitations')
  @OrgAccess('admin')
  @Idempotent()
  @ApiOperation({ summary: 'Invite someone by e-mail; the token is shown only in this answer' })
  invite(
    @Scope() scope: OrgScope,
    @Body() body: InviteDto,
  ): Promise<Invitation & { token: string }> {
    return this.orgs.invite(scope, body);
  }

  @Delete(':org/invitations/:id')
  @OrgAccess('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an invitation' })
  async revoke(@Scope() scope: OrgScope, @Param('id') id: string): Promise<void> {
    await this.orgs.revokeInvitation(scope, id);
  }
}
