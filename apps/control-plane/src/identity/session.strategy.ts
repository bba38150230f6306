import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { Actor } from './actor';
import { IdentityService, SESSION_AUDIENCE, SESSION_ISSUER } from './identity.service';
import { SESSION_KEYS, type SessionKeys } from './session-keys';

/** Verifies session access tokens (HS256, issuer and audience checked) with passport-jwt. */
@Injectable()
export class SessionStrategy extends PassportStrategy(Strategy, 'session') {
  constructor(
    @Inject(SESSION_KEYS) keys: SessionKeys,
    private readonly identity: IdentityService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: keys.secret,
      algorithms: ['HS256'],
      issuer: SESSION_ISSUER,
      audience: SESSION_AUDIENCE,
      ignoreExpiration: false,
    });
  }

  /** A disabled or deleted account's tokens stop working at once. */
  async validate(payload: { sub?: string }): Promise<Actor | false> {
    if (!payload.sub) return false;
    return (await this.identity.actorForSession(payload.sub)) ?? false;
  }
}
