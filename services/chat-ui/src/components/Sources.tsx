import type { Source } from '../api/client';

// The element id of source `n` (1-based, as in the answer's `[n]` markers) of one answer.
export const sourceId = (turnId: string, n: number): string => `source-${turnId}-${n}`;

export function Sources({ sources, turnId, highlighted }: { sources: Source[]; turnId: string; highlighted: number | null }) {
  if (!sources.length) return null;
  return (
    <section className="sources" aria-label="Sources">
      <h3 className="sources-title">Sources</h3>
      <ol>
        {sources.map((s, i) => (
          <li key={`${s.document_id}-${s.chunk_index}-${i}`} id={sourceId(turnId, i + 1)} className={highlighted === i + 1 ? 'highlighted' : undefined}>
            <details>
              <summary>
                <span className="cite">[{i + 1}]</span> <span className="source-file">{s.filename}</span>
                <span className="source-page">, page {s.page}</span>
              </summary>
              <blockquote className="excerpt">{s.excerpt}</blockquote>
            </details>
          </li>
        ))}
      </ol>
    </section>
  );
}
