import { useState } from 'react';
import { sendFeedback, type Rating } from '../api/client';

interface Props {
  answerId: string;
  given?: Rating;
  onSent(rating: Rating): void;
}

function Thumb({ down = false }: { down?: boolean }) {
  return (
    <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" focusable="false" style={down ? { transform: 'rotate(180deg)' } : undefined}>
      <path fill="currentColor" d="M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z" />
    </svg>
  );
}

/** Thumbs up/down, then an optional comment before sending. */
export function Feedback({ answerId, given, onSent }: Props) {
  const [rating, setRating] = useState<Rating | null>(null);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (given) return <p className="feedback-done" role="status">Thanks for your feedback ({given === 'up' ? 'helpful' : 'not helpful'}).</p>;

  const submit = async () => {
    if (!rating) return;
    setBusy(true);
    setError(null);
    try {
      await sendFeedback(answerId, rating, comment.trim() || undefined);
      onSent(rating);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="feedback">
      <div role="group" aria-label="Rate this answer">
        <button type="button" className="icon" aria-pressed={rating === 'up'} aria-label="Helpful (thumbs up)" onClick={() => setRating('up')}><Thumb /></button>
        <button type="button" className="icon" aria-pressed={rating === 'down'} aria-label="Not helpful (thumbs down)" onClick={() => setRating('down')}><Thumb down /></button>
      </div>
      {rating && (
        <form className="feedback-form" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
          <label>
            <span className="sr-only">Comment (optional)</span>
            <input type="text" value={comment} maxLength={2000} placeholder="Comment (optional)" onChange={(e) => setComment(e.target.value)} />
          </label>
          <button type="submit" disabled={busy}>Send feedback</button>
          <button type="button" className="link" onClick={() => setRating(null)}>Cancel</button>
        </form>
      )}
      {error && <p className="error" role="alert">{error}</p>}
    </div>
  );
}
