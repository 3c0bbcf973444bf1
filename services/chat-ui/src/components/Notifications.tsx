export interface Note {
  id: string;
  kind: 'success' | 'error' | 'info';
  text: string;
}

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
