// A stock scheduler (HTTP API route off): the client falls back to the Dask TCP comm protocol.
import { schedulerScenario } from './support/scenario';

describe('scheduler client against real Dask, HTTP API route off (TCP fallback)', () => {
  schedulerScenario('api-off');
});
