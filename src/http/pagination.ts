import { z } from 'zod';

export const paginationQuery = {
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  page_size: z.coerce.number().int().min(1).max(500).default(20),
};

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
}

export const offsetOf = ({ page, page_size }: { page: number; page_size: number }) => (page - 1) * page_size;
