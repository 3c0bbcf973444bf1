import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { Composer } from '../src/components/Composer';
import { EMPTY_ANSWER, HIGHLIGHT_MS, Message } from '../src/components/Message';
import { NOTE_LIFETIME_MS } from '../src/components/Notifications';
import { Documents } from '../src/components/Documents';
import { Uploads } from '../src/components/Uploads';
import { App } from '../src/App';
import type { Turn } from '../src/state/history';

afterEach(() => vi.unstubAllGlobals());

describe('Composer', () => {
  it('sends on Enter and keeps Shift+Enter for a new line', () => {
    const onSend = vi.fn();
    render(<Composer disabled={false} onSend={onSend} />);
    const box = screen.getByLabelText('Your question');
    fireEvent.change(box, { target: { value: 'line one' } });
    fireEvent.keyDown(box, { key: 'Enter', shiftKey: true });
    expect(onSend).not.toHaveBeenCalled();
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(onSend).toHaveBeenCalledWith('line one');
    expect(box).toHaveValue('');
  });

  it('does not send blank questions or while an answer streams', () => {
    const onSend = vi.fn();
    const { rerender } = render(<Composer disabled={false} onSend={onSend} />);
    const box = screen.getByLabelText('Your question');
    fireEvent.change(box, { target: { value: '   ' } });
    fireEvent.keyDown(box, { key: 'Enter' });
    rerender(<Composer disabled={true} onSend={onSend} />);
    fireEvent.change(box, { target: { value: 'q' } });
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled();
  });
});

const done: Turn = {
  id: 't', question: 'Which DEA form?', answer: 'Form 225 [1]', status: 'done', answerId: 'a1',
  sources: [{ document_id: 'd', filename: '008677.pdf', page: 2, excerpt: 'signing DEA form 225', score: 1, chunk_index: 1 }],
};

describe('Message', () => {
  it('shows the answer and its sources, with the excerpt behind a disclosure', () => {
    const { container } = render(<Message turn={done} onFeedback={() => {}} />);
    expect(container.querySelector('.answer-text')).toHaveTextContent('Form 225 [1]');
    const summary = container.querySelector('summary')!;
    expect(summary).toHaveTextContent('008677.pdf, page 2');
    expect(container.querySelector('details')).not.toHaveAttribute('open');
    fireEvent.click(summary);
    expect(screen.getByText('signing DEA form 225')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Copy answer' })).toBeInTheDocument();
  });

  it('links each [n] marker to its source, which opens and is highlighted for a while', () => {
    vi.useFakeTimers();
    try {
      const turn = { ...done, answer: 'Form 225 [1], not [7].' };
      const { container } = render(<Message turn={turn} onFeedback={() => {}} />);
      expect(screen.queryByRole('link', { name: 'Source 7' })).toBeNull(); // no such source
      const link = screen.getByRole('link', { name: 'Source 1' });
      expect(link).toHaveAttribute('href', `#${container.querySelector('.sources li')!.id}`);
      fireEvent.click(link);
      const item = container.querySelector('.sources li')!;
      expect(item).toHaveClass('highlighted');
      expect(item.querySelector('details')).toHaveAttribute('open');
      act(() => { vi.advanceTimersByTime(HIGHLIGHT_MS); });
      expect(item).not.toHaveClass('highlighted');
    } finally {
      vi.useRealTimers();
    }
  });

  it('explains an empty answer and shows errors as alerts', () => {
    const { rerender } = render(<Message turn={{ ...done, answer: '', sources: [] }} onFeedback={() => {}} />);
    expect(screen.getByText(EMPTY_ANSWER)).toBeInTheDocument();
    rerender(<Message turn={{ ...done, status: 'error', error: 'The RAGOps API is unreachable.' }} onFeedback={() => {}} />);
    expect(screen.getByRole('alert')).toHaveTextContent('unreachable');
  });

  it('sends thumbs down with a comment', async () => {
    const fetchMock = vi.fn(async () => new Response(null, { status: 204 }));
    vi.stubGlobal('fetch', fetchMock);
    const onFeedback = vi.fn();
    render(<Message turn={done} onFeedback={onFeedback} />);
    fireEvent.click(screen.getByRole('button', { name: 'Not helpful (thumbs down)' }));
    fireEvent.change(screen.getByPlaceholderText('Comment (optional)'), { target: { value: 'wrong page' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send feedback' }));
    await waitFor(() => expect(onFeedback).toHaveBeenCalledWith('down'));
    const request = (fetchMock.mock.calls[0] as unknown as [Request])[0];
    expect(new URL(request.url).pathname).toBe('/api/feedback');
    expect(await request.json()).toEqual({ answer_id: 'a1', rating: 'down', comment: 'wrong page' });
  });
});

describe('Documents', () => {
  it('has an empty state, an error state with retry, and delete buttons', () => {
    const onRetry = vi.fn();
    const onDelete = vi.fn();
    const { rerender } = render(<Documents documents={[]} error={null} onDelete={onDelete} onRetry={onRetry} />);
    expect(screen.getByText(/No documents yet/)).toBeInTheDocument();
    rerender(<Documents documents={null} error="The RAGOps API is unreachable." onDelete={onDelete} onRetry={onRetry} />);
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(onRetry).toHaveBeenCalled();
    const doc = { document_id: 'd', filename: 'a.pdf', pages: 3, pages_unreadable: 0, chunks: 2, bytes: 2048, updated_at: 0, job_id: 'j' };
    rerender(<Documents documents={[doc]} error={null} onDelete={onDelete} onRetry={onRetry} />);
    fireEvent.click(screen.getByRole('button', { name: 'Delete a.pdf' }));
    expect(onDelete).toHaveBeenCalledWith(doc);
  });
});

describe('Uploads', () => {
  it('shows both progress bars and the failure reason', () => {
    const items = [
      { id: '1', name: 'a.pdf', size: 1, phase: 'processing' as const, sent: 1, jobId: 'j', pagesDone: 5, pagesTotal: 10, chunksDone: 0, chunksTotal: 0 },
      { id: '2', name: 'b.exe', size: 1, phase: 'failed' as const, sent: 0, pagesDone: 0, pagesTotal: 0, chunksDone: 0, chunksTotal: 0, error: 'wrong file type' },
    ];
    render(<Uploads items={items} onFiles={() => {}} onDismiss={() => {}} />);
    expect(screen.getByLabelText('Upload of a.pdf', { selector: 'progress' })).toHaveAttribute('value', '1');
    expect(screen.getByLabelText('Ingestion of a.pdf', { selector: 'progress' })).toHaveAttribute('value', '0.25');
    expect(screen.getByText('Failed: wrong file type')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Dismiss b.exe' })).toBeInTheDocument();
  });

  it('hands several chosen files over at once', () => {
    const onFiles = vi.fn();
    render(<Uploads items={[]} onFiles={onFiles} onDismiss={() => {}} />);
    const files = [new File(['a'], 'a.pdf'), new File(['b'], 'b.md')];
    fireEvent.change(screen.getByTestId('file-input'), { target: { files } });
    expect(onFiles).toHaveBeenCalledWith(files);
  });
});

describe('App', () => {
  it('says when there are no documents yet', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Response.json([])));
    render(<App />);
    expect(await screen.findByText(/No documents yet: upload/)).toBeInTheDocument();
  });

  it('says when the API is unreachable', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch'); }));
    render(<App />);
    const alerts = await screen.findAllByRole('alert');
    expect(alerts.some((a) => /unreachable/.test(a.textContent ?? ''))).toBe(true);
  });

  it('shows an error note below the conversation, gone after a while or when dismissed', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      vi.stubGlobal('fetch', vi.fn(async (req: Request) =>
        new URL(req.url).pathname === '/api/upload'
          ? Response.json({ detail: 'unsupported file type' }, { status: 415 })
          : Response.json([])));
      const { container } = render(<App />);
      await screen.findByText(/No documents yet: upload/);
      const input = screen.getByTestId('file-input');
      for (const name of ['a.bin', 'b.bin']) {
        await act(async () => { fireEvent.change(input, { target: { files: [new File(['x'], name)] } }); });
        await screen.findByText(new RegExp(`^${name}: `));
      }
      // Between the messages and the composer, not floating over the answers.
      const notes = container.querySelector('.notifications')!;
      expect(notes.previousElementSibling).toHaveClass('messages');
      expect(notes.nextElementSibling).toHaveClass('composer');
      fireEvent.click(within(notes.querySelector('.note')! as HTMLElement).getByRole('button', { name: 'Dismiss notification' }));
      expect(screen.queryByText(/^a\.bin: /)).toBeNull();
      expect(screen.getByText(/^b\.bin: /)).toBeInTheDocument();
      await act(async () => { vi.advanceTimersByTime(NOTE_LIFETIME_MS.error); });
      expect(screen.queryByText(/^b\.bin: /)).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('streams an answer into the conversation and keeps it in localStorage', async () => {
    const sse = [
      'event: sources\r\ndata: {"sources": [{"document_id": "d", "filename": "008677.pdf", "page": 2, "excerpt": "e", "score": 1, "chunk_index": 1}], "cached": false}\r\n\r\n',
      'event: delta\r\ndata: {"text": "Form 225"}\r\n\r\n',
      'event: done\r\ndata: {"answer_id": "a1", "answer": "Form 225", "sources": [{"document_id": "d", "filename": "008677.pdf", "page": 2, "excerpt": "e", "score": 1, "chunk_index": 1}], "model": "extractive", "cached": false}\r\n\r\n',
    ].join('');
    vi.stubGlobal('fetch', vi.fn(async (req: Request) =>
      new URL(req.url).pathname === '/api/ask/stream'
        ? new Response(sse, { headers: { 'content-type': 'text/event-stream' } })
        : Response.json([{ document_id: 'd', filename: '008677.pdf', pages: 15, chunks: 9, bytes: 1, updated_at: 0, job_id: 'j' }])));
    render(<App />);
    await screen.findByRole('button', { name: 'Delete 008677.pdf' });
    const box = screen.getByLabelText('Your question');
    fireEvent.change(box, { target: { value: 'Which DEA form?' } });
    await act(async () => { fireEvent.keyDown(box, { key: 'Enter' }); });
    expect(await screen.findByText('Form 225')).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Sources' })).toHaveTextContent('008677.pdf, page 2');
    await waitFor(() => expect(localStorage.getItem('ragops.chat.history.v1')).toContain('"answerId":"a1"'));
  });
});
