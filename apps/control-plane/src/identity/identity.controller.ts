import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Idempotent } from '../common/idempotency.interceptor';
import { problems } from '../common/problem';
import { CONTROL_PLANE_CONFIG } from '../config/config.tokens';
import type { ControlPlaneConfig } from '../config/control-plane-config';
import { Inject } from '@nestjs/common';
import type { Actor } from './actor';
import { CurrentActor, Public, SignedIn } from './decorators';
import { CreateApiKeyDto, LoginDto, RefreshDto, SignupDto } from './identity.dto';
import {
  IdentityService,
  type Account,
  type ApiKeyInfo,
  type SessionTokens,
} from './identity.service';

@Controller('api/v1/auth')
@ApiTags('auth')
export class IdentityController {
  constructor(
    private readonly identity: IdentityService,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  @Post('signup')
  @Public()
  @Idempotent()
  @ApiOperation({ summary: 'Create an account (when sign-up is open)' })
  async signup(@Body() body: SignupDto): Promise<Account> {
    if (!this.config.signupOpen) throw problems.forbidden('sign-up is closed on this platform');
    return this.identity.signup(body);
  }

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in: a short-lived access token and a refresh token' })
  login(@Body() body: LoginDto): Promise<SessionTokens> {
    return this.identity.login(body.email, body.password);
  }

  @Post('refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'New tokens for a refresh token (which is then used up)' })
  refresh(@Body() body: RefreshDto): Promise<SessionTokens> {
    return this.identity.refresh(body.refreshToken);
  }

  @Post('logout')
  @Public()
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a refresh token' })
  async logout(@Body() body: RefreshDto): Promise<void> {
    await this.identity.logout(body.refreshToken);
  }

  @Get('me')
  @SignedIn()
  @ApiOperation({ summary: 'The signed-in account' })
  me(@CurrentActor() actor: Actor): Promise<Account> {
    return this.identity.account(actor.accountId);
  }

  @Get('api-keys')
  @SignedIn()
  @ApiOperation({ summary: "The caller's API keys (never their secrets)" })
  async apiKeys(@CurrentActor() actor: Actor): Promise<{ items: ApiKeyInfo[]; nextCursor: null }> {
    return { items: await this.identity.listApiKeys(actor.accountId), nextCursor: null };
  }

  @Post('api-keys')
  @SignedIn()
  @Idempotent()
  @ApiOperation({
    summary: 'Create an API key for automation; the key is shown only in this answer',
  })
  createApiKey(
    @CurrentActor() actor: Actor,
    @Body() body: CreateApiKeyDto,
  ): Promise<ApiKeyInfo & { key: string }> {
    return this.identity.createApiKey(actor.accountId, body.name, body.expiresInDays);
  }

  @Delete('api-keys/:id')
  @SignedIn()
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key (it stops working at once)' })
  async revokeApiKey(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    await this.identity.revokeApiKey(actor.accountId, id);
  }
}
