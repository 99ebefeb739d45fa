/// <reference lib="dom" />
/**
 * widget.js: the website chat widget, bundled by esbuild when the server first serves it
 * (src/http/widget.ts). Embedded with `<script src="<server>/widget.js" data-tenant="<slug>">`:
 * a bubble that opens a panel, the working-hours state, and the visitor's conversation over the
 * server's `/webchat` Socket.IO namespace. The signed visitor token lives in this site's
 * localStorage (no third-party cookies), so the conversation survives page loads; messages not
 * yet acknowledged are kept there too and resent with the same client id after a reconnect,
 * which the server stores once.
 */
import { io, type Socket } from 'socket.io-client';

interface ChatMessage {
  id: string;
  from: 'visitor' | 'agent';
  text: string;
  sent_at: string;
}

interface Session {
  visitor_token: string;
  welcome_text: string;
  brand_color: string | null;
  working_hours: { is_working_hours: boolean; next_change_at: string | null };
  socket: { namespace: string; path: string };
}

type Ack = { ok: true; message: ChatMessage } | { ok: false; error: { code: string; message: string } };

const script = document.currentScript as HTMLScriptElement | null;
const tenant = script?.dataset.tenant ?? '';
const base = script ? new URL(script.src).origin : location.origin;
const storageKey = `omnistream.webchat.${tenant}`;

interface Stored {
  token?: string;
  /** Sent, not yet acknowledged: resent after a reconnect. */
  outbox?: { id: string; text: string }[];
}

const load = (): Stored => {
  try {
    return JSON.parse(localStorage.getItem(storageKey) ?? '{}') as Stored;
  } catch {
    return {};
  }
};
const save = (s: Stored) => localStorage.setItem(storageKey, JSON.stringify(s));
const newId = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);

const STYLE = `
:host { all: initial; font: 14px/1.4 system-ui, sans-serif; }
.bubble { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: 0;
  display: flex; align-items: center; justify-content: center; background: var(--brand); color: #fff; cursor: pointer; box-shadow: 0 4px 12px rgba(0,0,0,.25); }
.panel { position: fixed; right: 20px; bottom: 88px; width: 340px; max-width: calc(100vw - 40px); height: 460px;
  display: none; flex-direction: column; background: #fff; border-radius: 12px; overflow: hidden; box-shadow: 0 8px 28px rgba(0,0,0,.25); }
.panel.open { display: flex; }
header { background: var(--brand); color: #fff; padding: 12px 14px; }
header small { display: block; opacity: .85; }
.log { flex: 1; overflow-y: auto; padding: 10px; background: #f6f7f9; }
.msg { max-width: 80%; margin: 4px 0; padding: 7px 10px; border-radius: 10px; white-space: pre-wrap; word-wrap: break-word; }
.visitor { margin-left: auto; background: var(--brand); color: #fff; }
.agent { background: #fff; border: 1px solid #e2e4e8; }
.pending { opacity: .6; }
.note { color: #a33; font-size: 12px; padding: 4px 10px; min-height: 16px; }
form { display: flex; border-top: 1px solid #e2e4e8; }
textarea { flex: 1; border: 0; padding: 10px; resize: none; font: inherit; height: 42px; }
button.send { border: 0; background: none; color: var(--brand); font-weight: 600; padding: 0 14px; cursor: pointer; }
`;

const BALLOON =
  '<svg viewBox="0 0 24 24" width="26" height="26" fill="currentColor" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text = ''): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.className = className;
  el.textContent = text;
  return el;
}

async function startSession(token: string | undefined): Promise<Session> {
  const res = await fetch(`${base}/api/webchat/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant, ...(token ? { visitor_token: token } : {}) }),
  });
  const body = (await res.json()) as Session & { message?: string };
  if (!res.ok) throw new Error(body.message ?? `chat unavailable (${res.status})`);
  return body;
}

function mount(session: Session): void {
  const host = document.createElement('div');
  const root = host.attachShadow({ mode: 'open' });
  host.style.setProperty('--brand', session.brand_color ?? '#2563eb');
  const style = document.createElement('style');
  style.textContent = STYLE;
  const bubble = element('button', 'bubble');
  // A speech balloon drawn inline: an emoji needs a font the visitor's system may not have.
  bubble.innerHTML = BALLOON;
  bubble.setAttribute('aria-label', 'Chat with us');
  const panel = element('div', 'panel');
  const header = element('header', '', 'Chat with us');
  const hours = element('small', '');
  const open = session.working_hours.is_working_hours;
  hours.textContent = open ? 'We are online' : 'We are away now; leave a message and we will reply when we are back';
  header.append(hours);
  const log = element('div', 'log');
  const note = element('div', 'note');
  const form = element('form', '');
  const input = element('textarea', '');
  input.placeholder = 'Type a message…';
  input.maxLength = 2000;
  const send = element('button', 'send', 'Send');
  send.type = 'submit';
  form.append(input, send);
  panel.append(header, log, note, form);
  root.append(style, bubble, panel);
  document.body.append(host);
  bubble.addEventListener('click', () => panel.classList.toggle('open'));

  const shown = new Map<string, HTMLElement>();
  const show = (m: ChatMessage, pending = false) => {
    let el = shown.get(m.id);
    if (!el) {
      el = element('div', `msg ${m.from}`, m.text);
      shown.set(m.id, el);
      log.append(el);
    }
    el.classList.toggle('pending', pending);
    log.scrollTop = log.scrollHeight;
  };
  show({ id: 'welcome', from: 'agent', text: session.welcome_text, sent_at: '' });

  const socket: Socket = io(`${base}${session.socket.namespace}`, { path: session.socket.path, auth: { token: session.visitor_token }, transports: ['websocket'] });
  const deliver = (item: { id: string; text: string }) => {
    socket.emit('message', { client_message_id: item.id, text: item.text }, (ack: Ack) => {
      const stored = load();
      if (ack.ok) {
        stored.outbox = (stored.outbox ?? []).filter((o) => o.id !== item.id);
        save(stored);
        show(ack.message);
        note.textContent = '';
      } else {
        note.textContent = ack.error.message;
        if (ack.error.code !== 'rate_limited') {
          stored.outbox = (stored.outbox ?? []).filter((o) => o.id !== item.id);
          save(stored);
          shown.get(item.id)?.remove();
          shown.delete(item.id);
        }
      }
    });
  };
  socket.on('history', (h: { messages: ChatMessage[] }) => {
    for (const m of h.messages) show(m);
    // What a reload or a dropped connection left unacknowledged goes again, under the same id.
    for (const item of load().outbox ?? []) {
      show({ id: item.id, from: 'visitor', text: item.text, sent_at: '' }, true);
      deliver(item);
    }
  });
  socket.on('message', (m: ChatMessage, ack?: (r: { ok: boolean }) => void) => {
    show(m);
    ack?.({ ok: true });
    if (m.from === 'agent') panel.classList.add('open');
  });
  socket.on('connect_error', (err: Error) => {
    note.textContent = err.message;
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    const item = { id: newId(), text };
    const stored = load();
    save({ ...stored, outbox: [...(stored.outbox ?? []), item] });
    show({ id: item.id, from: 'visitor', text, sent_at: '' }, true);
    if (socket.connected) deliver(item);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
}

async function start(): Promise<void> {
  if (!tenant) return console.warn('OmniStream chat: the script tag needs data-tenant');
  const stored = load();
  try {
    const session = await startSession(stored.token);
    save({ ...load(), token: session.visitor_token });
    mount(session);
  } catch (err) {
    console.warn(`OmniStream chat: ${(err as Error).message}`);
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => void start());
else void start();
