-- GET the URL's path; with BENCH_TOKENS_FILE (one access token per line) each request carries
-- `Authorization: Bearer <token>`, the tokens taken round-robin starting at a per-thread offset.
dofile(os.getenv("BENCH_WRK_DIR") .. "/lib.lua")

local tokens = {}
local i = 0

function init(args)
  local file = os.getenv("BENCH_TOKENS_FILE")
  if file then
    for line in io.lines(file) do
      if #line > 0 then table.insert(tokens, line) end
    end
  end
  i = (id or 0) * 7
end

function request()
  if #tokens == 0 then
    return wrk.format("GET")
  end
  i = i + 1
  local token = tokens[(i % #tokens) + 1]
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. token })
end
