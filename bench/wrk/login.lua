-- POST a JSON {"username","password"} to the URL's path (Latchkey /login, or the baseline's /verify),
-- cycling through BENCH_USERS seeded users named BENCH_USER_PREFIX<n> (n = 0..BENCH_USERS-1) that share
-- BENCH_PASSWORD.
dofile(os.getenv("BENCH_WRK_DIR") .. "/lib.lua")

local prefix = os.getenv("BENCH_USER_PREFIX") or "bench"
local users = tonumber(os.getenv("BENCH_USERS") or "16")
local password = os.getenv("BENCH_PASSWORD") or ""
local i = 0

function init(args)
  i = (id or 0) * 5
end

function request()
  i = i + 1
  local body = '{"username":' .. json_string(prefix .. (i % users)) .. ',"password":' .. json_string(password) .. '}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
