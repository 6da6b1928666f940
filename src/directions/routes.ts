import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/client.js';
import { organizationOf } from '../db/ownership.js';
import { directions, plans } from '../db/schema.js';
import { registerSection } from '../http/section-routes.js';
import { DirectionSchemas } from './schemas.js';

export function directionRoutes(app: FastifyInstance, db: Db) {
  registerSection(app, db, {
    name: 'direction',
    plural: 'directions',
    tag: 'Directions',
    table: directions,
    parent: { param: 'planId', field: 'planId', table: plans, column: directions.planId, name: 'plan' },
    schemas: DirectionSchemas,
    organizationOfParent: organizationOf.plan,
    organizationOfRow: organizationOf.direction,
    planOf: async (_tx, row) => row.planId as string,
  });
}
