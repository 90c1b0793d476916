-- POST /register with a fresh username per request: BENCH_RUN_ID (a short nonce per run) + thread id +
-- a counter, so every request is a real registration (Argon2id hash + one insert), never a 409.
dofile(os.getenv("BENCH_WRK_DIR") .. "/lib.lua")

local run = os.getenv("BENCH_RUN_ID") or "r"
local password = os.getenv("BENCH_PASSWORD") or ""
local i = 0

function request()
  i = i + 1
  local name = "reg" .. run .. "t" .. (id or 0) .. "n" .. i
  local body = '{"username":' .. json_string(name) .. ',"password":' .. json_string(password) .. '}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
