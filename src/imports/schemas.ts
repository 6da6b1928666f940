/** The import's answer: the single source of its response validation, OpenAPI and TypeScript types. */
import { z } from 'zod';
import { Year } from '../shared/schemas.js';

export const ImportProblem = z.object({
  row: z.number().int().min(0).nullable().describe('Sheet row number (CSV: record number), as the analyst sees it.'),
  column: z.string().optional(),
  severity: z.enum(['error', 'warning']),
  message: z.string(),
});
export type ImportProblem = z.infer<typeof ImportProblem>;

const Matched = z
  .enum(['code', 'name', 'new'])
  .describe('How the row matched stored data: by code, by name, or not at all (created).');
const Value = z.number().nullable();

export const ImportReport = z
  .object({
    planId: z.uuid(),
    year: Year,
    committed: z.boolean().describe('true only when ?commit=true and the changes were stored.'),
    summary: z.object({
      indicatorRows: z.number().int().min(0),
      directionsMatched: z.number().int().min(0),
      directionsCreated: z.number().int().min(0),
      goalsMatched: z.number().int().min(0),
      goalsCreated: z.number().int().min(0),
      indicatorsMatched: z.number().int().min(0),
      indicatorsCreated: z.number().int().min(0),
      measurementsCreated: z.number().int().min(0),
      measurementsChanged: z.number().int().min(0),
      measurementsUnchanged: z.number().int().min(0),
      errors: z.number().int().min(0),
      warnings: z.number().int().min(0),
    }),
    directions: z.array(
      z.object({
        row: z.number().int().min(0),
        code: z.string(),
        title: z.string(),
        match: Matched,
        id: z.uuid().nullable(),
      }),
    ),
    goals: z.array(
      z.object({
        row: z.number().int().min(0),
        code: z.string(),
        title: z.string(),
        match: Matched,
        id: z.uuid().nullable(),
        directionCode: z.string(),
      }),
    ),
    indicators: z.array(
      z.object({
        row: z.number().int().min(0),
        code: z.string(),
        name: z.string(),
        match: Matched,
        id: z.uuid().nullable(),
        goalCode: z.string(),
        valueType: z.enum(['percent', 'number', 'rank']),
        betterWhen: z
          .enum(['higher', 'lower'])
          .nullable()
          .describe('null: a new non-rank indicator whose direction the file does not say (an error).'),
        plan: Value,
        fact: Value,
        before: z
          .object({ plan: Value, fact: Value })
          .nullable()
          .describe('The stored values for the year, null when none.'),
        change: z.enum(['create', 'update', 'none']),
      }),
    ),
    problems: z.array(ImportProblem).describe('Every problem with its row; any error blocks the commit.'),
  })
  .meta({
    id: 'ImportReport',
    description: 'What an import matched, what it would create or change, and every problem found.',
    example: {
      planId: '7f1c1c7e-1111-4a3b-9a43-0d5cbd7e2a10',
      year: 2016,
      committed: false,
      summary: {
        indicatorRows: 19,
        directionsMatched: 3,
        directionsCreated: 0,
        goalsMatched: 4,
        goalsCreated: 0,
        indicatorsMatched: 19,
        indicatorsCreated: 0,
        measurementsCreated: 19,
        measurementsChanged: 0,
        measurementsUnchanged: 0,
        errors: 0,
        warnings: 1,
      },
      directions: [],
      goals: [],
      indicators: [],
      problems: [
        {
          row: 134,
          severity: 'warning',
          message: 'goal 1.1 is printed under direction 2 but belongs to another direction',
        },
      ],
    },
  });
export type ImportReport = z.infer<typeof ImportReport>;
