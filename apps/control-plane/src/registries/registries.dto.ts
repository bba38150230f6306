import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { REGISTRY_ROLES, type RegistryRole } from '@berth/platform-contracts';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { SLUG_PATTERN, SLUG_RULE } from '../orgs/orgs.dto';
import { QUOTA_POLICIES, type QuotaPolicy } from './registry.types';

export class CreateRegistryDto {
  @ApiProperty({ example: 'acme-prod', description: `${SLUG_RULE}; unique on the platform` })
  @Matches(SLUG_PATTERN, { message: `name must be ${SLUG_RULE}` })
  name!: string;

  @ApiProperty({ example: 'scr-10' })
  @IsString()
  @Length(1, 40)
  tier!: string;

  @ApiPropertyOptional({ enum: QUOTA_POLICIES, default: 'read_only' })
  @IsOptional()
  @IsIn(QUOTA_POLICIES)
  quotaPolicy?: QuotaPolicy;
}

export class UpdateRegistryDto {
  @ApiPropertyOptional({ description: 'Move to another tier (billing uses it from this hour)' })
  @IsOptional()
  @IsString()
  @Length(1, 40)
  tier?: string;

  @ApiPropertyOptional({ enum: QUOTA_POLICIES })
  @IsOptional()
  @IsIn(QUOTA_POLICIES)
  quotaPolicy?: QuotaPolicy;

  @ApiPropertyOptional({
    nullable: true,
    description:
      'Maintenance switch: a message makes the registry read-only (503 with this reason); null ends it',
  })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @Length(1, 500)
  @Matches(/^[\x20-\x7e]*$/, {
    message: 'maintenanceMessage must be printable ASCII (clients see it in a header)',
  })
  maintenanceMessage?: string | null;
}

export class CreateCredentialsDto {
  @ApiProperty({ enum: ['user', 'service_account'] })
  @IsIn(['user', 'service_account'])
  kind!: 'user' | 'service_account';

  @ApiPropertyOptional({ description: 'Service accounts: name' })
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9._-]{0,63}$/, { message: 'name must be 1-64 of a-z 0-9 . _ -' })
  name?: string;

  @ApiPropertyOptional({ enum: REGISTRY_ROLES, description: 'Service accounts: role' })
  @IsOptional()
  @IsIn(REGISTRY_ROLES)
  role?: RegistryRole;

  @ApiPropertyOptional({ minimum: 1, maximum: 3650 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  expiresInDays?: number;

  @ApiPropertyOptional({ description: 'Name of the pull secret (default <registry>-pull)' })
  @IsOptional()
  @Matches(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, {
    message: 'secretName must be a DNS subdomain name',
  })
  secretName?: string;

  @ApiPropertyOptional({ description: 'Namespace of the pull secret' })
  @IsOptional()
  @Matches(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { message: 'namespace must be a DNS label' })
  namespace?: string;
}
