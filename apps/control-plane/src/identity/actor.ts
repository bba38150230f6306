/** Who is calling the REST API: an account, signed in with a session token or an API key. */
export interface Actor {
  accountId: string;
  email: string;
  /** Platform operators edit tiers and see every registry's runtime state. */
  operator: boolean;
  via: 'session' | 'api-key';
}
