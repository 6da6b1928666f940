/** A transaction handle of either driver: what services pass to repositories inside a write. */
import type { Db } from './client.js';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
