// Conversations, kept in localStorage so a reload keeps them.
import type { Source } from '../api/client';

export interface Turn {
  id: string;
  question: string;
  answer: string;
  sources: Source[];
  status: 'streaming' | 'done' | 'error';
  error?: string;
  answerId?: string;
  cached?: boolean;
  feedback?: 'up' | 'down';
}

export interface Conversation {
  id: string;
  title: string;
  createdAt: number;
  turns: Turn[];
}

export interface HistoryState {
  conversations: Conversation[];
  currentId: string;
}

export const STORAGE_KEY = 'ragops.chat.history.v1';
/** Signed in, each person's conversations are their own (a shared browser shows one person's only). */
export const historyKeyFor = (subject: string): string => `${STORAGE_KEY}:${subject}`;
const MAX_CONVERSATIONS = 50;

export const newId = (): string =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;

export function emptyConversation(): Conversation {
  return { id: newId(), title: 'New conversation', createdAt: Date.now(), turns: [] };
}

export function loadHistory(storage: Storage = localStorage, key: string = STORAGE_KEY): HistoryState {
  try {
    const raw = storage.getItem(key);
    if (raw) {
      const parsed = JSON.parse(raw) as HistoryState;
      if (Array.isArray(parsed.conversations) && parsed.conversations.length) {
        // An answer cut off by a reload cannot resume: mark it.
        const conversations = parsed.conversations.map((c) => ({
          ...c,
          turns: c.turns.map((t) => (t.status === 'streaming' ? { ...t, status: 'error' as const, error: 'Interrupted.' } : t)),
        }));
        const currentId = conversations.some((c) => c.id === parsed.currentId) ? parsed.currentId : conversations[0].id;
        return { conversations, currentId };
      }
    }
  } catch {
    /* corrupt or unavailable storage: start afresh */
  }
  const first = emptyConversation();
  return { conversations: [first], currentId: first.id };
}

export function saveHistory(state: HistoryState, storage: Storage = localStorage, key: string = STORAGE_KEY): void {
  try {
    storage.setItem(key, JSON.stringify({ ...state, conversations: state.conversations.slice(0, MAX_CONVERSATIONS) }));
  } catch {
    /* quota exceeded or private mode: history is best effort */
  }
}

export type HistoryAction =
  | { type: 'new' }
  | { type: 'select'; id: string }
  | { type: 'remove'; id: string }
  | { type: 'ask'; turn: Turn }
  | { type: 'update'; turnId: string; patch: Partial<Turn> | ((t: Turn) => Partial<Turn>) };

export function current(state: HistoryState): Conversation {
  return state.conversations.find((c) => c.id === state.currentId) ?? state.conversations[0];
}

export function historyReducer(state: HistoryState, action: HistoryAction): HistoryState {
  switch (action.type) {
    case 'new': {
      // Reuse an empty current conversation rather than piling up blank ones.
      if (current(state).turns.length === 0) return state;
      const c = emptyConversation();
      return { conversations: [c, ...state.conversations], currentId: c.id };
    }
    case 'select':
      return { ...state, currentId: action.id };
    case 'remove': {
      const rest = state.conversations.filter((c) => c.id !== action.id);
      if (!rest.length) {
        const c = emptyConversation();
        return { conversations: [c], currentId: c.id };
      }
      return { conversations: rest, currentId: state.currentId === action.id ? rest[0].id : state.currentId };
    }
    case 'ask':
      return {
        ...state,
        conversations: state.conversations.map((c) =>
          c.id === state.currentId
            ? { ...c, title: c.turns.length ? c.title : action.turn.question.slice(0, 60), turns: [...c.turns, action.turn] }
            : c,
        ),
      };
    case 'update':
      return {
        ...state,
        conversations: state.conversations.map((c) => ({
          ...c,
          turns: c.turns.map((t) =>
            t.id === action.turnId ? { ...t, ...(typeof action.patch === 'function' ? action.patch(t) : action.patch) } : t,
          ),
        })),
      };
  }
}
