import { describe, expect, it } from 'vitest';
import { current, historyReducer, loadHistory, saveHistory, STORAGE_KEY, type Turn } from '../src/state/history';

const turn = (id: string, question = 'Q?'): Turn => ({ id, question, answer: '', sources: [], status: 'streaming' });

describe('history', () => {
  it('starts with one empty conversation', () => {
    const h = loadHistory();
    expect(h.conversations).toHaveLength(1);
    expect(current(h).turns).toEqual([]);
  });

  it('titles a conversation by its first question and streams into the turn', () => {
    let h = loadHistory();
    h = historyReducer(h, { type: 'ask', turn: turn('t1', 'Which DEA form?') });
    h = historyReducer(h, { type: 'update', turnId: 't1', patch: (t) => ({ answer: t.answer + 'Form ' }) });
    h = historyReducer(h, { type: 'update', turnId: 't1', patch: (t) => ({ answer: t.answer + '225' }) });
    h = historyReducer(h, { type: 'update', turnId: 't1', patch: { status: 'done', answerId: 'a1' } });
    expect(current(h).title).toBe('Which DEA form?');
    expect(current(h).turns[0]).toMatchObject({ answer: 'Form 225', status: 'done', answerId: 'a1' });
  });

  it('new conversation: only when the current one is not empty', () => {
    let h = loadHistory();
    expect(historyReducer(h, { type: 'new' })).toBe(h);
    h = historyReducer(h, { type: 'ask', turn: turn('t1') });
    const first = h.currentId;
    h = historyReducer(h, { type: 'new' });
    expect(h.conversations).toHaveLength(2);
    expect(h.currentId).not.toBe(first);
    h = historyReducer(h, { type: 'select', id: first });
    expect(current(h).turns).toHaveLength(1);
    h = historyReducer(h, { type: 'remove', id: first });
    expect(h.conversations).toHaveLength(1);
    expect(h.currentId).not.toBe(first);
  });

  it('round-trips through localStorage and marks interrupted answers', () => {
    let h = loadHistory();
    h = historyReducer(h, { type: 'ask', turn: turn('t1') });
    saveHistory(h);
    const again = loadHistory();
    expect(again.currentId).toBe(h.currentId);
    expect(current(again).turns[0]).toMatchObject({ status: 'error', error: 'Interrupted.' });
  });

  it('survives corrupt storage', () => {
    localStorage.setItem(STORAGE_KEY, '{not json');
    expect(loadHistory().conversations).toHaveLength(1);
  });
});
