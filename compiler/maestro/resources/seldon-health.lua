-- Argo CD health of Seldon Core v2 objects (Model, Experiment, Server, SeldonRuntime).
-- Seldon keeps knative-style conditions; the summary condition "Ready" is True once the object
-- serves. Not ready is normal while a model downloads and loads, so it means Progressing;
-- only reasons that Seldon never leaves by itself mean Degraded (a Degraded object fails the sync).
local failed_reasons = {
  ModelFailed = true,           -- the server could not load the artifact
  ScheduleFailed = true,        -- no Server matches the requirements or has the memory
  ModelTerminateFailed = true,
}
local function text_of(condition)
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  return condition.reason or ""
end
local hs = { status = "Progressing", message = "Waiting for Seldon to report Ready" }
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
for _, condition in ipairs(obj.status.conditions) do
  local text = text_of(condition)
  if condition.type == "Ready" and condition.status == "True" then
    hs.status = "Healthy"
    hs.message = text ~= "" and text or "Ready"
    return hs
  end
  if condition.status == "False" and failed_reasons[condition.reason or ""] then
    hs.status = "Degraded"
    hs.message = condition.reason .. ": " .. text
    return hs
  end
  -- The operator records a scheduler rejection of an Experiment (e.g. a model that is already
  -- the default of another experiment) as a False "ModelReady" condition and does not retry.
  if obj.kind == "Experiment" and condition.type == "ModelReady" and condition.status == "False" then
    hs.status = "Degraded"
    hs.message = text
    return hs
  end
end
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Ready" and text_of(condition) ~= "" then
    hs.message = text_of(condition)
  end
end
return hs
