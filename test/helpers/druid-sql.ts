/**
 * The part of Druid SQL that mau sends, executed over events a test gives: SELECT with expressions and
 * aliases, FROM one datasource, WHERE (AND, OR, NOT, comparisons, IN, IS NULL), GROUP BY (ordinals or
 * expressions), ORDER BY, LIMIT, OFFSET; COUNT(*), COUNT(DISTINCT), APPROX_COUNT_DISTINCT, SUM, MIN,
 * MAX, CASE, COALESCE, NULLIF, UPPER, LOWER, MILLIS_TO_TIMESTAMP, TIMESTAMP_TO_MILLIS and TIMESTAMP literals. As in Druid,
 * __time is a TIMESTAMP (comparing it with a number is a validation error), a missing value is NULL,
 * and COUNT(DISTINCT) is approximate (HyperLogLog) unless the context sets useApproximateCountDistinct
 * to false. Anything else is rejected the way Druid rejects it, so a query mau should not send fails.
 */
import {createHash} from 'node:crypto'
import dayjs from 'dayjs'
import timezone from 'dayjs/plugin/timezone.js'
import utc from 'dayjs/plugin/utc.js'

dayjs.extend(utc)
dayjs.extend(timezone)

/** A TIMESTAMP value, kept apart from numbers as Druid's type system keeps it. */
export class Ts {
  constructor(readonly ms: number) {}
}
export type Value = string | number | boolean | Ts | null
import type {Event} from '../fixtures/druid-events.js'

export type {Event}

/** A query Druid would refuse: kind picks the HTTP status and error category. */
export class SqlError extends Error {
  constructor(
    message: string,
    readonly kind: 'invalidInput' | 'unsupported' = 'invalidInput',
  ) {
    super(message)
  }
}

type Expr =
  | {k: 'lit'; v: Value}
  | {k: 'param'; i: number}
  | {k: 'col'; name: string}
  | {k: 'call'; fn: string; args: Expr[]; distinct?: boolean; star?: boolean}
  | {k: 'bin'; op: string; l: Expr; r: Expr}
  | {k: 'not'; e: Expr}
  | {k: 'in'; e: Expr; list: Expr[]}
  | {k: 'isnull'; e: Expr; negate: boolean}
  | {k: 'case'; subject: Expr; whens: [Expr, Expr][]; otherwise: Expr | null}

interface Select {
  items: {expr: Expr; name: string}[]
  table: string
  where: Expr | null
  groupBy: Expr[] | null
  orderBy: {ref: Expr; desc: boolean}[]
  limit: number | null
  offset: number
  params: number
}

const AGGREGATES = new Set(['COUNT', 'SUM', 'MIN', 'MAX', 'APPROX_COUNT_DISTINCT'])
const SCALARS = new Set(['UPPER', 'LOWER', 'COALESCE', 'NULLIF', 'MILLIS_TO_TIMESTAMP', 'TIMESTAMP_TO_MILLIS'])
const KEYWORDS = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'GROUP',
  'BY',
  'ORDER',
  'LIMIT',
  'OFFSET',
  'AS',
  'AND',
  'OR',
  'NOT',
  'IN',
  'IS',
  'NULL',
  'ASC',
  'DESC',
  'DISTINCT',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'TIMESTAMP',
])

type Token = {t: 'id' | 'qid' | 'str' | 'num' | 'op' | 'kw'; v: string}

function tokenize(sql: string): Token[] {
  const tokens: Token[] = []
  const re =
    /\s+|"((?:[^"]|"")*)"|'((?:[^']|'')*)'|(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(<>|!=|<=|>=|[=<>(),*?+-])/y
  for (let m; re.lastIndex < sql.length;) {
    const at = re.lastIndex
    m = re.exec(sql)
    if (!m) throw new SqlError(`Incorrect syntax near "${sql.slice(at, at + 10)}" (position [${at}])`)
    if (m[1] !== undefined) tokens.push({t: 'qid', v: m[1].replace(/""/g, '"')})
    else if (m[2] !== undefined) tokens.push({t: 'str', v: m[2].replace(/''/g, "'")})
    else if (m[3] !== undefined) tokens.push({t: 'num', v: m[3]})
    else if (m[4] !== undefined)
      tokens.push(KEYWORDS.has(m[4].toUpperCase()) ? {t: 'kw', v: m[4].toUpperCase()} : {t: 'id', v: m[4]})
    else if (m[5] !== undefined) tokens.push({t: 'op', v: m[5]})
  }
  return tokens
}

class Parser {
  private i = 0
  params = 0
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.i]
  }
  private is(t: Token['t'], v?: string): boolean {
    const tok = this.peek()
    return tok !== undefined && tok.t === t && (v === undefined || tok.v === v)
  }
  private take(t: Token['t'], v?: string): Token {
    const tok = this.peek()
    if (!this.is(t, v)) throw new SqlError(`Incorrect syntax near "${tok?.v ?? 'end of query'}": expected ${v ?? t}`)
    this.i++
    return tok!
  }
  private accept(t: Token['t'], v?: string): boolean {
    if (!this.is(t, v)) return false
    this.i++
    return true
  }

  select(): Select {
    this.take('kw', 'SELECT')
    const items: Select['items'] = []
    do {
      const expr = this.expr()
      const name = this.accept('kw', 'AS') ? this.name() : expr.k === 'col' ? expr.name : `EXPR$${items.length}`
      items.push({expr, name})
    } while (this.accept('op', ','))
    this.take('kw', 'FROM')
    const table = this.name()
    const where = this.accept('kw', 'WHERE') ? this.expr() : null
    let groupBy: Expr[] | null = null
    if (this.accept('kw', 'GROUP')) {
      this.take('kw', 'BY')
      groupBy = this.list()
    }
    const orderBy: Select['orderBy'] = []
    if (this.accept('kw', 'ORDER')) {
      this.take('kw', 'BY')
      do {
        const ref = this.expr()
        const desc = this.accept('kw', 'DESC')
        if (!desc) this.accept('kw', 'ASC')
        orderBy.push({ref, desc})
      } while (this.accept('op', ','))
    }
    const limit = this.accept('kw', 'LIMIT') ? Number(this.take('num').v) : null
    const offset = this.accept('kw', 'OFFSET') ? Number(this.take('num').v) : 0
    if (this.peek()) throw new SqlError(`Incorrect syntax near "${this.peek()!.v}": expected end of query`)
    return {items, table, where, groupBy, orderBy, limit, offset, params: this.params}
  }

  private name(): string {
    if (this.is('qid') || this.is('id')) return this.tokens[this.i++]!.v
    throw new SqlError(`Incorrect syntax near "${this.peek()?.v ?? 'end of query'}": expected an identifier`)
  }
  private list(): Expr[] {
    const out = [this.expr()]
    while (this.accept('op', ',')) out.push(this.expr())
    return out
  }
  private expr(): Expr {
    let l = this.and()
    while (this.accept('kw', 'OR')) l = {k: 'bin', op: 'OR', l, r: this.and()}
    return l
  }
  private and(): Expr {
    let l = this.not()
    while (this.accept('kw', 'AND')) l = {k: 'bin', op: 'AND', l, r: this.not()}
    return l
  }
  private not(): Expr {
    return this.accept('kw', 'NOT') ? {k: 'not', e: this.not()} : this.comparison()
  }
  private comparison(): Expr {
    const l = this.primary()
    for (const op of ['=', '<>', '!=', '<=', '>=', '<', '>'])
      if (this.accept('op', op)) return {k: 'bin', op: op === '!=' ? '<>' : op, l, r: this.primary()}
    const negate = this.accept('kw', 'NOT')
    if (this.accept('kw', 'IN')) {
      this.take('op', '(')
      const list = this.list()
      this.take('op', ')')
      const e: Expr = {k: 'in', e: l, list}
      return negate ? {k: 'not', e} : e
    }
    if (!negate && this.accept('kw', 'IS')) {
      const not = this.accept('kw', 'NOT')
      this.take('kw', 'NULL')
      return {k: 'isnull', e: l, negate: not}
    }
    if (negate) throw new SqlError('Incorrect syntax near "NOT": expected IN')
    return l
  }
  private primary(): Expr {
    const tok = this.peek()
    if (!tok) throw new SqlError('Incorrect syntax near end of query: expected an expression')
    if (this.accept('op', '(')) {
      const e = this.expr()
      this.take('op', ')')
      return e
    }
    if (this.accept('op', '?')) return {k: 'param', i: this.params++}
    if (this.accept('op', '-')) return {k: 'lit', v: -Number(this.take('num').v)}
    if (tok.t === 'str') return (this.i++, {k: 'lit', v: tok.v})
    if (tok.t === 'num') return (this.i++, {k: 'lit', v: Number(tok.v)})
    if (this.accept('kw', 'NULL')) return {k: 'lit', v: null}
    if (this.accept('kw', 'TIMESTAMP'))
      return {k: 'call', fn: 'TIMESTAMP_LITERAL', args: [{k: 'lit', v: this.take('str').v}]}
    if (this.accept('kw', 'CASE')) {
      const subject = this.expr()
      const whens: [Expr, Expr][] = []
      while (this.accept('kw', 'WHEN')) {
        const w = this.expr()
        this.take('kw', 'THEN')
        whens.push([w, this.expr()])
      }
      const otherwise = this.accept('kw', 'ELSE') ? this.expr() : null
      this.take('kw', 'END')
      return {k: 'case', subject, whens, otherwise}
    }
    if (tok.t === 'id' && this.tokens[this.i + 1]?.v === '(') {
      const fn = tok.v.toUpperCase()
      this.i += 2
      if (!AGGREGATES.has(fn) && !SCALARS.has(fn))
        throw new SqlError(`No match found for function signature ${fn}(...)`)
      if (fn === 'COUNT' && this.accept('op', '*')) return (this.take('op', ')'), {k: 'call', fn, args: [], star: true})
      const distinct = this.accept('kw', 'DISTINCT')
      const args = this.list()
      this.take('op', ')')
      return {k: 'call', fn, args, distinct}
    }
    return {k: 'col', name: this.name()}
  }
}

export function parse(sql: string): Select {
  return new Parser(tokenize(sql)).select()
}

interface Scope {
  params: Value[]
  zone: string
  exactDistinct: boolean
  columns: Set<string>
}

const typeOf = (v: Value) =>
  v instanceof Ts ? 'TIMESTAMP' : typeof v === 'number' ? 'BIGINT' : typeof v === 'boolean' ? 'BOOLEAN' : 'VARCHAR'

function compare(a: Value, b: Value, op: string): number {
  if (typeOf(a) !== typeOf(b))
    throw new SqlError(`Cannot apply '${op}' to arguments of type '<${typeOf(a)}> ${op} <${typeOf(b)}>'`)
  const x = a instanceof Ts ? a.ms : a
  const y = b instanceof Ts ? b.ms : b
  return x! < y! ? -1 : x! > y! ? 1 : 0
}

/** Ascending order as Druid returns it: NULL first. */
export function order(a: Value, b: Value): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1
  return compare(a, b, 'ORDER BY')
}

function evaluate(e: Expr, row: Event, s: Scope): Value {
  switch (e.k) {
    case 'lit':
      return e.v
    case 'param':
      return s.params[e.i]!
    case 'col':
      if (!s.columns.has(e.name)) throw new SqlError(`Column '${e.name}' not found in any table`)
      return e.name === '__time' ? new Ts(row.__time) : (row[e.name] ?? null)
    case 'not': {
      const v = evaluate(e.e, row, s)
      return v === null ? null : !v
    }
    case 'isnull':
      return (evaluate(e.e, row, s) === null) !== e.negate
    case 'in': {
      const v = evaluate(e.e, row, s)
      return v === null
        ? null
        : e.list.some((x) => {
            const w = evaluate(x, row, s)
            return w !== null && compare(v, w, 'IN') === 0
          })
    }
    case 'case': {
      const v = evaluate(e.subject, row, s)
      for (const [when, then] of e.whens) {
        const w = evaluate(when, row, s)
        if (v !== null && w !== null && compare(v, w, 'CASE') === 0) return evaluate(then, row, s)
      }
      return e.otherwise ? evaluate(e.otherwise, row, s) : null
    }
    case 'bin': {
      const l = evaluate(e.l, row, s)
      if (e.op === 'AND' && l === false) return false
      if (e.op === 'OR' && l === true) return true
      const r = evaluate(e.r, row, s)
      if (e.op === 'AND') return l === null || r === null ? (r === false ? false : null) : Boolean(l && r)
      if (e.op === 'OR') return r === true ? true : l === null || r === null ? null : Boolean(l || r)
      if (l === null || r === null) return null
      const c = compare(l, r, e.op)
      return {'=': c === 0, '<>': c !== 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0}[e.op]!
    }
    case 'call':
      if (AGGREGATES.has(e.fn)) throw new SqlError(`Aggregate ${e.fn} is not allowed here`)
      return scalar(
        e.fn,
        e.args.map((a) => evaluate(a, row, s)),
        s,
      )
  }
}

function scalar(fn: string, args: Value[], s: Scope): Value {
  if (fn === 'COALESCE') return args.find((v) => v !== null) ?? null
  if (fn === 'NULLIF')
    return args[0] !== null && args[1] !== null && compare(args[0]!, args[1]!, fn) === 0 ? null : (args[0] ?? null)
  const [a] = args
  if (a === null || a === undefined) return null
  switch (fn) {
    case 'UPPER':
    case 'LOWER':
      if (typeof a !== 'string') throw new SqlError(`Cannot apply '${fn}' to arguments of type '${fn}(<${typeOf(a)}>)'`)
      return fn === 'UPPER' ? a.toUpperCase() : a.toLowerCase()
    case 'MILLIS_TO_TIMESTAMP':
      if (typeof a !== 'number')
        throw new SqlError(
          `Cannot apply 'MILLIS_TO_TIMESTAMP' to arguments of type 'MILLIS_TO_TIMESTAMP(<${typeOf(a)}>)'`,
        )
      return new Ts(a)
    case 'TIMESTAMP_TO_MILLIS':
      if (!(a instanceof Ts))
        throw new SqlError(
          `Cannot apply 'TIMESTAMP_TO_MILLIS' to arguments of type 'TIMESTAMP_TO_MILLIS(<${typeOf(a)}>)'`,
        )
      return a.ms
    case 'TIMESTAMP_LITERAL': {
      const t = dayjs.tz(String(a).replace(' ', 'T'), s.zone)
      if (!/^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2}(\.\d+)?)?$/.test(String(a)) || !t.isValid())
        throw new SqlError(`Illegal TIMESTAMP literal '${a}'`)
      return new Ts(t.valueOf())
    }
  }
  throw new SqlError(`No match found for function signature ${fn}`)
}

function aggregate(e: Expr, rows: Event[], s: Scope): Value {
  if (e.k !== 'call' || !AGGREGATES.has(e.fn)) {
    if (e.k === 'call')
      return scalar(
        e.fn,
        e.args.map((a) => aggregate(a, rows, s)),
        s,
      )
    return rows.length > 0 ? evaluate(e, rows[0]!, s) : null
  }
  if (e.star) return rows.length
  const values = rows.map((r) => evaluate(e.args[0]!, r, s)).filter((v) => v !== null)
  switch (e.fn) {
    case 'COUNT':
      if (!e.distinct) return values.length
      return s.exactDistinct ? new Set(values.map(key)).size : hyperLogLog(values.map(key))
    case 'APPROX_COUNT_DISTINCT':
      return hyperLogLog(values.map(key))
    case 'SUM':
      if (values.some((v) => typeof v !== 'number'))
        throw new SqlError("Cannot apply 'SUM' to arguments of type 'SUM(<VARCHAR>)'")
      return values.length === 0 ? null : (values as number[]).reduce((x, y) => x + y, 0)
    default:
      return values.length === 0
        ? null
        : values.reduce((x, y) => ((e.fn === 'MIN' ? order(y, x) < 0 : order(y, x) > 0) ? y : x))
  }
}

const key = (v: Value) => (v instanceof Ts ? `t${v.ms}` : `${typeof v}:${String(v)}`)
const hasAggregate = (e: Expr): boolean => (e.k === 'call' ? AGGREGATES.has(e.fn) || e.args.some(hasAggregate) : false)

/**
 * HyperLogLog with 2^11 registers (about 2.3% standard error), as Druid's default sketch estimates:
 * close to the exact count but, for more than a few hundred values, rarely equal to it.
 */
export function hyperLogLog(values: string[]): number {
  const p = 11
  const m = 1 << p
  const registers = new Uint8Array(m)
  for (const v of values) {
    const h = createHash('md5').update(v).digest()
    const index = h.readUInt16BE(0) >>> (16 - p)
    const rest = (BigInt(h.readUInt32BE(4)) << 32n) | BigInt(h.readUInt32BE(8))
    let rank = 1
    while (rank <= 64 && ((rest >> BigInt(64 - rank)) & 1n) === 0n) rank++
    registers[index] = Math.max(registers[index]!, rank)
  }
  const sum = registers.reduce((a, r) => a + 2 ** -r, 0)
  const zeros = registers.filter((r) => r === 0).length
  const raw = ((0.7213 / (1 + 1.079 / m)) * m * m) / sum
  return Math.round(raw <= 2.5 * m && zeros > 0 ? m * Math.log(m / zeros) : raw)
}

/** Runs a parsed query over a datasource's events; rows come back as column name to value. */
export function execute(q: Select, events: Event[], s: Omit<Scope, 'columns'>): {columns: string[]; rows: Value[][]} {
  const scope: Scope = {...s, columns: new Set(['__time', ...events.flatMap((e) => Object.keys(e))])}
  if (s.params.length !== q.params)
    throw new SqlError(`No value bound for parameter (position [${s.params.length + 1}])`)
  const matching = q.where ? events.filter((e) => evaluate(q.where!, e, scope) === true) : events
  const grouped = q.groupBy !== null || q.items.some((i) => hasAggregate(i.expr))
  let rows: Value[][]
  if (!grouped) {
    rows = matching.map((e) => q.items.map((i) => evaluate(i.expr, e, scope)))
  } else {
    const keys = (q.groupBy ?? []).map((g) => (g.k === 'lit' && typeof g.v === 'number' ? q.items[g.v - 1]?.expr : g))
    if (keys.some((k) => k === undefined)) throw new SqlError('Ordinal out of range in GROUP BY')
    const groups = new Map<string, Event[]>()
    for (const e of matching) {
      const k = keys.map((x) => key(evaluate(x!, e, scope))).join('\u0000')
      const group = groups.get(k)
      if (group) group.push(e)
      else groups.set(k, [e])
    }
    if (keys.length === 0 && groups.size === 0) groups.set('', [])
    rows = [...groups.values()].map((g) => q.items.map((i) => aggregate(i.expr, g, scope)))
  }
  const position = (ref: Expr) => {
    if (ref.k === 'lit' && typeof ref.v === 'number') return ref.v - 1
    const at = ref.k === 'col' ? q.items.findIndex((i) => i.name === ref.name) : -1
    if (at < 0)
      throw new SqlError('ORDER BY supports only output columns, by name or ordinal, in this stand-in', 'unsupported')
    return at
  }
  const order_ = q.orderBy.map((o) => ({at: position(o.ref), desc: o.desc}))
  rows.sort((a, b) => {
    for (const {at, desc} of order_) {
      const c = order(a[at]!, b[at]!)
      if (c !== 0) return desc ? -c : c
    }
    return 0
  })
  const end = q.limit === null ? undefined : q.offset + q.limit
  return {columns: q.items.map((i) => i.name), rows: rows.slice(q.offset, end)}
}
