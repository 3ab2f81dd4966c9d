/**
 * A Dataverse call's place in its environment's budget: an admin waiting (Test & Save, test,
 * Verify now) goes first, then deliveries, then background work (the nightly sweep).
 */
export type CallPriority = 'interactive' | 'delivery' | 'background';
