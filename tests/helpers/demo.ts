/** Loads the 2016 demo dataset through the public API, as an integrating system would. */
import type { FastifyInstance } from 'fastify';
import { loadDemoDataset } from '../../src/demo/dataset.js';
import { call } from './app.js';

export interface LoadedDemo {
  planId: string;
  organizationId: string;
  indicatorIds: Map<string, string>;
  verdicts: Map<string, string>;
  /** Goal code -> id. */
  goalIds: Map<string, string>;
  /** Ids of the report's risks (section 1), in report order. */
  riskIds: string[];
  /** The analytical note (section 3), when the dataset has one. */
  noteYear?: number;
}

async function post(app: FastifyInstance, url: string, body: unknown, expected = 201) {
  const res = await call(
    app,
    url.includes('/measurements/') || url.includes('/notes/') || url.endsWith('/signature') ? 'PUT' : 'POST',
    url,
    body,
  );
  if (res.status !== expected) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function loadDemoThroughApi(app: FastifyInstance, orgCode?: string): Promise<LoadedDemo> {
  const data = loadDemoDataset();
  const org = await post(app, '/api/v1/organizations', {
    ...data.organization,
    code: orgCode ?? data.organization.code,
  });
  const plan = await post(app, '/api/v1/plans', { ...data.plan, organizationId: org.id });
  const indicatorIds = new Map<string, string>();
  const verdicts = new Map<string, string>();
  const goalIds = new Map<string, string>();
  const riskIds: string[] = [];
  for (const d of data.directions) {
    const direction = await post(app, `/api/v1/plans/${plan.id}/directions`, {
      code: d.code,
      title: d.title,
      position: d.position,
    });
    for (const g of d.goals) {
      const goal = await post(app, `/api/v1/directions/${direction.id}/goals`, {
        code: g.code,
        title: g.title,
        position: g.position,
      });
      goalIds.set(g.code, goal.id);
      for (const risk of g.risks) riskIds.push((await post(app, `/api/v1/goals/${goal.id}/risks`, risk)).id);
      for (const { measurements, reportVerdict, ...indicator } of g.indicators) {
        const created = await post(app, `/api/v1/goals/${goal.id}/indicators`, indicator);
        indicatorIds.set(indicator.code, created.id);
        verdicts.set(indicator.code, reportVerdict);
        for (const { year, ...values } of measurements) {
          await post(app, `/api/v1/indicators/${created.id}/measurements/${year}`, values);
        }
      }
    }
  }
  const note = data.analyticalNote;
  if (note) await post(app, `/api/v1/plans/${plan.id}/notes/${note.year}`, { blocks: note.blocks });
  const signature = data.reportSignature;
  if (signature) {
    const { year, ...block } = signature;
    await post(app, `/api/v1/plans/${plan.id}/reports/${year}/signature`, block);
  }
  return { planId: plan.id, organizationId: org.id, indicatorIds, verdicts, goalIds, riskIds, noteYear: note?.year };
}
