import { ApiProperty } from '@nestjs/swagger';

/** OpenAPI shapes of the egress report. */
export class EgressRecordDto {
  @ApiProperty({ example: '2026-11-23T09:00:00.000Z', description: 'Start of the UTC hour' })
  hour!: string;
  @ApiProperty({ example: 'team/app' }) repository!: string;
  @ApiProperty({ example: 'ci-bot', description: "The principal's name, or anonymous" })
  principal!: string;
  @ApiProperty({ description: 'Blob and manifest bytes served in the hour (running total)' })
  bytes!: number;
  @ApiProperty({ description: 'Blob and manifest GETs served in the hour (running total)' })
  requests!: number;
}

export class EgressReportDto {
  @ApiProperty({ type: [EgressRecordDto] }) records!: EgressRecordDto[];
}
