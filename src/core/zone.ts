/**
 * The one clock a month is cut on: the IANA zone recorded in the database (mau_setting 'timezone'), as the
 * retention is. --timezone / MAU_TIMEZONE only proposes it: the first `db migrate` given one, or the first
 * workload, records it; from then on every command reads the record, and one given another zone is refused,
 * since a consumer counting in one zone and a report or rotate in another would give a month two meanings.
 * `mau db timezone --set` is the only way to change it.
 */
import type {RowDataPacket} from 'mysql2/promise'
import type {Queryable} from './db.js'
import {ExitCode, MauError} from './errors.js'
import {DEFAULTS} from './settings.js'

export const ZONE_SETTING = 'timezone'

/** The zone a run was started with: --timezone or MAU_TIMEZONE (explicit), or the default. */
export interface GivenZone {
  zone: string
  explicit: boolean
}

export const defaultZone: GivenZone = {zone: DEFAULTS.timezone, explicit: false}

/** What a run resolved: the zone it uses, and whether this run is the one that recorded it. */
export interface ResolvedZone {
  zone: string
  recordedNow: boolean
  /** No record and none could be written (a schema before migration 008, or a role that may not write it). */
  unrecorded: boolean
}

const NO_RECORD = new Set(['ER_NO_SUCH_TABLE', 'ER_TABLEACCESS_DENIED_ERROR'])

/** The recorded zone; undefined when none is, or the table is missing or not readable by this user. */
export async function recordedZone(db: Queryable): Promise<string | undefined> {
  try {
    const [rows] = await db.query<RowDataPacket[]>('SELECT value FROM mau_setting WHERE name = ?', [ZONE_SETTING])
    return rows[0] ? String(rows[0].value) : undefined
  } catch (error) {
    if (NO_RECORD.has((error as {code?: string}).code ?? '')) return undefined
    throw error
  }
}

/** Records `zone` unless one is already recorded (the first writer wins); false when this user may not write it. */
async function recordIfNone(db: Queryable, zone: string): Promise<boolean> {
  try {
    const [r] = await db.query(
      'INSERT IGNORE INTO mau_setting (name, value, updated_at) VALUES (?, ?, UNIX_TIMESTAMP())',
      [ZONE_SETTING, zone],
    )
    return (r as unknown as {affectedRows: number}).affectedRows === 1
  } catch (error) {
    if (NO_RECORD.has((error as {code?: string}).code ?? '')) return false
    throw error
  }
}

/** Pure: the refusal of a run given a zone other than the recorded one. */
export function zoneConflict(recorded: string, given: string): MauError {
  return new MauError(
    `The database records time zone ${recorded} for its months; this run was given ${given} (--timezone or MAU_TIMEZONE).`,
    {
      exit: ExitCode.CONFIG,
      code: 'TIMEZONE_CONFLICT',
      suggestions: [
        `Set MAU_TIMEZONE=${recorded} (or leave it unset) for every workload of this database.`,
        `To change the recorded zone: mau db timezone --set ${given} (see mau db timezone --help for what it means for months already counted).`,
      ],
    },
  )
}

/**
 * The zone a run uses, resolved once at its start: the recorded one. With none recorded, the given zone is
 * recorded (`record`: a workload, or `db migrate` given a zone explicitly) and used. An explicit zone other
 * than the recorded one exits 2.
 */
export async function resolveZone(
  db: Queryable,
  given: GivenZone,
  o: {record: boolean} = {record: true},
): Promise<ResolvedZone> {
  let recorded = await recordedZone(db)
  let recordedNow = false
  let unrecorded = false
  if (recorded === undefined && o.record) {
    recordedNow = await recordIfNone(db, given.zone)
    // Another run may have recorded its zone between the read and the insert: the record decides.
    recorded = await recordedZone(db)
    unrecorded = recorded === undefined
  } else if (recorded === undefined) unrecorded = true
  if (recorded !== undefined && given.explicit && recorded !== given.zone) throw zoneConflict(recorded, given.zone)
  return {zone: recorded ?? given.zone, recordedNow, unrecorded}
}

/** Overwrites the record (mau db timezone --set, after its checks). */
export async function writeZone(db: Queryable, zone: string): Promise<void> {
  await db.query('REPLACE INTO mau_setting (name, value, updated_at) VALUES (?, ?, UNIX_TIMESTAMP())', [
    ZONE_SETTING,
    zone,
  ])
}
