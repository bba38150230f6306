import { Module } from '@nestjs/common';
import { MembershipEvents } from './membership-events';
import { OrgDirectory } from './org-directory.service';
import { OrgsController } from './orgs.controller';
import { OrgsService } from './orgs.service';

/** Organisations, members, roles and invitations. */
@Module({
  controllers: [OrgsController],
  providers: [OrgsService, OrgDirectory, MembershipEvents],
  exports: [OrgsService, OrgDirectory, MembershipEvents],
})
export class OrgsModule {}
