-- wrk script: POST /api/v1/incidents with a bearer token and a unique Idempotency-Key per request.
-- Environment: QCITY_TOKEN, QCITY_RESCUE_FIRST (first rescue code), QCITY_RESCUE_COUNT.
local token = os.getenv("QCITY_TOKEN")
local first = tonumber(os.getenv("QCITY_RESCUE_FIRST") or "110001")
local count = tonumber(os.getenv("QCITY_RESCUE_COUNT") or "1000")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  math.randomseed(os.time() + tid)
end

request = function()
  counter = counter + 1
  local code = first + (counter * 7919 + tid) % count
  local body = string.format('{"rescue_code":"%d","channel":"phone","caller_phone":"13800000000"}', code)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("bench-%s-%d-%d-%d", os.getenv("QCITY_RUN") or "0", os.time(), tid, counter),
  }
  return wrk.format("POST", "/api/v1/incidents", headers, body)
end

response = function(status, headers, body)
  if status ~= 201 then
    io.stderr:write("status " .. status .. ": " .. body .. "\n")
  end
end
