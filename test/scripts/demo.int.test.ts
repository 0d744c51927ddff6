/**
 * The README's `npm run demo` where no usable MariaDB answers on 3306: in a network namespace of its own (a
 * loopback and nothing listening), as on a laptop whose 3306 is another project's or a Debian server that lets
 * root in through its socket only. The demo must start mau's own MariaDB and a broker, count the sample, and
 * say what it left running; the test then stops it all, also when the demo failed.
 */
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {afterAll, describe, expect, it} from 'vitest'
import {exited} from '../helpers/child.js'

// State of its own under .cache/ (the instance's directory, the broker's run-PORT): the suite's MariaDB and
// broker run outside the namespace under the default names, and must not be mistaken for the demo's.
const INSTANCE = 'demo-netns'
const KAFKA_PORT = 19_292
// MAU_DEMO_BUILT: npm test built dist/; the demo must not rebuild it under the test files running beside it.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  MAU_MARIADB_INSTANCE: INSTANCE,
  MAU_KAFKA_PORT: String(KAFKA_PORT),
  MAU_DEMO_BUILT: '1',
}
for (const name of ['MAU_MYSQL_URL', 'MAU_DEMO_MYSQL_URL', 'MAU_KAFKA_BROKERS', 'MAU_MARIADB_PORT']) delete env[name]

const pidFiles = [`.cache/mariadb-instances/${INSTANCE}/mariadbd.pid`, `.cache/kafka/run-${KAFKA_PORT}/kafka.pid`]
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
const stopAll = () => execFileSync('bash', ['scripts/services.sh', 'stop'], {env, stdio: 'ignore', timeout: 90_000})

afterAll(stopAll, 120_000)

describe('npm run demo with no usable MariaDB on 3306', () => {
  it("starts mau's own MariaDB and a broker, counts the sample events, and says what it left running", async () => {
    // Root makes the namespace itself; anyone else gets one with a user namespace mapping them to root.
    const unshare = process.getuid?.() === 0 ? ['-n'] : ['-rn']
    const script =
      'ip link set lo up && if (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; then echo "3306 answers" >&2; exit 99; fi; exec bash scripts/demo.sh'
    const child = spawn('unshare', [...unshare, 'bash', '-c', script], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    // The whole process group: the demo's own children (a consume, a build) must not outlive a demo that hangs.
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 150_000)
    const {code} = await exited(child)
    clearTimeout(timer)

    expect(code, stderr).toBe(0)
    expect(stderr).toMatch(/mariadb: ready on 127\.0\.0\.1:13316 \(mau's own/)
    expect(stderr).toMatch(/produced 50002 events \(2 of them malformed\)/)
    expect(stdout).toMatch(/│ total +│ +│ +[\d,]+ │ 50,000 │/)
    expect(stdout).toContain('2 of 2 dead-lettered events')
    expect(stdout).toContain(
      `Left running (stop what mau started with: MAU_KAFKA_PORT=${KAFKA_PORT} MAU_MARIADB_INSTANCE=${INSTANCE} npm run services:stop)`,
    )
    const [mariadbPid, kafkaPid] = pidFiles.map((f) => Number(readFileSync(f, 'utf8')))
    expect(stdout).toContain(`mau's own server running (pid ${mariadbPid}) on 127.0.0.1:13316`)
    expect(stdout).toContain(`kafka: running (pid ${kafkaPid}) on 127.0.0.1:${KAFKA_PORT}`)

    // What the message says stops them does.
    stopAll()
    expect([mariadbPid, kafkaPid].filter((pid) => alive(pid!))).toEqual([])
    expect(pidFiles.filter((f) => existsSync(f) && alive(Number(readFileSync(f, 'utf8'))))).toEqual([])
  }, 200_000)
})
