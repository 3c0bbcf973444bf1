import type { Source } from '../api/client';

export function Sources({ sources }: { sources: Source[] }) {
  if (!sources.length) return null;
  return (
    <section className="sources" aria-label="Sources">
      <h3 className="sources-title">Sources</h3>
      <ol>
        {sources.map((s, i) => (
          <li key={`${s.document_id}-${s.chunk_index}-${i}`}>
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
