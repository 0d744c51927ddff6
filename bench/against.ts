/**
 * Before and after on one machine, in one session: the same topic consumed by another checkout's built CLI
 * (`--against DIR`, e.g. a worktree of main) and by this one, rounds alternating, each into a fresh
 * database and checked exact. Machines of this kind vary by 20% or more from one run to the next, so
 * figures from separate runs do not compare; medians of alternating rounds do.
 */
export interface RunFigures {
  wallSeconds: number
  consumerCpu: number
  mariadbCpu: number
  peakRssMb: number
  busy: number
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Runs `rounds` rounds of both sides (order alternating), each by `run(root, label)`; the report's lines. */
export async function alternate(
  rounds: number,
  sides: {label: string; root: string}[],
  events: number,
  run: (root: string, label: string) => Promise<RunFigures>,
): Promise<string[]> {
  const results = new Map<string, RunFigures[]>(sides.map((s) => [s.label, []]))
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse())
      results.get(side.label)!.push(await run(side.root, `${side.label}-${round}`))
  }
  const us = (cpu: number) => ((cpu / events) * 1e6).toFixed(1)
  const row = (label: string) => {
    const r = results.get(label)!
    return {
      rate: median(r.map((x) => events / x.wallSeconds)),
      consumer: median(r.map((x) => x.consumerCpu)),
      mariadb: median(r.map((x) => x.mariadbCpu)),
      rss: median(r.map((x) => x.peakRssMb)),
      all: r.map((x) => Math.round(events / x.wallSeconds).toLocaleString('en-US')).join(', '),
      busy: median(r.map((x) => x.busy)),
    }
  }
  const [a, b] = sides.map((s) => row(s.label)) as [ReturnType<typeof row>, ReturnType<typeof row>]
  return [
    `| side | end-to-end events/s (median; each round) | consumer CPU µs/event | MariaDB CPU µs/event | cores busy | peak RSS |`,
    `| --- | --- | --- | --- | --- | --- |`,
    ...sides.map((s, i) => {
      const r = i === 0 ? a : b
      return `| ${s.label} | ${Math.round(r.rate).toLocaleString('en-US')} (${r.all}) | ${us(r.consumer)} | ${us(r.mariadb)} | ${Math.round(r.busy * 100)}% | ${r.rss} MB |`
    }),
    `| **${sides[1]!.label} against ${sides[0]!.label}** | **${(b.rate / a.rate).toFixed(2)}x** | **${(((b.consumer - a.consumer) / a.consumer) * 100).toFixed(0)}%** | **${(((b.mariadb - a.mariadb) / a.mariadb) * 100).toFixed(0)}%** | | |`,
  ]
}
