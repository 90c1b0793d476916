-- Shared by every bench/wrk/*.lua script: per-status counters and one machine-readable result line.
-- Each wrk thread runs its own Lua state; setup() (in the main state) keeps the thread handles so that
-- done() can add up their counters.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

statuses = {}

function count(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function response(status, headers, body)
  count(status)
end

function done(summary, latency, requests)
  local by_status = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    if s then
      for code, n in pairs(s) do
        by_status[code] = (by_status[code] or 0) + n
      end
    end
  end
  local parts = {}
  for code, n in pairs(by_status) do
    table.insert(parts, string.format('"%d":%d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"statuses":{%s},"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ","),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end

function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end
