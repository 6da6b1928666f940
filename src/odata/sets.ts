/** The feed's entity sets with how each is read: the wiring between model.ts and the repositories. */
import type { EntitySet, TableSetName } from './model.js';
import { TABLE_SETS } from './model.js';
import { countTable, readTablePage } from './repository.js';
import type { FeedSet, SetReader } from './service.js';
import { STATUS_SET, statusReader } from './status-set.js';

const asTableSet = (set: EntitySet) => set as EntitySet & { name: TableSetName };

const tableReader: SetReader = {
  page: (db, set, scope, page) => readTablePage(db, asTableSet(set), scope, page),
  count: (db, set, _scope, where) => countTable(db, asTableSet(set), where),
};

export const FEED_SETS: readonly FeedSet[] = [
  ...Object.values(TABLE_SETS).map((set) => ({ set, reader: tableReader })),
  { set: STATUS_SET, reader: statusReader },
];
