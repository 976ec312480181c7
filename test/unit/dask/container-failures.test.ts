import { containerFailure, containersRunning } from '../../../operator/dask/container-failures';
import type { ContainerStatus, Pod } from '../../../lib/schema/generated/types';

// The kubelet's words for a container whose executable does not exist (containerd + runc, as on the real-node tier).
const NOT_FOUND =
  'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start ' +
  'container process: exec: "dask-scheduler": executable file not found in $PATH: unknown';

function pod(args: string[], status: ContainerStatus, phase: 'Pending' | 'Running' = 'Running'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'c-scheduler' },
    spec: { containers: [{ name: 'scheduler', image: 'ghcr.io/dask/dask:2026.8.0', args }] },
    status: { phase, containerStatuses: [status] },
  };
}

describe('containerFailure', () => {
  test('a crash-looping container whose executable was removed: the last exit is quoted and the hint names the new command', () => {
    const f = containerFailure(pod(['dask-scheduler', '--host', '0.0.0.0'], {
      name: 'scheduler',
      restartCount: 2,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=scheduler pod=c-scheduler_ns(uid)' } },
      lastState: { terminated: { exitCode: 128, reason: 'StartError', message: NOT_FOUND } },
    }));
    expect(f?.reason).toBe('StartError');
    expect(f?.message).toContain('Pod c-scheduler, container scheduler: CrashLoopBackOff: back-off 20s');
    expect(f?.message).toContain('last exit: StartError (exit code 128)');
    expect(f?.message).toContain('exec: "dask-scheduler": executable file not found in $PATH');
    expect(f?.message).toContain('distributed 2026.6.0 removed the `dask-scheduler` command: start the container with `dask scheduler`');
  });

  test('behind tini (the Dask image\'s entrypoint) a missing command is exit code 127 with no kubelet message: CommandNotFound with the hint', () => {
    const f = containerFailure(pod(['dask-scheduler', '--host', '0.0.0.0'], {
      name: 'scheduler',
      restartCount: 2,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=scheduler' } },
      lastState: { terminated: { exitCode: 127, reason: 'Error' } },
    }));
    expect(f?.reason).toBe('CommandNotFound');
    expect(f?.message).toContain('last exit: Error (exit code 127: command not found)');
    expect(f?.message).toContain('removed the `dask-scheduler` command');
    const other = containerFailure(pod(['mytool'], { name: 'scheduler', state: { terminated: { exitCode: 127, reason: 'Error' } } }));
    expect(other?.reason).toBe('CommandNotFound');
    // Between restarts the container is only terminated: the same words, so a reader sees no flip-flop.
    expect(other?.message).toContain('Error (exit code 127: command not found)');
    expect(other?.message).toContain('the image has no `mytool` on its PATH');
  });

  test('the same error for another executable gets no Dask hint', () => {
    const f = containerFailure(pod(['python', '-m', 'x'], {
      name: 'scheduler',
      state: { waiting: { reason: 'RunContainerError', message: NOT_FOUND.replace('dask-scheduler', 'python') } },
    }));
    expect(f?.reason).toBe('RunContainerError');
    expect(f?.message).not.toContain('Hint');
  });

  test('an image that cannot be pulled, and an OOMKilled worker', () => {
    const image = containerFailure(pod(['dask', 'scheduler'], {
      name: 'scheduler',
      state: { waiting: { reason: 'ErrImageNeverPull', message: 'Container image "ghcr.io/dask/dask:9.9" is not present with pull policy of Never' } },
    }, 'Pending'));
    expect(image?.reason).toBe('ErrImageNeverPull');
    expect(image?.message).toContain('is not present with pull policy of Never');
    expect(image?.message).toContain('Hint: check that the image ghcr.io/dask/dask:2026.8.0 exists');
    const oom = containerFailure(pod(['dask', 'worker'], {
      name: 'scheduler',
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } },
      lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
    }));
    expect(oom?.reason).toBe('OOMKilled');
    expect(oom?.message).toContain('raise resources.limits.memory');
  });

  test('starting and running containers are no failure; a huge kubelet message is bounded to 1 KiB', () => {
    expect(containerFailure(pod(['dask', 'scheduler'], { name: 'scheduler', state: { waiting: { reason: 'ContainerCreating' } } }, 'Pending'))).toBeUndefined();
    expect(containerFailure(pod(['dask', 'scheduler'], { name: 'scheduler', state: { running: {} } }))).toBeUndefined();
    const big = containerFailure(pod(['dask', 'scheduler'], {
      name: 'scheduler',
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'x'.repeat(5 << 20) } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', message: 'y'.repeat(5 << 20) } },
    }));
    expect(big?.reason).toBe('CrashLoopBackOff');
    expect(big!.message.length).toBeLessThanOrEqual(1024);
  });

  test('containersRunning: phase Running is not enough while a container waits', () => {
    expect(containersRunning(pod(['dask', 'scheduler'], { name: 'scheduler', state: { running: { startedAt: 'now' } } }))).toBe(true);
    expect(containersRunning(pod(['dask', 'scheduler'], { name: 'scheduler', state: { waiting: { reason: 'CrashLoopBackOff' } } }))).toBe(false);
    expect(containersRunning(pod(['dask', 'scheduler'], { name: 'scheduler', state: { running: {} } }, 'Pending'))).toBe(false);
  });
});
