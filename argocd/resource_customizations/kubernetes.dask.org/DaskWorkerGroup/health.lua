-- Argo CD health of a kubernetes.dask.org/v1 DaskWorkerGroup, read from the status the cdk8s-dask operator writes
-- (docs/reference.md): observedGeneration, replicas / readyReplicas and the Ready, ContainersHealthy, PodsCreated,
-- Adopted and ScaledDownGracefully conditions.
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
  return { status = "Progressing", message = "Waiting for the Dask operator to report the worker group's status" }
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  return { status = "Progressing", message = "Waiting for the Dask operator to observe generation " .. tostring(generation) }
end

-- Problems that waiting does not fix, most specific first.
local containers = condition("ContainersHealthy")
if containers ~= nil and containers.status == "False" then
  return { status = "Degraded", message = describe(containers) }
end
for _, problem in ipairs({ "PodsCreated", "Adopted", "ClusterFound" }) do
  local c = condition(problem)
  if c ~= nil and c.status == "False" then
    return { status = "Degraded", message = describe(c) }
  end
end
local ready = condition("Ready")
if ready == nil then
  return { status = "Progressing", message = "Waiting for the Dask operator to report the worker group's readiness" }
end
if ready.status ~= "True" then
  if ready.reason == "WorkersFailed" or ready.reason == "InvalidSpec" or ready.reason == "ClusterNotFound" then
    return { status = "Degraded", message = describe(ready) }
  end
  -- WorkersNotReady (scaling up, Pods starting) and RollingOut (a new worker template replacing old Pods)
  return { status = "Progressing", message = describe(ready) }
end

-- Ready: as many Ready workers as wanted and none on an old template. A scale-down may still be under way.
local wanted = 1
if obj.spec ~= nil and obj.spec.worker ~= nil and obj.spec.worker.replicas ~= nil then
  wanted = obj.spec.worker.replicas
end
local live = obj.status.replicas or 0
if live > wanted then
  local scaleDown = condition("ScaledDownGracefully")
  if scaleDown ~= nil and scaleDown.status == "False" and scaleDown.reason == "RetireFailed" then
    return { status = "Degraded", message = "Scale-down to " .. tostring(wanted) .. " workers is blocked: " .. describe(scaleDown) }
  end
  return { status = "Progressing", message = "Scaling down from " .. tostring(live) .. " to " .. tostring(wanted) .. " workers" }
end
return { status = "Healthy", message = ready.message or "" }
