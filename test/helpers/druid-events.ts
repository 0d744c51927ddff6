/** User events as the old pipeline's Druid datasource holds them, for the stand-in and the real Druid alike. */
import {sampleEvents, type SampleEvent, type SampleOptions} from '../../bench/sample-events.js'
import type {Event} from './druid-sql.js'

export const SCHEMA = {datasource: 'user_events', userColumn: 'user_id', namespaceColumn: 'environment_namespace', sourceColumn: 'source_id'}

export function toDruidRow(e: SampleEvent): Event {
  return {__time: e.last_seen * 1000, environment_namespace: e.environment_namespace, user_id: e.user_id, source_id: e.source_id}
}

/** Sample events (as the consumer tests generate them) in both shapes: Kafka's and Druid's. */
export function sample(o: Partial<SampleOptions> & {events: number; from: number; to: number}): {events: SampleEvent[]; rows: Event[]} {
  const events = [...sampleEvents({users: 2_000, namespaces: 5, seed: o.events, ...o})]
  return {events, rows: events.map(toDruidRow)}
}
