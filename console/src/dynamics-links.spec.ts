import { recordUrl } from './dynamics-links.js';

describe('recordUrl', () => {
  const env = 'https://contoso.crm.dynamics.com';
  it('links a case, a conversation, or nothing', () => {
    expect(recordUrl(env, { incident_id: 'a1b2', conversation_id: null })).toBe(
      'https://contoso.crm.dynamics.com/main.aspx?pagetype=entityrecord&etn=incident&id=a1b2',
    );
    expect(recordUrl(`${env}/`, { incident_id: null, conversation_id: 'c3d4' })).toBe(
      'https://contoso.crm.dynamics.com/main.aspx?pagetype=entityrecord&etn=msdyn_ocliveworkitem&id=c3d4',
    );
    expect(recordUrl(env, { incident_id: null, conversation_id: null })).toBeNull();
    expect(recordUrl(null, { incident_id: 'a1b2', conversation_id: null })).toBeNull();
  });
});
