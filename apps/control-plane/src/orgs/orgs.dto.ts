import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { ORG_ROLES, type OrgRole } from './org-roles';

/** DNS-label names: organisations and registries appear in host names and namespaces. */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
export const SLUG_RULE = '1-40 of a-z, 0-9 and -, starting and ending with a letter or digit';

export class CreateOrgDto {
  @ApiProperty({ example: 'acme', description: SLUG_RULE })
  @Matches(SLUG_PATTERN, { message: `slug must be ${SLUG_RULE}` })
  slug!: string;

  @ApiProperty({ example: 'Acme Inc.' })
  @IsString()
  @Length(1, 120)
  name!: string;
}

export class UpdateOrgDto {
  @ApiProperty()
  @IsString()
  @Length(1, 120)
  name!: string;
}

export class InviteDto {
  @ApiProperty()
  @IsEmail()
  email!: string;

  @ApiProperty({ enum: ORG_ROLES })
  @IsIn(ORG_ROLES)
  role!: OrgRole;
}

export class ChangeRoleDto {
  @ApiProperty({ enum: ORG_ROLES })
  @IsIn(ORG_ROLES)
  role!: OrgRole;
}

export class AcceptInvitationDto {
  @ApiProperty({ description: 'The token of the invitation (bin_...)' })
  @IsString()
  @Length(10, 200)
  token!: string;
}

export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Matches(/^\d+$/, { message: 'limit must be a whole number' })
  limit?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @Length(0, 500)
  cursor?: string;
}
