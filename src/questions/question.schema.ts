import { z } from 'zod';

const groupName = z.string().trim().min(1).max(100);
const longText = (max: number) => z.string().max(max);

const options = z.union([
  z.array(longText(20_000)).max(52),
  z
    .record(z.string().trim().min(1).max(20), longText(20_000))
    .refine((value) => Object.keys(value).length <= 52, 'at most 52 options'),
]);

const answer = z.union([longText(100_000), z.number(), z.array(z.union([longText(20_000), z.number()])).max(100)]);

/** One question as callers import it; unknown fields (e.g. `year`) are dropped. */
export const questionInput = z.object({
  external_id: z
    .union([z.string().trim().min(1).max(200), z.number().int().nonnegative()])
    .transform(String)
    .nullish(),
  type_name: groupName,
  subject_name: groupName,
  channel_code: groupName.default('default'),
  content: z.string().trim().min(1, 'content must not be empty').max(200_000),
  options: options.nullish(),
  answer: answer.nullish(),
  analysis: longText(200_000).nullish(),
});

export type QuestionInput = z.infer<typeof questionInput>;

export const groupFilterQuery = {
  type_name: groupName.optional(),
  subject_name: groupName.optional(),
  channel_code: groupName.optional(),
  q: z.string().trim().min(1).max(200).optional(),
};

export interface Question {
  id: number;
  external_id: string | null;
  type_name: string;
  subject_name: string;
  channel_code: string;
  content: string;
  options: string[] | Record<string, string> | null;
  answer: unknown;
  analysis: string | null;
  created_at: string;
  updated_at: string;
  /** The question this one was resolved as a duplicate of; null while active. */
  duplicate_of: number | null;
}
