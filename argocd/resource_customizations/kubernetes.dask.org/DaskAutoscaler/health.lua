-- Argo CD health of a kubernetes.dask.org/v1 DaskAutoscaler, read from the status the cdk8s-dask operator writes
-- (docs/reference.md): observedGeneration and the ClusterFound and ScalingActive conditions.
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

if obj.status == nil then
  return { status = "Progressing", message = "Waiting for the Dask operator to report the autoscaler's status" }
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  return { status = "Progressing", message = "Waiting for the Dask operator to observe generation " .. tostring(generation) }
end

local found = condition("ClusterFound")
if found ~= nil and found.status == "False" then
  return { status = "Degraded", message = describe(found) }
end
local active = condition("ScalingActive")
if active == nil then
  return { status = "Progressing", message = "Waiting for the Dask operator to start autoscaling" }
end
if active.status == "True" then
  -- Scaled (the default group's replicas were just changed) or Steady
  return { status = "Healthy", message = describe(active) }
end
if active.reason == "SchedulerUnreachable" then
  return { status = "Degraded", message = describe(active) }
end
-- SchedulerNotReady: the cluster is still starting
return { status = "Progressing", message = describe(active) }
