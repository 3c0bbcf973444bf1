import { useState } from 'react';
import type { Turn } from '../state/history';
import { Sources } from './Sources';
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

export function Message({ turn, onFeedback }: { turn: Turn; onFeedback(rating: Rating): void }) {
  const [copied, setCopied] = useState(false);
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
            {turn.answer}
            {turn.status === 'streaming' && <span className="cursor" aria-hidden="true">▍</span>}
          </p>
        )}
        {turn.status === 'streaming' && !turn.answer && <p className="muted">Searching your documents…</p>}
        <Sources sources={turn.sources} />
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
