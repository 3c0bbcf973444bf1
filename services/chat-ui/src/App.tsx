import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { ApiError, deleteDocument, getJob, listDocuments, pollPause, type DocumentInfo } from './api/client';
import { askStream } from './api/sse';
import { uploadFile } from './api/upload';
import { current, historyReducer, loadHistory, newId, saveHistory, STORAGE_KEY, type Turn } from './state/history';
import { isActive, uploadsReducer } from './state/uploads';
import { Composer } from './components/Composer';
import { Documents } from './components/Documents';
import { Message } from './components/Message';
import { NOTE_LIFETIME_MS, Notifications, type Note } from './components/Notifications';
import { Uploads } from './components/Uploads';

const POLL_MS = 600;
const POLL_MAX_FAILURES = 10;

/** Who is signed in, when the API asks for sign-in (absent on the embedded default). */
export interface Account {
  name: string;
  onSignOut(): void;
}

export function App({ account, historyKey = STORAGE_KEY }: { account?: Account; historyKey?: string } = {}) {
  const [history, dispatchHistory] = useReducer(historyReducer, undefined, () => loadHistory(localStorage, historyKey));
  const [uploads, dispatchUploads] = useReducer(uploadsReducer, []);
  const [documents, setDocuments] = useState<DocumentInfo[] | null>(null);
  const [docsError, setDocsError] = useState<string | null>(null);
  const [apiDown, setApiDown] = useState(false);
  const [notes, setNotes] = useState<Note[]>([]);
  const [asking, setAsking] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [panelOpen, setPanelOpen] = useState(false);
  const endRef = useRef<HTMLDivElement>(null);

  const notify = useCallback((kind: Note['kind'], text: string) => {
    const id = newId();
    setNotes((n) => [...n, { id, kind, text }]);
    setTimeout(() => setNotes((n) => n.filter((x) => x.id !== id)), NOTE_LIFETIME_MS[kind]);
  }, []);

  const refreshDocuments = useCallback(async () => {
    try {
      setDocuments(await listDocuments());
      setDocsError(null);
      setApiDown(false);
    } catch (e) {
      const err = e as ApiError;
      setDocsError(err.message);
      setApiDown(err.unreachable);
    }
  }, []);

  useEffect(() => { void refreshDocuments(); }, [refreshDocuments]);
  useEffect(() => saveHistory(history, localStorage, historyKey), [history, historyKey]);

  const conversation = current(history);
  useEffect(() => { endRef.current?.scrollIntoView?.({ block: 'end' }); }, [conversation.turns]);

  // Follow every accepted upload's job until it is ready or failed.
  const polling = useRef(new Set<string>());
  useEffect(() => {
    for (const item of uploads) {
      if (!item.jobId || !isActive(item) || polling.current.has(item.id)) continue;
      polling.current.add(item.id);
      const { id, jobId, name } = item;
      let failures = 0;
      const tick = async (): Promise<void> => {
        try {
          const job = await getJob(jobId);
          failures = 0;
          dispatchUploads({ type: 'job', id, job });
          if (job.state === 'ready') {
            notify('success', `${name} is ready: ${job.progress.pages_total ?? 0} pages indexed.`);
            void refreshDocuments();
          } else if (job.state === 'failed') {
            notify('error', `${name} failed: ${job.error ?? 'unknown reason'}`);
          }
          if (job.state === 'ready' || job.state === 'failed') return void polling.current.delete(id);
        } catch (e) {
          const pause = pollPause(e, POLL_MS);
          if (pause.counts && ++failures >= POLL_MAX_FAILURES) {
            dispatchUploads({ type: 'failed', id, error: `lost track of the job (${(e as Error).message})` });
            return void polling.current.delete(id);
          }
          setTimeout(() => void tick(), pause.waitMs);
          return;
        }
        setTimeout(() => void tick(), POLL_MS);
      };
      void tick();
    }
  }, [uploads, notify, refreshDocuments]);

  const onFiles = useCallback(
    (files: File[]) => {
      for (const file of files) {
        const id = newId();
        dispatchUploads({ type: 'add', id, name: file.name, size: file.size });
        uploadFile(file, (loaded, total) => dispatchUploads({ type: 'sent', id, loaded, total }))
          .then((r) => dispatchUploads({ type: 'accepted', id, jobId: r.job_id, documentId: r.document_id }))
          .catch((e: ApiError) => {
            const reason =
              e.status === 413 ? `too large. ${e.message}` : e.status === 415 ? `wrong file type. ${e.message}` : e.message;
            dispatchUploads({ type: 'failed', id, error: reason });
            notify('error', `${file.name}: ${reason}`);
            if (e.unreachable) setApiDown(true);
          });
      }
    },
    [notify],
  );

  const onDelete = useCallback(
    async (doc: DocumentInfo) => {
      if (!window.confirm(`Delete ${doc.filename}? Its chunks and cached answers go too.`)) return;
      try {
        await deleteDocument(doc.document_id);
        notify('info', `${doc.filename} deleted.`);
      } catch (e) {
        notify('error', `Could not delete ${doc.filename}: ${(e as Error).message}`);
      }
      void refreshDocuments();
    },
    [notify, refreshDocuments],
  );

  const ask = useCallback(async (question: string) => {
    const turn: Turn = { id: newId(), question, answer: '', sources: [], status: 'streaming' };
    dispatchHistory({ type: 'ask', turn });
    setAsking(true);
    try {
      const final = await askStream(question, {
        onSources: (sources, cached) => dispatchHistory({ type: 'update', turnId: turn.id, patch: { sources, cached } }),
        onDelta: (text) => dispatchHistory({ type: 'update', turnId: turn.id, patch: (t) => ({ answer: t.answer + text }) }),
      });
      dispatchHistory({
        type: 'update',
        turnId: turn.id,
        patch: { status: 'done', answer: final.answer, sources: final.sources, answerId: final.answer_id, cached: final.cached },
      });
      setApiDown(false);
    } catch (e) {
      const err = e as ApiError;
      if (err.unreachable) setApiDown(true);
      dispatchHistory({ type: 'update', turnId: turn.id, patch: { status: 'error', error: err.message } });
    } finally {
      setAsking(false);
    }
  }, []);

  // Drag and drop anywhere on the page.
  const dragDepth = useRef(0);
  const hasFiles = (e: React.DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');

  return (
    <div
      className="app"
      onDragEnter={(e) => { if (hasFiles(e)) { dragDepth.current++; setDragging(true); } }}
      onDragOver={(e) => { if (hasFiles(e)) e.preventDefault(); }}
      onDragLeave={() => { if (--dragDepth.current <= 0) { dragDepth.current = 0; setDragging(false); } }}
      onDrop={(e) => {
        e.preventDefault();
        dragDepth.current = 0;
        setDragging(false);
        const files = Array.from(e.dataTransfer?.files ?? []);
        if (files.length) onFiles(files);
      }}
    >
      <header className="topbar">
        <h1>RAGOps</h1>
        <div className="topbar-actions">
          <button type="button" onClick={() => dispatchHistory({ type: 'new' })}>New conversation</button>
          <button type="button" className="panel-toggle" aria-expanded={panelOpen} aria-controls="sidebar" onClick={() => setPanelOpen((o) => !o)}>
            Documents
          </button>
          {account && (
            <span className="account">
              <span className="account-name" title={`Signed in as ${account.name}`}>
                <span className="sr-only">Signed in as </span>{account.name}
              </span>
              <button type="button" onClick={account.onSignOut}>Sign out</button>
            </span>
          )}
        </div>
      </header>

      {apiDown && (
        <div className="banner error" role="alert">
          The RAGOps API is unreachable. Is <code>ragops serve</code> running?{' '}
          <button type="button" onClick={() => void refreshDocuments()}>Retry</button>
        </div>
      )}

      <div className="layout">
        <aside id="sidebar" className={panelOpen ? 'sidebar open' : 'sidebar'} aria-label="Documents and conversations">
          <Uploads items={uploads} onFiles={onFiles} onDismiss={(id) => dispatchUploads({ type: 'dismiss', id })} />
          <Documents documents={documents} error={docsError} onDelete={(d) => void onDelete(d)} onRetry={() => void refreshDocuments()} />
          <nav className="panel conversations" aria-labelledby="conversations-title">
            <h2 id="conversations-title">Conversations</h2>
            <ul>
              {history.conversations.map((c) => (
                <li key={c.id}>
                  <button type="button" className="link" aria-current={c.id === history.currentId ? 'true' : undefined} onClick={() => dispatchHistory({ type: 'select', id: c.id })}>
                    {c.title}
                  </button>
                  <button type="button" className="icon" aria-label={`Delete conversation ${c.title}`} onClick={() => dispatchHistory({ type: 'remove', id: c.id })}>×</button>
                </li>
              ))}
            </ul>
          </nav>
        </aside>

        <main className="chat" aria-label="Chat">
          <div className="messages" aria-live="polite">
            {conversation.turns.length === 0 && (
              <div className="welcome">
                <h2>Ask your documents</h2>
                {documents && documents.length === 0 ? (
                  <p className="muted">No documents yet: upload a PDF, text or Markdown file first (button or drag and drop).</p>
                ) : (
                  <p className="muted">Answers quote your documents and cite the file and page.</p>
                )}
              </div>
            )}
            {conversation.turns.map((t) => (
              <Message key={t.id} turn={t} onFeedback={(rating) => dispatchHistory({ type: 'update', turnId: t.id, patch: { feedback: rating } })} />
            ))}
            <div ref={endRef} />
          </div>
          <Notifications notes={notes} onDismiss={(id) => setNotes((n) => n.filter((x) => x.id !== id))} />
          <Composer disabled={asking} onSend={(q) => void ask(q)} />
        </main>
      </div>

      {dragging && <div className="drop-overlay" aria-hidden="true">Drop files to upload</div>}
    </div>
  );
}
