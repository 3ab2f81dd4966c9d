// A real SMTP server that catches the mail sent to it (the sandbox's mail catcher): the service's
// alert e-mail goes through nodemailer over real SMTP, and tests and the demo read what arrived at
// `GET /_sandbox/mail`. It accepts any sender and recipient, without authentication or TLS.
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  seq: number;
  at: string;
  /** The SMTP envelope: who the server was told it is from and to. */
  envelope: { from: string | null; to: string[] };
  messageId: string | null;
  from: string | null;
  to: string[];
  subject: string | null;
  text: string | null;
  html: string | null;
  headers: Record<string, string>;
}

export class MailCatcher {
  readonly mail: CaughtMail[] = [];
  private seq = 0;
  private readonly server: SMTPServer;
  url = '';

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            const addresses = (value: typeof parsed.to): string[] =>
              (Array.isArray(value) ? value : value ? [value] : []).flatMap((a) =>
                a.value.map((v) => v.address ?? ''),
              );
            this.mail.push({
              seq: ++this.seq,
              at: new Date().toISOString(),
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              messageId: parsed.messageId ?? null,
              from: parsed.from?.text ?? null,
              to: addresses(parsed.to),
              subject: parsed.subject ?? null,
              text: parsed.text ?? null,
              html: typeof parsed.html === 'string' ? parsed.html : null,
              headers: Object.fromEntries(
                [...parsed.headers.entries()]
                  .filter(([, v]) => typeof v === 'string')
                  .map(([k, v]) => [k, v as string]),
              ),
            });
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.server.address() as { port: number };
    this.url = `smtp://${host}:${address.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
