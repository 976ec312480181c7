/**
 * The Dask operator as a separate process for integration tests.
 *
 * `ensureOperatorBuilt()` compiles the operator once (tsc into build/integration-operator/, a private outDir so a
 * concurrent `npm run build` in build/ cannot hand us half-written files), serialised across Jest workers by a lock
 * directory and skipped when no .ts under lib/ or operator/ is newer than the last build.
 * `OperatorProcess` spawns `node <outDir>/operator/main.js` on the test kubeconfig, watching only the given
 * namespaces (so test files sharing the cluster never see each other's objects), logs to a temp file, and is
 * stopped by pid: SIGTERM (graceful) or SIGKILL (crash tests).
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './cluster';
import { testCluster } from './env';

export const OPERATOR_OUT_DIR = path.join(REPO_ROOT, 'build', 'integration-operator');
const MAIN = path.join(OPERATOR_OUT_DIR, 'operator', 'main.js');
const LOCK = path.join(REPO_ROOT, 'build', '.integration-operator.lock');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  if (!fs.existsSync(MAIN)) return true;
  const built = fs.statSync(MAIN).mtimeMs;
  return ['lib', 'operator'].some((d) => newestSource(path.join(REPO_ROOT, d)) > built);
}

function tsc(): Promise<void> {
  const bin = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, '-p', path.join(REPO_ROOT, 'tsconfig.json'), '--outDir', OPERATOR_OUT_DIR], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tsc failed:\n${stdout}${stderr}`));
      else {
        // tsc keeps old output when nothing changed in a file; touch main.js so the staleness check sees this build.
        const now = new Date();
        fs.utimesSync(MAIN, now, now);
        resolve();
      }
    });
  });
}

/** Compiles the operator if any lib/ or operator/ source is newer than the last test build. */
export async function ensureOperatorBuilt(timeoutMs = 120_000): Promise<void> {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      // Another worker is compiling; a lock older than the timeout is left over from a killed run.
      try {
        if (Date.now() - fs.statSync(LOCK).mtimeMs > timeoutMs) fs.rmSync(LOCK, { recursive: true, force: true });
      } catch {
        /* released meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the operator build lock ${LOCK}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (isStale()) await tsc();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

export interface OperatorOptions {
  /** Namespaces the operator watches (required: test files share one cluster). */
  readonly namespaces: readonly string[];
  /** Extra flags. */
  readonly args?: readonly string[];
  /**
   * Host names this operator process resolves to the given addresses, standing in for cluster DNS (the test namespace
   * has none). The process runs in a mount namespace of its own (`unshare -m`, root in the test's network namespace)
   * with a private copy of /etc/hosts bind-mounted over the real one; nothing outside the process sees it.
   */
  readonly hosts?: Readonly<Record<string, string>>;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** Kubeconfig the operator uses. @default the test cluster's admin kubeconfig */
  readonly kubeconfig?: string;
}

/** One operator process; `start()` may be called again after `kill()`/`stop()` (a restart keeps the log file). */
export class OperatorProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private readonly dir: string;
  readonly logFile: string;
  private starts = 0;

  constructor(private readonly options: OperatorOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dask-operator-it-'));
    this.logFile = path.join(this.dir, 'operator.log');
    // The temp dir goes even when dispose() never ran or was cut short (a hook timeout, a crashed worker).
    process.once('exit', this.removeDir);
  }

  private readonly removeDir = (): void => {
    fs.rmSync(this.dir, { recursive: true, force: true });
  };

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error('operator already running');
    this.starts++;
    fs.appendFileSync(this.logFile, `--- start #${this.starts} at ${new Date().toISOString()}\n`);
    const fd = fs.openSync(this.logFile, 'a');
    const args = [
      MAIN,
      `--kubeconfig=${this.options.kubeconfig ?? testCluster().kubeconfig}`,
      `--namespaces=${this.options.namespaces.join(',')}`,
      '--metrics-bind-address=127.0.0.1:0',
      '--scheduler-access=none',
      '--log-level=debug',
      ...(this.options.args ?? []),
    ];
    const env = { ...process.env, ...this.options.env, KUBECONFIG: this.options.kubeconfig ?? testCluster().kubeconfig };
    let child: ChildProcess;
    if (this.options.hosts) {
      const hostsFile = path.join(this.dir, 'hosts');
      const entries = Object.entries(this.options.hosts).map(([name, ip]) => `${ip} ${name}`).join('\n');
      fs.writeFileSync(hostsFile, `${fs.readFileSync('/etc/hosts', 'utf8')}\n${entries}\n`);
      // unshare and sh exec in place, so the pid is the operator's.
      child = spawn('unshare', ['-m', '--', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile, process.execPath, ...args], { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], env });
    } else {
      child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], env });
    }
    fs.closeSync(fd);
    this.child = child;
    // If the test process goes away without afterAll (a crashed or killed Jest worker), take the operator with it.
    const onExit = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    process.once('exit', onExit);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        process.off('exit', onExit);
        resolve();
      }),
    );
  }

  /** SIGKILL: no drain, no cleanup (a crash). Resolves once the process is gone. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 5_000);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!(await this.signal('SIGTERM', graceMs))) await this.signal('SIGKILL', 5_000);
  }

  private async signal(sig: NodeJS.Signals, waitMs: number): Promise<boolean> {
    const child = this.child;
    if (!child || !this.running) return true;
    child.kill(sig);
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([
      this.exited?.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), waitMs))),
    ]);
    clearTimeout(timer);
    return gone ?? true;
  }

  log(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Last `lines` log lines (for failure messages). */
  tail(lines = 60): string {
    return this.log().split('\n').slice(-lines - 1).join('\n');
  }

  /** Stops the process if needed and removes the temp dir; with `printLog`, writes the log tail to stderr first. */
  async dispose(printLog = false): Promise<void> {
    try {
      await this.stop();
    } finally {
      if (printLog) process.stderr.write(`\n--- operator log tail (${this.logFile}) ---\n${this.tail(120)}\n`);
      process.off('exit', this.removeDir);
      this.removeDir();
    }
  }
}
