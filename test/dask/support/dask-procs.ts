/**
 * Real Dask processes on loopback for the scheduler-client tests: a scheduler (HTTP API route on or
 * off), named workers, and short Python client actions. Every process is stopped by pid and every temp
 * dir removed in `stopAll()`.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SCHEDULER_HTTP_ROUTES_ENV, schedulerHttpRoutesEnv } from '../../../operator/scheduler';

export const ROOT = path.resolve(__dirname, '../../..');
/** The venv whose Dask the tests run; CDK8S_DASK_VENV points them at another one (e.g. an older Dask). */
export const VENV_BIN = path.join(process.env['CDK8S_DASK_VENV'] ?? path.join(ROOT, '.venv'), 'bin');
const DASKCTL = path.join(__dirname, 'daskctl.py');

export function requireVenv(): void {
  if (!fs.existsSync(path.join(VENV_BIN, 'dask'))) {
    throw new Error(`no Dask in ${VENV_BIN}: run 'bash hack/dask/venv.sh' first (hack/test.sh does)`);
  }
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until `done(value)` or the deadline; the failure says what was seen last. */
export async function pollUntil<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: string = 'nothing yet';
  for (;;) {
    try {
      const v = await probe();
      if (done(v)) return v;
      last = JSON.stringify(v);
    } catch (err) {
      last = `error: ${(err as Error).message}`;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${last}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
  exited: boolean;
}

export interface SchedulerProc {
  readonly tcpAddress: string;
  readonly httpBaseUrl: string;
}

/** A group of Dask processes sharing one temp dir. */
export class DaskProcesses {
  public readonly dir: string;
  private readonly procs: Proc[] = [];

  public constructor(label: string) {
    requireVenv();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk8s-dask-${label}-`));
  }

  private baseEnv(): NodeJS.ProcessEnv {
    // DASK_TEMPORARY_DIRECTORY keeps Dask's scratch space (and its lock files) inside this run's temp dir.
    const env: NodeJS.ProcessEnv = { ...process.env, DASK_CONFIG: path.join(this.dir, 'config'), DASK_TEMPORARY_DIRECTORY: this.dir, PYTHONUNBUFFERED: '1' };
    delete env[SCHEDULER_HTTP_ROUTES_ENV];
    return env;
  }

  private start(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): Proc {
    const log = path.join(this.dir, `${name}.log`);
    const fd = fs.openSync(log, 'a');
    const child = spawn(cmd, args, { cwd: this.dir, env, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    const p: Proc = { name, child, log, exited: false };
    child.once('exit', () => {
      p.exited = true;
    });
    this.procs.push(p);
    return p;
  }

  /** Starts `dask scheduler` on free loopback ports; with `api`, the HTTP API route is on (via schedulerHttpRoutesEnv). */
  public async startScheduler(opts: { api: boolean }): Promise<SchedulerProc> {
    const [port, dash] = [await freePort(), await freePort()];
    const env = this.baseEnv();
    if (opts.api) {
      const e = schedulerHttpRoutesEnv([]);
      if (!e) throw new Error('schedulerHttpRoutesEnv returned nothing for an empty env');
      env[e.name] = e.value;
    }
    this.start('scheduler', path.join(VENV_BIN, 'dask'), ['scheduler', '--host', '127.0.0.1', '--port', String(port), '--dashboard-address', `127.0.0.1:${dash}`], env);
    return { tcpAddress: `tcp://127.0.0.1:${port}`, httpBaseUrl: `http://127.0.0.1:${dash}` };
  }

  /**
   * Starts a single-threaded worker (no nanny, so a retired worker's process ends by itself); without a dashboard
   * unless `dashboardArgs` (e.g. `['--dashboard-address', ':8788']`) are given.
   */
  public startWorker(name: string, scheduler: SchedulerProc, dashboardArgs: readonly string[] = ['--no-dashboard']): void {
    this.start(name, path.join(VENV_BIN, 'dask'), [
      'worker', scheduler.tcpAddress, '--name', name, '--nthreads', '1', '--no-nanny', '--host', '127.0.0.1',
      ...dashboardArgs, '--local-directory', path.join(this.dir, name), '--memory-limit', '1GiB',
    ], this.baseEnv());
  }

  /** Runs one daskctl.py action to completion and returns its JSON line. */
  public async daskctl<T>(args: string[], timeoutMs = 60_000): Promise<T> {
    const p = this.start(`daskctl-${args[0]}-${this.procs.length}`, path.join(VENV_BIN, 'python'), [DASKCTL, ...args], this.baseEnv());
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        p.child.kill('SIGKILL');
      }, timeoutMs);
      p.child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    const out = fs.readFileSync(p.log, 'utf8');
    const line = out.split('\n').reverse().find((l) => l.startsWith('{'));
    if (code !== 0 || !line) throw new Error(`daskctl ${args.join(' ')} exited ${code}; log ${p.log}:\n${out.slice(-3000)}`);
    return JSON.parse(line) as T;
  }

  /** Starts a long-running daskctl action (e.g. submit); returns once it printed its JSON line, and a stop function. */
  public async daskctlBackground(args: string[], timeoutMs = 60_000): Promise<{ stop: () => Promise<void> }> {
    const p = this.start(`daskctl-${args[0]}-${this.procs.length}`, path.join(VENV_BIN, 'python'), [DASKCTL, ...args], this.baseEnv());
    await pollUntil(`daskctl ${args[0]} to report`, async () => {
      if (p.exited) throw new Error(`daskctl ${args.join(' ')} exited early:\n${fs.readFileSync(p.log, 'utf8').slice(-2000)}`);
      return fs.readFileSync(p.log, 'utf8').includes('{"');
    }, (v) => v, timeoutMs, 100);
    return { stop: () => stopProc(p) };
  }

  /** Stops every process by pid (SIGTERM, then SIGKILL after 5 s) and removes the temp dir. */
  public async stopAll(): Promise<void> {
    await Promise.all(this.procs.map(stopProc));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Last lines of a process log, for failure messages. */
  public logTail(name: string, chars = 3000): string {
    const p = this.procs.find((x) => x.name === name);
    return p ? fs.readFileSync(p.log, 'utf8').slice(-chars) : `(no process ${name})`;
  }
}

async function stopProc(p: Proc): Promise<void> {
  if (p.exited || p.child.pid === undefined) return;
  const pid = p.child.pid;
  const gone = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, 5000);
  await gone;
  clearTimeout(timer);
}
