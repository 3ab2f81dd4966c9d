import { LitElement, PropertyDeclarations } from 'lit';
import { Api, TokenProvider } from './api.js';
import { base } from './styles.js';

/**
 * What every console component shares: `api-base` (where the API is, when not on this origin), the
 * host's `tokenProvider`, the API client bound to both, and a first load as soon as a token
 * provider is set — by the console page, or by a host at any time after the element is attached.
 */
export abstract class ApiElement extends LitElement {
  static styles = [base];
  static properties: PropertyDeclarations = {
    apiBase: { type: String, attribute: 'api-base' },
    tokenProvider: { attribute: false },
  };

  declare apiBase: string;
  declare tokenProvider: TokenProvider | undefined;

  constructor() {
    super();
    this.apiBase = '';
  }

  protected get api(): Api {
    return new Api(this.tokenProvider ?? (() => ''), this.apiBase, this);
  }

  /** The component's first load (the status, the first page). */
  protected abstract firstLoad(): Promise<void>;

  protected updated(changed: Map<PropertyKey, unknown>): void {
    if (
      changed.has('tokenProvider') &&
      changed.get('tokenProvider') === undefined &&
      this.tokenProvider &&
      this.isConnected
    ) {
      void this.firstLoad();
    }
  }
}
