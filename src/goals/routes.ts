import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/client.js';
import { organizationOf, planIdOf } from '../db/ownership.js';
import { directions, goals } from '../db/schema.js';
import { registerSection } from '../http/section-routes.js';
import { GoalSchemas } from './schemas.js';

export function goalRoutes(app: FastifyInstance, db: Db) {
  registerSection(app, db, {
    name: 'goal',
    plural: 'goals',
    tag: 'Goals',
    table: goals,
    parent: {
      param: 'directionId',
      field: 'directionId',
      table: directions,
      column: goals.directionId,
      name: 'direction',
    },
    schemas: GoalSchemas,
    organizationOfParent: organizationOf.direction,
    organizationOfRow: organizationOf.goal,
    planOf: (tx, row) => planIdOf.direction(tx, row.directionId as string),
  });
}
