-- Credential stuffing: POST /login with a wrong password (BENCH_PASSWORD reversed, so never a match).
-- With BENCH_STUFF_TARGET set, every request tries that one name (guessing in parallel); empty, every
-- request tries a new name (a spray: BENCH_RUN_ID + thread id + a counter), as an attacker working
-- through a list of usernames from one address would.
dofile(os.getenv("BENCH_WRK_DIR") .. "/lib.lua")

local target = os.getenv("BENCH_STUFF_TARGET") or ""
local run = os.getenv("BENCH_RUN_ID") or "r"
local password = string.reverse(os.getenv("BENCH_PASSWORD") or "wrong-password") .. "-x"
local i = 0

function request()
  i = i + 1
  local name = target
  if name == "" then
    name = "spray" .. run .. "t" .. (id or 0) .. "n" .. i
  end
  local body = '{"username":' .. json_string(name) .. ',"password":' .. json_string(password) .. '}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
