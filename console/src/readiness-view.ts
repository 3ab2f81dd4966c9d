// What the card and the Configure form both show: the names of the verification stages, and
// readiness (what a handoff needs) as a checklist and as one sentence.
import { html, nothing, TemplateResult } from 'lit';
import { Schemas, StageResult, when } from './api.js';

/** What a handoff needs, as the service last checked it (DESIGN §11). */
export type Readiness = Schemas['ReadinessDto'];

export const STAGE_NAMES: Record<StageResult['stage'], string> = {
  token_exchange: 'Token from Microsoft Entra ID',
  dynamics_probe: 'Dynamics 365 probe (read cases)',
  messaging_token: 'Token for the Omnichannel Messaging API',
};

/** The sentence after a success: whether handoffs will work. */
export function readinessSentence(readiness: Readiness | null): string {
  if (!readiness) return ' Readiness could not be checked now; Verify now to try again.';
  if (readiness.ready) return ' Ready for handoffs.';
  const failing = readiness.checks.filter((c) => !c.ok).length;
  return ` Not ready for handoffs: ${failing} item${failing === 1 ? '' : 's'} to fix (below).`;
}

/** Readiness as a checklist: what fails first, each with its fix; what passes, folded away. */
export function renderReadiness(readiness: Readiness, testid: string): TemplateResult {
  const failing = readiness.checks.filter((c) => !c.ok);
  const passing = readiness.checks.filter((c) => c.ok);
  return html`<section class="readiness" aria-label="Readiness for handoffs" data-testid=${testid}>
    <h3>${readiness.ready ? 'Ready for handoffs' : 'Not ready for handoffs'}</h3>
    <p class="help">
      Checked ${when(readiness.checked_at)}: ${passing.length} of ${readiness.checks.length} passed.
    </p>
    ${
      failing.length
        ? html`<ul class="checklist">
            ${failing.map(
              (c) =>
                html`<li data-check=${c.check}>
                  <span class="badge rejected">To fix</span> ${c.detail}
                  ${c.hint ? html`<p class="help">${c.hint}</p>` : nothing}
                </li>`,
            )}
          </ul>`
        : nothing
    }
    ${
      passing.length
        ? html`<details>
            <summary>Passed checks (${passing.length})</summary>
            <ul class="checklist">
              ${passing.map((c) => html`<li data-check=${c.check}><span class="badge ok">Passed</span> ${c.detail}</li>`)}
            </ul>
          </details>`
        : nothing
    }
  </section>`;
}
