import { Module } from '@nestjs/common';
import { BillingController } from './billing.controller';
import { BillingService } from './billing.service';

/** Invoices: tier time, egress overage and backup storage, in integer cents. */
@Module({ controllers: [BillingController], providers: [BillingService] })
export class BillingModule {}
