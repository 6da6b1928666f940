/**
 * $filter as SQL. The parser's tree (query.ts) becomes one drizzle SQL condition over the entity
 * set's property expressions (model.ts); every literal goes in as a bound parameter.
 *
 * OData's logic is two-valued where SQL's is three-valued: `plan eq 5` on a row without a plan is
 * false in OData, so `not (plan eq 5)` is true. Comparisons with a missing value come out NULL in
 * SQL, which AND, OR and the WHERE clause treat as false already; only NOT would turn it the wrong
 * way, so NOT wraps its operand in coalesce(..., false). `ne` is `is distinct from` (a missing
 * value is not equal to 5). Types are checked here: a text property against a number is a 400,
 * never a database error.
 */
import type { SQL } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import { badQuery, notImplemented } from './errors.js';
import type { Property } from './model.js';
import type { Bind, FilterNode } from './query.js';

type Kind = 'text' | 'number' | 'bool' | 'id';

interface Operand {
  kind: Kind | 'null';
  sql: SQL;
  /** The literal's value, when the operand is one (ids compare as UUIDs only when it is a UUID). */
  literal?: unknown;
  /** For messages. */
  label: string;
  /** An integer column: an integer literal compared with it is bound as int, so its index serves. */
  integer?: boolean;
}

/** How the filter names properties: the set's property, or undefined for an unknown name. */
export type Resolve = (name: string) => { property: Property; sql: SQL } | undefined;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_IN_ITEMS = 1_000;
const MAX_DEPTH = 64;

const COMPARISONS: Record<string, string> = { eq: '=', ne: 'is distinct from', gt: '>', ge: '>=', lt: '<', le: '<=' };
const ARITHMETIC = new Set(['add', 'sub', 'mul', 'div', 'mod', 'divby', 'negate']);

const KIND_OF: Record<Property['kind'], Kind> = {
  id: 'id',
  text: 'text',
  int: 'number',
  decimal: 'number',
  bool: 'bool',
};

function literal(bind: Bind | undefined): Operand {
  if (!bind) throw badQuery('$filter refers to a value it does not give.', '$filter');
  const [type, value] = bind;
  switch (type) {
    case 'Text':
      return { kind: 'text', sql: sql`${String(value)}::text`, literal: value, label: `'${String(value)}'` };
    case 'Real':
    case 'Integer':
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw badQuery('$filter holds a number out of range.', '$filter');
      // String(value) is the shortest spelling that reads back as the same double: 0.1 stays "0.1".
      return { kind: 'number', sql: sql`${String(value)}::numeric`, literal: value, label: String(value) };
    case 'Boolean':
      return { kind: 'bool', sql: sql`${value === true}::boolean`, literal: value, label: String(value) };
    default:
      throw notImplemented(`$filter: ${type} literals are not supported (the feed has no date properties).`, '$filter');
  }
}

const INT4 = 2_147_483_647;

/** An integer literal against an integer column, bound as int (numeric would hide the column's index). */
function asInteger(o: Operand, other: Operand): SQL {
  const v = o.literal;
  if (other.integer && typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= INT4) return sql`${v}::int`;
  return o.sql;
}

const isObject = (node: unknown): node is Record<string, unknown> =>
  typeof node === 'object' && node !== null && !Array.isArray(node);

class Translator {
  constructor(
    private readonly binds: Bind[],
    private readonly resolve: Resolve,
  ) {}

  operand(node: FilterNode, depth: number): Operand {
    if (depth > MAX_DEPTH) throw badQuery(`$filter nests deeper than ${MAX_DEPTH} levels.`, '$filter');
    if (node === null) return { kind: 'null', sql: sql`null`, label: 'null' };
    if (isObject(node)) {
      if (typeof node.bind === 'number') return literal(this.binds[node.bind]);
      if (typeof node.name === 'string') {
        if (node.property !== undefined)
          throw notImplemented(
            `$filter: paths through navigation properties are not supported (${node.name}/...).`,
            '$filter',
          );
        const found = this.resolve(node.name);
        if (!found) throw badQuery(`$filter: unknown property ${JSON.stringify(node.name)}.`, '$filter');
        if (found.property.notQueryable)
          throw badQuery(`$filter: ${node.name} cannot be filtered on (${found.property.notQueryable}).`, '$filter');
        return {
          kind: KIND_OF[found.property.kind],
          sql: found.sql,
          label: node.name,
          integer: found.property.kind === 'int',
        };
      }
    }
    if (Array.isArray(node) && typeof node[0] === 'string')
      return this.expression(node as [string, ...unknown[]], depth + 1);
    throw badQuery('$filter holds an expression the feed does not understand.', '$filter');
  }

  /** A boolean condition. */
  predicate(node: FilterNode, depth: number): SQL {
    const o = this.operand(node, depth);
    if (o.kind !== 'bool') throw badQuery(`$filter: ${o.label} is not a condition (true or false).`, '$filter');
    return o.sql;
  }

  private expression([op, ...args]: [string, ...unknown[]], depth: number): Operand {
    const bool = (s: SQL, label: string): Operand => ({ kind: 'bool', sql: s, label });
    if (op === 'and' || op === 'or') {
      const [a, b] = [this.predicate(args[0], depth), this.predicate(args[1], depth)];
      return bool(op === 'and' ? sql`(${a} and ${b})` : sql`(${a} or ${b})`, op);
    }
    if (op === 'not') return bool(sql`(not coalesce(${this.predicate(args[0], depth)}, false))`, 'not');
    if (op in COMPARISONS)
      return bool(this.compare(op, this.operand(args[0], depth), this.operand(args[1], depth)), op);
    if (op === 'eqany') return bool(this.inList(this.operand(args[0], depth), args[1]), 'in');
    if (op === 'call' && isObject(args[0]))
      return this.call(String(args[0].method), (args[0].args as unknown[] | undefined) ?? [], depth);
    if (ARITHMETIC.has(op)) throw notImplemented(`$filter: arithmetic (${op}) is not supported.`, '$filter');
    throw notImplemented(`$filter: the operator ${op} is not supported.`, '$filter');
  }

  private compare(op: string, left: Operand, right: Operand): SQL {
    if (left.kind === 'null' || right.kind === 'null') {
      const other = left.kind === 'null' ? right : left;
      if (other.kind === 'null') return op === 'eq' ? sql`true` : sql`false`;
      if (op === 'eq') return sql`(${other.sql} is null)`;
      if (op === 'ne') return sql`(${other.sql} is not null)`;
      throw badQuery(`$filter: null can only be compared with eq or ne.`, '$filter');
    }
    const sqlOp = sql.raw(COMPARISONS[op]!);
    if (left.kind === 'id' || right.kind === 'id') return this.compareId(op, left, right);
    if (left.kind !== right.kind)
      throw badQuery(
        `$filter: cannot compare ${left.label} (${left.kind}) with ${right.label} (${right.kind}).`,
        '$filter',
      );
    if (left.kind === 'bool' && op !== 'eq' && op !== 'ne')
      throw badQuery('$filter: true and false compare with eq or ne only.', '$filter');
    return sql`(${asInteger(left, right)} ${sqlOp} ${asInteger(right, left)})`;
  }

  /** Ids are UUIDs: eq and ne against a UUID compare as UUIDs (the indexes), anything else as text. */
  private compareId(op: string, left: Operand, right: Operand): SQL {
    const [column, other] = left.kind === 'id' ? [left, right] : [right, left];
    if (other.kind !== 'id' && other.kind !== 'text')
      throw badQuery(`$filter: ${column.label} is an id (text), not a ${other.kind}.`, '$filter');
    if (other.kind === 'id') return sql`(${left.sql} ${sql.raw(COMPARISONS[op]!)} ${right.sql})`;
    const value = String(other.literal ?? '');
    if ((op === 'eq' || op === 'ne') && other.literal !== undefined) {
      // A text that is no UUID equals no id: answered without asking the database to cast it.
      if (!UUID.test(value)) return op === 'eq' ? sql`false` : sql`true`;
      return op === 'eq' ? sql`(${column.sql} = ${value}::uuid)` : sql`(${column.sql} is distinct from ${value}::uuid)`;
    }
    const asText = (o: Operand) => (o.kind === 'id' ? sql`(${o.sql})::text` : o.sql);
    return sql`(${asText(left)} ${sql.raw(COMPARISONS[op]!)} ${asText(right)})`;
  }

  private inList(subject: Operand, list: unknown): SQL {
    const bind = isObject(list) && typeof list.bind === 'number' ? this.binds[list.bind] : undefined;
    if (!bind || bind[0] !== 'List' || !Array.isArray(bind[1]))
      throw badQuery("$filter: in takes a list of values, e.g. code in ('1.1', '1.2').", '$filter');
    const items = bind[1] as Bind[];
    if (items.length === 0) return sql`false`;
    if (items.length > MAX_IN_ITEMS) throw badQuery(`$filter: in takes at most ${MAX_IN_ITEMS} values.`, '$filter');
    const conditions = items.map((item) => this.compare('eq', subject, literal(item)));
    return sql`(${sql.join(conditions, sql` or `)})`;
  }

  private call(method: string, args: unknown[], depth: number): Operand {
    const text = (node: unknown) => {
      const o = this.operand(node, depth);
      if (o.kind === 'id') return { ...o, kind: 'text' as const, sql: sql`(${o.sql})::text` };
      if (o.kind !== 'text') throw badQuery(`$filter: ${method}() takes text; ${o.label} is ${o.kind}.`, '$filter');
      return o;
    };
    const arity = (n: number) => {
      if (args.length !== n)
        throw badQuery(`$filter: ${method}() takes ${n} argument${n === 1 ? '' : 's'}.`, '$filter');
    };
    switch (method) {
      case 'contains':
      case 'startswith':
      case 'endswith': {
        arity(2);
        const [a, b] = [text(args[0]), text(args[1])];
        // strpos and starts_with take the text literally: no LIKE wildcards to escape.
        const s =
          method === 'contains'
            ? sql`(strpos(${a.sql}, ${b.sql}) > 0)`
            : method === 'startswith'
              ? sql`starts_with(${a.sql}, ${b.sql})`
              : sql`(right(${a.sql}, char_length(${b.sql})) = ${b.sql})`;
        return { kind: 'bool', sql: s, label: `${method}()` };
      }
      case 'tolower':
      case 'toupper':
        arity(1);
        return {
          kind: 'text',
          sql: method === 'tolower' ? sql`lower(${text(args[0]).sql})` : sql`upper(${text(args[0]).sql})`,
          label: `${method}()`,
        };
      case 'length':
        arity(1);
        return { kind: 'number', sql: sql`char_length(${text(args[0]).sql})::numeric`, label: 'length()' };
      default:
        throw notImplemented(
          `$filter: the function ${method}() is not supported (contains, startswith, endswith, tolower, toupper, length are).`,
          '$filter',
        );
    }
  }
}

/** The $filter tree as one SQL condition. */
export function filterSql(node: FilterNode, binds: Bind[], resolve: Resolve): SQL {
  return new Translator(binds, resolve).predicate(node, 0);
}
