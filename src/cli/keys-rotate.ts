import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { addDevEncryptionKey, devSecretsPath } from '../config/dev-secrets.js';
import { loadConfigFromProcess } from '../config/environment.js';
import { dataSourceOptions } from '../database/data-source-options.js';
import { openDatabase } from '../database/open-database.js';
import { rotateSecrets } from '../settings/key-rotation.js';
import { SecretCipher } from '../settings/secret-cipher.js';
import { IntegrationSettings } from '../settings/settings.entity.js';
import { runCli } from './run-cli.js';
import { rotateCustomerData } from '../handoff/customer-data-rotation.js';
import { rotateNotificationSecrets } from '../alerts/notification-secret-rotation.js';

/**
 * `npm run keys:rotate [-- --batch-size 100]`: re-encrypts every stored client secret, and every
 * sealed piece of customer data (handoff bodies, events, waiting messages), under the first key of
 * ENCRYPTION_KEYS and prints a JSON report. Exit 0 when no row is left on an old key.
 * In development without ENCRYPTION_KEYS it first generates a new key into DATA_DIR's
 * development keyring (the running service picks it up from there).
 */
runCli(async () => {
  const { values } = parseArgs({ options: { 'batch-size': { type: 'string', default: '100' } } });
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10000) {
    console.error('--batch-size must be an integer between 1 and 10000');
    return 2;
  }
  let config = loadConfigFromProcess();
  if (config.generatedSecrets.includes('ENCRYPTION_KEYS')) {
    const id = addDevEncryptionKey(config.dataDir);
    console.error(
      `Generated development key "${id}" into ${devSecretsPath(config.dataDir)} (older keys kept).`,
    );
    config = loadConfigFromProcess();
  }
  const database = await openDatabase(config, { shareRunning: true });
  // An operator's command: as the tables' owner on the embedded database (it may have to migrate).
  const dataSource = new DataSource(
    dataSourceOptions(database.migrationUrl ?? database.url, [IntegrationSettings]),
  );
  try {
    await dataSource.initialize();
    const cipher = new SecretCipher(config);
    const report = await rotateSecrets(dataSource, cipher, batchSize);
    // What customers wrote is sealed with the same keyring: re-sealed too.
    const customerData = await rotateCustomerData(dataSource, cipher, batchSize);
    // And each org's alert-webhook signing secret.
    const notificationSecrets = await rotateNotificationSecrets(dataSource, cipher);
    console.log(
      JSON.stringify(
        { ...report, customer_data: customerData, notification_secrets: notificationSecrets },
        null,
        2,
      ),
    );
    const left =
      Object.keys(report.remaining_on_old_keys).length +
      Object.values(customerData.remaining_on_old_keys).reduce(
        (n, byKey) => n + Object.keys(byKey).length,
        0,
      );
    return left === 0 && notificationSecrets.failed.length === 0 ? 0 : 1;
  } finally {
    await dataSource.destroy().catch(() => undefined);
    await database.close();
  }
});
