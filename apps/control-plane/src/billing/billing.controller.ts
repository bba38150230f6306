import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { pageRequest, type Page } from '../common/pagination';
import { OrgAccess, Scope } from '../identity/decorators';
import type { OrgScope } from '../orgs/org-scope';
import { PageQueryDto } from '../orgs/orgs.dto';
import { BillingService } from './billing.service';
import { invoiceToCsv, type Invoice } from './domain';

@Controller('api/v1/orgs/:org/invoices')
@ApiTags('billing')
export class BillingController {
  constructor(private readonly billing: BillingService) {}

  @Get()
  @OrgAccess('admin')
  @ApiOperation({ summary: 'The months with an invoice, newest first' })
  months(@Scope() scope: OrgScope, @Query() query: PageQueryDto): Promise<Page<{ month: string }>> {
    return this.billing.months(scope, pageRequest(query));
  }

  @Get(':month')
  @OrgAccess('admin')
  @ApiProduces('application/json', 'text/csv')
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  @ApiOperation({
    summary:
      'The invoice of a month (YYYY-MM; the current month so far): one line per charge, amounts in integer cents',
  })
  async invoice(
    @Scope() scope: OrgScope,
    @Param('month') month: string,
    @Query('format') format: string | undefined,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Invoice | string> {
    const invoice = await this.billing.invoice(scope, month);
    const csv = format === 'csv' || (format === undefined && accept?.includes('text/csv') === true);
    if (!csv) return invoice;
    void reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="invoice-${scope.slug}-${invoice.month}.csv"`,
      );
    return invoiceToCsv(invoice);
  }
}
