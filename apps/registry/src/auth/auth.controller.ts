import { Controller, Get, Inject, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { readBody, queryList, queryOne } from '../distribution/http-body';
import { parseScopes } from './access-scope';
import { basicCredentials, unauthorized } from './auth-challenge';
import { Public, callerOf } from './auth.decorators';
import { CredentialsService } from './credentials.service';
import { KeyRingService } from './key-ring.service';
import { PrincipalService, type Authenticated } from './principal.service';
import { TokenService } from './token.service';
import { badRequest } from '../admin/admin-errors';

type TokenQuery = Record<string, string | string[] | undefined>;

/**
 * The token endpoint of the Docker token flow: `GET /auth/token` with Basic credentials (or
 * none, for anonymous access to public content) and the OAuth2 form `POST /auth/token`
 * (`grant_type=password|refresh_token`) of newer docker/containerd clients; `GET /auth/jwks`
 * publishes the verification keys.
 */
@Controller('auth')
export class AuthController {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly principals: PrincipalService,
    private readonly tokens: TokenService,
    private readonly keys: KeyRingService,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  @Get('token')
  @Public()
  async get(
    @Query() query: TokenQuery,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const header = request.headers.authorization;
    let caller: Authenticated | undefined;
    if (header !== undefined) {
      const basic = basicCredentials(header);
      if (!basic) throw unauthorized(this.config.auth, request, 'malformed Authorization header');
      caller = await this.credentials.authenticate(
        basic.username,
        basic.password,
        callerOf(request),
      );
      if (!caller) throw unauthorized(this.config.auth, request, 'invalid username or password');
    }
    const issued = await this.tokens.issue(
      caller,
      parseScopes(queryList(query.scope)),
      queryOne(query.offline_token) === 'true',
    );
    await send(reply, {
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      ...(issued.refreshToken ? { refresh_token: issued.refreshToken } : {}),
    });
  }

  @Post('token')
  @Public()
  async post(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = new URLSearchParams((await readBody(request, 64 * 1024)).toString('utf8'));
    const grantType = form.get('grant_type');
    let caller: Authenticated | undefined;
    if (grantType === 'password') {
      caller = await this.credentials.authenticate(
        form.get('username') ?? '',
        form.get('password') ?? '',
        callerOf(request),
      );
    } else if (grantType === 'refresh_token') {
      const redeemed = await this.tokens.redeemRefreshToken(form.get('refresh_token') ?? '');
      const principal =
        redeemed &&
        (await this.principals.stillActive(redeemed.principalId, redeemed.accessTokenId));
      if (principal) caller = { principal, accessTokenId: redeemed?.accessTokenId };
    } else {
      throw badRequest('grant_type must be password or refresh_token');
    }
    if (!caller) throw unauthorized(this.config.auth, request, 'invalid credentials');
    const scopes = parseScopes((form.get('scope') ?? '').split(' ').filter((s) => s !== ''));
    const issued = await this.tokens.issue(
      caller,
      scopes,
      form.get('access_type') === 'offline' || grantType === 'password',
    );
    await send(reply, {
      access_token: issued.token,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      scope: issued.access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`).join(' '),
      ...(issued.refreshToken ? { refresh_token: issued.refreshToken } : {}),
    });
  }

  @Get('jwks')
  @Public()
  async jwks(@Res() reply: FastifyReply): Promise<void> {
    await send(reply, this.keys.jwks());
  }
}

async function send(reply: FastifyReply, body: object): Promise<void> {
  await reply
    .status(200)
    .header('Content-Type', 'application/json')
    .header('Cache-Control', 'no-store')
    .send(Buffer.from(JSON.stringify(body)));
}
