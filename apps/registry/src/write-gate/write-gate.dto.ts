import { ApiProperty } from '@nestjs/swagger';
import { MAINTENANCE_MESSAGE_MAX_LENGTH } from '@berth/platform-contracts';

/** OpenAPI shapes of the write gate admin API (bodies are validated by write-gate-policy.ts). */
export class QuotaSettingsDto {
  @ApiProperty({
    example: 10_000_000_000,
    minimum: 0,
    description: "The tier's disk, for messages",
  })
  limitBytes!: number;

  @ApiProperty({
    example: 9_000_000_000,
    minimum: 0,
    description: 'Pushes are refused once usage reaches this (at most limitBytes)',
  })
  blockAtBytes!: number;

  @ApiProperty({
    example: 8_500_000_000,
    minimum: 0,
    description:
      'Refused pushes are accepted again once usage is down to this (at most blockAtBytes)',
  })
  resumeAtBytes!: number;
}

export class MaintenanceSettingsDto {
  @ApiProperty({
    example: 'registry upgrade until 10:30 UTC, pulls keep working',
    minLength: 1,
    maxLength: MAINTENANCE_MESSAGE_MAX_LENGTH,
    description: 'Shown to clients refused a push; printable ASCII',
  })
  message!: string;
}

export class WriteGateSettingsDto {
  @ApiProperty({ type: QuotaSettingsDto, nullable: true, description: 'null: no quota' })
  quota!: QuotaSettingsDto | null;

  @ApiProperty({
    type: MaintenanceSettingsDto,
    nullable: true,
    description: 'null: maintenance off',
  })
  maintenance!: MaintenanceSettingsDto | null;
}

export class StorageUsageDto {
  @ApiProperty({ description: 'Deduplicated bytes of every stored blob' }) blobBytes!: number;
  @ApiProperty({ description: 'Bytes received so far by open uploads' }) uploadBytes!: number;
  @ApiProperty({ description: 'blobBytes + uploadBytes: what the quota counts' })
  totalBytes!: number;
  @ApiProperty() blobs!: number;
  @ApiProperty() uploads!: number;
}

export class WriteGateStatusDto extends WriteGateSettingsDto {
  @ApiProperty({ description: 'False while pushes are refused' }) writable!: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Why pushes are refused (the Berth-Reason header clients get); null when writable',
  })
  reason!: string | null;

  @ApiProperty({ type: StorageUsageDto }) usage!: StorageUsageDto;
}
