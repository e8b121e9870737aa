/// <reference lib="dom" />
/** "Resolve confirmed": asks first (a modal dialog, Cancel focused), then marks the confirmed clusters' duplicates in the bank. */
import { api } from './api.ts';
import { $ } from './dom.ts';
import type { ResolveResult } from './review-types.ts';

export function setUpResolve(taskId: number, confirmedCount: () => number | undefined, onResolved: (result: ResolveResult) => void, onError: (error: unknown) => void) {
  const dialog = $<HTMLDialogElement>('#resolve-dialog');
  const button = $<HTMLButtonElement>('#resolve');
  button.addEventListener('click', () => {
    const count = confirmedCount();
    $('.confirm-text', dialog).textContent =
      `${count === undefined ? 'Every' : `${count}`} confirmed cluster${count === 1 ? '' : 's'}: each other question is marked a duplicate of its cluster's canonical question (` +
      'duplicate_of), and new tasks leave it out. Each one can be restored later.';
    dialog.returnValue = '';
    dialog.showModal();
  });
  dialog.addEventListener('close', () => {
    if (dialog.returnValue !== 'resolve') return;
    button.disabled = true;
    api
      .post<ResolveResult>(`/api/dedup/tasks/${taskId}/resolve`, { clusters: 'confirmed' })
      .then(onResolved, onError)
      .finally(() => (button.disabled = false));
  });
}
