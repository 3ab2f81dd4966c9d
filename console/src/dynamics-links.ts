// Links into the org's Dynamics 365 for what a handoff created, in Microsoft's documented URL form
// ("Open forms, views, dialogs, and reports with a URL": main.aspx?pagetype=entityrecord&etn=…&id=…).
// Pure, unit tested.

export interface CreatedRecords {
  incident_id: string | null;
  conversation_id: string | null;
}

/** The record a handoff created, in the connected environment; null when there is none yet. */
export function recordUrl(environmentUrl: string | null | undefined, created: CreatedRecords): string | null {
  if (!environmentUrl) return null;
  const [table, id] = created.incident_id
    ? ['incident', created.incident_id]
    : created.conversation_id
      ? ['msdyn_ocliveworkitem', created.conversation_id]
      : [null, null];
  if (!table || !id) return null;
  const base = environmentUrl.replace(/\/+$/, '');
  return `${base}/main.aspx?pagetype=entityrecord&etn=${table}&id=${encodeURIComponent(id)}`;
}
