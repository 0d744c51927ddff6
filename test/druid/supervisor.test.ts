import {describe, expect, it} from 'vitest'
import {appliedOffsets, type SupervisorStatus} from '../../src/druid/supervisor.js'

const status = (payload: SupervisorStatus['payload']): SupervisorStatus => ({
  id: 'user_events',
  topic: 'user-events',
  state: 'RUNNING',
  healthy: true,
  lag: 0,
  payload,
})

describe('appliedOffsets', () => {
  it('takes the slowest and the furthest replica of each partition, and a publishing task where no active task reads', () => {
    const offsets = appliedOffsets(
      status({
        activeTasks: [
          {id: 'a', currentOffsets: {'0': 120, '1': 80}},
          {id: 'b', currentOffsets: {'0': 110, '1': 95}},
        ],
        publishingTasks: [{id: 'p', currentOffsets: {'0': 100, '2': 40}}],
      }),
    )
    expect(Object.fromEntries(offsets)).toEqual({
      0: {low: 110, high: 120},
      1: {low: 80, high: 95},
      2: {low: 40, high: 40},
    })
  })

  it('cannot say where Druid stands when no task runs, or a task has not reported yet (exit 4)', () => {
    expect(() =>
      appliedOffsets({
        ...status({activeTasks: [], publishingTasks: [], suspended: true}),
        state: 'SUSPENDED',
        healthy: false,
      }),
    ).toThrow(
      expect.objectContaining({
        message: 'Druid supervisor "user_events" is SUSPENDED and no task reports its offsets.',
        exitCode: 4,
        code: 'POSITION_UNREADABLE',
      }),
    )
    expect(() => appliedOffsets(status({activeTasks: [{id: 't1', currentOffsets: null}]}))).toThrow(
      /task t1 of supervisor "user_events" did not report its offsets/,
    )
  })
})
