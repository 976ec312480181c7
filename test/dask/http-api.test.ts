// A real scheduler with its HTTP API route on (via schedulerHttpRoutesEnv): the client answers over HTTP.
import { schedulerScenario } from './support/scenario';

describe('scheduler client against real Dask, HTTP API route on', () => {
  schedulerScenario('api-on');
});
