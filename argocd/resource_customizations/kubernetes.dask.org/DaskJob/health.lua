-- Argo CD health of a kubernetes.dask.org/v1 DaskJob, read from the status the cdk8s-dask operator writes
-- (docs/reference.md): status.jobStatus with the upstream operator's values (JobCreated, ClusterCreated, Running,
-- Successful, Failed), and spec.suspend / jobStatus Suspended for a suspended job.
-- Written for Argo CD's default Lua environment (base and table libraries only: no string or math).
if obj.spec ~= nil and obj.spec.suspend == true then
  return { status = "Suspended", message = "The DaskJob is suspended" }
end
if obj.status == nil or obj.status.jobStatus == nil then
  return { status = "Progressing", message = "Waiting for the Dask operator to start the job" }
end
local s = obj.status
local runner = s.jobRunnerPodName or "the runner Pod"
if s.jobStatus == "Successful" then
  return { status = "Healthy", message = "The job succeeded: " .. runner .. " completed" .. (s.endTime and (" at " .. s.endTime) or "") }
end
if s.jobStatus == "Failed" then
  if s.jobRunnerPodName == nil then
    return { status = "Degraded", message = "The job failed before its runner started (see the DaskJob's Events)" }
  end
  return { status = "Degraded", message = "The job failed: " .. runner .. " exited with an error" .. (s.endTime and (" at " .. s.endTime) or "") .. " (kubectl logs " .. runner .. ")" }
end
if s.jobStatus == "Suspended" then
  return { status = "Suspended", message = "The DaskJob is suspended" }
end
if s.jobStatus == "Running" then
  return { status = "Progressing", message = "The job is running" .. (s.startTime and (" since " .. s.startTime) or "") }
end
-- JobCreated, ClusterCreated
return { status = "Progressing", message = "The job's cluster and runner are starting (" .. s.jobStatus .. ")" }
