import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import { ok } from '../http/errors.ts';
import { readBody } from '../http/validate.ts';
import { questionInput } from '../questions/question.schema.ts';
import { dedupOptions } from '../tasks/task.schema.ts';
import { canonicalsOfResolved, mapResolvedHits } from '../review/resolution.repository.ts';
import { CHECK_READS_IN_FLIGHT, READ_CHUNK } from './bank-index.ts';
import { CoalescedReads } from './coalesced-reads.ts';

/** A question as imported, plus the task options that apply to one check. */
export const checkBody = questionInput.extend({
  scope: dedupOptions.scope,
  max_distance: dedupOptions.max_distance,
  min_similarity: dedupOptions.min_similarity,
});

export function checkRoutes({ bank, db, interactive }: AppDeps) {
  const app = new Hono();
  // Concurrent checks look up their hits' canonical questions in a few statements, not one each.
  const canonicals = new CoalescedReads((ids: number[]) => canonicalsOfResolved(db, ids), CHECK_READS_IN_FLIGHT, READ_CHUNK);
  app.post('/', async (c) => {
    const body = await readBody(c, checkBody);
    const check = async () => {
      const hits = await bank.check(
        {
          type_name: body.type_name,
          subject_name: body.subject_name,
          channel_code: body.channel_code,
          content: body.content,
          options: body.options == null ? null : JSON.stringify(body.options),
        },
        { scope: body.scope, max_distance: body.max_distance, min_similarity: body.min_similarity },
      );
      // Only active questions: a match on a resolved duplicate names its canonical question.
      return mapResolvedHits(hits, (ids) => canonicals.read(ids));
    };
    // Someone waits on this answer: a running task's next read or save waits for it (interactive-work.ts).
    return ok(c, await (interactive ? interactive.during(check) : check()));
  });
  return app;
}

export type CheckBody = z.infer<typeof checkBody>;
