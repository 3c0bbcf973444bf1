import { useRef } from 'react';
import { describe, ingestFraction, isActive, type UploadItem } from '../state/uploads';

export const ACCEPT = '.pdf,.txt,.text,.md,.markdown,application/pdf,text/plain,text/markdown';

interface Props {
  items: UploadItem[];
  onFiles(files: File[]): void;
  onDismiss(id: string): void;
}

export function Uploads({ items, onFiles, onDismiss }: Props) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <section className="panel uploads" aria-labelledby="uploads-title">
      <h2 id="uploads-title">Upload</h2>
      <div className="dropzone">
        <p>Drop PDF, text or Markdown files anywhere, or</p>
        <button type="button" onClick={() => input.current?.click()}>Choose files…</button>
        <input
          ref={input}
          type="file"
          multiple
          accept={ACCEPT}
          className="sr-only"
          aria-label="Upload files"
          data-testid="file-input"
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            e.target.value = '';
            if (files.length) onFiles(files);
          }}
        />
      </div>
      {items.length > 0 && (
        <ul className="upload-list">
          {items.map((item) => (
            <li key={item.id} className="upload" data-phase={item.phase} aria-label={`Upload of ${item.name}`}>
              <div className="upload-head">
                <span className="filename" title={item.name}>{item.name}</span>
                {!isActive(item) && (
                  <button type="button" className="icon" aria-label={`Dismiss ${item.name}`} onClick={() => onDismiss(item.id)}>×</button>
                )}
              </div>
              <label className="bar">
                <span className="sr-only">Upload of {item.name}</span>
                <progress max={1} value={item.sent} />
              </label>
              {item.jobId && (
                <label className="bar">
                  <span className="sr-only">Ingestion of {item.name}</span>
                  <progress max={1} value={item.phase === 'failed' ? 0 : ingestFraction(item)} />
                </label>
              )}
              <p className={item.phase === 'failed' ? 'error small' : 'muted small'} role="status">{describe(item)}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
