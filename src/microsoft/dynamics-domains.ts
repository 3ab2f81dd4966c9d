/**
 * Dataverse environment host suffixes of every cloud (Microsoft's datacenter-region list and the
 * discovery servers of its Dataverse ServiceClient) and the Entra ID
 * authority each one signs in with. The authority is derived from the environment URL, never
 * from user input, so both always belong to the same cloud.
 */
type MicrosoftCloud = 'public' | 'usgov' | 'china';

const AUTHORITY_HOSTS: Record<MicrosoftCloud, string> = {
  public: 'https://login.microsoftonline.com',
  usgov: 'https://login.microsoftonline.us',
  china: 'https://login.chinacloudapi.cn',
};

const PUBLIC_REGIONS = [
  'crm',
  ...[2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 15, 16, 17, 19, 20, 21, 22].map((n) => `crm${n}`),
];

const DYNAMICS_SUFFIXES: { suffix: string; cloud: MicrosoftCloud }[] = [
  ...PUBLIC_REGIONS.map((region) => ({ suffix: `${region}.dynamics.com`, cloud: 'public' as const })),
  { suffix: 'crm.microsoftdynamics.us', cloud: 'usgov' },
  { suffix: 'crm.appsplatform.us', cloud: 'usgov' },
  { suffix: 'crm.dynamics.cn', cloud: 'china' },
];

/** Hosts under a Dynamics suffix that are not environments. */
const NOT_ENVIRONMENTS = ['globaldisco', 'disco', 'admin', 'www', 'api'];
const ORG_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface DynamicsHost {
  org: string;
  suffix: string;
  cloud: MicrosoftCloud;
}

/** `<org>.<suffix>` or `<org>.api.<suffix>`, lowercased; undefined for anything else. */
export function parseDynamicsHost(hostname: string): DynamicsHost | undefined {
  for (const { suffix, cloud } of DYNAMICS_SUFFIXES) {
    if (!hostname.endsWith(`.${suffix}`)) continue;
    const labels = hostname.slice(0, -suffix.length - 1).split('.');
    const org = labels[0];
    const shapeOk = labels.length === 1 || (labels.length === 2 && labels[1] === 'api');
    if (!shapeOk || !ORG_LABEL.test(org) || NOT_ENVIRONMENTS.includes(org)) return undefined;
    return { org, suffix, cloud };
  }
  return undefined;
}

/**
 * The token scope of the Omnichannel Messaging API for an environment of the public cloud:
 * `https://<organization id without dashes>-c.<region>.dynamics.com/.default`. Undefined where
 * Microsoft documents no form (other clouds, non-Microsoft origins): the admin enters it.
 */
export function messagingScopeFor(environmentUrl: string, organizationId: string): string | undefined {
  const host = parseDynamicsHost(new URL(environmentUrl).hostname);
  if (!host || host.cloud !== 'public') return undefined;
  const region = host.suffix.slice(0, -'.dynamics.com'.length);
  return `https://${organizationId.replace(/-/g, '').toLowerCase()}-c.${region}.dynamics.com/.default`;
}

/** The Entra ID authority of an environment's cloud, or the configured override (sandbox, tests). */
export function authorityFor(environmentUrl: string, override: string | undefined): string {
  return override ?? AUTHORITY_HOSTS[parseDynamicsHost(new URL(environmentUrl).hostname)?.cloud ?? 'public'];
}
