import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { OperatorOnly, Public } from '../identity/decorators';
import { problems } from '../common/problem';
import { TiersService, type Tier } from './tiers.service';

export class PutTierDto {
  @ApiProperty({ description: 'Position in the upgrade order (auto_upgrade goes to the next)' })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  ordinal!: number;

  @ApiProperty({ description: 'Disk quota in bytes (decimal GB = 10^9)' })
  @IsInt()
  @Min(1)
  diskBytes!: number;

  @ApiProperty()
  @IsInt()
  @Min(0)
  includedEgressBytes!: number;

  @ApiProperty({ description: 'EUR per GB of egress overage, in micro-euros (0.005 EUR = 5000)' })
  @IsInt()
  @Min(0)
  overagePerGbMicros!: number;

  @ApiProperty({ description: 'Monthly price in micro-euros (3.02 EUR = 3020000)' })
  @IsInt()
  @Min(0)
  monthlyPriceMicros!: number;

  @ApiProperty()
  @IsInt()
  @Min(50)
  @Max(64_000)
  cpuMillis!: number;

  @ApiProperty()
  @IsInt()
  @Min(64)
  @Max(262_144)
  memoryMiB!: number;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  available?: boolean;
}

@Controller('api/v1/tiers')
@ApiTags('tiers')
export class TiersController {
  constructor(private readonly tiers: TiersService) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'The tiers: disk, included egress, overage rate and monthly price' })
  async list(): Promise<{ items: Tier[]; nextCursor: null }> {
    // Tiers are a short, fixed catalogue: one page always holds them all.
    return { items: await this.tiers.list(), nextCursor: null };
  }

  @Get(':name')
  @Public()
  @ApiOperation({ summary: 'One tier' })
  get(@Param('name') name: string): Promise<Tier> {
    return this.tiers.get(name);
  }

  @Put(':name')
  @OperatorOnly()
  @ApiOperation({ summary: 'Create or edit a tier (platform operators)' })
  put(@Param('name') name: string, @Body() body: PutTierDto): Promise<Tier> {
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(name)) {
      throw problems.validation([{ name: 'name', reason: 'must be 1-40 of a-z, 0-9 and -' }]);
    }
    return this.tiers.put({ name, ...body, available: body.available ?? true });
  }
}
