import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** OpenAPI shapes of the retention admin API (bodies are validated by retention-policy.ts). */
export class DeleteAfterDaysDto {
  @ApiProperty({ example: 'pr-*', description: 'Tag glob (`*`, `?`)' })
  tags!: string;

  @ApiProperty({ example: 7, minimum: 1, maximum: 36500 })
  days!: number;
}

export class RetentionPolicyDto {
  @ApiProperty({
    example: 'team-a/*',
    description:
      'Repository glob (`*`, `**`, `?`); the most specific matching policy governs a repository',
  })
  repositories!: string;

  @ApiPropertyOptional({ example: 20, minimum: 1, description: 'Keep the N most recent tags' })
  keepLastN?: number;

  @ApiPropertyOptional({ example: 14, minimum: 1, description: 'Keep tags pushed within N days' })
  keepDays?: number;

  @ApiPropertyOptional({
    type: [DeleteAfterDaysDto],
    description: 'Delete tags matching `tags` once older than `days` days',
  })
  deleteAfterDays?: DeleteAfterDaysDto[];

  @ApiPropertyOptional({
    type: [String],
    example: ['v*', 'latest'],
    description: 'Tag globs that are never deleted',
  })
  keepPatterns?: string[];

  @ApiPropertyOptional({
    example: 5,
    minimum: 0,
    description: 'Never leave a repository with fewer tags than this',
  })
  keepMin?: number;
}

export class RetentionPoliciesDto {
  @ApiProperty({ type: [RetentionPolicyDto] })
  policies!: RetentionPolicyDto[];
}

export class RetentionRunDto {
  @ApiPropertyOptional({
    example: 'team-a/**',
    description: 'Only repositories matching this glob (default: all)',
  })
  repositories?: string;
}
