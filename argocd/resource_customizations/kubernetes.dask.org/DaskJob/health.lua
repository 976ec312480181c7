-- Argo CD health of a kubernetes.dask.org/v1 DaskJob, read from the status the cdk8s-dask operator writes
-- (docs/reference.md, docs/daskjob.md): the conditions Complete, Failed (with reasons such as BackoffLimitExceeded or
-- DeadlineExceeded) and Suspended, and status.jobStatus with the upstream operator's values (JobCreated,
-- ClusterCreated, Running, Successful, Failed), which is all an object written by the upstream operator has.
-- Written for Argo CD's default Lua environment (base and table libraries only: no string or math).
local function condition(status, type)
  if status == nil or status.conditions == nil then return nil end
  for _, c in ipairs(status.conditions) do
    if c.type == type then return c end
  end
  return nil
end
local s = obj.status or {}
local runner = s.jobRunnerPodName or "the runner Pod"
local at = s.endTime and (" at " .. s.endTime) or ""
local failed = condition(s, "Failed")
if (failed ~= nil and failed.status == "True") or s.jobStatus == "Failed" then
  if failed ~= nil and failed.status == "True" and failed.reason ~= "BackoffLimitExceeded" then
    return { status = "Degraded", message = "The job failed (" .. (failed.reason or "Failed") .. "): " .. (failed.message or "") }
  end
  if s.jobRunnerPodName == nil then
    return { status = "Degraded", message = "The job failed before its runner started (see the DaskJob's Events)" }
  end
  return { status = "Degraded", message = "The job failed: " .. runner .. " exited with an error" .. at .. " (kubectl logs " .. runner .. ")" }
end
local complete = condition(s, "Complete")
if (complete ~= nil and complete.status == "True") or s.jobStatus == "Successful" then
  return { status = "Healthy", message = "The job succeeded: " .. runner .. " completed" .. at }
end
local suspended = condition(s, "Suspended")
if (obj.spec ~= nil and obj.spec.suspend == true) or (suspended ~= nil and suspended.status == "True") then
  local why = (suspended ~= nil and suspended.status == "True" and suspended.message) and (": " .. suspended.message) or ""
  return { status = "Suspended", message = "The DaskJob is suspended" .. why }
end
if s.jobStatus == nil then
  return { status = "Progressing", message = "Waiting for the Dask operator to start the job" }
end
if s.jobStatus == "Running" then
  local attempt = (s.attempts ~= nil and s.attempts > 1) and (" (attempt " .. s.attempts .. ")") or ""
  return { status = "Progressing", message = "The job is running" .. attempt .. (s.startTime and (" since " .. s.startTime) or "") }
end
-- JobCreated, ClusterCreated
return { status = "Progressing", message = "The job's cluster and runner are starting (" .. s.jobStatus .. ")" }
