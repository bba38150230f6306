import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import jwt from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { KeyRingService, SIGNING_ALGORITHM } from './key-ring.service';
import type { RegistryClaims } from './token.service';

export const REGISTRY_JWT = 'registry-jwt';

/**
 * Verifies bearer tokens with passport-jwt: ES256 only (so `none` and HS256-with-the-public-key
 * tokens are refused), signed by a key of this registry's ring (looked up by `kid`), with this
 * registry's `iss` and `aud`, not expired.
 */
@Injectable()
export class RegistryJwtStrategy extends PassportStrategy(Strategy, REGISTRY_JWT) {
  constructor(keys: KeyRingService, @Inject(REGISTRY_CONFIG) config: RegistryConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      algorithms: [SIGNING_ALGORITHM],
      audience: config.auth.service,
      issuer: config.auth.issuer,
      ignoreExpiration: false,
      jsonWebTokenOptions: { clockTolerance: 5, maxAge: `${config.auth.tokenTtlSeconds + 60}s` },
      secretOrKeyProvider: (
        _request: unknown,
        rawJwt: string,
        done: (err: unknown, key?: string) => void,
      ) => {
        const decoded = jwt.decode(rawJwt, { complete: true });
        keys.publicKeyFor(decoded?.header.kid).then(
          (key) => (key ? done(null, key) : done(new Error('token signed by an unknown key'))),
          (err: unknown) => done(err),
        );
      },
    });
  }

  validate(payload: RegistryClaims): RegistryClaims {
    return payload;
  }
}
