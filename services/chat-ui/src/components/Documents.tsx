import type { DocumentInfo } from '../api/client';
import { pagesText } from '../state/uploads';

const size = (b: number) => (b > 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MB` : `${Math.max(1, Math.round(b / 1024))} KB`);

interface Props {
  documents: DocumentInfo[] | null;
  error: string | null;
  onDelete(doc: DocumentInfo): void;
  onRetry(): void;
}

export function Documents({ documents, error, onDelete, onRetry }: Props) {
  return (
    <section className="panel documents" aria-labelledby="documents-title">
      <h2 id="documents-title">Documents</h2>
      {error ? (
        <div className="error" role="alert">
          <p>{error}</p>
          <button type="button" onClick={onRetry}>Retry</button>
        </div>
      ) : documents === null ? (
        <p className="muted">Loading…</p>
      ) : documents.length === 0 ? (
        <p className="muted empty-docs">No documents yet. Upload a PDF to start asking questions.</p>
      ) : (
        <ul className="doc-list">
          {documents.map((d) => (
            <li key={d.document_id} className="doc">
              <div>
                <span className="filename" title={d.filename}>{d.filename}</span>
                <span className="muted small">{pagesText(d.pages, d.pages_unreadable)} · {d.chunks} chunks · {size(d.bytes)}</span>
              </div>
              <button type="button" className="danger" aria-label={`Delete ${d.filename}`} onClick={() => onDelete(d)}>Delete</button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
