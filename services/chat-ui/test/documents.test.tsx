import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Documents } from '../src/components/Documents';

const doc = { document_id: 'd', filename: '504076.pdf', pages: 33, chunks: 20, bytes: 2048, updated_at: 0, job_id: 'j' };

describe('document list', () => {
  it('shows the pages that could not be read, and only when there are some', () => {
    render(<Documents documents={[{ ...doc, pages_unreadable: 3 }]} error={null} onDelete={() => {}} onRetry={() => {}} />);
    expect(screen.getByText('33 pages (3 unreadable) · 20 chunks · 2 KB')).toBeInTheDocument();
    render(<Documents documents={[{ ...doc, pages_unreadable: 0 }]} error={null} onDelete={() => {}} onRetry={() => {}} />);
    expect(screen.getByText('33 pages · 20 chunks · 2 KB')).toBeInTheDocument();
  });
});
