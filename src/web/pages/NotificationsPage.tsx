// Notifications settings (issue 16): the targets Marquee tells when nobody is looking, each with
// its last success and last error, an add/edit form, "Send test" showing the target's real answer,
// and delete. URLs come back redacted: a password or token typed here never returns to the browser.
import { useCallback, useEffect, useState } from 'react';
import type { ApiNotificationEvent, ApiNotificationTarget, ApiNotificationTargets, ApiNotificationTestResult } from '../../api/types';
import { FormError } from '../components/FormError';
import { BellIcon, PencilIcon, TrashIcon } from '../components/Icons';
import { apiFetch, errorMessage } from '../lib/api';
import { formatRelative } from '../lib/format';
import { asyncHandler } from '../lib/async-handler';
import { useApp } from '../lib/hooks';

const EVENTS: { event: ApiNotificationEvent; label: string }[] = [
  { event: 'lost', label: 'Lost (after the hold-down)' },
  { event: 'back', label: 'Back (only after a sent “lost”)' },
  { event: 'fallback', label: 'On a fallback route for long' },
  { event: 'sign_in_needed', label: 'Sign-in needed' },
  { event: 'unstable', label: 'Unstable (flapping)' },
  { event: 'crash_restart', label: 'Marquee restarted after a crash' },
];

interface FormState {
  id: string | null;
  name: string;
  url: string;
  allSources: boolean;
  sources: string[];
  events: ApiNotificationEvent[];
  quiet: boolean;
  quietStart: string;
  quietEnd: string;
}

const EMPTY_FORM: FormState = { id: null, name: '', url: '', allSources: true, sources: [], events: EVENTS.map((e) => e.event), quiet: false, quietStart: '22:00', quietEnd: '07:00' };

function formFor(target: ApiNotificationTarget): FormState {
  return {
    id: target.id,
    name: target.name,
    url: '',
    allSources: target.sources === null,
    sources: target.sources ?? [],
    events: target.events ?? EVENTS.map((e) => e.event),
    quiet: target.quietHours !== null,
    quietStart: target.quietHours?.start ?? '22:00',
    quietEnd: target.quietHours?.end ?? '07:00',
  };
}

export function NotificationsPage() {
  const sources = useApp((s) => s.sources);
  const [data, setData] = useState<ApiNotificationTargets | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [form, setForm] = useState<FormState | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [tests, setTests] = useState<Record<string, ApiNotificationTestResult | { ok: false; message: string; status: null }>>({});

  const load = useCallback(async () => {
    try {
      setData(await apiFetch<ApiNotificationTargets>('notifications/targets'));
      setLoadError(null);
    } catch (error) {
      setLoadError(errorMessage(error));
    }
  }, []);
  useEffect(() => void load(), [load]);

  const save = async () => {
    if (!form) return;
    setBusy('save');
    setFormError(null);
    const body = {
      name: form.name,
      ...(form.id === null || form.url.trim() !== '' ? { url: form.url } : {}),
      sources: form.allSources ? null : form.sources,
      events: form.events.length === EVENTS.length ? null : form.events,
      quietHours: form.quiet ? { start: form.quietStart, end: form.quietEnd } : null,
    };
    try {
      if (form.id === null) await apiFetch('notifications/targets', { method: 'POST', body });
      else await apiFetch(`notifications/targets/${encodeURIComponent(form.id)}`, { method: 'PATCH', body });
      setForm(null);
      await load();
    } catch (error) {
      setFormError(errorMessage(error));
    } finally {
      setBusy(null);
    }
  };

  const sendTest = async (target: ApiNotificationTarget) => {
    setBusy(`test:${target.id}`);
    try {
      const result = await apiFetch<ApiNotificationTestResult>(`notifications/targets/${encodeURIComponent(target.id)}/test`, { method: 'POST' });
      setTests((t) => ({ ...t, [target.id]: result }));
    } catch (error) {
      setTests((t) => ({ ...t, [target.id]: { ok: false, message: errorMessage(error), status: null } }));
    } finally {
      setBusy(null);
      await load();
    }
  };

  const remove = async (target: ApiNotificationTarget) => {
    if (!window.confirm(`Remove the notification target “${target.name}”? Messages queued for it are dropped.`)) return;
    setBusy(`delete:${target.id}`);
    try {
      await apiFetch(`notifications/targets/${encodeURIComponent(target.id)}`, { method: 'DELETE' });
      await load();
    } catch (error) {
      setLoadError(errorMessage(error));
    } finally {
      setBusy(null);
    }
  };

  const now = Date.now();
  const schemes = data?.supportedSchemes ?? [];
  return (
    <div className="page" data-testid="notifications-page">
      <div className="page-head">
        <div>
          <h1>Notifications</h1>
          <p className="muted">
            Tell your phone or chat when a server is lost, back, or needs a new sign-in. Messages are damped like the toasts: a short loss
            sends nothing, a flapping server sends one “unstable”, and nothing is lost if a target is down for a while.
          </p>
        </div>
        {!form && (
          <button type="button" className="button primary" onClick={() => { setForm(EMPTY_FORM); setFormError(null); }} data-testid="notification-add">
            Add a target
          </button>
        )}
      </div>
      {loadError && <FormError message={loadError} testId="notifications-error" />}
      {form && (
        <form
          className="form source-card notification-form"
          data-testid="notification-form"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <h2>{form.id === null ? 'New target' : `Edit “${form.name}”`}</h2>
          <label className="field">
            <span>Name</span>
            <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} placeholder="My phone" required maxLength={100} data-testid="notification-name" />
          </label>
          <label className="field">
            <span>URL</span>
            <input
              value={form.url}
              onChange={(e) => setForm({ ...form, url: e.target.value })}
              placeholder={form.id === null ? 'json://192.168.1.5:8080/marquee' : 'Leave empty to keep the current URL'}
              required={form.id === null}
              inputMode="url"
              autoCapitalize="none"
              spellCheck={false}
              data-testid="notification-url"
            />
            <small className="muted">
              Written the way Apprise writes them. Supported here: {schemes.map((s, i) => <span key={s}>{i > 0 && ', '}<code>{s}</code></span>)}. Passwords and tokens in
              the URL stay on the server: they are never shown again.
            </small>
          </label>
          <fieldset className="field notification-fieldset">
            <legend>Servers</legend>
            <label className="check">
              <input type="radio" checked={form.allSources} onChange={() => setForm({ ...form, allSources: true })} data-testid="notification-sources-all" /> All servers
            </label>
            <label className="check">
              <input type="radio" checked={!form.allSources} onChange={() => setForm({ ...form, allSources: false })} data-testid="notification-sources-chosen" /> Only these:
            </label>
            {!form.allSources && (
              <div className="notification-choices">
                {sources.map((s) => (
                  <label key={s.id} className="check">
                    <input
                      type="checkbox"
                      checked={form.sources.includes(s.id)}
                      onChange={(e) => setForm({ ...form, sources: e.target.checked ? [...form.sources, s.id] : form.sources.filter((id) => id !== s.id) })}
                    />{' '}
                    {s.name}
                  </label>
                ))}
                {sources.length === 0 && <span className="muted">No servers yet.</span>}
              </div>
            )}
          </fieldset>
          <fieldset className="field notification-fieldset">
            <legend>Events</legend>
            <div className="notification-choices">
              {EVENTS.map(({ event, label }) => (
                <label key={event} className="check">
                  <input
                    type="checkbox"
                    checked={form.events.includes(event)}
                    onChange={(e) => setForm({ ...form, events: e.target.checked ? [...form.events, event] : form.events.filter((x) => x !== event) })}
                    data-testid={`notification-event-${event}`}
                  />{' '}
                  {label}
                </label>
              ))}
            </div>
          </fieldset>
          <fieldset className="field notification-fieldset">
            <legend>Quiet hours</legend>
            <label className="check">
              <input type="checkbox" checked={form.quiet} onChange={(e) => setForm({ ...form, quiet: e.target.checked })} data-testid="notification-quiet" /> Hold messages from{' '}
              <input type="time" value={form.quietStart} onChange={(e) => setForm({ ...form, quietStart: e.target.value })} disabled={!form.quiet} aria-label="Quiet hours start" /> to{' '}
              <input type="time" value={form.quietEnd} onChange={(e) => setForm({ ...form, quietEnd: e.target.value })} disabled={!form.quiet} aria-label="Quiet hours end" />
            </label>
            <small className="muted">Held messages are delivered when the quiet hours end (server time), in order; none is dropped.</small>
          </fieldset>
          <FormError message={formError} />
          <div className="form-actions">
            <button type="button" className="button ghost" onClick={() => setForm(null)}>
              Cancel
            </button>
            <button type="submit" className="button primary" disabled={busy !== null || form.events.length === 0} data-testid="notification-save">
              {form.id === null ? 'Add target' : 'Save'}
            </button>
          </div>
        </form>
      )}
      {!data && !loadError && <div className="skeleton card" />}
      {data && data.targets.length === 0 && !form && (
        <div className="empty-state" data-testid="notifications-empty">
          <BellIcon size={32} />
          <p>No notification targets yet.</p>
        </div>
      )}
      <div className="card-list">
        {data?.targets.map((target) => {
          const test = tests[target.id];
          return (
            <section key={target.id} className="source-card" data-testid={`notification-target-${target.id}`} aria-label={`Notification target ${target.name}`}>
              <header className="source-card-head">
                <BellIcon size={28} />
                <div className="source-card-title">
                  <h2>{target.name}</h2>
                  <code className="muted">{target.url}</code>
                </div>
              </header>
              <dl className="notification-facts">
                <dt>Servers</dt>
                <dd>{target.sources === null ? 'All' : target.sources.map((id) => sources.find((s) => s.id === id)?.name ?? id).join(', ') || 'None'}</dd>
                <dt>Events</dt>
                <dd>{target.events === null ? 'All' : target.events.map((e) => EVENTS.find((x) => x.event === e)?.label.split(' (')[0] ?? e).join(', ')}</dd>
                {target.quietHours && (
                  <>
                    <dt>Quiet hours</dt>
                    <dd>
                      {target.quietHours.start}–{target.quietHours.end}
                    </dd>
                  </>
                )}
                <dt>Last success</dt>
                <dd data-testid="notification-last-success">{target.lastSuccessAt ? formatRelative(target.lastSuccessAt, now) : 'never'}</dd>
                <dt>Last error</dt>
                <dd data-testid="notification-last-error">{target.lastError ? `${target.lastError} (${formatRelative(target.lastErrorAt, now)})` : 'none'}</dd>
                {target.pending > 0 && (
                  <>
                    <dt>Queued</dt>
                    <dd>{target.pending} message{target.pending === 1 ? '' : 's'} waiting to be delivered</dd>
                  </>
                )}
              </dl>
              {test && (
                <p className={test.ok ? 'notification-test ok' : 'form-error'} role="status" data-testid="notification-test-result">
                  {test.ok ? 'Test sent: ' : 'Test failed: '}
                  {test.message}
                </p>
              )}
              <div className="card-actions">
                <button type="button" className="button small" disabled={busy !== null} onClick={asyncHandler(() => sendTest(target))} data-testid="notification-test">
                  {busy === `test:${target.id}` ? 'Sending…' : 'Send test'}
                </button>
                <button type="button" className="button small ghost" disabled={busy !== null} onClick={() => { setForm(formFor(target)); setFormError(null); }} data-testid="notification-edit">
                  <PencilIcon size={14} /> Edit
                </button>
                <button type="button" className="button small ghost danger-text" disabled={busy !== null} onClick={asyncHandler(() => remove(target))} data-testid="notification-delete">
                  <TrashIcon size={14} /> Delete
                </button>
              </div>
            </section>
          );
        })}
      </div>
    </div>
  );
}
