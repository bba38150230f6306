import { Injectable } from '@nestjs/common';

type Listener = (orgId: string) => Promise<void>;

/**
 * Membership changes, for the registries module to provision members into each registry
 * (or remove them) without the organisations module depending on it.
 */
@Injectable()
export class MembershipEvents {
  private readonly listeners: Listener[] = [];

  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }

  async changed(orgId: string): Promise<void> {
    for (const listener of this.listeners) await listener(orgId);
  }
}
