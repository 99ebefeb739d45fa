/**
 * UI strings in Indonesian and English. Indonesian is the default for tenants in Asia/Jakarta
 * (the product's home market), English elsewhere; a choice made in the header is remembered.
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

const en = {
  appName: 'OmniStream',
  email: 'E-mail',
  password: 'Password',
  signIn: 'Sign in',
  signOut: 'Sign out',
  organization: 'Organization (slug)',
  severalOrganizations: 'This e-mail belongs to several organizations. Choose one:',
  loginFailed: 'Sign-in failed',
  inbox: 'Inbox',
  mine: 'Mine',
  unassigned: 'Unassigned',
  all: 'All',
  statusOpen: 'Open',
  statusPending: 'Pending',
  statusResolved: 'Resolved',
  statusClosed: 'Closed',
  statusExpired: 'Expired',
  search: 'Search messages…',
  searchResults: 'Messages found',
  noConversations: 'No conversations',
  loadingMore: 'Loading…',
  selectConversation: 'Choose a conversation',
  reply: 'Reply',
  note: 'Private note',
  send: 'Send',
  addNote: 'Add note',
  replyPlaceholder: 'Write a reply…',
  notePlaceholder: 'Only agents see this note…',
  assignToMe: 'Assign to me',
  unassign: 'Unassign',
  assignTo: 'Assign to…',
  resolve: 'Resolve',
  reopen: 'Reopen',
  assignedTo: 'Assigned to',
  nobody: 'nobody',
  you: 'you',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  olderMessages: 'Older messages',
  privateNote: 'Private note',
  sendFailed: 'Could not send',
  unknownContact: 'Unknown contact',
  language: 'Language',
  comingSoon: 'Coming soon',
  automation: 'Automation',
  aiAgents: 'AI agents',
  analytics: 'Analytics',
  supervisor: 'Supervisor',
  division: 'Division',
  allDivisions: 'All divisions',
  noDivision: 'No division',
  channel: 'Channel',
  allChannels: 'All channels',
  tag: 'Tag',
  allTags: 'All tags',
  contact: 'Contact',
  contactName: 'Contact name',
  save: 'Save',
  phone: 'Phone',
  tags: 'Tags',
  transfer: 'Transfer',
  transferTo: 'Transfer to…',
  takeOver: 'Take over',
  agents: 'Agents',
  divisions: 'Divisions',
  reason: 'Reason',
  transferredTo: 'Transferred to',
  takenOverBy: 'Taken over by',
  isTyping: 'is typing…',
  image: 'Image',
  document: 'Document',
  windowClosed: 'The 24-hour WhatsApp window is closed: the customer has not written in the last 24 hours, so only a template can be sent.',
  quickReplies: 'Quick replies',
  template: 'Template…',
  sendTemplate: 'Send template',
  online: 'Online',
  offline: 'Offline',
  withinHours: 'Within working hours',
  outsideHours: 'Outside working hours',
  until: 'until',
  agent: 'Agent',
  status: 'Status',
  load: 'Open conversations',
  handovers: 'Transfers and takeovers',
  noHandovers: 'None yet',
} as const;

/** A string key. */
export type StringKey = keyof typeof en;

const id: Record<StringKey, string> = {
  appName: 'OmniStream',
  email: 'E-mail',
  password: 'Kata sandi',
  signIn: 'Masuk',
  signOut: 'Keluar',
  organization: 'Organisasi (slug)',
  severalOrganizations: 'E-mail ini terdaftar di beberapa organisasi. Pilih salah satu:',
  loginFailed: 'Gagal masuk',
  inbox: 'Kotak masuk',
  mine: 'Milik saya',
  unassigned: 'Belum ditugaskan',
  all: 'Semua',
  statusOpen: 'Terbuka',
  statusPending: 'Tertunda',
  statusResolved: 'Selesai',
  statusClosed: 'Ditutup',
  statusExpired: 'Kedaluwarsa',
  search: 'Cari pesan…',
  searchResults: 'Pesan ditemukan',
  noConversations: 'Tidak ada percakapan',
  loadingMore: 'Memuat…',
  selectConversation: 'Pilih percakapan',
  reply: 'Balas',
  note: 'Catatan pribadi',
  send: 'Kirim',
  addNote: 'Tambah catatan',
  replyPlaceholder: 'Tulis balasan…',
  notePlaceholder: 'Catatan ini hanya terlihat oleh agen…',
  assignToMe: 'Tugaskan ke saya',
  unassign: 'Lepas tugas',
  assignTo: 'Tugaskan ke…',
  resolve: 'Selesaikan',
  reopen: 'Buka lagi',
  assignedTo: 'Ditugaskan ke',
  nobody: 'belum ada',
  you: 'Anda',
  connected: 'Langsung',
  reconnecting: 'Menyambung ulang…',
  olderMessages: 'Pesan sebelumnya',
  privateNote: 'Catatan pribadi',
  sendFailed: 'Gagal mengirim',
  unknownContact: 'Kontak tidak dikenal',
  language: 'Bahasa',
  comingSoon: 'Segera hadir',
  automation: 'Otomasi',
  aiAgents: 'Agen AI',
  analytics: 'Analitik',
  supervisor: 'Supervisor',
  division: 'Divisi',
  allDivisions: 'Semua divisi',
  noDivision: 'Tanpa divisi',
  channel: 'Kanal',
  allChannels: 'Semua kanal',
  tag: 'Tag',
  allTags: 'Semua tag',
  contact: 'Kontak',
  contactName: 'Nama kontak',
  save: 'Simpan',
  phone: 'Telepon',
  tags: 'Tag',
  transfer: 'Alihkan',
  transferTo: 'Alihkan ke…',
  takeOver: 'Ambil alih',
  agents: 'Agen',
  divisions: 'Divisi',
  reason: 'Alasan',
  transferredTo: 'Dialihkan ke',
  takenOverBy: 'Diambil alih oleh',
  isTyping: 'sedang mengetik…',
  image: 'Gambar',
  document: 'Dokumen',
  windowClosed: 'Jendela 24 jam WhatsApp sudah tertutup: pelanggan tidak menulis dalam 24 jam terakhir, jadi hanya templat yang bisa dikirim.',
  quickReplies: 'Balasan cepat',
  template: 'Templat…',
  sendTemplate: 'Kirim templat',
  online: 'Daring',
  offline: 'Luring',
  withinHours: 'Dalam jam kerja',
  outsideHours: 'Di luar jam kerja',
  until: 'sampai',
  agent: 'Agen',
  status: 'Status',
  load: 'Percakapan terbuka',
  handovers: 'Pengalihan dan pengambilalihan',
  noHandovers: 'Belum ada',
};

/** A UI language. */
export type Lang = 'id' | 'en';

const TABLES: Record<Lang, Record<StringKey, string>> = { id, en };
const STORAGE_KEY = 'omnistream.lang';

/** The language to show: the one chosen before, else Indonesian for Asia/Jakarta tenants. */
export function defaultLang(timezone: string | null): Lang {
  const chosen = localStorage.getItem(STORAGE_KEY);
  if (chosen === 'id' || chosen === 'en') return chosen;
  if (timezone) return timezone === 'Asia/Jakarta' ? 'id' : 'en';
  return navigator.language.toLowerCase().startsWith('id') ? 'id' : 'en';
}

/** Remembers a language chosen by hand. */
export function rememberLang(lang: Lang): void {
  localStorage.setItem(STORAGE_KEY, lang);
}

/** A translator for `lang`. */
export const translator = (lang: Lang) => (key: StringKey) => TABLES[lang][key];

/** The label of a conversation status (`open`, `pending`, ...), or the status itself. */
export function statusLabel(t: (key: StringKey) => string, status: string): string {
  const key = `status${status.charAt(0).toUpperCase()}${status.slice(1)}`;
  return key in en ? t(key as StringKey) : status;
}

/** The BCP 47 locale of a UI language, for dates and times. */
export const localeOf = (lang: Lang) => (lang === 'id' ? 'id-ID' : 'en-GB');

/** The current translator, provided by the app. */
export const I18n = createContext<{ lang: Lang; t: (key: StringKey) => string }>({ lang: 'en', t: translator('en') });

/** The current translator. */
export const useI18n = () => useContext(I18n);
