import { App, Chart, Duration, Testing } from 'cdk8s';
import { DaskIdleAction, DaskJob, RestartPolicy, SchedulerUpdateStrategy } from '../../lib/index';
import { crdProblems } from '../../lib/validation/crd-schema';

type Json = Record<string, any>;
const chart = (): Chart => new Chart(new App(), 'test');
const synth = (c: Chart): Json[] => Testing.synth(c) as Json[];
function synthError(c: Chart): string {
  try {
    Testing.synth(c);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected synth to fail');
}

describe('DaskJob lifecycle props', () => {
  test('creates the batch/v1-style fields in seconds, when backoffLimit, activeDeadline, ttlAfterFinished and suspend are set', () => {
    const c = chart();
    new DaskJob(c, 'nightly', {
      runner: { args: ['python', '-m', 'etl'], restartPolicy: RestartPolicy.NEVER },
      backoffLimit: 2,
      activeDeadline: Duration.hours(2),
      ttlAfterFinished: Duration.days(1),
      suspend: true,
    });
    const [job] = synth(c);
    expect(crdProblems(job)).toEqual([]);
    expect(job.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 7200, ttlSecondsAfterFinished: 86400, suspend: true });
  });

  test('leaves every lifecycle field out, when none is set (the upstream DaskJob, byte for byte)', () => {
    const c = chart();
    new DaskJob(c, 'plain', { runner: { args: ['true'] } });
    expect(Object.keys(synth(c)[0].spec).sort()).toEqual(['cluster', 'job']);
  });

  test('passes the cluster\'s idleAction and schedulerUpdateStrategy through to the job\'s cluster', () => {
    const c = chart();
    new DaskJob(c, 'j', { runner: { args: ['true'] }, cluster: { idleTimeout: Duration.seconds(60), idleAction: DaskIdleAction.SCALE_TO_ZERO, schedulerUpdateStrategy: SchedulerUpdateStrategy.RECREATE } });
    const [job] = synth(c);
    expect(crdProblems(job)).toEqual([]);
    expect(job.spec.cluster.spec).toMatchObject({ idleTimeout: 60, idleAction: 'ScaleToZero', scheduler: { updateStrategy: 'Recreate' } });
  });

  test('throws at synth, when the lifecycle values are out of range or not whole seconds', () => {
    const c = chart();
    new DaskJob(c, 'bad', { runner: { args: ['true'] }, backoffLimit: -1, activeDeadline: Duration.millis(1500), ttlAfterFinished: Duration.millis(500) });
    const msg = synthError(c);
    expect(msg).toMatch(/test\/bad.*backoffLimit must be a whole number >= 0 \(retries of a failed runner\), got -1/s);
    expect(msg).toMatch(/activeDeadline must be a whole number of seconds >= 1, got 1.5 s/);
    expect(msg).toMatch(/ttlAfterFinished must be a whole number of seconds >= 0, got 0.5 s/);
  });

  test('throws at synth, when the job\'s cluster has an idleAction but no idle timeout', () => {
    const c = chart();
    new DaskJob(c, 'idle', { runner: { args: ['true'] }, cluster: { idleAction: DaskIdleAction.SCALE_TO_ZERO } });
    expect(synthError(c)).toMatch(/test\/idle.*cluster.idleAction ScaleToZero has no effect without an idle timeout: set idleTimeout \(or drop idleAction\)/s);
  });
});
