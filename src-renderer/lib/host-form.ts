/**
 * The Add host form, checked with the API's own schemas (the dialog refuses exactly what the core
 * would), and the words of ssh's host-key question.
 */
// First: the schemas imported below must not make zod probe for eval, which the CSP forbids.
import './zod-jitless';
import { addHostInputSchema, type AddHostInput, type HostKeyInfo } from '../../src-main/api/hosts';
import { t } from '../i18n';
import { localizeApiMessage } from '../i18n/core-messages';

export interface HostForm {
  name: string;
  destination: string;
  port: string;
  identity: string;
  remoteHome: string;
  remoteCommand: string;
}

export type HostFormField = keyof HostForm;
export type HostFormErrors = Partial<Record<HostFormField, string>>;

export function emptyHostForm(): HostForm {
  return { name: '', destination: '', port: '', identity: '', remoteHome: '', remoteCommand: '' };
}

/** The addHost input of a form: trimmed, empty optional fields left out, the port a number. */
export function hostFormToInput(form: HostForm, acceptHostKey?: string): AddHostInput {
  const port = form.port.trim();
  const opt = (key: 'identity' | 'remoteHome' | 'remoteCommand'): Partial<AddHostInput> => {
    const v = form[key].trim();
    return v ? { [key]: v } : {};
  };
  return {
    name: form.name.trim(),
    destination: form.destination.trim(),
    ...(port ? { port: /^\d+$/.test(port) ? Number(port) : Number.NaN } : {}),
    ...opt('identity'),
    ...opt('remoteHome'),
    ...opt('remoteCommand'),
    ...(acceptHostKey ? { acceptHostKey } : {}),
  };
}

/** The first problem of each field, as the core's schema words it; a name already taken too. */
export function hostFormErrors(form: HostForm, takenNames: ReadonlySet<string> = new Set()): HostFormErrors {
  const errors: HostFormErrors = {};
  const parsed = addHostInputSchema.safeParse(hostFormToInput(form));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path[0];
      if (typeof field !== 'string' || !(field in form)) continue;
      const f = field as HostFormField;
      errors[f] ??=
        f === 'port' && !/^\d+$/.test(form.port.trim()) ? t('dialogs.addHost.portNotNumber') : localizeApiMessage(issue.message);
    }
  }
  const name = form.name.trim();
  if (!errors.name && takenNames.has(name)) errors.name = t('dialogs.addHost.nameTaken', { name });
  return errors;
}

/**
 * The keys of a HOST_KEY failure for an unknown key (details.keys), or null: a changed key, or one
 * that is not the fingerprint confirmed (details.mismatch), is refused, never offered for trust.
 */
export function unknownHostKeys(details: unknown): HostKeyInfo[] | null {
  const d = details as { keys?: unknown; mismatch?: unknown } | null | undefined;
  if (d?.mismatch) return null;
  const keys = d?.keys;
  if (!Array.isArray(keys) || keys.length === 0) return null;
  const good = keys.filter(
    (k): k is HostKeyInfo =>
      typeof k === 'object' &&
      k !== null &&
      typeof (k as HostKeyInfo).type === 'string' &&
      typeof (k as HostKeyInfo).fingerprint === 'string',
  );
  return good.length > 0 ? good : null;
}

/**
 * The host as ssh names it in its question: the destination without `ssh://` and user, and
 * `[host]:port` when the port is not 22.
 */
export function sshHostDisplay(destination: string, port?: number): string {
  let host = destination.trim().replace(/^ssh:\/\//, '');
  host = host.slice(host.lastIndexOf('@') + 1);
  let p = port;
  const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(host);
  if (withPort?.[1] && withPort[2]) {
    host = withPort[1];
    p ??= Number(withPort[2]);
  }
  host = host.replace(/^\[(.*)\]$/, '$1');
  return p !== undefined && p !== 22 ? `[${host}]:${p}` : host;
}

/** ssh's own words for an unknown host key, one line per key offered. */
export function authenticityLines(destination: string, port: number | undefined, keys: readonly HostKeyInfo[]): string[] {
  return [
    t('dialogs.addHost.authenticity', { host: sshHostDisplay(destination, port) }),
    ...keys.map((k) => t('dialogs.addHost.fingerprint', { type: k.type.toUpperCase(), fingerprint: k.fingerprint })),
  ];
}
