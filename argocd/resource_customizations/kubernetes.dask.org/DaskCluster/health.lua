-- Argo CD health of a kubernetes.dask.org/v1 DaskCluster, read from the status the cdk8s-dask operator writes
-- (docs/reference.md): observedGeneration, phase and the Ready, SchedulerReady and WorkersReady conditions.
-- Written for Argo CD's default Lua environment (base and table libraries only: no string or math).
local function condition(conditionType)
  if obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function describe(c)
  return (c.reason or "Unknown") .. ": " .. (c.message or "")
end

-- Reasons that waiting does not fix: the API server rejected a child, a child's name is taken, the name is invalid,
-- or a container cannot start (the component conditions below carry the kubelet's reason).
local failedReady = { SchedulerFailed = true, WorkersFailed = true, CreateFailed = true, NameTaken = true, InvalidName = true }
-- SchedulerReady / WorkersReady reasons that only mean "not there yet"; any other False reason is a container that
-- cannot start (StartError, CrashLoopBackOff, OOMKilled, ErrImagePull, ImagePullBackOff, ...).
local starting = { PodNotReady = true, PodMissing = true, WorkersNotReady = true, RollingOut = true }

if obj.status == nil then
  return { status = "Progressing", message = "Waiting for the Dask operator to report the cluster's status" }
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  return { status = "Progressing", message = "Waiting for the Dask operator to observe generation " .. tostring(generation) }
end

local ready = condition("Ready")
if obj.status.phase == "Error" then
  if ready ~= nil then
    return { status = "Degraded", message = describe(ready) }
  end
  return { status = "Degraded", message = "The Dask operator set phase Error" }
end
if ready == nil then
  return { status = "Progressing", message = "Waiting for the Dask operator (phase " .. tostring(obj.status.phase) .. ")" }
end
if ready.status == "True" then
  return { status = "Healthy", message = ready.message or "" }
end
if failedReady[ready.reason] then
  return { status = "Degraded", message = describe(ready) }
end
for _, component in ipairs({ "SchedulerReady", "WorkersReady" }) do
  local c = condition(component)
  if c ~= nil and c.status == "False" and not starting[c.reason] then
    return { status = "Degraded", message = describe(c) }
  end
end
return { status = "Progressing", message = describe(ready) }
