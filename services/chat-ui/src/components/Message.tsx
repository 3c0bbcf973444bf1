import { useEffect, useState, type ReactNode } from 'react';
import type { Turn } from '../state/history';
import { Sources, sourceId } from './Sources';
import { Feedback } from './Feedback';
import type { Rating } from '../api/client';

export const EMPTY_ANSWER = 'No answer was found in your documents. Try other words, or upload a document that covers it.';

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) return navigator.clipboard.writeText(text);
  const area = document.createElement('textarea');
  area.value = text;
  document.body.appendChild(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

// How long a source stays highlighted after its `[n]` marker was followed.
export const HIGHLIGHT_MS = 2500;
const CITATION = /\[(\d+)\]/g;

// The answer's text with each `[n]` that names one of its sources made a link to that source.
export function withCitationLinks(text: string, turnId: string, count: number, onCite: (n: number) => void): ReactNode[] {
  const parts: ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(CITATION)) {
    const n = Number(match[1]);
    if (n < 1 || n > count) continue;
    parts.push(text.slice(last, match.index));
    parts.push(
      <a key={match.index} className="cite-link" href={`#${sourceId(turnId, n)}`} aria-label={`Source ${n}`}
         onClick={(e) => { e.preventDefault(); onCite(n); }}>
        {match[0]}
      </a>,
    );
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

export function Message({ turn, onFeedback }: { turn: Turn; onFeedback(rating: Rating): void }) {
  const [copied, setCopied] = useState(false);
  const [highlighted, setHighlighted] = useState<number | null>(null);
  useEffect(() => {
    if (highlighted === null) return;
    // Open the cited source's excerpt and bring it into view, then let the highlight fade.
    const item = document.getElementById(sourceId(turn.id, highlighted));
    const details = item?.querySelector('details');
    if (details) details.open = true;
    item?.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
    const timer = setTimeout(() => setHighlighted(null), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [highlighted, turn.id]);
  const empty = turn.status === 'done' && !turn.answer.trim();
  return (
    <article className="turn" aria-label={`Question: ${turn.question}`}>
      <div className="bubble question"><p>{turn.question}</p></div>
      <div className="bubble answer" data-status={turn.status} aria-busy={turn.status === 'streaming'}>
        {turn.status === 'error' ? (
          <p className="error" role="alert">{turn.error}</p>
        ) : empty ? (
          <p className="muted empty-answer">{EMPTY_ANSWER}</p>
        ) : (
          <p className="answer-text">
            {withCitationLinks(turn.answer, turn.id, turn.sources.length, setHighlighted)}
            {turn.status === 'streaming' && <span className="cursor" aria-hidden="true">▍</span>}
          </p>
        )}
        {turn.status === 'streaming' && !turn.answer && <p className="muted">Searching your documents…</p>}
        <Sources sources={turn.sources} turnId={turn.id} highlighted={highlighted} />
        {turn.status === 'done' && (
          <div className="answer-actions">
            {!empty && (
              <button type="button" onClick={() => void copyText(turn.answer).then(() => { setCopied(true); setTimeout(() => setCopied(false), 1500); })}>
                {copied ? 'Copied' : 'Copy answer'}
              </button>
            )}
            {turn.cached && <span className="muted small">from cache</span>}
            {turn.answerId && <Feedback answerId={turn.answerId} given={turn.feedback} onSent={onFeedback} />}
          </div>
        )}
      </div>
    </article>
  );
}
