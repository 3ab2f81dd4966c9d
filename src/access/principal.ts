/** Who is calling: taken from the verified bearer token, never from the request body. */
export interface Principal {
  sub: string;
  org_id: string;
  roles: string[];
  name: string | null;
  /** When the bearer token expires (epoch seconds): long-lived answers (event streams) end then. */
  expires_at?: number;
}

/** Org ids: 1-64 characters, letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export const ORG_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
