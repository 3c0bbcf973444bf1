export interface Note {
  id: string;
  kind: 'success' | 'error' | 'info';
  text: string;
}

// How long a note stays unless dismissed: errors a little longer, so they can be read.
export const NOTE_LIFETIME_MS: Record<Note['kind'], number> = { success: 6000, info: 6000, error: 10000 };

// In the page's flow between the conversation and the composer (not floating over it), so a note
// never covers an answer.
export function Notifications({ notes, onDismiss }: { notes: Note[]; onDismiss(id: string): void }) {
  return (
    <div className="notifications" aria-live="polite" aria-label="Notifications">
      {notes.map((n) => (
        <div key={n.id} className={`note note-${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <span>{n.text}</span>
          <button type="button" className="icon" aria-label="Dismiss notification" onClick={() => onDismiss(n.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
