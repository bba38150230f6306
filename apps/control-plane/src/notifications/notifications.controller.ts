import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { pageRequest, type Page } from '../common/pagination';
import { OrgAccess, Scope } from '../identity/decorators';
import type { OrgScope } from '../orgs/org-scope';
import { PageQueryDto } from '../orgs/orgs.dto';
import { NotificationsService, type Notification } from './notifications.service';

@Controller('api/v1/orgs/:org/notifications')
@ApiTags('organisations')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @OrgAccess('reader')
  @ApiOperation({ summary: 'The notification feed: tier upgrades, quota blocks, failures' })
  list(@Scope() scope: OrgScope, @Query() query: PageQueryDto): Promise<Page<Notification>> {
    return this.notifications.list(scope, pageRequest(query));
  }
}
