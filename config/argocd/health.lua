-- Argo CD health of a CollaborationSpace (collab.opencommons.io/v1alpha1).
--
-- It reads the status as kstatus does (Flux, kubectl wait), so Argo CD and Flux agree:
--   Healthy      Ready=True, and status.observedGeneration has caught up with
--                metadata.generation: the spec as committed is in place
--   Degraded     Stalled=True at the current generation: retrying will not help until
--                the spec or its environment changes; the message says what to do
--   Progressing  anything else: no status yet, Reconciling=True (the message names
--                what is being retried), a newer generation not yet applied, or the
--                space is being deleted
--
-- Install it as resource.customizations.health.collab.opencommons.io_CollaborationSpace
-- in argocd-cm (docs/gitops.md). It needs only Lua's base library, which is what
-- Argo CD opens for a customization without useOpenLibs.

local hs = {status = "Progressing", message = "Waiting for the operator to reconcile the space"}

if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "The space is being deleted: its deletionPolicy is being carried out"
  return hs
end
if obj.status == nil or obj.status.conditions == nil then
  return hs
end

local ready, reconciling, stalled
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    ready = c
  elseif c.type == "Reconciling" then
    reconciling = c
  elseif c.type == "Stalled" then
    stalled = c
  end
end

if reconciling ~= nil and reconciling.status == "True" then
  hs.message = reconciling.message
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration or 0
if generation ~= nil and observed < generation then
  hs.message = "The operator has not applied generation " .. generation .. " of the spec yet"
  return hs
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.message
  return hs
end
if ready ~= nil then
  if ready.status == "True" then
    hs.status = "Healthy"
  end
  hs.message = ready.message
end
return hs
